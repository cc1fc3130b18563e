"""Several texts checked in one decision, and the redacted result split back into them.

The parts of one answer (the text and a structured response; a tool's answer and the messages it adds)
are judged together, so that one decision and one audit record cover them and a judge sees them whole."""

from __future__ import annotations

import secrets
from collections.abc import Sequence


def joined(first: str, rest: Sequence[str]) -> tuple[str, str | None]:
    """One payload for one check, and the separator to split a redacted payload by (None when there is
    nothing to join). The separator carries a random token, so no part can contain it."""
    if not rest:
        return first, None
    sep = f"\n\u241e{secrets.token_hex(6)}\u241e\n"
    return sep.join([first, *rest]), sep


def split_joined(redacted: str, sep: str, count: int) -> list[str] | None:
    """Undo :func:`joined`; None when a redaction crossed a separator (then nothing can be kept safely)."""
    parts = redacted.split(sep)
    return parts if len(parts) == count else None
