"""``AIRSWorkflow`` grades an answer against what the agent's guarded tools returned: a link the tools
never gave goes to the judge as ungrounded (``output.grounding``), one they gave does not."""

from __future__ import annotations

import pytest
from _li_support import drive
from llama_index.core.agent.workflow import FunctionAgent

from airs_plugins.judge import UNGROUNDED_HINT
from airs_plugins.llamaindex import AIRSWorkflow, GuardResult, guard_tools
from airs_plugins.llamaindex.testing import call, scripted_llm
from contract.grounding import GROUNDED, INVENTED, judged_shield, order_status


@pytest.mark.parametrize(("answer", "allowed"), [(GROUNDED, True), (INVENTED, False)])
async def test_the_answer_is_grounded_in_what_the_guarded_tools_returned(answer: str, allowed: bool) -> None:
    prompts: list[str] = []
    shield = judged_shield(prompts)
    llm = scripted_llm([call("order_status", order="88412")], after=answer)
    agent = FunctionAgent(tools=guard_tools([order_status], shield), llm=llm, system_prompt="You track orders.")
    result, _asked = await drive(AIRSWorkflow(agent, shield), "Where is order 88412?", None)
    assert isinstance(result, GuardResult)
    assert result.allowed is allowed
    assert any(UNGROUNDED_HINT in p for p in prompts) is not allowed
    if not allowed:
        assert "returns.acme" not in result.text


async def test_an_agent_that_read_nothing_is_not_graded_for_grounding() -> None:
    prompts: list[str] = []
    shield = judged_shield(prompts)
    agent = FunctionAgent(tools=[], llm=scripted_llm([], after="See https://docs.python.org/3/"))
    result, _asked = await drive(AIRSWorkflow(agent, shield), "Where are the Python docs?", None)
    assert isinstance(result, GuardResult) and result.allowed
    assert all(UNGROUNDED_HINT not in p for p in prompts)
