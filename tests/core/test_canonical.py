"""Canonical JSON, argument digests and correlation ids (the formats the audit chain relies on)."""

from __future__ import annotations

import json
import os
import threading
import warnings

import pytest

from airs_plugins._canonical import args_digest, canonical_args, canonical_json, new_id


def test_canonical_json_is_sorted_compact_utf8() -> None:
    value = {"b": [1, 2.5, None], "a": "é ☃", "c": {"z": True, "y": "x"}}
    assert canonical_json(value) == '{"a":"é ☃","b":[1,2.5,null],"c":{"y":"x","z":true}}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})  # not JSON; the audit chain must never hold it


def test_canonical_args_writes_what_json_cannot_encode_as_text() -> None:
    class Amount:
        def __str__(self) -> str:
            return "12.50 EUR"

    assert canonical_args({"to": "bob", "amount": Amount()}) == '{"amount":"12.50 EUR","to":"bob"}'
    assert args_digest({"b": 1, "a": 2}) == args_digest({"a": 2, "b": 1})
    assert args_digest(None) == args_digest({}) and len(args_digest({})) == 32
    assert args_digest({"a": 1}) != args_digest({"a": "1"})


def test_ids_are_unique_across_threads() -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def draw() -> None:
        got = [new_id() for _ in range(2000)]
        with lock:
            seen.extend(got)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == len(seen) == 8000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in seen[:10])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_never_repeats_the_parents_ids() -> None:
    new_id()
    read, write = os.pipe()
    with warnings.catch_warnings():  # 3.12+ warns about fork in a process that has threads
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read)
        os.write(write, json.dumps([new_id() for _ in range(3)]).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        child = json.loads(fh.read())
    os.waitpid(pid, 0)
    parent = [new_id() for _ in range(3)]
    assert not set(child) & set(parent)
    assert {c[:16] for c in child} != {p[:16] for p in parent}  # the child drew its own prefix
