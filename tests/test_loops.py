"""Loop detection on plain strings: each loop shape, and texts that must not count as loops."""

from __future__ import annotations

import pytest

from ludwig_doctor.diagnostics.loops import analyse_text, mark_loop


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("Paris y Paris y Paris y Paris y Paris", "Paris y"),
        ("the answer is 4 the answer is 4 the answer is 4", "the answer is 4"),
        ("orange orange orange orange orange orange", "orange"),
        ("The fox is red red red red red red", "red"),
        ("!!!!!!!!!!!!!!!!!!!!", "!"),
        ("OOOOOOOOOOOOOOOO", "O"),
        ("abcabcabcabcabcabcabcabcabc", "abc"),
        (". . . . . . . . . .", "."),
    ],
)
def test_loop_shapes_found(text: str, unit: str) -> None:
    report = analyse_text(text)
    assert report.loops
    assert report.span is not None
    assert report.span.unit == unit


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Paris",
        "The capital of France is Paris.",
        "very very good",
        "ha ha ha",
        "It costs 1000000 dollars...",
        "Red, green and blue are colors; red is warm, blue is cold.",
    ],
)
def test_ordinary_text_not_a_loop(text: str) -> None:
    assert not analyse_text(text).loops


def test_loop_marked_in_text() -> None:
    text = "Answer: blue blue blue blue blue"
    report = analyse_text(text)
    assert report.span is not None
    assert mark_loop(text, report.span) == "Answer: [[blue blue blue blue blue]]"


def test_repeated_ngram_rate_of_a_loop() -> None:
    report = analyse_text("a b a b a b a b")
    assert report.repeated_ngram_rate[0] == pytest.approx(0.75)
    assert report.repeated_ngram_rate[1] == pytest.approx(5 / 7, abs=1e-4)


def test_long_loop_found_in_ten_thousand_words() -> None:
    text = "Some introduction here. " + "yes and no " * 3400
    report = analyse_text(text)
    assert report.span is not None
    assert report.span.unit == "yes and no"
    assert report.span.repeats >= 3399
