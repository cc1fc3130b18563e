"""Reading the words of structured content, and putting redacted words back in their places."""

from __future__ import annotations

import pytest

from airs_plugins._words import split_words, with_words, words

BLOCK = {"type": "tool_use", "id": "c1", "name": "send", "input": {"to": "bob", "lines": ["a\nb", "  ", ("c",)]},
         "data": "QUJD", "n": 3}


def test_words_are_read_in_order_skipping_ids_payloads_and_blanks() -> None:
    assert words(BLOCK) == ["send", "bob", "a\nb", "c"]


def test_the_same_words_put_back_give_the_same_value() -> None:
    assert with_words(BLOCK, words(BLOCK)) == BLOCK


def test_replaced_words_land_where_they_were_read() -> None:
    out = with_words(BLOCK, ["SEND", "[NAME]", "A\nB", "C"])
    assert out == {**BLOCK, "name": "SEND", "input": {"to": "[NAME]", "lines": ["A\nB", "  ", ("C",)]}}


def test_a_wrong_count_of_words_is_refused() -> None:
    with pytest.raises(ValueError):
        with_words(BLOCK, ["one"])


def test_a_redaction_is_split_back_into_the_words() -> None:
    original = ["send", "bob", "a\nb", "c"]
    assert split_words("send\n[NAME]\na\n[X]\nc", original) == ["send", "[NAME]", "a\n[X]", "c"]


def test_a_redaction_that_took_in_a_line_break_cannot_be_split() -> None:
    assert split_words("send\n[NAME]b\nc", ["send", "bob", "a\nb", "c"]) is None
