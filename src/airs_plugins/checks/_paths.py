"""Whether a path argument stays inside the roots a policy allows, read as the tool's OS might read it.

A value is checked in every form a tool could turn it into: as written, percent-decoded, with
backslashes as separators, and as a Windows path when it has a drive letter or a UNC prefix; every
form must resolve inside a root. ``~`` and ``$VAR`` / ``%VAR%`` are refused outright: the tool may
expand them to anywhere.
"""

from __future__ import annotations

import ntpath
import os
import posixpath
import re
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# No nested repetition: ``re`` scans these linearly (and is much cheaper than RE2's wrapper per call).
_WINDOWS = re.compile(r"(?:[a-z]:|[\\/]{2}[^\\/])", re.IGNORECASE)  # C: C:\ C:/ \\server //server
_EXPANDS = re.compile(r"^~|\$\{?[A-Za-z_]|%[A-Za-z_][A-Za-z0-9_]*+%")
_LOOKS_LIKE_PATH = re.compile(r"^(?:/|~|\.\.?[\\/]|[a-z]:[\\/]|\\\\)|(?:^|[\\/])\.\.(?:[\\/]|$)", re.IGNORECASE)
MAX_PATH_CHARS = 32_767
"""The longest path any OS accepts (Windows' extended paths); a longer value is no path."""


@dataclass(frozen=True)
class Roots:
    posix: tuple[str, ...]
    windows: tuple[str, ...]
    """normcase'd and normpath'd (lower case, backslashes)"""

    @classmethod
    def of(cls, roots: Sequence[str]) -> Roots:
        """A relative value is taken from the first root of each kind."""
        posix = tuple(posixpath.normpath(r) for r in roots if not _WINDOWS.match(r))
        windows = tuple(ntpath.normcase(ntpath.normpath(r)) for r in roots if _WINDOWS.match(r))
        return cls(posix, windows)


def looks_like_path(value: str) -> bool:
    """Absolute, home-relative, drive or UNC, or climbing with ``..``; one line."""
    return "\n" not in value and bool(_LOOKS_LIKE_PATH.search(value))


def expands(value: str) -> bool:
    """Starts with ``~`` or names an environment variable: where it points is the tool's shell's choice."""
    return bool(_EXPANDS.search(value))


def outside(value: str, roots: Roots) -> bool:
    """Some form of ``value`` resolves outside every root."""
    return any(not _inside(form, roots) for form in _forms(value))


def leaves_through_links(value: str, roots: Roots) -> bool:
    """Some POSIX form of ``value``, with this machine's symbolic links followed (in the roots too), lands
    outside every root. The links are read as they are now: a tool that makes one between this check and
    its run can still race it, so a tool that can create links needs its own guard as well."""
    if not roots.posix:
        return False
    real_roots = [os.path.realpath(r) for r in roots.posix]
    return any(not _under(os.path.realpath(_from_root(form.replace("\\", "/"), roots)), real_roots, "/")
               for form in _forms(value) if not _WINDOWS.match(form))


def _forms(value: str) -> Iterator[str]:
    yield value
    if "%" in value:
        decoded = urllib.parse.unquote(value)
        if decoded != value:
            yield decoded


def _inside(v: str, roots: Roots) -> bool:
    if _WINDOWS.match(v):
        return _inside_windows(v, roots)
    unix = v.replace("\\", "/")
    if roots.posix and _under(posixpath.normpath(_from_root(unix, roots)), roots.posix, "/"):
        return True
    # on Windows "/x" is on the current drive, and a relative path is taken from the first root
    return bool(roots.windows) and not unix.startswith("/") and _inside_windows(ntpath.join(roots.windows[0], v), roots)


def _inside_windows(v: str, roots: Roots) -> bool:
    return _under(ntpath.normcase(ntpath.normpath(v)), roots.windows, "\\")


def _from_root(unix: str, roots: Roots) -> str:
    """A POSIX path as the tool reads it: a relative one is taken from the first root."""
    return unix if unix.startswith("/") else posixpath.join(roots.posix[0], unix)


def _under(resolved: str, roots: Sequence[str], sep: str) -> bool:
    return any(resolved == r or resolved.startswith(r.rstrip(sep) + sep) for r in roots)
