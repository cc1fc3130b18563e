"""Salient values for argument-level taint: what an attacker would want a tool call to carry.

Values are addresses, URLs and hosts, account and card-like numbers, and long identifiers, each
normalised (lower case, no separators) so that a value read in a tool result matches the same value
in a later call's arguments however it was spaced or quoted. Patterns have no nested quantifiers,
so matching time is linear.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
import urllib.parse
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import re2

if TYPE_CHECKING:
    from ._normalize import ScanText

_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){1,8}"),  # e-mail
    re.compile(r"(?i)\b(?:https?|ftp)://[^\s<>\"'`)\]]{1,2048}"),  # URL
    re.compile(r"(?i)\bwww\.[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){1,6}[^\s<>\"'`)\]]{0,512}"),
    re.compile(r"\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{2,4}){3,8}\b"),  # IBAN-like
    # long digit runs (accounts, phones); a full stop after one ends a sentence, a digit after it a decimal
    re.compile(r"(?<![\w.])\+?[0-9][0-9 \-]{5,30}[0-9](?!\w|\.[0-9])"),
)
_DIGIT_RUN = _PATTERNS[-1]
# A date (and the hour a time leaves behind) is not something an attacker exfiltrates or redirects to;
# treating dates as salient made every calendar call that reuses a date read from an e-mail "tainted".
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?: [0-9]{2})?|[0-9]{2}-[0-9]{2}-[0-9]{4}(?: [0-9]{2})?")
_DOMAIN = re.compile(
    r"(?i)\b[a-z0-9\-]{1,63}\.(?:com|net|org|io|co|info|biz|ru|cn|xyz|top|me|dev|app|site|online)\b"
)
_STRIP = re.compile(r"[\s\-_.,;:'\"`()<>\[\]{}]+")


_INVISIBLE = dict.fromkeys((0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD))


def as_read(value: str) -> str:
    """``value`` as a person reads it: full-width and other compatibility forms folded (NFKC), invisible
    characters (zero-width, soft hyphen) dropped."""
    return unicodedata.normalize("NFKC", value).translate(_INVISIBLE)


def normalise(value: str) -> str:
    # full-width letters and invisible characters read as the address they spell (a model copying one from a
    # page may keep them, or drop them)
    v = as_read(value).strip().lower()
    v = re.sub(r"^(?:https?|ftp)://", "", v)
    v = v.removeprefix("www.")
    return _STRIP.sub("", v)


# What each of ``_PATTERNS`` and then ``_DOMAIN`` cannot match without, for one RE2 pass over the text.
# Each entry matches wherever its pattern does (a superset: RE2 has no lookbehind and caps repeats at
# 1000); the ``re`` pattern then finds the exact values.
_NECESSARY = (
    r"[A-Za-z0-9._%+\-]@[A-Za-z0-9\-]+\.[A-Za-z0-9\-]",
    r"(?i)(?:https?|ftp)://[^\s<>\"'`)\]]",
    r"(?i)www\.[A-Za-z0-9\-]+\.[A-Za-z0-9\-]",
    r"[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{2,4}){3}",
    r"[0-9][0-9 \-]{5,30}[0-9]",
    r"(?i)[a-z0-9\-]\.(?:com|net|org|io|co|info|biz|ru|cn|xyz|top|me|dev|app|site|online)",
)


def _prefilter() -> Any:
    """One RE2 pass that says which of ``_PATTERNS`` (then ``_DOMAIN``) can match at all.

    Each ``re`` pattern costs a scan of its own (most start with a character class, so they are tried
    at every position); the set answers for all of them at once, and on the usual text, with no
    address, URL or number in it, nothing else runs."""
    opts = re2.Options()
    opts.max_mem = 8 << 20
    prefilter = re2.Set.SearchSet(opts)
    for pattern in _NECESSARY:
        prefilter.Add(pattern)
    prefilter.Compile()
    return prefilter


_PREFILTER = _prefilter()


SPANS_PER_VALUE = 8
"""Places kept per recorded value, on average: repeats cost nothing against the cap on values, but the scan
of a text that repeats one value all the way down still stops early."""
KINDS: tuple[str, ...] = ("email", "url", "url", "iban", "number", "domain")
"""What each of ``_PATTERNS`` and then ``_DOMAIN`` finds."""


def values_with_kinds(text: str) -> Iterator[tuple[int, int, str, str]]:
    """Each salient value's span, raw text and kind (one of ``KINDS``), pattern by pattern."""
    found = _PREFILTER.Match(text.encode("utf-8", "surrogatepass"))
    if not found:
        return
    for index in sorted(found):
        pat = _PATTERNS[index] if index < len(_PATTERNS) else _DOMAIN
        for m in pat.finditer(text):
            if pat is _DIGIT_RUN and _DATE.fullmatch(m.group(0)):
                continue
            yield m.start(), m.end(), m.group(0), KINDS[index]


