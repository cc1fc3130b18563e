"""Context variables shared by the core and the adapters."""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

_SUPPRESSED: contextvars.ContextVar[bool] = contextvars.ContextVar("airs_suppressed", default=False)

# LangChain keeps the config of the run being executed (callbacks, LangGraph's stream handlers) here;
# a model called while it is set becomes a child of that run
_LANGCHAIN_CONFIG_MODULE = "langchain_core.runnables.config"


@contextmanager
def _raised(flag: contextvars.ContextVar[bool]) -> Iterator[None]:
    token = flag.set(True)
    try:
        yield
    finally:
        flag.reset(token)


def suppressed() -> AbstractContextManager[None]:
    """Inside this block our callbacks and middleware do not check anything (e.g. the judge's own
    model call), so the judge is never judged and nothing loops."""
    return _raised(_SUPPRESSED)


def is_suppressed() -> bool:
    return _SUPPRESSED.get()


_GUARDED: contextvars.ContextVar[bool] = contextvars.ContextVar("airs_guarded", default=False)


def guarded() -> AbstractContextManager[None]:
    """Inside this block ``AIRSMiddleware`` decides on the model call being made (its input and its
    answer): a callback handler attached to the same run only records the model's events, so each gets
    one decision, not two. (Tool calls are covered one by one: ``langchain._enforce.enforcing``.)"""
    return _raised(_GUARDED)


def is_guarded() -> bool:
    return _GUARDED.get()


_ANSWER_GUARDED: contextvars.ContextVar[bool] = contextvars.ContextVar("airs_answer_guarded", default=False)


def answer_guarded() -> AbstractContextManager[None]:
    """Inside this block a guard around the whole agent (``AIRSWorkflow``) checks the agent's final answer,
    so a ``return_direct`` tool's result, which becomes that answer, is not output-checked twice."""
    return _raised(_ANSWER_GUARDED)


def is_answer_guarded() -> bool:
    return _ANSWER_GUARDED.get()


_INSTRUCTIONS: contextvars.ContextVar[str | None] = contextvars.ContextVar("airs_instructions", default=None)


@contextmanager
def instructions_known(text: str | None) -> Iterator[None]:
    """Inside this block a guard around the whole agent (``AIRSWorkflow``) has told the guarded tools the
    agent's system prompt, which they cannot see themselves: a call that recites it is leakage."""
    token = _INSTRUCTIONS.set(text)
    try:
        yield
    finally:
        _INSTRUCTIONS.reset(token)


def known_instructions() -> str | None:
    return _INSTRUCTIONS.get()


def detached() -> contextvars.Context:
    """A copy of the current context for the judge: our checks are suppressed in it, and it is not
    inside the caller's LangChain run.

    Without this, a judge model called during an agent's step is a child run of that step: LangGraph's
    ``stream_mode="messages"`` streams the judge's verdict to the user as if it were the agent's answer,
    and the run's callbacks see the judge's prompt, which quotes the untrusted item. Everything else
    in the context (tracing spans, for one) is kept. Use one copy per call: a context cannot be entered
    twice at once.
    """
    ctx = contextvars.copy_context()
    ctx.run(_detach)
    return ctx


def _detach() -> None:
    _SUPPRESSED.set(True)
    # only when LangChain is loaded: the core never imports a framework
    config_var = getattr(sys.modules.get(_LANGCHAIN_CONFIG_MODULE), "var_child_runnable_config", None)
    if isinstance(config_var, contextvars.ContextVar):
        config_var.set(None)
