"""What a guarded call returned beyond its text, kept in the execution ledger for the call's replay.

The ledger keeps a finished call's answer as text, which is all most calls return. A call replayed from it
(the re-run after a reviewer released its result, a restart after the tool ran) must give back the same
answer as the run that executed it, so whatever the text cannot carry is kept too: the answer's content
blocks (an image), its artifact, and the ``Command`` (or list) the tool returned, whose state writes and
``goto`` would otherwise be lost. What is kept is the *guarded* answer: a replay never shows what the guard
took out.

It is kept with LangGraph's own serializer (the one its checkpointers use by default), base64 in the
ledger's JSON. A value it cannot serialize (an artifact of a custom class) is dropped, the artifact first;
what was dropped is said in the audit record of the replay.

It is read back with the serializer's allowlist of safe types only (messages, ``Command``, ``Send``,
``Document``, standard library values): by default the serializer imports and calls whatever module and name
the data names, so a ledger entry written by anyone who can write the ledger (a file, a shared database) would
run code in the agent's process, whatever the checkpointer's own serializer allows. A value of another type
comes back as its plain data.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import cache
from typing import Any

from langchain_core.messages import ToolMessage
from langgraph.types import Command

from ._added import Returned, placed

KEPT_KEY = "returned"
"""Ledger ``extra`` key of what :func:`to_keep` keeps."""


@cache
def _serde() -> Any:
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    return JsonPlusSerializer()


@cache
def _reader() -> Any:
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    # None: the built-in safe types only (see the module docstring); the default allows any
    return JsonPlusSerializer(allowed_msgpack_modules=None, allowed_json_modules=None)


def needs_keeping(message: ToolMessage, command: Returned | None) -> bool:
    """Whether the ledger's text would not give ``message`` (and ``command``) back."""
    return command is not None or message.artifact is not None or not isinstance(message.content, str)


def _packed(value: Any) -> dict[str, str] | None:
    try:
        kind, data = _serde().dumps_typed(value)
    except Exception:  # whatever a serializer raises on a value it cannot take
        return None
    return {"type": kind, "data": base64.b64encode(data).decode("ascii")}


def _answered(command: Returned | None, message: ToolMessage) -> Returned | None:
    # the tool's own answer in a list (with the artifact the guard may have dropped) gives way to ``message``
    return placed(command, message) if command is not None else None


def to_keep(message: ToolMessage, command: Returned | None) -> dict[str, Any]:
    """The ledger's ``extra`` entry for ``message`` and ``command``: both, or without the artifact, or, when
    neither serializes, a note of what a replay will lack."""
    packed = _packed([message, _answered(command, message)])
    if packed is not None:
        return packed
    bare = message.model_copy(update={"artifact": None})
    packed = _packed([bare, _answered(command, bare)])
    if packed is not None:
        return {**packed, "lost": "artifact"}
    return {"lost": "artifact and command" if command is not None else "artifact"}


def _pairs_back(update: Any) -> Any:
    # the serializer turns the (key, value) pairs of a Command's update into lists, which LangGraph
    # would take for a list of messages
    if isinstance(update, list) and update and all(
            isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in update):
        return [tuple(p) for p in update]
    return update


def _command_back(command: Command[Any]) -> Command[Any]:
    return Command(graph=command.graph, update=_pairs_back(command.update), resume=command.resume,
                   goto=command.goto)


def _returned_back(value: Any) -> Returned | None:
    if isinstance(value, Command):
        return _command_back(value)
    if isinstance(value, list):
        return [_command_back(i) if isinstance(i, Command) else i for i in value]
    return None


def restored(entry: Mapping[str, Any] | None) -> tuple[ToolMessage, Returned | None] | None:
    """The message and Command (or list) :func:`to_keep` kept, or None when nothing was (or it cannot be read)."""
    if not isinstance(entry, Mapping) or "data" not in entry:
        return None
    try:
        message, command = _reader().loads_typed((str(entry["type"]), base64.b64decode(str(entry["data"]))))
    except Exception:  # a ledger written by another version, or edited: the text is replayed
        return None
    if not isinstance(message, ToolMessage):
        return None
    return message, _returned_back(command)


def lost(entry: Mapping[str, Any] | None, back: tuple[ToolMessage, Returned | None] | None) -> str | None:
    """What the replay of a call lacks that its run returned, if anything: ``entry`` is what :func:`to_keep`
    kept, ``back`` what :func:`restored` made of it."""
    if not isinstance(entry, Mapping):
        return None
    if back is None and "data" in entry:
        return "all but the text (what was kept cannot be read)"
    return str(entry["lost"]) if "lost" in entry else None

