"""Benchmark the loop detector against a Counter-based n-gram baseline.

The baseline splits each text on whitespace and counts its n-grams for n = 1..4 with
collections.Counter, which is the least that any repeated n-gram measure does. The detector
(`analyse_texts`) also finds the longest back-to-back repeat of words or characters.

    .venv/bin/python bench/bench_loops.py                  # 100,000 texts of 300 words
    .venv/bin/python bench/bench_loops.py --texts 10000
    .venv/bin/python bench/bench_loops.py --linearity      # one text of 1k, 10k and 100k words

Each side runs in a fresh process, so that its peak memory (VmHWM) is its own. `analyse_texts`
runs twice: with the compiled scan (diagnostics/_loopscan.c) when it is built, and with the NumPy
fallback (LUDWIG_DOCTOR_NO_C_SCAN=1).
"""

from __future__ import annotations

import argparse
import json
import os
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


def c_scan_used() -> bool:
    from ludwig_doctor.diagnostics import loops

    return loops.USE_C_SCAN


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
    line = {"side": side, "seconds": seconds, "result": result, "peak_mib": peak_memory_mib()}
    if side == "doctor":
        line["c_scan"] = c_scan_used()
    print(json.dumps(line))


def measure(side: str, texts_count: int, words_per_text: int, fallback: bool = False) -> dict[str, float]:
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
    environment = dict(os.environ, LUDWIG_DOCTOR_NO_C_SCAN="1" if fallback else "0")
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=environment).stdout
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
    fallback = measure("doctor", args.texts, args.words, fallback=True)
    scan = "compiled scan" if ours["c_scan"] else "NumPy: the compiled scan is not built"
    print(f"{args.texts:,} texts of {args.words} words")
    print("| method | seconds | peak RSS | speed-up |")
    print("|---|---|---|---|")
    print(
        f"| Counter n-grams, n = 1..4 (baseline) | {base['seconds']:.2f} | {base['peak_mib']:.0f} MiB | 1.0x |"
    )
    for name, side in ((f"analyse_texts ({scan})", ours), ("analyse_texts (NumPy fallback)", fallback)):
        speed_up = base["seconds"] / side["seconds"]
        print(f"| {name} | {side['seconds']:.2f} | {side['peak_mib']:.0f} MiB | {speed_up:.1f}x |")
    print(f"looping texts found: {ours['result']:g} (fallback: {fallback['result']:g})")


if __name__ == "__main__":
    main()
