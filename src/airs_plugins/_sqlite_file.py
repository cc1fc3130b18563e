"""Whether the file a SQLite connection writes to is still the file at its path.

A connection keeps writing to the file it opened: deleted, or replaced by another one (a restore, a rotation, a
volume mounted over it), it takes every write without an error, and what it holds goes with the process. An audit
trail or an execution ledger written there is lost without anyone being told (a call the lost ledger recorded
runs again after a restart). The stores check before each write, a ``stat`` of the path, and refuse instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class OpenedFile:
    """The file a store's connection opened: its absolute path (the process may change directory later) and its
    (device, inode), None before anything was opened."""

    path: str = ""
    identity: tuple[int, int] | None = None

    @classmethod
    def at(cls, path: str | os.PathLike[str]) -> OpenedFile:
        """The file at ``path`` now (call it right after the connection opened it)."""
        where = os.path.abspath(path)
        return cls(where, _identity(where))

    def moved_away(self) -> str | None:
        """Why the file at the path is no longer the one opened, or None when it still is."""
        if self.identity is None:
            return None
        now = _identity(self.path)
        if now == self.identity:
            return None
        what = "deleted" if now is None else "replaced by another file"
        return (f"the file was {what} while in use (what is written now would be lost with the file this process "
                "has open); restore the file, or restart to open the one at that path")


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino
