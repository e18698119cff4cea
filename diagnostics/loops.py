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
from itertools import chain

import numpy as np
import pandas as pd

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
    """Measure every text of ``texts``; the reports equal ``analyse_text`` of each text.

    The texts are measured in batches of about BATCH_WORDS words, with one NumPy pass per period
    for a whole batch, which is much faster than one text at a time for many short texts.
    """
    reports: list[LoopReport] = []
    batch: list[str] = []
    words = 0
    for text in texts:
        batch.append(text)
        words += text.count(" ") + 1
        if words >= BATCH_WORDS:
            reports.extend(_batched_reports(batch))
            batch, words = [], 0
    if batch:
        reports.extend(_batched_reports(batch))
    return reports


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

    return _char_span_from(text, period, start, covered)


def _char_span_from(text: str, period: int, start: int, covered: int) -> LoopSpan | None:
    if period == 0 or len(text) < MIN_CHAR_SPAN:
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


# Texts measured per NumPy pass by analyse_texts; bounds the memory of one pass.
BATCH_WORDS = 1_000_000


def _batched_reports(texts: Sequence[str]) -> list[LoopReport]:
    """Measure many texts with one NumPy pass per period for the whole batch.

    The words of all texts are joined into one array of integer codes, with MAX_WORD_PERIOD
    separator codes between texts that equal nothing, so that no comparison at a period up to
    MAX_WORD_PERIOD pairs words of two texts. Characters are joined the same way for the texts
    without a word loop. The reports equal analyse_text's.
    """
    word_lists = [text.split() for text in texts]
    counts = np.array([len(words) for words in word_lists], dtype=np.int64)
    flat_words = np.array(list(chain.from_iterable(word_lists)), dtype=object)
    word_codes = pd.factorize(flat_words)[0] if len(flat_words) else np.zeros(0, dtype=np.int64)
    codes, starts = _with_separators(word_codes.astype(np.int64), counts, MAX_WORD_PERIOD)

    word_best = _batched_periodic_runs(codes, starts, counts, MAX_WORD_PERIOD, MIN_WORD_REPEATS)
    rates = _batched_ngram_rates(codes, starts, counts)
    spans = [_word_span_from(text, word_lists[index], word_best[index]) for index, text in enumerate(texts)]

    without_word_loop = [index for index, span in enumerate(spans) if span is None]
    char_spans = _batched_char_loops([texts[index] for index in without_word_loop])
    for index, span in zip(without_word_loop, char_spans, strict=True):
        spans[index] = span

    return [
        LoopReport(
            word_count=len(word_lists[index]),
            span=spans[index],
            repeated_ngram_rate=rates[index],
            text_length=len(text),
        )
        for index, text in enumerate(texts)
    ]


