"""Whether the file a SQLite connection writes to is still the file at its path.

A connection keeps writing to the file it opened: deleted, or replaced by another one (a restore, a rotation, a
volume mounted over it), it takes every write without an error, and what it holds goes with the process. An audit
trail or an execution ledger written there is lost without anyone being told (a call the lost ledger recorded
runs again after a restart). The stores check before each write, a ``stat`` of the path, and refuse instead.
"""

from __future__ import annotations

import os


def file_identity(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """The (device, inode) of the file at ``path``, or None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def opened_path(path: str | os.PathLike[str]) -> str:
    """``path`` as the connection opening it now reads it (a relative path against the current directory, which
    the process may change later)."""
    return os.path.abspath(path)


def moved_away(path: str, opened: tuple[int, int] | None) -> str | None:
    """Why the file at ``path`` is no longer the one opened as ``opened``, or None when it still is."""
    if opened is None:
        return None
    now = file_identity(path)
    if now == opened:
        return None
    what = "deleted" if now is None else "replaced by another file"
    return (f"the file was {what} while in use (what is written now would be lost with the file this process has "
            "open); restore the file, or restart to open the one at that path")
