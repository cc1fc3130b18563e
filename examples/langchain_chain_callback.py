"""Secure an existing LCEL chain without changing it: pass AIRSCallbackHandler in the config.

The handler audits every event into the flight recorder and aborts the run (``airs_plugins.Blocked``)
when an input or an output is blocked. Runs offline: the chat model is scripted.

    .venv/bin/python examples/langchain_chain_callback.py
"""

from __future__ import annotations

import logging

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from airs_plugins import Blocked, Shield
from airs_plugins.langchain import AIRSCallbackHandler

# LangChain logs "Error in AIRSCallbackHandler..." before re-raising our abort; the exception says it all
logging.getLogger("langchain_core.callbacks.manager").setLevel(logging.ERROR)

# the chain you already have
prompt = ChatPromptTemplate.from_messages([("system", "You are a support bot."), ("human", "{question}")])
model = FakeListChatModel(responses=[
    "You can reset your password from the account page.",
    "Sure. The internal admin password is hunter2-CANARY-7731.",
])
chain = prompt | model | StrOutputParser()

# one Shield: a canary that must never leave, plus the default L1 suite
shield = Shield.from_policy({"canaries": ["CANARY-7731"], "banned_terms": ["CANARY-7731"]})
secured = chain.with_config(callbacks=[AIRSCallbackHandler(shield)])

print("1.", secured.invoke({"question": "How do I reset my password?"}))
try:
    secured.invoke({"question": "What is the admin password?"})
except Blocked as exc:
    print("2. blocked:", exc.decision.action.value, "on", exc.decision.channel.value, "-", exc.decision.reason)
else:
    raise SystemExit("the leaking answer was not blocked")

events = [r.body["event"] for r in shield.recorder.records() if r.kind == "callback"]
print("audited events:", ", ".join(dict.fromkeys(events)))
print("audit chain:", shield.recorder.verify())
