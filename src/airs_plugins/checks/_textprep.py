"""The L1 normaliser: one pass per subject builds every view the text checks scan.

Views (each maps its offsets back to the original payload):

* ``raw`` - the payload itself (lone surrogates replaced one-for-one, so offsets hold);
* ``norm`` - ``\\uXXXX`` escapes and HTML character references (``&#73;``, ``&#x49;``, ``&nbsp;``) decoded,
  then NFKC, Latin diacritics folded to their base letter, zero-width / bidi / tag / variation characters
  removed; only built when it differs from ``raw``;
* ``fold`` - ``norm`` with homoglyphs (Cyrillic/Greek look-alikes) and leetspeak folded to Latin,
  character for character, so it shares ``norm``'s offsets; built when the text mixes scripts or
  digits inside words;
* ``spaced`` - letter-spaced runs (``i g n o r e``) collapsed;
* ``unesc`` - ``norm`` with string escapes (``\\n``, ``\\"``, YAML ``''`` and line continuations) blanked
  to the same length, so text serialised into JSON, YAML or a Python repr reads as prose; it shares
  ``norm``'s offsets and replaces ``norm`` for attack scanning;
* ``tags`` - the ASCII hidden in Unicode tag characters (U+E0000 block), flagged on its own;
* ``base64`` / ``hex`` / ``url`` / ``morse`` - bounded decodes of embedded segments that decode to text;
  their spans collapse to the encoded region;
* ``query`` - a URL query parameter whose value spells its spaces ``+`` (``?next=Ignore+all+previous+rules``),
  decoded like ``url`` (only attack patterns are run on it);
* ``rot13`` - the text rotated, when it contains common rot13-encoded words (only attack patterns
  are run on it).

Work is bounded: escape decoding and per-character normalisation spend at most :data:`NORMALISE_BUDGET`
units between them (runs of escapes, character references, non-ASCII runs plus the characters they
rewrite; the rest of the text stays as it is and is flagged ``normalisation_truncated``), the derived views
(fold, spaced, rot13, decoded) cover the first ``max_scan_bytes`` characters, collapsing letter spacing
walks at most :data:`NORMALISE_BUDGET` characters, and decoding tries at most :data:`MAX_CANDIDATES`
segments. ``raw`` (and ``norm``) are scanned whole by RE2, in linear time, so a 10 MB string costs C-level
passes plus a bounded Python loop.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import html
import html.entities
import re
import unicodedata
import urllib.parse
from collections.abc import Sequence
from typing import overload

import re2

from .._normalize import ScanText, View
from ._regex import set_form

MAX_DECODED = 12
MAX_CANDIDATES = 64
MAX_SPACED_RUNS = 256
NORMALISE_BUDGET = 8192
"""Per-character normalisation work (characters plus runs) per subject; the rest stays raw."""
_MIN_B64 = 20  # shorter base64-looking runs are ordinary words and identifiers
_REMOVE_RANGES = (
    (0x200B, 0x200F),  # zero-width space/joiners, LRM/RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x2064),  # word joiner, invisible operators
    (0x2066, 0x2069),  # bidi isolates
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # BOM / zero-width no-break space
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x180E, 0x180E),  # Mongolian vowel separator
    (0x0300, 0x036F),  # combining diacritics (Zalgo text)
    (0xE0000, 0xE007F),  # tag characters (decoded separately)
    (0xE0100, 0xE01EF),  # variation selectors supplement
)
_BIDI_OVERRIDES = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))
_ZERO_WIDTH = frozenset((0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x180E))

# Cyrillic and Greek letters that render like Latin ones. Only used in the ``fold`` view, so Russian
# and Greek text keep their own letters in ``norm`` for the multilingual patterns.
_CONFUSABLES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "ɡ": "g", "ɑ": "a", "ı": "i", "ȷ": "j", "ℓ": "l",
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "γ": "y", "ω": "w",
    # Armenian and Cherokee letters that read as Latin ones (Unicode's confusables)
    "\u0585": "o", "\u0578": "n", "\u057d": "u", "\u0570": "h", "\u0581": "g", "\u0566": "q",
    "\u13aa": "a", "\u13f4": "b", "\u13df": "c", "\u13a0": "d", "\u13ac": "e", "\u13c0": "g", "\u13bb": "h",
    "\u13a5": "i", "\u13ab": "j", "\u13e6": "k", "\u13de": "l", "\u13b7": "m", "\u13e2": "p", "\u13a1": "r",
    "\u13da": "s", "\u13a2": "t", "\u13d9": "v", "\u13b3": "w", "\u13c3": "z",
}
# Latin small capitals, which "small caps" text generators use for a word that reads as plain English
_SMALL_CAPITALS = {
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k",
    "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ꞯ": "q", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v",
    "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
}
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_FOLD_TABLE = str.maketrans({**_CONFUSABLES, **{k.upper(): v for k, v in _CONFUSABLES.items()
                                               if k.upper() != k}, **_LEET})
_ROT13 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                       "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm")

_opts = re2.Options()
_opts.max_mem = 32 << 20
# Python ``re`` here: a single character class cannot backtrack, and its C-level ``finditer`` costs far
# less per match than the RE2 wrapper's, which matters on texts with many short non-ASCII runs.
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# Latin letters NFKC leaves alone: Latin-1 to Extended-B and Extended Additional (``ị``, ``ṗ``: Vietnamese and
# the rest of the precomposed letters with diacritics), small capitals and IPA letters (``ɪɢɴᴏʀᴇ``)
_NEEDS_WORK = re.compile("[\u00c0-\u02af\u1d00-\u1d2b\u1e00-\u1eff\ua730\ua731\ua7af"
                         "\u0300-\u036f\u00ad\u034f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                         "\u2066-\u2069\ufe00-\ufe0f\ufeff\U000e0000-\U000e007f\U000e0100-\U000e01ef]")
# two or more digit/symbol substitutions inside one word (``pr3v10us``); a single digit (``mp3``, key ids)
# is ordinary text and not worth a folded view
_LEETISH = re2.compile(r"\b[A-Za-z]*[013457@$][A-Za-z]+[013457@$][A-Za-z0-9@$]*", options=_opts)
# a Latin letter next to a Greek, Cyrillic, Armenian or Cherokee one: a word spelt with look-alikes
_LOOK_ALIKE_SCRIPTS = r"[\x{0370}-\x{03FF}\x{0400}-\x{04FF}\x{0530}-\x{058F}\x{13A0}-\x{13FF}]"
_MIXED_SCRIPT = re2.compile(rf"[A-Za-z]{_LOOK_ALIKE_SCRIPTS}|{_LOOK_ALIKE_SCRIPTS}[A-Za-z]", options=_opts)
_SPACED = re2.compile(r"(?:\b[A-Za-z][ .\-_*|/]{1,3}){4,}[A-Za-z]\b", options=_opts)
_B64 = re2.compile(r"[A-Za-z0-9+/_\-]{20,}={0,2}", options=_opts)
_HEX = re2.compile(r"(?:\\x[0-9A-Fa-f]{2}){8,}|\b(?:[0-9A-Fa-f]{2}[ :]?){12,}", options=_opts)
_URLENC = re2.compile(r"[^\s%]{0,64}(?:%[0-9A-Fa-f]{2}[^\s%]{0,64}){4,}", options=_opts)
# a query-string parameter with the spaces of its value written as ``+`` (``?next=Ignore+all+previous+rules``), four
# words or more; the ``?`` or ``&`` before it anchors it in a URL (``x=a+b+c+d`` in prose stays as it is)
_URL_PLUS = re2.compile(r"[?&;][A-Za-z0-9_.\-\[\]]{1,64}=[^\s&#+\"'<>]{1,64}(?:\+[^\s&#+\"'<>]{1,64}){3,}",
                        options=_opts)
# Morse: at least 16 dot/dash letters in a row, words split by two spaces or a slash
_MORSE = re2.compile(r"(?:[.\-]{1,7}(?: {1,3}| ?/ ?)){15,}[.\-]{1,7}", options=_opts)
_MORSE_CODE = {
    ".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g", "....": "h", "..": "i",
    ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n", "---": "o", ".--.": "p", "--.-": "q", ".-.": "r",
    "...": "s", "-": "t", "..-": "u", "...-": "v", ".--": "w", "-..-": "x", "-.--": "y", "--..": "z",
    "-----": "0", ".----": "1", "..---": "2", "...--": "3", "....-": "4", ".....": "5", "-....": "6",
    "--...": "7", "---..": "8", "----.": "9", ".-.-.-": ".", "--..--": ",", "..--..": "?", ".----.": "'",
    "-.-.--": "!", "-..-.": "/", "---...": ":", "-.-.-.": ";", "-...-": "=", ".-..-.": '"', "-....-": "-",
}
# ``\\u0041`` (JSON, JavaScript, Java), runs decoded together so surrogate pairs join; and HTML character
# references: numeric ones with or without their semicolon (as browsers and ``html.unescape`` read them), named
# ones only with it (``?a=1&copy=2`` in a URL is no copyright sign)
_UNICODE_ESCAPES = r"\\u[0-9A-Fa-f]{4}(?:\\u[0-9A-Fa-f]{4})*"
_CHARACTER_REFERENCES = r"&(?:#(?:[0-9]+|[xX][0-9A-Fa-f]+);?|[A-Za-z][A-Za-z0-9]{1,31};)"
# splitters (text, escape, text, …): each starts with a literal, which ``re`` skips to, so text with only one
# kind pays for only that one, and ``split`` hands back the pieces without a match object each
_ESCAPE_SPLITTERS = {(True, False): re.compile(f"({_UNICODE_ESCAPES})"),
                     (False, True): re.compile(f"({_CHARACTER_REFERENCES})"),
                     (True, True): re.compile(f"({_UNICODE_ESCAPES}|{_CHARACTER_REFERENCES})")}
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_TAGS = re2.compile(r"[\x{E0000}-\x{E007F}]+", options=_opts)
# string escapes of serialised text (JSON, YAML, Python repr): ``\n`` glues the next word to an ``n``
_ESCAPED = r"\\[ntr\"']|\\\n|''[A-Za-z]"
_CONTINUATION = re.compile(r"\\\n[ \t]*(?:\\ )?")  # YAML double-quoted line continuation
_APOSTROPHE = re.compile(r"(?<=[A-Za-z])(?:''|\\')[A-Za-z]*|''|\\'")  # YAML '' and repr \'
_SIMPLE_ESCAPES = (("\\\\", "  "), ("\\n", " \n"), ("\\r", " \n"), ("\\t", "  "), ('\\"', ' "'), ("\\ ", "  "))
_ROT13_HINT = r"(?i)\b(?:gur|naq|lbh|lbhe|vtaber|qvfertneq|cerivbhf|vafgehpgvbaf|flfgrz|cebzcg|cnffjbeq|frperg|ebg13)\b"

# One RE2 set decides which of the (rarer) views are worth building, in a single pass over the text.
_probe_set = re2.Set.SearchSet(_opts)
_PROBE_KEYS = ("mixed", "leet", "spaced", "base64", "hex", "url", "rot13", "escaped", "morse", "url_plus")
for _pattern in (_MIXED_SCRIPT.pattern, _LEETISH.pattern, _SPACED.pattern, _B64.pattern, _HEX.pattern,
                 _URLENC.pattern, _ROT13_HINT, _ESCAPED, _MORSE.pattern, _URL_PLUS.pattern):
    _probe_set.Add(set_form(_pattern))
_probe_set.Compile()


def _probe(text: str) -> frozenset[str]:
    found = _probe_set.Match(text.encode("utf-8"))
    return frozenset(_PROBE_KEYS[i] for i in found) if found else frozenset()

_char_cache: dict[str, str] = {}


def _removable(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _REMOVE_RANGES)


def _map_char(ch: str) -> str:
    cached = _char_cache.get(ch)
    if cached is not None:
        return cached
    cp = ord(ch)
    if _removable(cp):
        out = ""
    elif ch in _SMALL_CAPITALS:
        out = _SMALL_CAPITALS[ch]
    else:
        out = unicodedata.normalize("NFKC", ch)
        folded = []
        for c in out:
            base = unicodedata.normalize("NFKD", c)[:1]
            # Latin letters with diacritics become their ASCII base; CJK, Arabic etc. stay intact
            folded.append(base if base.isascii() and base.isalpha() and c.isalpha() else c)
        out = "".join(folded)
    if len(_char_cache) < 65536:
        _char_cache[ch] = out
    return out


def scrub_surrogates(text: str) -> tuple[str, int]:
    """Replace lone surrogates one-for-one (UTF-8 encoding then works and offsets are unchanged).

    Returns the text and its UTF-8 size.
    """
    if text.isascii():
        return text, len(text)
    try:
        return text, len(text.encode("utf-8"))
    except UnicodeEncodeError:
        clean = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
        return clean, len(clean.encode("utf-8"))


class _Offsets(Sequence[int]):
    """A read-only sequence of offsets computed on demand: subclasses say what one index maps to (``_at``)."""

    __slots__ = ()

    def _at(self, index: int) -> int:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> list[int]: ...

    def __getitem__(self, index: int | slice) -> int | list[int]:
        if isinstance(index, slice):
            return [self._at(i) for i in range(*index.indices(len(self)))]
        return self._at(index)


class SegmentOffsets(_Offsets):
    """View-to-original offsets stored as runs instead of one int per character.

    Run ``k`` starts at view index ``starts[k]`` and maps to ``origins[k]``; ``steps[k]`` is 1 for text
    copied through, 0 for the characters one original character expanded into (NFKC ``ﬁ`` → ``fi``) and the
    width of the escapes for a run of decoded ones (6 for ``\\uXXXX``, 5 for ``&#65;&#66;``).
    Memory and build time follow the number of runs, not the text length.
    """

    __slots__ = ("_length", "_origins", "_starts", "_steps")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._origins: list[int] = []
        self._steps: list[int] = []
        self._length = 0

    def add(self, view_pos: int, origin: int, length: int, *, step: int = 1) -> None:
        if length <= 0:
            return
        if self._steps and step > 0 and self._steps[-1] == step and \
                self._origins[-1] + (view_pos - self._starts[-1]) * step == origin:
            return  # continues the previous run
        self._starts.append(view_pos)
        self._origins.append(origin)
        self._steps.append(step)

    def ends(self) -> SegmentOffsets:
        """Where each view character's source ends in the original: its origin plus its run's step (what one
        character was decoded from). For finished offsets whose every run steps one or more (decoded escapes)."""
        out = SegmentOffsets()
        out._starts = self._starts[:-1]
        out._origins = [o + step for o, step in zip(self._origins[:-1], self._steps[:-1], strict=True)]
        out._steps = self._steps[:-1]
        return out.finish(self._length - 1, self._origins[-1])

    def finish(self, view_len: int, end_origin: int) -> SegmentOffsets:
        self._starts.append(view_len)
        self._origins.append(end_origin)
        self._steps.append(0)
        self._length = view_len + 1
        return self

    def __len__(self) -> int:
        return self._length

    def _at(self, index: int) -> int:
        i = index + self._length if index < 0 else index
        if not 0 <= i < self._length:
            raise IndexError(index)
        k = bisect.bisect_right(self._starts, i) - 1
        return self._origins[k] + (i - self._starts[k]) * self._steps[k]


class ComposedOffsets(_Offsets):
    """Offsets through two steps: a view of a view (``norm`` of the text with its escapes decoded)."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, outer: Sequence[int], inner: Sequence[int]) -> None:
        self._outer = outer
        self._inner = inner

    def __len__(self) -> int:
        return len(self._inner)

    def _at(self, index: int) -> int:
        return self._outer[self._inner[index]]


def _decode_escapes(text: str, limit: int, budget: int,
                    flags: set[str]) -> tuple[str, SegmentOffsets, SegmentOffsets, int] | None:
    """``\\u0438`` escapes and HTML character references decoded, with each character's origin and end in
    ``text``; None when there are none.

    JSON written with ``ensure_ascii`` (Python's default), JavaScript and Java string literals spell every
    non-ASCII character as ``\\uXXXX``, and a page's HTML source can spell any letter as ``&#73;``, ``&#x49;``
    or ``&Iopf;``, so a fetched page in Russian or with look-alike letters, an instruction spelt in references,
    or a key an attacker had the model write escaped reads as ASCII noise to every pattern while the model
    reads the text. Escapes are decoded in the first ``limit`` characters; each run of ``\\u`` escapes and each
    character reference (or ``&name;`` that names nothing) spends two units of ``budget``, and each escape
    that is half of a surrogate pair one more (the rest stay as written, flagged ``normalisation_truncated``).
    The units spent are returned last, as the normalisation shares the budget.
    """
    # every escape spends two units or more, so one past what the budget affords shows it ran out
    splitter = _ESCAPE_SPLITTERS[("\\u" in text, "&" in text)]
    pieces = splitter.split(text if len(text) <= limit else text[:limit], maxsplit=(budget + 1) // 2 + 1)
    if len(pieces) == 1:
        return None
    parts: list[str] = []
    # one run per stretch of copied text (width 1) or of escapes (width 6, 12 for a surrogate pair, the
    # reference's length for a character reference)
    runs = SegmentOffsets()
    # appended to in place below where a run cannot continue the one before: this loop is the cost of a page
    # full of ``&amp;``
    starts, origins, widths = runs._starts, runs._origins, runs._steps
    vpos = pos = spent = 0
    rest = len(pieces) - 1  # the index of the first piece left as written
    changed = False
    for k in range(1, len(pieces), 2):
        plain, run = pieces[k - 1], pieces[k]
        if plain:
            starts.append(vpos)
            origins.append(pos)
            widths.append(1)
            parts.append(plain)
            vpos += len(plain)
            pos += len(plain)
        if spent >= budget:
            flags.add("normalisation_truncated")
            rest = k
            break
        spent += 2  # a run and its decoding, as the normalisation counts a run and the characters it rewrites
        if run[0] == "&":
            decoded = _reference_cache.get(run) or _decode_reference(run)
            if decoded is None:  # an unknown name stays as written
                decoded = run
                runs.add(vpos, pos, len(run))
            else:
                changed = True
                for i in range(len(decoded)):  # every character of ``&fjlig;`` spans all of it
                    starts.append(vpos + i)
                    origins.append(pos)
                    widths.append(len(run))
        elif _SURROGATE_ESCAPE.search(run):  # pairs join into one character, lone ones cannot be encoded
            changed = True
            joined = run[:6 * max(1, budget - spent)]
            decoded = _join_surrogates(joined, pos, vpos, runs)
            spent += len(joined) // 6
            if len(joined) < len(run):  # out of budget halfway: the rest of the run stays as written
                pieces[k + 1] = run[len(joined):] + pieces[k + 1]
                run = joined
        else:
            changed = True
            decoded = chr(int(run[2:], 16)) if len(run) == 6 else run.encode("ascii").decode("unicode_escape")
            runs.add(vpos, pos, len(decoded), step=6)
        parts.append(decoded)
        vpos += len(decoded)
        pos += len(run)
    if not changed:
        return None
    tail = "".join(pieces[rest:]) if rest < len(pieces) - 1 else pieces[-1]
    if len(text) > limit:
        tail += text[limit:]
    if tail:
        runs.add(vpos, pos, len(tail))
        parts.append(tail)
        vpos += len(tail)
    n = len(text)
    offsets = runs.finish(vpos, n)
    ends = offsets.ends()
    return "".join(parts), offsets, ends, spent


_reference_cache: dict[str, str] = {}


def _decode_reference(ref: str) -> str | None:
    """The text an HTML character reference (``&#73;``, ``&#x49;``, ``&Iopf;``) stands for, normalised as the
    ``norm`` view is; None when it names nothing.

    Every name HTML5 defines counts (with its semicolon, ≤ 32 characters, one or two characters out), so
    ``&Iopf;`` (``𝕀``) reads as ``I``. Invisible characters (zero-width, bidi, soft hyphen) decode to nothing,
    as the normalisation drops them, but unflagged: a reference is plain to see in the source.
    """
    cached = _reference_cache.get(ref)
    if cached is not None:
        return cached
    decoded: str | None
    if ref[1] != "#":
        decoded = html.entities.html5.get(ref[1:])
    else:
        digits = ref[2:].rstrip(";")
        is_hex = digits[0] in "xX"
        number = digits[1:] if is_hex else digits
        if len(number.lstrip("0")) > 8:  # past U+10FFFF (and past what ``int`` converts) however it is written
            decoded = "\ufffd"
        else:
            cp = int(number, 16 if is_hex else 10)
            # ordinary code points directly; controls, surrogates, windows-1252 remaps as ``html.unescape`` does
            decoded = chr(cp) if 0x20 <= cp < 0x7F or 0xA0 <= cp < 0xD800 else html.unescape(f"&#{cp};")
    if decoded is None:
        return None
    if not decoded.isascii():
        decoded = "".join(_map_char(c) for c in decoded)
    # the longest name is 34 characters with its ``&`` and ``;``; numbers padded with zeros are not worth keeping
    if len(ref) <= 34 and len(_reference_cache) < 4096:
        _reference_cache[ref] = decoded
    return decoded


def _join_surrogates(run: str, origin: int, vpos: int, runs: SegmentOffsets) -> str:
    """Decode a run of escapes holding surrogates, one character (and one offsets run) at a time."""
    out: list[str] = []
    i = 0
    while i < len(run):
        cp = int(run[i + 2:i + 6], 16)
        width = 6
        if 0xD800 <= cp <= 0xDBFF and i + 12 <= len(run):
            low = int(run[i + 8:i + 12], 16)
            if 0xDC00 <= low <= 0xDFFF:
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)
                width = 12
        runs.add(vpos + len(out), origin + i, 1, step=width)
        out.append("\ufffd" if 0xD800 <= cp <= 0xDFFF else chr(cp))
        i += width
    return "".join(out)


def _normalise(text: str, budget: int, flags: set[str]) -> tuple[str, SegmentOffsets] | None:
    """NFKC + folding + removals, with run-length offsets; None when nothing changes."""
    parts: list[str] = []
    offs = SegmentOffsets()
    vpos = 0
    pos = 0
    changed = False
    spent = 0
    invisible_in_word = 0
    n = len(text)
    for m in _NON_ASCII.finditer(text):
        s, e = m.start(), m.end()
        if spent >= budget:
            flags.add("normalisation_truncated")
            break
        if s > pos:
            parts.append(text[pos:s])
            offs.add(vpos, pos, s - pos)
            vpos += s - pos
        pos = s
        run = text[s:e]
        spent += 1
        if unicodedata.is_normalized("NFKC", run) and not _NEEDS_WORK.search(run):
            # CJK, Cyrillic, Arabic… prose: nothing to change, no per-character loop
            parts.append(run)
            offs.add(vpos, s, e - s)
            vpos += e - s
            pos = e
            continue
        stop = min(e, s + budget - spent)
        spent += stop - s
        for i in range(s, stop):
            ch = text[i]
            out = _map_char(ch)
            if out == ch:
                parts.append(ch)
                offs.add(vpos, i, 1)
                vpos += 1
                continue
            changed = True
            if not out:
                cp = ord(ch)
                if cp in _BIDI_OVERRIDES:
                    flags.add("bidi")
                elif cp in _ZERO_WIDTH:
                    prev_c = text[i - 1] if i > 0 else " "
                    next_c = text[i + 1] if i + 1 < n else " "
                    if prev_c.isascii() and prev_c.isalnum() and next_c.isascii() and next_c.isalnum():
                        invisible_in_word += 1
                continue
            parts.append(out)
            offs.add(vpos, i, len(out), step=1 if len(out) == 1 else 0)
            vpos += len(out)
        pos = stop
        if stop < e:
            flags.add("normalisation_truncated")
            break
    if not changed:
        return None
    if pos < n:
        parts.append(text[pos:])
        offs.add(vpos, pos, n - pos)
        vpos += n - pos
    if invisible_in_word:
        flags.add("zero_width")
        if invisible_in_word >= 3:
            flags.add("zero_width_many")
    return "".join(parts), offs.finish(vpos, n)


def _blank_apostrophe(m: re.Match[str]) -> str:
    esc = m.group(0)
    if len(esc) > 2:
        # an apostrophe inside a word (``you''re``, ``don\'t``): the quote, the rest of the word, then
        # the spare character as a space, so the word reads whole and the text keeps its length
        return "'" + esc[2:] + " "
    return " '"


def unescape_same_length(text: str) -> str:
    """Blank string escapes to whitespace of the same length (offsets are unchanged).

    ``\\n`` becomes a space and a newline (line-anchored patterns keep working), ``\\"`` a space and the
    quote, a YAML continuation (backslash, newline, indentation, escaped space) one long space.
    """
    if "\\\n" in text:
        text = _CONTINUATION.sub(lambda m: " " * len(m.group(0)), text)
    for esc, blank in _SIMPLE_ESCAPES:
        if esc in text:
            text = text.replace(esc, blank)
    if "''" in text or "\\'" in text:
        text = _APOSTROPHE.sub(_blank_apostrophe, text)
    return text


def _collapse_spaced(text: str, offsets: Sequence[int] | None, ends: Sequence[int] | None,
                     limit: int) -> tuple[str, Sequence[int], Sequence[int] | None] | None:
    """``text`` (the first ``limit`` characters) with letter-spaced runs collapsed, and its offsets and ends.

    The offsets are runs into ``text`` composed with ``text``'s own, so the work follows the spaced letters
    (at most :data:`NORMALISE_BUDGET` of them), not the length of the text around them.
    """
    parts: list[str] = []
    into_text = SegmentOffsets()
    vpos = pos = walked = 0
    text = text[:limit]
    for count, m in enumerate(_SPACED.finditer(text)):
        if count >= MAX_SPACED_RUNS or walked >= NORMALISE_BUDGET:
            break
        s = m.start()
        run = m.group(0)[:NORMALISE_BUDGET - walked]
        walked += len(run)
        parts.append(text[pos:s])
        into_text.add(vpos, pos, s - pos)
        vpos += s - pos
        gap = 0
        for j, ch in enumerate(run):
            if ch.isalpha():
                if gap >= 2:  # a wider gap separates words: keep one space
                    parts.append(" ")
                    into_text.add(vpos, s + j - 1, 1)
                    vpos += 1
                parts.append(ch)
                into_text.add(vpos, s + j, 1)
                vpos += 1
                gap = 0
            else:
                gap += 1
        pos = s + len(run)
    if not parts:
        return None
    parts.append(text[pos:])
    into_text.add(vpos, pos, len(text) - pos)
    vpos += len(text) - pos
    into_text.finish(vpos, len(text))
    if offsets is None:
        return "".join(parts), into_text, None
    return "".join(parts), ComposedOffsets(offsets, into_text), (
        ComposedOffsets(ends, into_text) if ends is not None else None)


def _printable_text(data: bytes) -> str | None:
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(decoded) < 8:
        return None
    good = sum(1 for c in decoded if c.isprintable() or c in "\n\r\t")
    letters = sum(1 for c in decoded if c.isalpha())
    if good < 0.95 * len(decoded) or letters < 0.5 * len(decoded) or " " not in decoded:
        return None
    return decoded


def _decode_b64(segment: str) -> str | None:
    core = segment.rstrip("=")
    if len(core) < _MIN_B64 or (core.isalpha() and (core.islower() or core.isupper())):
        return None
    if all(c in "0123456789abcdefABCDEF" for c in core):
        return None  # hex digests are not base64 text
    padded = core + "=" * (-len(core) % 4)
    try:
        if "-" in core or "_" in core:
            raw = base64.urlsafe_b64decode(padded)
        else:
            raw = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return _printable_text(raw)


def _decode_hex(segment: str) -> str | None:
    digits = "".join(c for c in segment.replace("\\x", "") if c in "0123456789abcdefABCDEF")
    if len(digits) % 2:
        digits = digits[:-1]
    try:
        raw = bytes.fromhex(digits)
    except ValueError:
        return None
    return _printable_text(raw)


def _decode_url(segment: str) -> str | None:
    decoded = urllib.parse.unquote_plus(segment)
    return decoded if decoded != segment and decoded.isprintable() else None


def _decode_morse(segment: str) -> str | None:
    words = []
    unknown = total = 0
    for word in re.split(r"\s*/\s*| {2,}", segment.strip()):
        letters = [_MORSE_CODE.get(code, "") for code in word.split()]
        total += len(letters)
        unknown += letters.count("")
        words.append("".join(letters))
    if unknown * 10 > total:
        return None  # not Morse after all (rules of dashes, ellipsis runs)
    return _printable_text(" ".join(words).encode("utf-8"))


def _decoded_views(text: str, limit: int, probe: frozenset[str]) -> list[View]:
    views: list[View] = []
    region = text[:limit]
    for key, name, pattern, decoder in (("base64", "base64", _B64, _decode_b64), ("hex", "hex", _HEX, _decode_hex),
                                        ("url", "url", _URLENC, _decode_url), ("morse", "morse", _MORSE, _decode_morse),
                                        ("url_plus", "query", _URL_PLUS, _decode_url)):
        if key not in probe:
            continue
        for count, m in enumerate(pattern.finditer(region)):
            if len(views) >= MAX_DECODED or count >= MAX_CANDIDATES:
                break
            segment, start = m.group(0).rstrip(" :"), m.start()
            if key == "url_plus":  # the separator is the URL's, not the parameter's
                segment, start = segment[1:], start + 1
            decoded = decoder(segment[:limit])
            if decoded:
                views.append(View(name, decoded, span_of_origin=(start, start + len(segment))))
    return views


def _tag_views(text: str, flags: set[str]) -> list[View]:
    views: list[View] = []
    for count, m in enumerate(_TAGS.finditer(text)):
        if count >= MAX_CANDIDATES:
            break
        s, e = m.start(), m.end()
        # emoji subdivision flags (England, Scotland, Wales) are tag sequences after U+1F3F4
        if s > 0 and text[s - 1] == "\U0001f3f4" and e - s <= 8:
            continue
        decoded = "".join(chr(ord(c) - 0xE0000) for c in text[s:min(e, s + 4096)] if 0x20 <= ord(c) - 0xE0000 < 0x7F)
        if decoded.strip():
            flags.add("unicode_tags")
            views.append(View("tags", decoded, span_of_origin=(s, e)))
        if len(views) >= MAX_DECODED:
            break
    return views


def _norm_view(text: str, max_scan_bytes: int, flags: set[str]) -> tuple[str, Sequence[int] | None,
                                                                        Sequence[int] | None]:
    """The ``norm`` text with its offsets and ends; ``text`` itself (no offsets) when nothing changes.

    ``\\uXXXX`` escapes and HTML character references are decoded first, so the letters they spell are
    normalised (and folded) like any other.
    """
    budget = min(max_scan_bytes, NORMALISE_BUDGET)
    escaped = "\\u" in text or "&" in text
    unescaped = _decode_escapes(text, max_scan_bytes, budget, flags) if escaped else None
    base = unescaped[0] if unescaped is not None else text
    spent = unescaped[3] if unescaped is not None else 0
    # references decode already normalised, so an ASCII page whose only escapes are references needs no more
    settled = base.isascii() or (text.isascii() and "\\u" not in text)
    normalised = None if settled else _normalise(base, budget - spent, flags)
    if unescaped is None:
        return (text, None, None) if normalised is None else (normalised[0], normalised[1], None)
    _, offsets, ends, _ = unescaped
    if normalised is None:
        return base, offsets, ends
    return normalised[0], ComposedOffsets(offsets, normalised[1]), ComposedOffsets(ends, normalised[1])


def prepare(text: str, *, max_scan_bytes: int = 65536) -> ScanText:
    """Build the views of ``text`` (see the module docstring)."""
    text, size = scrub_surrogates(text)
    oversized = size > max_scan_bytes
    flags: set[str] = set()
    views: list[View] = [View("raw", text)]
    if not text.isascii():
        views.extend(_tag_views(text, flags))
    norm_text, norm_offsets, norm_ends = _norm_view(text, max_scan_bytes, flags)
    if norm_text is not text:
        views.append(View("norm", norm_text, offsets=norm_offsets, ends=norm_ends))
    probe = _probe(norm_text)
    # derived views cover the scan window; the raw (and norm) views are scanned in full by RE2
    window = norm_text[:max_scan_bytes]
    if "mixed" in probe or "leet" in probe:
        folded = window.translate(_FOLD_TABLE)
        if folded != window:
            if "mixed" in probe:
                flags.add("homoglyph")
            views.append(View("fold", folded, offsets=norm_offsets, ends=norm_ends))
    if "spaced" in probe:
        spaced = _collapse_spaced(norm_text, norm_offsets, norm_ends, max_scan_bytes)
        if spaced is not None:
            flags.add("letter_spacing")
            views.append(View("spaced", spaced[0], offsets=spaced[1], ends=spaced[2]))
    if probe & {"base64", "hex", "url", "morse", "url_plus"}:
        decoded = _decoded_views(text, max_scan_bytes, probe)
        if decoded:
            flags.add("encoded")
            views.extend(decoded)
    if "escaped" in probe:
        unesc = unescape_same_length(window)
        if unesc != window:
            views.append(View("unesc", unesc, offsets=norm_offsets, ends=norm_ends))
    if "rot13" in probe:
        views.append(View("rot13", window.translate(_ROT13), offsets=norm_offsets, ends=norm_ends))
    return ScanText(original=text, views=tuple(views), oversized=oversized, flags=frozenset(flags))


ATTACK_ONLY_VIEWS = frozenset({"rot13", "unesc", "query"})
"""Views that only attack patterns scan: rotating benign text yields nothing but noise, and a ``+``-spaced
query string is an instruction's hiding place while the values in it (a maps link's address) are the link's
own. ``unesc`` is scanned by data checks only where it stands in for the whole text (see :func:`text_views`)."""
DECODED_VIEWS = frozenset({"base64", "hex", "url", "query", "morse", "tags", "rot13"})


def text_views(scan: ScanText, *, attack: bool = False) -> tuple[View, ...]:
    """The views a check scans: data checks skip rotated text; attack checks get everything.

    When ``norm`` exists ``raw`` is skipped for attack scanning, since ``norm`` holds the same text
    with obfuscation removed; likewise ``unesc`` replaces both when it covers the whole text.
    """
    names = {v.name for v in scan.views}
    base = "norm" if "norm" in names else "raw"
    lengths = {v.name: len(v.text) for v in scan.views}
    # ``unesc`` stands in for the text it was built from when it covers all of it. Data checks read it too: in
    # JSON (a tool call's arguments, a result serialised from a dict) the letter of an escape is glued to what
    # follows it, so a key on a new line (``"…:\\nAKIA…"``) lost its word boundary and went unseen, and an
    # address read as ``nbob@…``, whose redaction broke the JSON
    unesc_whole = "unesc" in lengths and lengths["unesc"] == lengths[base]
    out = []
    for v in scan.views:
        if v.name in ATTACK_ONLY_VIEWS and not (attack or (unesc_whole and v.name == "unesc")):
            continue
        if (attack or unesc_whole) and v.name == "raw" and "norm" in names:
            continue
        if unesc_whole and v.name == base:
            continue
        out.append(v)
    return tuple(out)