def extract_values(text: str, *, limit: int = 256) -> set[str]:
    out: set[str] = set()
    for _s, _e, raw, _kind in values_with_kinds(text):
        v = normalise(raw)
        if len(v) >= 5:
            out.add(v)
            if len(out) >= limit:
                break
    return out


def extract_with_spans(text: str, *, limit: int = 256) -> tuple[list[tuple[int, int, str]], bool]:
    """Every place of the first ``limit`` distinct values (a value repeated on a page counts once), and
    whether that is all of them. At most ``SPANS_PER_VALUE`` places per value are kept on average: a
    megabyte of one address repeated costs a bounded scan, and the record then says it may be partial."""
    out: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    max_spans = max(limit, 1) * SPANS_PER_VALUE
    for s, e, raw, _kind in values_with_kinds(text):
        v = normalise(raw)
        if len(v) >= 5:
            if v not in seen:
                if len(seen) >= limit:
                    return out, False
                seen.add(v)
            out.append((s, e, v))
            if len(out) >= max_spans:
                return out, False
    return out, True


_SPELLED = re.compile(r"[\[({<][ \t]{0,3}(?:(?P<at>at)|dot)[ \t]{0,3}[\])}>]"
                      r"|&(?:(?P<at_ref>#0*64|#x0*40|commat)|#0*46|#x0*2e|period);", re.IGNORECASE)
"""An address spelt out to get past filters: ``name [at] host [dot] com``, ``name&#64;host.com``."""
SPELLED_WINDOW = 65_536
"""Characters of a read in which spelt-out addresses are put back together (as the L1 views' scan window)."""


def _spelled_out(text: str) -> tuple[str, array[int]] | None:
    """``text`` (its first :data:`SPELLED_WINDOW` characters) with spelt-out addresses put back together, and
    the index in ``text`` of each of its characters; None when there is nothing spelt out."""
    text = text[:SPELLED_WINDOW]
    if _SPELLED.search(text) is None:
        return None
    out: list[str] = []
    origin: array[int] = array("q")
    pos = 0
    for m in _SPELLED.finditer(text):
        kept = text[pos:m.start()].rstrip(" \t") if m.group(0)[0] != "&" else text[pos:m.start()]
        out.append(kept)
        origin.extend(range(pos, pos + len(kept)))
        out.append("@" if m.group("at") or m.group("at_ref") else ".")
        origin.append(m.start())
        pos = m.end()
        if m.group(0)[0] != "&":
            while pos < len(text) and text[pos] in " \t":
                pos += 1
    out.append(text[pos:])
    origin.extend(range(pos, len(text)))
    origin.append(len(text))
    return "".join(out), origin


def read_values(scan: ScanText, *, limit: int = 256) -> tuple[list[tuple[int, int, str]], bool]:
    """:func:`extract_with_spans` of a read, plus the values it spells in disguise: in full-width letters or
    with invisible characters inside (the normalised view), or spelt out (``[at]``, ``&#64;``). Their spans
    index the original text, so an injected address is known as injected however it was written."""
    found, complete = extract_with_spans(scan.original, limit=limit)
    views = {v.name: v for v in scan.views}
    base = views.get("norm") or views["raw"]
    extra: list[tuple[Sequence[int] | None, str]] = []  # (index in ``base`` of each character, text)
    if base.name == "norm":
        extra.append((None, base.text))
    spelled = _spelled_out(base.text)
    if spelled is not None:
        extra.append((spelled[1], spelled[0]))
    seen = {v for _s, _e, v in found}
    for origin, text in extra:
        more, whole = extract_with_spans(text, limit=limit)
        complete = complete and whole
        for start, end, v in more:
            if v not in seen:
                if len(seen) >= limit:
                    return found, False
                seen.add(v)
            at, to = (start, end) if origin is None else (origin[start], origin[max(end - 1, start)] + 1)
            found.append((*base.to_original(at, to), v))
    return found, complete


