"""`ludwig-doctor watch RUN`: print each finding of a training run as soon as it appears."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .cli import EXIT_IO, UsageError, _Parser, configure_logging, exit_code_for
from .findings import worst_severity
from .watch import DEFAULT_INTERVAL_SECONDS, RunWatcher, format_event, watch_events


def build_watch_parser() -> argparse.ArgumentParser:
    """Return the parser for `ludwig-doctor watch`."""
    parser = _Parser(
        prog="ludwig-doctor watch",
        description="Follow one run while it trains: read only the records appended to its TensorBoard logs, re-run "
        "the checks and print each new finding. Stops when training_statistics.json appears (training "
        "ended), after --timeout, or on Ctrl-C. Exit status as for check.",
    )
    parser.add_argument("run", type=Path, help="the run directory, or a folder that contains exactly one run")
    parser.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_INTERVAL_SECONDS,
        metavar="SECONDS",
        help=f"seconds between polls (default: {DEFAULT_INTERVAL_SECONDS:g})",
    )
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="stop after this many seconds")
    parser.add_argument(
        "--no-crc",
        action="store_true",
        help="skip the CRC check of TensorBoard records (faster on huge logs)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    return parser


def resolve_run(path: Path) -> tuple[Path, Path]:
    """Return (run directory, scanned root) for ``path``; raise UsageError unless it names one run."""
    from .discovery import ScanPathError, discover_runs, is_run_dir

    if is_run_dir(path):
        return path, path.parent
    try:
        runs = discover_runs([path])
    except ScanPathError as error:
        raise UsageError(f"ludwig-doctor watch: {error}") from error
    if len(runs) != 1:
        found = ", ".join(str(run.path) for run in runs[:5]) or "none"
        raise UsageError(
            f"ludwig-doctor watch: {path} must contain exactly one run; found {len(runs)} ({found}). "
            "Pass the run directory itself."
        )
    return runs[0].path, runs[0].root


def run_watch(argv: Sequence[str]) -> int:
    """Run `ludwig-doctor watch` and return its exit status."""
    args = build_watch_parser().parse_args(argv)
    configure_logging(args.verbose)
    if args.interval <= 0:
        raise UsageError(f"ludwig-doctor watch: --interval must be positive, not {args.interval}")
    if not args.run.exists():
        print(f"ludwig-doctor watch: {args.run} does not exist", file=sys.stderr)
        return EXIT_IO
    path, root = resolve_run(args.run)

    watcher = RunWatcher(path, root, verify_crc=not args.no_crc)
    print(f"watching {path} (every {args.interval:g} s; Ctrl-C stops)", flush=True)
    findings = []
    try:
        for event in watch_events(watcher, interval=args.interval, timeout=args.timeout):
            findings.append(event.finding)
            print(format_event(event), flush=True)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    else:
        if watcher.finished():
            print("training finished: training_statistics.json is written", flush=True)
        else:
            print(f"stopped after --timeout {args.timeout:g} s; training goes on", flush=True)
    return exit_code_for(worst_severity(findings))
