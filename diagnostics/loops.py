"""Loop detection in generated text: back-to-back repeats of a span of words or characters.

Time is linear in the text's length for a fixed maximum period: for each period p the text is
compared with itself shifted by p (one vectorised comparison), and the longest run of matches gives
the longest span that repeats with that period.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

try:
    from ludwig_doctor.diagnostics import _loopscan
except ImportError:  # installed without a C compiler: the NumPy code below does the same work
    _loopscan = None  # type: ignore[assignment]

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

# analyse_texts uses the compiled scan (diagnostics/_loopscan.c) when it was built, unless the
# environment variable LUDWIG_DOCTOR_NO_C_SCAN is 1. Tests set this switch to check both paths.
USE_C_SCAN = _loopscan is not None and os.environ.get("LUDWIG_DOCTOR_NO_C_SCAN", "0") != "1"


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

    The texts are measured in batches of up to BATCH_TEXTS texts and BATCH_CHARACTERS characters,
    with the compiled scan (see USE_C_SCAN) or with NumPy passes over a whole batch. Both are much
    faster than one text at a time.
    """
    reports: list[LoopReport] = []
    batch: list[str] = []
    characters = 0
    for text in texts:
        if batch and (len(batch) >= BATCH_TEXTS or characters + len(text) > BATCH_CHARACTERS):
            reports.extend(_batched_reports(batch))
            batch, characters = [], 0
        batch.append(text)
        characters += len(text)
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

    codes = _code_points(text)
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


# Limits of one batch of analyse_texts. The per-character arrays take about 40 bytes per character,
# so a batch of 2**20 characters needs about 40 MiB; a longer text forms a batch of its own. The text
# limit keeps 52 bits of each n-gram hash free beside the text index (see _distinct_ngram_counts).
BATCH_CHARACTERS = 2**20
BATCH_TEXTS = 4096

# Every code point for which str.isspace() is true is at most U+3000 (a test checks this), so one
# lookup table finds the whitespace that str.split() and the regex \S+ split on.
_SPACE_TABLE_SIZE = 0x3001
_IS_SPACE = np.array([chr(code).isspace() for code in range(_SPACE_TABLE_SIZE)] + [False])

# Odd multiplier of the polynomial word hash and its inverse modulo 2**64.
_HASH_BASE = 0x9E3779B97F4A7C15
_HASH_BASE_INVERSE = pow(_HASH_BASE, -1, 2**64)
_NGRAM_MULTIPLIER = np.uint64(0xD6E8FEB86659FD93)
# Words longer than this are hashed by Python's hash() of the string: polynomial hashes modulo 2**64
# of words thousands of characters long can collide (Thue-Morse strings do, for any base).
_MAX_POLYNOMIAL_WORD = 1024


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


