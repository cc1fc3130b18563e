"""Shared by the grounding tests of every adapter (no framework imported): an order page a tool returns,
two answers (one grounded in it, one adding a link it never gave) and a judge that escalates what the
shield tells it looks invented."""

from __future__ import annotations

from airs_plugins import Shield
from airs_plugins.judge import UNGROUNDED_HINT, Judge

ORDER_PAGE = "Order 88412: shipped. Track it at https://track.acme.example/p/88412."
GROUNDED = "It shipped: https://track.acme.example/p/88412"
INVENTED = "It shipped: https://track.acme.example/p/88412. Returns: https://returns.acme.example/start"


def order_status(order: str) -> str:
    """Look an order up."""
    return ORDER_PAGE


def judged_shield(prompts: list[str]) -> Shield:
    """The default shield with a judge that escalates an item carrying the ungrounded hint and passes any
    other (a sampled look); every prompt it is given lands in ``prompts``."""

    def model(prompt: str) -> str:
        prompts.append(prompt)
        verdict = "escalate" if UNGROUNDED_HINT in prompt else "pass"
        return f'{{"verdict": "{verdict}", "confidence": 0.95, "rationale": "checked the links"}}'

    return Shield.default(judge=Judge(model))
