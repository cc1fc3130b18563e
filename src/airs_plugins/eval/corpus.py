"""Labelled corpora for ``airs eval --corpus``: one JSON object a line (DESIGN §3).

Each line has ``text``, ``label`` (``attack`` | ``benign``) and ``channel`` (``user``,
``tool_output`` or ``retrieved_doc``); ``style`` names the family (recall and FPR are reported per
family) and ``source`` says where the item came from.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from .._decision import Channel
from .._errors import AIRSError

Label = Literal["attack", "benign"]

CHANNELS: dict[str, Channel] = {
    "user": Channel.USER_INPUT,
    "tool_output": Channel.TOOL_RESULT,
    "retrieved_doc": Channel.RETRIEVED,
}


class CorpusError(AIRSError, ValueError):
    """A corpus line that does not follow the format; the message names the file and line."""


@dataclass(frozen=True)
class Item:
    text: str
    label: Label
    channel: str
    style: str | None = None
    source: str | None = None

    @property
    def attack(self) -> bool:
        return self.label == "attack"

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def parse_item(obj: object, *, where: str) -> Item:
    if not isinstance(obj, dict):
        raise CorpusError(f"{where}: expected a JSON object")
    text, label, channel = obj.get("text"), obj.get("label"), obj.get("channel")
    if not isinstance(text, str):
        raise CorpusError(f"{where}: 'text' must be a string")
    if label not in ("attack", "benign"):
        raise CorpusError(f"{where}: 'label' must be 'attack' or 'benign', got {label!r}")
    if channel not in CHANNELS:
        raise CorpusError(f"{where}: 'channel' must be one of {sorted(CHANNELS)}, got {channel!r}")
    style, source = obj.get("style"), obj.get("source")
    return Item(text=text, label=label, channel=channel,
                style=str(style) if style is not None else None,
                source=str(source) if source is not None else None)


def read_jsonl(lines: Iterable[str], *, name: str) -> Iterator[Item]:
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{name}:{n}: not JSON ({exc.msg})") from None
        yield parse_item(obj, where=f"{name}:{n}")


def load_corpus(path: str | os.PathLike[str]) -> list[Item]:
    """Read a JSONL corpus file; a name without a path separator may also be a shipped corpus."""
    p = Path(path)
    if not p.exists() and p.name == str(path) and shipped_path(p.name) is not None:
        return load_shipped(p.name)
    try:
        with p.open(encoding="utf-8") as fh:
            return list(read_jsonl(fh, name=str(p)))
    except OSError as exc:
        raise CorpusError(f"cannot read corpus {str(p)!r}: {exc.strerror}") from None


def shipped_path(name: str) -> resources.abc.Traversable | None:
    ref = resources.files("airs_plugins.eval") / "data" / name
    return ref if ref.is_file() else None


def shipped_corpora() -> list[str]:
    root = resources.files("airs_plugins.eval") / "data"
    return sorted(r.name for r in root.iterdir() if r.name.endswith(".jsonl"))


def load_shipped(name: str) -> list[Item]:
    ref = shipped_path(name)
    if ref is None:
        raise CorpusError(f"no shipped corpus {name!r}; shipped: {', '.join(shipped_corpora())}")
    # not splitlines(): it also splits on U+2028 and friends, which JSON strings may hold raw
    return list(read_jsonl(ref.read_text(encoding="utf-8").split("\n"), name=name))


def write_jsonl(items: Sequence[Item], path: str | os.PathLike[str]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for it in items:
            fh.write(json.dumps(it.to_json(), ensure_ascii=False) + "\n")


def sample(items: Sequence[Item], per_style: int) -> list[Item]:
    """At most ``per_style`` items of each (label, style), evenly spaced through it, in file order.

    Evenly spaced, not the first ones: sources list their items by date, platform or template, and a
    head-of-file slice measures one corner of them."""
    groups: dict[tuple[str, str | None], list[int]] = {}
    for i, it in enumerate(items):
        groups.setdefault((it.label, it.style), []).append(i)
    keep: set[int] = set()
    for idx in groups.values():
        n = min(per_style, len(idx))
        keep.update(idx[k * len(idx) // n] for k in range(n))
    return [it for i, it in enumerate(items) if i in keep]


def half_of(text: str) -> Literal["tune", "held"]:
    """``tune`` or ``held``: a fixed split of every source by the parity of sha256(text)'s first byte.

    Patterns are written against misses of the tuning half only, and the jailbreak-style model is
    trained on it; the held-out half says what generalises."""
    return "tune" if hashlib.sha256(text.encode("utf-8")).digest()[0] % 2 == 0 else "held"
