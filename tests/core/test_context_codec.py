"""The RunContext <-> state-dict codec: same result as pydantic, work skipped only for our own dumps."""

from __future__ import annotations

import copy

from airs_plugins import Shield
from airs_plugins._context_codec import _IdentityMemo, decode_context, encode_context
from airs_plugins._decision import RunContext


def _tainted_context() -> RunContext:
    shield = Shield.default()
    ctx = shield.check_input("Summarise my inbox.").context
    for i in range(3):
        ctx = shield.check_tool_result("read_inbox", f"mail {i} from bob{i}@example.com", context=ctx).context
    return ctx


def test_encoding_equals_the_pydantic_dump_and_round_trips() -> None:
    ctx = _tainted_context()
    dumped = encode_context(ctx)
    assert dumped == ctx.model_dump(mode="json")
    assert decode_context(dumped) is ctx  # our own dump: no second validation
    foreign = copy.deepcopy(dumped)  # e.g. read back from a checkpoint after a restart
    decoded = decode_context(foreign)
    assert decoded is not ctx and decoded == ctx


def test_observations_are_dumped_once_and_shared() -> None:
    ctx = _tainted_context()
    later = ctx.model_copy(update={"turns": ctx.turns + 1})
    first, second = encode_context(ctx), encode_context(later)
    assert all(a is b for a, b in zip(first["observations"], second["observations"], strict=True))


def test_decode_of_nothing_starts_a_context_with_the_given_ids() -> None:
    ctx = decode_context(None, thread_id="t-1")
    assert ctx.thread_id == "t-1" and not ctx.observations


def test_memo_is_bounded_and_matches_by_identity_only() -> None:
    memo: _IdentityMemo[object, int] = _IdentityMemo(4)
    keys = [object() for _ in range(10)]
    for i, k in enumerate(keys):
        memo.put(k, i)
    assert memo.get(keys[-1]) == 9
    assert len(memo._items) <= 4
    assert memo.get(object()) is None