def _with_separators(values: np.ndarray, counts: np.ndarray, gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Place ``gap`` unique negative codes after each text's values; return the codes and each text's start."""
    ends = np.cumsum(counts + gap)
    starts = ends - counts - gap
    codes = -np.arange(1, int(ends[-1]) + 1, dtype=np.int64) if len(counts) else np.zeros(0, np.int64)
    value_starts = np.cumsum(counts) - counts
    positions = np.arange(len(values), dtype=np.int64) + np.repeat(starts - value_starts, counts)
    codes[positions] = values
    return codes, starts


def _batched_char_loops(texts: list[str]) -> list[LoopSpan | None]:
    """Find the character loop of each text, as _char_loop does, with one pass per period."""
    if not texts:
        return []
    lengths = np.array([len(text) for text in texts], dtype=np.int64)
    characters = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    codes, starts = _with_separators(characters, lengths, MAX_CHAR_PERIOD)
    best = _batched_periodic_runs(codes, starts, lengths, MAX_CHAR_PERIOD, MIN_CHAR_REPEATS)
    return [
        _char_span_from(text, period, start, covered)
        for text, (period, start, covered) in zip(texts, best, strict=True)
    ]


def _batched_periodic_runs(
    codes: np.ndarray, starts: np.ndarray, counts: np.ndarray, max_period: int, min_repeats: int
) -> list[tuple[int, int, int]]:
    """Return (period, start, covered) per text, chosen as _longest_periodic_run chooses."""
    texts = len(starts)
    best_covered = np.zeros(texts, dtype=np.int64)
    best_period = np.zeros(texts, dtype=np.int64)
    best_start = np.zeros(texts, dtype=np.int64)
    text_of_position = np.repeat(np.arange(texts), counts + max_period) if texts else np.zeros(0, np.int64)

    for period in range(1, max_period + 1):
        if len(codes) <= period:
            break
        matches = np.flatnonzero(codes[period:] == codes[:-period])
        if len(matches) == 0:
            continue
        # Runs of consecutive positions: a new run starts where the gap to the previous match is not 1.
        breaks = np.flatnonzero(np.diff(matches) != 1) + 1
        run_starts = matches[np.concatenate(([0], breaks))]
        run_lengths = np.diff(np.concatenate(([0], breaks, [len(matches)])))
        covered = run_lengths + period
        keep = covered >= min_repeats * period
        if not keep.any():
            continue
        run_starts, covered = run_starts[keep], covered[keep]
        owners = text_of_position[run_starts]
        # For each text, the longest run at this period, the earliest of equal ones.
        order = np.lexsort((run_starts, -covered, owners))
        first = np.concatenate(([True], owners[order][1:] != owners[order][:-1]))
        chosen = order[first]
        owner = owners[chosen]
        better = covered[chosen] > best_covered[owner]
        owner = owner[better]
        best_covered[owner] = covered[chosen][better]
        best_period[owner] = period
        best_start[owner] = run_starts[chosen][better] - starts[owner]

    return list(zip(best_period.tolist(), best_start.tolist(), best_covered.tolist(), strict=True))


def _word_span_from(text: str, words: list[str], best: tuple[int, int, int]) -> LoopSpan | None:
    period, start, covered = best
    if period == 0 or covered < MIN_WORD_SPAN or len(words) < MIN_WORD_SPAN:
        return None
    matches = list(_WORD.finditer(text))
    return LoopSpan(
        kind="words",
        unit=" ".join(words[start : start + period]),
        period=period,
        repeats=round(covered / period, 2),
        start=matches[start].start(),
        end=matches[start + covered - 1].end(),
    )


def _batched_ngram_rates(
    codes: np.ndarray, starts: np.ndarray, counts: np.ndarray
) -> list[tuple[float, float, float, float]]:
    """Return each text's share of n-grams that repeat an earlier one of the same text, n = 1..4."""
    texts = len(starts)
    if texts == 0:
        return []
    text_of_position = np.repeat(np.arange(texts), counts + MAX_WORD_PERIOD)
    keys = codes.copy()
    columns = []
    for n in (1, 2, 3, 4):
        if n > 1:
            # The key of the n-gram at i combines the (n-1)-gram key at i with the word at i + n - 1;
            # factorising after each step keeps the keys small enough to combine without overflow.
            lowest = int(codes.min())
            width = int(codes.max()) - lowest + 1
            keys = _factorize(keys[:-1] * width + (codes[n - 1 :] - lowest))
        length = len(keys)
        valid = codes[n - 1 : n - 1 + length] >= 0
        if n > 1:
            valid &= codes[:length] >= 0
            for offset in range(1, n - 1):
                valid &= codes[offset : offset + length] >= 0
        positions = np.flatnonzero(valid)
        owners = text_of_position[positions]
        distinct_pairs = pd.unique(keys[positions] * texts + owners)
        distinct = np.bincount(distinct_pairs % texts, minlength=texts)
        totals = np.maximum(counts - n + 1, 0)
        columns.append((distinct, totals))

    rates = []
    for index in range(texts):
        row = []
        for distinct, totals in columns:
            total = int(totals[index])
            row.append(round(1.0 - int(distinct[index]) / total, 4) if total > 0 else 0.0)
        rates.append((row[0], row[1], row[2], row[3]))
    return rates


def _factorize(values: np.ndarray) -> np.ndarray:
    """Map values to dense codes 0..k-1, in order of first appearance."""
    return pd.factorize(values)[0].astype(np.int64)
