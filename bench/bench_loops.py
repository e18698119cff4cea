"""Benchmark the loop detector against a Counter-based n-gram baseline.

The baseline splits each text on whitespace and counts its n-grams for n = 1..4 with
collections.Counter, which is the least that any repeated n-gram measure does. The detector
(`analyse_texts`) also finds the longest back-to-back repeat of words or characters.

    .venv/bin/python bench/bench_loops.py                  # 100,000 texts of 300 words
    .venv/bin/python bench/bench_loops.py --texts 10000
    .venv/bin/python bench/bench_loops.py --linearity      # one text of 1k, 10k and 100k words

Each side runs in a fresh process, so that its peak memory (VmHWM) is its own.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

WORDS_PER_TEXT = 300
VOCABULARY_SIZE = 5000
# One text in ten ends in a loop of a short phrase, as looping generations do.
LOOPING_SHARE = 0.1
SEED = 0


def make_texts(count: int, words_per_text: int) -> list[str]:
    """Build ``count`` texts of random words (Zipf-like frequencies), one in ten ending in a loop."""
    rng = random.Random(SEED)
    vocabulary = [f"w{index}" for index in range(VOCABULARY_SIZE)]
    weights = [1.0 / (rank + 1) for rank in range(VOCABULARY_SIZE)]
    texts = []
    for _ in range(count):
        words = rng.choices(vocabulary, weights, k=words_per_text)
        if rng.random() < LOOPING_SHARE:
            phrase = words[:3]
            tail = words_per_text // 2
            words = words[: words_per_text - tail] + (phrase * tail)[:tail]
        texts.append(" ".join(words))
    return texts


def baseline(texts: list[str]) -> int:
    """Count the n-grams of every text for n = 1..4 with Counter; return a checksum."""
    total = 0
    for text in texts:
        words = text.split()
        for n in (1, 2, 3, 4):
            grams = Counter(tuple(words[index : index + n]) for index in range(len(words) - n + 1))
            total += len(grams)
    return total


def doctor(texts: list[str]) -> int:
    """Measure every text with the batched detector; return the number of looping texts."""
    from ludwig_doctor.diagnostics.loops import analyse_texts

    return sum(1 for report in analyse_texts(texts) if report.loops)


def peak_memory_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_side(side: str, texts_count: int, words_per_text: int) -> None:
    """Time one side on freshly built texts and print a JSON line."""
    texts = make_texts(texts_count, words_per_text)
    function = baseline if side == "baseline" else doctor
    started = time.perf_counter()
    result = function(texts)
    seconds = time.perf_counter() - started
    print(json.dumps({"side": side, "seconds": seconds, "result": result, "peak_mib": peak_memory_mib()}))


def measure(side: str, texts_count: int, words_per_text: int) -> dict[str, float]:
    command = [
        sys.executable,
        __file__,
        "--side",
        side,
        "--texts",
        str(texts_count),
        "--words",
        str(words_per_text),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def linearity() -> None:
    """Time analyse_text and analyse_texts on one looping text of 1k, 10k and 100k words."""
    from ludwig_doctor.diagnostics.loops import analyse_text, analyse_texts

    print("| words | characters | analyse_text s | per 1k words | analyse_texts s | per 1k words |")
    print("|---|---|---|---|---|---|")
    for words in (1_000, 10_000, 100_000):
        text = make_texts(1, words)[0]
        started = time.perf_counter()
        analyse_text(text)
        single = time.perf_counter() - started
        started = time.perf_counter()
        analyse_texts([text])
        batched = time.perf_counter() - started
        thousands = words / 1000
        print(
            f"| {words:,} | {len(text):,} | {single:.3f} | {single / thousands:.4f} "
            f"| {batched:.3f} | {batched / thousands:.4f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--texts", type=int, default=100_000, help="number of texts (default 100,000)")
    parser.add_argument("--words", type=int, default=WORDS_PER_TEXT, help="words per text (default 300)")
    parser.add_argument(
        "--linearity", action="store_true", help="time single texts of 1k, 10k and 100k words"
    )
    parser.add_argument("--side", choices=("baseline", "doctor"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.side:
        run_side(args.side, args.texts, args.words)
        return
    if args.linearity:
        linearity()
        return

    base = measure("baseline", args.texts, args.words)
    ours = measure("doctor", args.texts, args.words)
    print(f"{args.texts:,} texts of {args.words} words")
    print("| method | seconds | peak RSS |")
    print("|---|---|---|")
    print(f"| Counter n-grams, n = 1..4 (baseline) | {base['seconds']:.2f} | {base['peak_mib']:.0f} MiB |")
    print(f"| analyse_texts | {ours['seconds']:.2f} | {ours['peak_mib']:.0f} MiB |")
    print(f"speed-up: {base['seconds'] / ours['seconds']:.1f}x; looping texts found: {ours['result']:g}")


if __name__ == "__main__":
    main()
