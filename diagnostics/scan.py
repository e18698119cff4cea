"""The one entry point that both the CLI and the app use: find runs, read them, diagnose them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .checks import run_checks
from .findings import Finding
from .run import Run
from .summary import RunSummary, summarize


@dataclass
class DoctorOptions:
    """Settings that apply to every run of one scan."""

    # Python interpreter of the environment where Ludwig is installed, when it is not this one.
    ludwig_python: str | None = None
    # Recorded path prefix -> replacement, for runs moved from another machine.
    path_map: dict[str, str] = field(default_factory=dict)
    # Prediction directories the user named, attached to every run of the scan.
    extra_predictions: list[Path] = field(default_factory=list)


@dataclass
class RunEntry:
    """A run directory found by discovery, before any of its files are read."""

    path: Path
    root: Path
    prediction_dirs: list[Path] = field(default_factory=list)


@dataclass
class RunReport:
    """A run with its summary row and its findings."""

    entry: RunEntry
    run: Run
    summary: RunSummary
    findings: list[Finding]


def find_runs(paths: Sequence[Path]) -> list[RunEntry]:
    """Find every run directory under ``paths`` without parsing any file.

    Raises ``ScanPathError`` (from ``discovery``) for a path that does not exist.
    """
    from .discovery import discover_runs

    return [
        RunEntry(path=found.path, root=found.root, prediction_dirs=list(found.prediction_dirs))
        for found in discover_runs(paths)
    ]


def load_entry(entry: RunEntry, options: DoctorOptions) -> Run:
    """Read the files of one run; problems with files become findings, never exceptions."""
    from .loader import load_run

    prediction_dirs = [*entry.prediction_dirs, *options.extra_predictions]
    run = load_run(entry.path, entry.root, prediction_dirs)
    run.path_map = dict(options.path_map)
    return run


def check_entry(entry: RunEntry, options: DoctorOptions) -> RunReport:
    """Read and diagnose one run."""
    run = load_entry(entry, options)
    return RunReport(entry=entry, run=run, summary=summarize(run), findings=run_checks(run))


def scan(paths: Sequence[Path], options: DoctorOptions) -> list[RunReport]:
    """Find, read and diagnose every run under ``paths``, in discovery order."""
    return [check_entry(entry, options) for entry in find_runs(paths)]