_POWER_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _hash_powers(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the first ``count`` powers of _HASH_BASE and of its inverse; batch-sized tables are cached."""
    if count > BATCH_CHARACTERS:
        return _powers(_HASH_BASE, count), _powers(_HASH_BASE_INVERSE, count)
    if BATCH_CHARACTERS not in _POWER_CACHE:
        _POWER_CACHE[BATCH_CHARACTERS] = (
            _powers(_HASH_BASE, BATCH_CHARACTERS),
            _powers(_HASH_BASE_INVERSE, BATCH_CHARACTERS),
        )
    powers, inverse_powers = _POWER_CACHE[BATCH_CHARACTERS]
    return powers[:count], inverse_powers[:count]


def _powers(base: int, count: int) -> np.ndarray:
    """Return base**0 .. base**(count - 1) modulo 2**64, as products of a low and a high power table."""
    block = 2048
    low = np.cumprod(
        np.concatenate((np.ones(1, np.uint64), np.full(block - 1, base, np.uint64))), dtype=np.uint64
    )
    high_count = count // block + 1
    step = np.full(high_count, pow(base, block, 2**64), dtype=np.uint64)
    step[0] = 1
    high = np.cumprod(step, dtype=np.uint64)
    return (high[:, None] * low[None, :]).ravel()[:count]


def _mix64(values: np.ndarray) -> np.ndarray:
    """Scramble 64-bit values with the splitmix64 finalizer, so that every output bit depends on all input bits."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    mixed: np.ndarray = values ^ (values >> np.uint64(31))
    return mixed


@dataclass(frozen=True)
class _Tokens:
    """The whitespace-separated words of a batch of texts, found in its joined code points."""

    starts: np.ndarray  # character offset of each word in the joined texts
    ends: np.ndarray  # offset just past each word
    counts: np.ndarray  # words per text
    text_of_word: np.ndarray  # index of each word's text
    hashes: np.ndarray  # 64-bit hash of each word; equal words have equal hashes


def _batched_reports(texts: Sequence[str]) -> list[LoopReport]:
    """Measure a batch of texts with NumPy passes over all their words and characters at once.

    Words are found and hashed in the joined code points of the batch, n-grams are counted by sorting
    (text, n-gram hash) keys, and only texts that repeat a 4-gram are searched for word loops, since
    a word loop's first 4-gram recurs one period later. The reports equal analyse_text's unless two
    distinct words or n-grams of one text get the same hash. That chance is an estimate from the hash width: below 1e-10 for a
    text of 300 words, and about 5e-8 for a text of a million words (it forms a batch of its own,
    which keeps 63 bits of each n-gram hash).
    """
    if USE_C_SCAN and _loopscan is not None:
        return _scanned_reports(texts)

    joined = "".join(texts)
    lengths = np.array([len(text) for text in texts], dtype=np.int64)
    text_starts = np.cumsum(lengths) - lengths
    chars = _code_points(joined)
    space = _IS_SPACE[np.minimum(chars, _SPACE_TABLE_SIZE)]
    # at_text_start[i]: a text starts at character i; the last entry marks the end of the batch.
    at_text_start = np.zeros(len(chars) + 1, dtype=bool)
    at_text_start[text_starts] = True
    at_text_start[-1] = True

    tokens = _tokenize(joined, chars, space, at_text_start, text_starts)
    distinct, totals = _distinct_ngram_counts(tokens)
    rates = _ngram_rates(distinct, totals)

    repeats_a_4gram = np.flatnonzero(distinct[3] < totals[3]).tolist()
    spans: list[LoopSpan | None] = [None] * len(texts)
    for index, span in zip(repeats_a_4gram, _batched_word_loops(texts, tokens, repeats_a_4gram), strict=True):
        spans[index] = span

    without_word_loop = np.array([span is None for span in spans], dtype=bool)
    char_spans = _batched_char_loops(texts, chars, space, at_text_start, text_starts, without_word_loop)
    for index, span in char_spans.items():
        spans[index] = span

    word_counts = tokens.counts.tolist()
    return [
        LoopReport(
            word_count=word_counts[index],
            span=spans[index],
            repeated_ngram_rate=rates[index],
            text_length=len(text),
        )
        for index, text in enumerate(texts)
    ]


def _scanned_reports(texts: Sequence[str]) -> list[LoopReport]:
    """Measure a batch of texts with the compiled scan, with the same results as the NumPy passes.

    The scan counts distinct n-grams of 64-bit hashes in a hash set per text, so the reports equal
    analyse_text's unless two distinct words or n-grams of one text get the same hash.
    """
    table = np.frombuffer(
        _loopscan.scan_texts(
            list(texts),
            MAX_WORD_PERIOD,
            MIN_WORD_REPEATS,
            MIN_WORD_SPAN,
            MAX_CHAR_PERIOD,
            MIN_CHAR_REPEATS,
            MIN_CHAR_SPAN,
        ),
        dtype=np.int64,
    ).reshape(len(texts), _SCAN_FIELDS)
    word_counts = table[:, 0]
    totals = [np.maximum(word_counts - n + 1, 0) for n in (1, 2, 3, 4)]
    rates = _ngram_rates([table[:, n] for n in (1, 2, 3, 4)], totals)

    spans: list[LoopSpan | None] = [None] * len(texts)
    for index in np.flatnonzero(table[:, 5] > 0).tolist():
        period, start, covered = table[index, 5:8].tolist()
        spans[index] = _word_span_from(texts[index], (period, start, covered))
    for index in np.flatnonzero(table[:, 8] > 0).tolist():
        period, start, covered = table[index, 8:11].tolist()
        spans[index] = _char_span_from(texts[index], period, start, covered)

    return [
        LoopReport(word_count=count, span=span, repeated_ngram_rate=rate, text_length=len(text))
        for count, span, rate, text in zip(word_counts.tolist(), spans, rates, texts, strict=True)
    ]


# Values per text in the bytes that _loopscan.scan_texts returns: words, distinct n-grams for
# n = 1..4, then (period, start, covered) of the word loop and of the character loop.
_SCAN_FIELDS = 11


def _tokenize(
    joined: str, chars: np.ndarray, space: np.ndarray, at_text_start: np.ndarray, text_starts: np.ndarray
) -> _Tokens:
    """Find the words of every text, as str.split() does, and hash each word."""
    word_char = ~space
    space_before = np.ones(len(chars), dtype=bool)
    space_before[1:] = space[:-1]
    space_after = np.ones(len(chars), dtype=bool)
    space_after[:-1] = space[1:]
    starts = np.flatnonzero(word_char & (space_before | at_text_start[:-1]))
    ends = np.flatnonzero(word_char & (space_after | at_text_start[1:])) + 1

    text_bounds = np.append(text_starts, len(chars))
    counts = np.diff(np.searchsorted(starts, text_bounds))
    text_of_word = np.repeat(np.arange(len(text_starts), dtype=np.int64), counts)

    # Polynomial hash: word = sum of (code + 1) * base**(offset in the word), modulo 2**64, from prefix
    # sums of (code + 1) * base**(offset in the batch) scaled back by base**-(word start).
    powers, inverse_powers = _hash_powers(len(chars))
    prefix = np.zeros(len(chars) + 1, dtype=np.uint64)
    np.cumsum((chars.astype(np.uint64) + np.uint64(1)) * powers, out=prefix[1:])
    word_lengths = (ends - starts).astype(np.uint64)
    hashes = _mix64((prefix[ends] - prefix[starts]) * inverse_powers[starts] + word_lengths)

    for index in np.flatnonzero(ends - starts > _MAX_POLYNOMIAL_WORD).tolist():
        word = joined[int(starts[index]) : int(ends[index])]
        hashes[index] = _mix64(np.array([hash(word) % 2**64], dtype=np.uint64))[0]

    return _Tokens(starts=starts, ends=ends, counts=counts, text_of_word=text_of_word, hashes=hashes)


def _distinct_ngram_counts(tokens: _Tokens) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Return, for n = 1..4, the number of distinct n-grams of each text and the number of n-grams.

    Each n-gram gets one sort key: the text index in the top bits and the n-gram hash in the rest
    (at least 52 bits, as a batch has at most BATCH_TEXTS texts). After one sort per n, the distinct
    keys of a text are counted where the key changes.
    """
    texts = len(tokens.counts)
    text_bits = max(1, (texts - 1).bit_length())
    text_keys = tokens.text_of_word.astype(np.uint64) << np.uint64(64 - text_bits)
    first_word = np.cumsum(tokens.counts) - tokens.counts
    words_left = np.repeat(first_word + tokens.counts, tokens.counts) - np.arange(len(tokens.hashes))

    distinct, totals = [], []
    keys = tokens.hashes
    for n in (1, 2, 3, 4):
        if n > 1:
            keys = keys[:-1] * _NGRAM_MULTIPLIER + tokens.hashes[n - 1 :]
        whole = words_left[: len(keys)] >= n
        sorted_keys = np.sort(text_keys[: len(keys)][whole] | (keys[whole] >> np.uint64(text_bits)))
        changes = np.ones(len(sorted_keys), dtype=bool)
        changes[1:] = sorted_keys[1:] != sorted_keys[:-1]
        owners = (sorted_keys[changes] >> np.uint64(64 - text_bits)).astype(np.int64)
        distinct.append(np.bincount(owners, minlength=texts))
        totals.append(np.maximum(tokens.counts - n + 1, 0))
    return distinct, totals


def _ngram_rates(
    distinct: list[np.ndarray], totals: list[np.ndarray]
) -> list[tuple[float, float, float, float]]:
    """Return each text's share of repeated n-grams, rounded as _repeated_ngram_rates rounds it."""
    columns = []
    for distinct_n, totals_n in zip(distinct, totals, strict=True):
        columns.append(
            [
                round(1.0 - count / total, 4) if total > 0 else 0.0
                for count, total in zip(distinct_n.tolist(), totals_n.tolist(), strict=True)
            ]
        )
    return list(zip(columns[0], columns[1], columns[2], columns[3], strict=True))


def _batched_word_loops(
    texts: Sequence[str], tokens: _Tokens, candidates: list[int]
) -> list[LoopSpan | None]:
    """Find the word loop of each candidate text, as _word_loop does, with one pass per period."""
    if not candidates:
        return []
    chosen = np.zeros(len(tokens.counts), dtype=bool)
    chosen[candidates] = True
    hashes = tokens.hashes[chosen[tokens.text_of_word]]
    counts = tokens.counts[chosen]
    codes = np.unique(hashes, return_inverse=True)[1].astype(np.int64)
    separated, starts = _with_separators(codes, counts, MAX_WORD_PERIOD)
    best = _batched_periodic_runs(separated, starts, counts, MAX_WORD_PERIOD, MIN_WORD_REPEATS)
    return [_word_span_from(texts[index], run) for index, run in zip(candidates, best, strict=True)]


def _with_separators(values: np.ndarray, counts: np.ndarray, gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Place ``gap`` unique negative codes after each text's values; return the codes and each text's start."""
    ends = np.cumsum(counts + gap)
    starts = ends - counts - gap
    codes = -np.arange(1, int(ends[-1]) + 1, dtype=np.int64) if len(counts) else np.zeros(0, np.int64)
    value_starts = np.cumsum(counts) - counts
    positions = np.arange(len(values), dtype=np.int64) + np.repeat(starts - value_starts, counts)
    codes[positions] = values
    return codes, starts


def _batched_char_loops(
    texts: Sequence[str],
    chars: np.ndarray,
    space: np.ndarray,
    at_text_start: np.ndarray,
    text_starts: np.ndarray,
    searched: np.ndarray,
) -> dict[int, LoopSpan | None]:
    """Find the character loop of each text with ``searched`` true, as _char_loop does.

    A character loop lies inside one word or one stretch of whitespace: a repeated unit with both
    whitespace and other characters, repeated MIN_CHAR_REPEATS times, would make the words inside
    the span a word loop, and those texts are not searched. So only segments (maximal runs of word or
    whitespace characters) of at least MIN_CHAR_SPAN characters are compared, one pass per period.
    Every searched text gets an entry.
    """
    result: dict[int, LoopSpan | None] = {index: None for index in np.flatnonzero(searched).tolist()}
    if len(chars) == 0:
        return result

    changes = np.ones(len(chars), dtype=bool)
    changes[1:] = space[1:] != space[:-1]
    segment_starts = np.flatnonzero(changes | at_text_start[:-1])
    segment_lengths = np.diff(np.append(segment_starts, len(chars)))
    long_enough = segment_lengths >= MIN_CHAR_SPAN
    segment_starts, segment_lengths = segment_starts[long_enough], segment_lengths[long_enough]
    segment_texts = np.searchsorted(text_starts, segment_starts, side="right") - 1
    kept = searched[segment_texts]
    segment_starts, segment_lengths, segment_texts = (
        segment_starts[kept],
        segment_lengths[kept],
        segment_texts[kept],
    )
    if len(segment_starts) == 0:
        return result

    offsets = np.cumsum(segment_lengths) - segment_lengths
    positions = np.arange(int(segment_lengths.sum()), dtype=np.int64) + np.repeat(
        segment_starts - offsets, segment_lengths
    )
    codes, starts = _with_separators(chars[positions].astype(np.int64), segment_lengths, MAX_CHAR_PERIOD)
    runs = np.array(_batched_periodic_runs(codes, starts, segment_lengths, MAX_CHAR_PERIOD, MIN_CHAR_REPEATS))
    period, start, covered = runs[:, 0], runs[:, 1], runs[:, 2]
    start_in_text = segment_starts + start - text_starts[segment_texts]

    # Per text, the run chosen as _longest_periodic_run chooses: most covered, then smallest period,
    # then earliest start.
    found = np.flatnonzero(period > 0)
    order = found[np.lexsort((start_in_text[found], period[found], -covered[found], segment_texts[found]))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = segment_texts[order][1:] != segment_texts[order][:-1]
    for segment in order[first].tolist():
        index = int(segment_texts[segment])
        result[index] = _char_span_from(
            texts[index], int(period[segment]), int(start_in_text[segment]), int(covered[segment])
        )
    return result


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


def _word_span_from(text: str, best: tuple[int, int, int]) -> LoopSpan | None:
    period, start, covered = best
    if period == 0 or covered < MIN_WORD_SPAN:
        return None
    matches = list(_WORD.finditer(text))
    if len(matches) < MIN_WORD_SPAN:
        return None
    return LoopSpan(
        kind="words",
        unit=" ".join(match.group() for match in matches[start : start + period]),
        period=period,
        repeats=round(covered / period, 2),
        start=matches[start].start(),
        end=matches[start + covered - 1].end(),
    )
