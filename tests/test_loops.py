"""Loop detection on plain strings: each loop shape, and texts that must not count as loops."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from ludwig_doctor.diagnostics import loops
from ludwig_doctor.diagnostics.loops import analyse_text, analyse_texts, mark_loop
from ludwig_doctor.diagnostics.readers.predictions import read_predictions

WHITESPACE = [chr(code) for code in range(0x110000) if chr(code).isspace()]


@pytest.fixture(params=["c_scan", "numpy"])
def batch_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once with the compiled scan and once with the NumPy fallback."""
    if request.param == "c_scan" and loops._loopscan is None:
        pytest.skip("the _loopscan extension was not built (no C compiler at install time)")
    monkeypatch.setattr(loops, "USE_C_SCAN", request.param == "c_scan")
    return str(request.param)


def _thue_morse(length: int, first: str, second: str) -> str:
    return "".join(second if bin(index).count("1") % 2 else first for index in range(length))


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


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("the pig lives in{{{{{{{{", "{"),
        ("the is iscccccccccc", "c"),
        ("Paris Paris Paris Paris Paris", "Paris"),
        ("the answer y the answer y the answer y", "the answer y"),
    ],
)
def test_short_runs_found(text: str, unit: str) -> None:
    report = analyse_text(text)
    assert report.span is not None
    assert report.span.unit == unit


@pytest.mark.parametrize("text", ["It costs 100000000 dollars", "wait!!!", "thean about is is is is+++++"])
def test_short_stutters_not_loops(text: str) -> None:
    assert not analyse_text(text).loops


def test_batch_equals_single_on_real_outputs(sample_runs: Path, batch_path: str) -> None:
    texts = []
    for run in ("llm_fits", "llm_v091_nopad", "llm_looping_targets", "llm_truncated"):
        for predictions in read_predictions(sample_runs / run / "predict_test").predictions:
            texts.extend(predictions.responses)
        for path in sorted(
            (sample_runs / run / "results" / "experiment_run" / "model" / "llm_eval_examples").glob("*.csv")
        ):
            with path.open(newline="", encoding="utf-8") as handle:
                texts.extend(row["outputs"] for row in csv.DictReader(handle))
    rng = random.Random(0)
    for _ in range(500):
        texts.append(
            " ".join(rng.choice(["the", "fox", "is", "red", "!", "y"]) for _ in range(rng.randint(0, 60)))
        )
        texts.append("".join(rng.choice("ab! \n") for _ in range(rng.randint(0, 80))))
    texts.extend(["", "é é é é é é", "🙂" * 9, "\x1c x \x1c x"])

    assert len(texts) > 1000
    assert analyse_texts(texts) == [analyse_text(text) for text in texts]


def test_batch_equals_single_on_edge_cases(batch_path: str) -> None:
    rng = random.Random(1)
    alphabet = ["a", "b", "é", "🙂", " ", "\n", "\t", "\u3000", "\u00a0", "\x1c", "!", "7", "\ud800"]
    texts = ["", " ", "   \n\t ", "word", "a", "\u3000\u3000", "x" * 2000, ("ab" * 700 + " ") * 3]
    texts.append("intro " + "x" * 1500 + " " + "yes and no " * 3000)
    texts.append("abababababababababab" + " " * 100)
    texts.append(" ".join(rng.choice(["one", "two", "three"]) for _ in range(20_000)))
    for _ in range(1000):
        texts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120))))
        words = [rng.choice(["le", "chat", "🙂🙂", "!!", "1234"]) for _ in range(rng.randint(0, 40))]
        texts.append(rng.choice([" ", "  ", "\n"]).join(words))

    assert analyse_texts(texts) == [analyse_text(text) for text in texts]


def test_batch_splits_into_several_batches(monkeypatch: pytest.MonkeyPatch, batch_path: str) -> None:
    monkeypatch.setattr(loops, "BATCH_TEXTS", 3)
    texts = ["a b a b a b a b", "", "!!!!!!!!!!", "x y z", "w w w w w w", " "] * 3

    assert analyse_texts(texts) == [analyse_text(text) for text in texts]


def test_every_whitespace_code_point_in_space_table() -> None:
    spaces = [ord(space) for space in WHITESPACE]

    assert max(spaces) < loops._SPACE_TABLE_SIZE
    assert all(loops._IS_SPACE[code] for code in spaces)


def test_batch_equals_single_on_unicode_whitespace(batch_path: str) -> None:
    texts = []
    for space in WHITESPACE:
        texts.append(space.join(["a", "b"] * 6))
        texts.append(f"x{space}y{space}z")
        texts.append(space * 20)
        texts.append("w" + space * 9 + "w")
    texts.append("".join(WHITESPACE))
    texts.append(" ".join(WHITESPACE) + " end")
    # Control and format characters beside whitespace, in 1-, 2- and 4-byte strings.
    texts.extend(
        ["\x1b\x1f\x85\xa0", "\u200b \u200b \u200b \u200b \u200b", "\u2060\ufeff", "\U0001f642\u3000x"]
    )

    assert analyse_texts(texts) == [analyse_text(text) for text in texts]


def test_batch_equals_single_on_surrogates(batch_path: str) -> None:
    texts = [
        "\ud800",
        "\udfff \ud800",
        "\ud83d\ude42 \ud83d\ude42 \ud83d\ude42 \ud83d\ude42 \ud83d\ude42",
        "\ud800" * 16,
        ("\udc00\ud800" * 8 + " ") * 4,
        "x\ud800y " * 6,
    ]

    assert analyse_texts(texts) == [analyse_text(text) for text in texts]


def test_batch_equals_single_on_empty_texts(batch_path: str) -> None:
    texts = ["", "", " ", ""]

    assert analyse_texts(texts) == [analyse_text(text) for text in texts]
    assert analyse_texts([]) == []


def test_batch_equals_single_on_huge_words(batch_path: str) -> None:
    # Thue-Morse words of 2048 characters collide under every polynomial hash modulo 2**64, so
    # words this long must be distinguished some other way.
    first, second = _thue_morse(2048, "a", "b"), _thue_morse(2048, "b", "a")
    long_loop = "y" * 1025
    texts = [
        f"{first} {second} {first} {second}",
        " ".join([first, second] * 4),
        " ".join([first, first, second, second] * 3),
        " ".join([long_loop] * 6),
        " ".join(["z" * 1024, "z" * 1025] * 4),
        "🙂" * 5000,
        "\u3000".join(["é" * 3000] * 5),
        "a" * 200_000,
    ]

    assert analyse_texts(texts) == [analyse_text(text) for text in texts]
    assert analyse_text(texts[0]).repeated_ngram_rate[0] == 0.5


def test_c_scan_rejects_non_strings() -> None:
    if loops._loopscan is None:
        pytest.skip("the _loopscan extension was not built (no C compiler at install time)")

    with pytest.raises(TypeError, match="str items"):
        loops._loopscan.scan_texts(["a", b"b"], 32, 3, 5, 12, 8, 8)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="at least 1"):
        loops._loopscan.scan_texts(["a"], 32, 3, 5, 12, 8, 0)