def values_near(spans_with_values: Sequence[tuple[int, int, str]], attack_spans: Iterable[tuple[int, int]],
                *, before: int = 200, after: int = 600) -> set[str]:
    """Values that sit within an attack span's neighbourhood (the injected instruction and its payload)."""
    windows = [(max(0, s - before), e + after) for s, e in attack_spans]
    return {v for s, e, v in spans_with_values if any(ws <= s and e <= we for ws, we in windows)}


DECODE_WINDOW = 65_536
"""Characters of an argument searched for encoded values (as the spelt-out window). Tokens do not overlap,
so decoding every one of them is linear in it."""
# A base64 token is a run of its alphabet, eight long at least, with a digit, "+", "/" or a capital inside a
# word in it (encoded text nearly always has one; a word, which the scan would otherwise decode, has none).
# Linear in ``re``: a token starts only where a run does, the lazy scan tries each place once, and the rest is
# possessive.
_B64 = r"A-Za-z0-9+/_\-"
_BASE64_TOKEN = re.compile(rf"(?<![{_B64}])(?=[{_B64}]{{8}})[{_B64}]*?(?:[0-9+/]|[a-z][A-Z])[{_B64}]*+={{0,2}}")
_HEX_TOKEN = re.compile(r"(?:[0-9A-Fa-f]{2}){5,}")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decoded_forms(text: str) -> list[str]:
    """What ``text`` spells under the encodings an injected prompt tells a model to apply before it sends a
    value out, so the value is not recognised: percent-encoding (twice), base64 (standard or URL-safe) and
    hex. A token counts only when it decodes to printable UTF-8 text: an ordinary id or word almost never
    does, so this finds what was encoded, not what merely could be decoded. Reversed text, or a value cut
    across arguments, is not read: a model rarely gets either right, and reading every way values could
    be cut would match across unrelated arguments."""
    text = text[:DECODE_WINDOW]
    out: list[str] = []
    if _PERCENT.search(text):
        once = urllib.parse.unquote(text)
        twice = urllib.parse.unquote(once)
        out.extend((once, twice) if twice != once else (once,))
    for pattern, decode in ((_BASE64_TOKEN, _from_base64), (_HEX_TOKEN, bytes.fromhex)):
        for m in pattern.finditer(text):
            try:
                decoded = decode(m.group(0)).decode("utf-8")
            except (ValueError, binascii.Error):  # UnicodeDecodeError is a ValueError
                continue
            if decoded.strip() and not _CONTROL.search(decoded):
                out.append(decoded)
    return out


def _from_base64(token: str) -> bytes:
    token = token.rstrip("=")
    if len(token) % 4 == 1:
        raise ValueError("not base64")
    padded = token + "=" * (-len(token) % 4)
    return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)


def arg_values(args: Any, *, depth: int = 0) -> set[str]:
    """Salient values in tool-call arguments, plus short whole string arguments (e.g. a recipient), as written
    and as their :func:`decoded_forms` spell them."""
    out: set[str] = set()
    if depth > 32:
        return out
    if isinstance(args, str):
        for form in (args, *decoded_forms(args)):
            out |= extract_values(form)
            if 5 <= len(form) <= 128:
                out.add(normalise(form))
    elif isinstance(args, dict):
        for v in args.values():
            out |= arg_values(v, depth=depth + 1)
    elif isinstance(args, (list, tuple)):
        for v in args[:1000]:
            out |= arg_values(v, depth=depth + 1)
    elif isinstance(args, (int, float)) and not isinstance(args, bool) and abs(args) >= 10000:
        out.add(normalise(str(args)))
    return out
