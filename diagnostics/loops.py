"""Loop detection in generated text: back-to-back repeats of a span of words or characters.

Time is linear in the text's length for a fixed maximum period: for each period p the text is
compared with itself shifted by p (one vectorised comparison), and the longest run of matches gives
the longest span that repeats with that period.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Longest repeating unit searched for, in words and in characters. Loops seen in Ludwig runs repeat a
# short answer (a few words) or a single character such as "!" or "#".
MAX_WORD_PERIOD = 32
MAX_CHAR_PERIOD = 12
# A word loop needs its unit at least three times in a row and at least five repeated words, so that
# "very very good" or "ha ha ha" are not loops but "answer y answer y answer y" is.
MIN_WORD_REPEATS = 3
MIN_WORD_SPAN = 5
# A character loop ("!!!!!!!!", "OOOOOOOO", "abcabcabcabc") needs at least eight repeats of its unit,
# so that "..." or "!!!" are not loops. A unit of digits needs twelve characters, so that numbers
# such as 100000000 are not loops either.
MIN_CHAR_REPEATS = 8
MIN_CHAR_SPAN = 8
MIN_DIGIT_SPAN = 12

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class LoopSpan:
    """The longest back-to-back repetition in a text."""

    kind: str  # "words" or "characters"
    unit: str  # one copy of the repeating unit
    period: int  # length of the unit, in words or characters
    repeats: float  # how many times the unit occurs in a row (a partial last copy counts as a fraction)
    start: int  # character offset of the repeating span in the text
    end: int  # character offset just past the span


@dataclass(frozen=True)
class LoopReport:
    """Repetition measures of one text."""

    word_count: int
    span: LoopSpan | None
    # Share of n-grams that are repeats of an earlier n-gram, for n = 1..4.
    repeated_ngram_rate: tuple[float, float, float, float]
    text_length: int = 0

    @property
    def loops(self) -> bool:
        return self.span is not None

    @property
    def score(self) -> float:
        """Share of the text covered by the loop, 0 when there is none."""
        if self.span is None:
            return 0.0
        return min(1.0, (self.span.end - self.span.start) / max(1, self.text_length))


def analyse_text(text: str) -> LoopReport:
    """Measure the repetition of ``text`` and find its longest loop of words or characters."""
    matches = list(_WORD.finditer(text))
    words = [match.group() for match in matches]

    span = _word_loop(text, matches)
    if span is None:
        span = _char_loop(text)

    return LoopReport(
        word_count=len(words),
        span=span,
        repeated_ngram_rate=_repeated_ngram_rates(words),
        text_length=len(text),
    )


def analyse_texts(texts: Sequence[str]) -> list[LoopReport]:
    """Measure every text of ``texts``; the reports equal ``analyse_text`` of each text."""
    return [analyse_text(text) for text in texts]


def mark_loop(text: str, span: LoopSpan, marker_start: str = "[[", marker_end: str = "]]") -> str:
    """Return ``text`` with the repeating span between markers."""
    return text[: span.start] + marker_start + text[span.start : span.end] + marker_end + text[span.end :]


def _longest_periodic_run(codes: np.ndarray, max_period: int, min_repeats: int) -> tuple[int, int, int]:
    """Return (period, start, covered length) of the longest run where codes[i] == codes[i + period].

    Only runs that repeat their unit at least ``min_repeats`` times count, so that a chance match at
    a long period does not hide a real loop at a short one. Among periods with the same coverage
    the smallest wins, so "a a a a" has period 1, not 2.
    """
    best = (0, 0, 0)
    length = len(codes)

    for period in range(1, min(max_period, length // 2) + 1):
        equal = codes[period:] == codes[:-period]
        if not equal.any():
            continue
        run_start, run_length = _longest_true_run(equal)
        covered = run_length + period
        if covered >= min_repeats * period and covered > best[2]:
            best = (period, run_start, covered)

    return best


def _longest_true_run(flags: np.ndarray) -> tuple[int, int]:
    """Return (start, length) of the longest run of True values."""
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    changes = np.flatnonzero(np.diff(padded))
    starts, ends = changes[0::2], changes[1::2]
    lengths = ends - starts
    best = int(np.argmax(lengths))
    return int(starts[best]), int(lengths[best])


def _word_loop(text: str, matches: list[re.Match[str]]) -> LoopSpan | None:
    if len(matches) < MIN_WORD_SPAN:
        return None

    vocabulary: dict[str, int] = {}
    codes = np.fromiter(
        (vocabulary.setdefault(match.group(), len(vocabulary)) for match in matches),
        dtype=np.int64,
        count=len(matches),
    )
    period, start, covered = _longest_periodic_run(codes, MAX_WORD_PERIOD, MIN_WORD_REPEATS)
    if period == 0:
        return None

    repeats = covered / period
    if repeats < MIN_WORD_REPEATS or covered < MIN_WORD_SPAN:
        return None

    unit = " ".join(match.group() for match in matches[start : start + period])
    return LoopSpan(
        kind="words",
        unit=unit,
        period=period,
        repeats=round(repeats, 2),
        start=matches[start].start(),
        end=matches[start + covered - 1].end(),
    )


def _char_loop(text: str) -> LoopSpan | None:
    if len(text) < MIN_CHAR_SPAN:
        return None

    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    period, start, covered = _longest_periodic_run(codes, MAX_CHAR_PERIOD, MIN_CHAR_REPEATS)
    if period == 0:
        return None

    unit = text[start : start + period]
    repeats = covered / period
    min_span = MIN_DIGIT_SPAN if unit.isdigit() else MIN_CHAR_SPAN
    if repeats < MIN_CHAR_REPEATS or covered < min_span or not unit.strip():
        return None

    return LoopSpan(
        kind="characters",
        unit=unit,
        period=period,
        repeats=round(repeats, 2),
        start=start,
        end=start + covered,
    )


def _repeated_ngram_rates(words: list[str]) -> tuple[float, float, float, float]:
    rates = []
    for n in (1, 2, 3, 4):
        total = len(words) - n + 1
        if total <= 0:
            rates.append(0.0)
            continue
        distinct = len(Counter(tuple(words[i : i + n]) for i in range(total)))
        rates.append(round(1.0 - distinct / total, 4))
    return (rates[0], rates[1], rates[2], rates[3])
