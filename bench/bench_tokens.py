"""Benchmark the token analysis against one raw ``tokenizers`` encode_batch call.

    .venv/bin/python bench/bench_tokens.py [--rows 200000] [--repeats 5]

It writes a CSV of ``--rows`` rows built from ``sample_runs/data/instructions.csv`` (each
instruction gets its row number, so no two rows are equal) to a temporary folder, then times:

- the whole analysis (checksum, CSV read, split, prompt rendering, tokenizing, per-row budgets,
  statistics and the suggested patch) with the cache off;
- the baseline: ``tokenizers.Tokenizer.encode_batch`` over exactly the strings the analysis
  tokenizes (the rendered inputs and the targets), loaded from the same ``tokenizer.json``.

Each is repeated and the median reported. Peak memory is the peak resident set size (VmHWM) of a
child process that runs one analysis, or one baseline call, and nothing else.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT / "sample_runs"
MODEL = SAMPLES / "models" / "tiny-llama"
CONFIG = SAMPLES / "llm_truncated" / "config.yaml"


def write_dataset(path: Path, rows: int) -> None:
    with (SAMPLES / "data" / "instructions.csv").open(encoding="utf-8") as stream:
        source = list(csv.DictReader(stream))
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=["instruction", "output", "split"])
        writer.writeheader()
        for index in range(rows):
            row = source[index % len(source)]
            writer.writerow({**row, "instruction": f"{row['instruction']} (item {index})"})


def spec_and_source():  # type: ignore[no-untyped-def]
    from ruamel.yaml import YAML

    from ludwig_doctor.diagnostics.tokens.spec import spec_from_config
    from ludwig_doctor.diagnostics.tokens.tokenizer import locate_tokenizer

    config = YAML(typ="safe").load(CONFIG.read_text(encoding="utf-8"))
    config["base_model"] = str(MODEL)
    return spec_from_config(config), locate_tokenizer(str(MODEL))


def run_analysis(dataset: Path, use_cache: bool = False) -> float:
    from ludwig_doctor.diagnostics.tokens.analysis import analyze
    from ludwig_doctor.diagnostics.tokens.suggest import suggest

    spec, source = spec_and_source()
    started = time.perf_counter()
    analysis = analyze(spec, source, dataset, use_cache=use_cache)
    analysis.stats()
    analysis.cuts()
    analysis.examples()
    suggest(analysis)
    return time.perf_counter() - started


def baseline_strings(dataset: Path) -> list[str]:
    """Return the rendered inputs and the targets, the strings that the analysis tokenizes."""
    from ludwig_doctor.diagnostics.tokens.dataset import read_dataset
    from ludwig_doctor.diagnostics.tokens.template import render_inputs

    spec, _ = spec_and_source()
    frame = read_dataset(dataset)
    return render_inputs(frame, spec.input.column, spec.prompt) + [
        str(text) for text in frame[spec.output.column]
    ]


def run_baseline(strings: list[str]) -> float:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    started = time.perf_counter()
    tokenizer.encode_batch(strings)
    return time.perf_counter() - started


def peak_rss_mib() -> float:
    """Return this process's peak resident set size in MiB.

    VmHWM starts afresh at exec. getrusage's ru_maxrss would keep the parent's peak, which a
    forked child inherits on Linux.
    """
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_peak_rss(mode: str, dataset: Path) -> float:
    """Run one measurement in a fresh interpreter and return its peak RSS in MiB."""
    completed = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--dataset", str(dataset)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(completed.stdout)["peak_rss_mib"])


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark the token analysis against raw encode_batch.")
    parser.add_argument(
        "--rows", type=int, default=200_000, help="rows in the generated dataset (default 200000)"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats of each side (default 5)")
    parser.add_argument("--child", choices=("analysis", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    if args.child:
        if args.child == "analysis":
            run_analysis(args.dataset)
        else:
            run_baseline(baseline_strings(args.dataset))
        print(json.dumps({"peak_rss_mib": peak_rss_mib()}))
        return 0

    with tempfile.TemporaryDirectory() as folder:
        os.environ["XDG_CACHE_HOME"] = str(Path(folder) / "cache")
        dataset = Path(folder) / "rows.csv"
        write_dataset(dataset, args.rows)
        # The children run first, while this process is still small.
        analysis_rss = child_peak_rss("analysis", dataset)
        baseline_rss = child_peak_rss("baseline", dataset)
        strings = baseline_strings(dataset)

        analysis_times = [run_analysis(dataset) for _ in range(args.repeats)]
        baseline_times = [run_baseline(strings) for _ in range(args.repeats)]
        run_analysis(dataset, use_cache=True)
        reopen_times = [run_analysis(dataset, use_cache=True) for _ in range(args.repeats)]
        size_mib = dataset.stat().st_size / 2**20

    analysis_rate = args.rows / statistics.median(analysis_times)
    baseline_rate = args.rows / statistics.median(baseline_times)
    result = {
        "rows": args.rows,
        "strings_tokenized": len(strings),
        "dataset_mib": round(size_mib, 1),
        "repeats": args.repeats,
        "analysis_median_s": round(statistics.median(analysis_times), 3),
        "baseline_median_s": round(statistics.median(baseline_times), 3),
        "analysis_rows_per_s": round(analysis_rate),
        "baseline_rows_per_s": round(baseline_rate),
        "ratio": round(analysis_rate / baseline_rate, 2),
        "cache_reopen_median_s": round(statistics.median(reopen_times), 3),
        "analysis_peak_rss_mib": round(analysis_rss),
        "baseline_peak_rss_mib": round(baseline_rss),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
