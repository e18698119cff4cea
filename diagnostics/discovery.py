"""Finding Ludwig run directories and prediction output directories by their files, without parsing them."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

# Files in the run directory itself that only Ludwig's train/experiment commands write.
RUN_FILES = frozenset({"description.json", "training_statistics.json"})
# Entries of <run>/model/ that mark a training output folder (logs/ contains TensorBoard events).
MODEL_ENTRIES = frozenset({"model_hyperparameters.json", "training_progress.json", "logs"})
# ludwig predict/evaluate write predictions.parquet plus one header-less CSV per output column.
PREDICTIONS_PARQUET = "predictions.parquet"
_PREDICTION_CSV = re.compile(r".+_(predictions|response)\.csv$")
# The folder beside a parent run where relaunches keep their config, log and record (the same name
# as LAUNCHES_FOLDER in launch/record.py, which this module does not import to stay light).
DOCTOR_LAUNCHES_FOLDER = "ludwig-doctor"
# Folders that never hold runs and can be large: dependency trees and caches.
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "venv", "env"})


class ScanPathError(FileNotFoundError):
    """A path given to scan does not exist or is not a directory."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot scan {path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass
class DiscoveredRun:
    """A run directory, the scanned folder it was found under, and the prediction folders attached to it."""

    path: Path
    root: Path
    prediction_dirs: list[Path] = field(default_factory=list)

    def __fspath__(self) -> str:
        return os.fspath(self.path)


@dataclass
class Discovery:
    """Everything one scan found: runs in path order and prediction folders that match no run."""

    runs: list[DiscoveredRun] = field(default_factory=list)
    unattached_predictions: list[Path] = field(default_factory=list)


def discover_runs(paths: Sequence[Path]) -> list[DiscoveredRun]:
    """Find every Ludwig run under ``paths``; see ``discover`` for prediction folders that match no run."""
    return discover(paths).runs


def discover(paths: Sequence[Path]) -> Discovery:
    """Find runs and prediction folders under ``paths`` at any depth, and attach each folder to a run.

    Raises ScanPathError for a path that does not exist. Only directory listings are read, so
    this is fast enough to fill the run table before any file is parsed.
    """
    runs: dict[Path, Path] = {}
    prediction_dirs: dict[Path, Path] = {}
    for scan_path in paths:
        root = _scan_root(Path(scan_path))
        for kind, directory in _walk(root):
            target = runs if kind == "run" else prediction_dirs
            target.setdefault(directory, root)

    discovered = {path: DiscoveredRun(path, root) for path, root in sorted(runs.items())}
    result = Discovery(runs=list(discovered.values()))
    nearby = _nearby_prediction_dirs(discovered.values(), prediction_dirs)
    for directory in sorted([*prediction_dirs, *nearby]):
        # A folder found beside a run named directly is matched against every run below its
        # parent, scanned or not, so that it is never given to the wrong one of several runs.
        candidate_runs = list(discovered) if directory in prediction_dirs else _runs_below(directory.parent)
        owner = attach_predictions(directory, candidate_runs)
        if owner is not None and owner not in discovered:
            owner = None
        if owner is None:
            result.unattached_predictions.append(directory)
        else:
            discovered[owner].prediction_dirs.append(directory)
    logger.info("found %d runs and %d prediction folders", len(runs), len(prediction_dirs))
    return result


def _scan_root(path: Path) -> Path:
    path = path.expanduser()
    if not path.exists():
        raise ScanPathError(path, "no such file or directory; check the spelling or pass an existing folder")
    path = path.resolve()
    if path.is_file():
        # Accept a file of a run, for example experiment_run/description.json.
        if path.name in RUN_FILES or path.name in MODEL_ENTRIES:
            return path.parent.parent if path.parent.name == "model" else path.parent
        raise ScanPathError(path, "it is a file; pass the run directory or a folder that contains runs")
    if path.name == "model" and is_run_dir(path.parent):
        return path.parent
    return path


def attach_predictions(directory: Path, runs: Sequence[Path]) -> Path | None:
    """Return the run a prediction folder belongs to, or None when no run or several runs match.

    A folder inside a run belongs to the nearest enclosing run. Otherwise it belongs to the only
    run below its parent, as with ``X/results/experiment_run`` and ``X/predict_test``.
    """
    enclosing = [run for run in runs if directory == run or run in directory.parents]
    if enclosing:
        return max(enclosing, key=lambda run: len(run.parts))
    candidates = [run for run in runs if directory.parent in run.parents and not launched_by_doctor(run)]
    return candidates[0] if len(candidates) == 1 else None


def launched_by_doctor(run: Path) -> bool:
    """Tell whether ludwig-doctor relaunched this run (its launch folder sits beside it).

    Such a run has no predictions of its own, so it never makes a prediction folder ambiguous.
    """
    return (run.parent / DOCTOR_LAUNCHES_FOLDER / run.name).is_dir()


def _nearby_prediction_dirs(runs: Iterable[DiscoveredRun], found: Mapping[Path, Path]) -> dict[Path, Path]:
    """Find prediction folders beside a run's results folder when the scan started inside it.

    `ludwig-doctor check X/results/experiment_run` must still read X/predict_test, as a scan of X
    would. Only the direct children of the run's parent and grandparent are listed.
    """
    nearby: dict[Path, Path] = {}
    for run in runs:
        if run.root not in (run.path, run.path.parent):
            continue
        for folder in (run.path.parent, run.path.parent.parent):
            for child in _child_directories(folder):
                if child not in found and child != run.path and _lists_predictions(child):
                    nearby.setdefault(child, run.root)
    return nearby


def _child_directories(folder: Path) -> list[Path]:
    try:
        return [Path(entry.path) for entry in os.scandir(folder) if entry.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _lists_predictions(directory: Path) -> bool:
    try:
        return _is_predictions_listing({entry.name for entry in os.scandir(directory)})
    except OSError:
        return False


def _runs_below(folder: Path) -> list[Path]:
    return [directory for kind, directory in _walk(folder) if kind == "run"]


def is_run_dir(path: Path) -> bool:
    """Tell whether ``path`` contains the files of a Ludwig training run (listing only, no parsing)."""
    try:
        names = {entry.name for entry in os.scandir(path)}
    except OSError:
        return False
    return _is_run_listing(path, names)


def _is_run_listing(path: Path, names: set[str]) -> bool:
    if names & RUN_FILES:
        return True
    if "model" not in names:
        return False
    try:
        return bool({entry.name for entry in os.scandir(path / "model")} & MODEL_ENTRIES)
    except OSError:
        return False


def _is_predictions_listing(names: set[str]) -> bool:
    return PREDICTIONS_PARQUET in names or any(_PREDICTION_CSV.match(name) for name in names)


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    # An explicit stack instead of recursion: deep trees cannot hit the recursion limit.
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as error:
            logger.warning("skipping %s: %s", directory, error.strerror or error)
            continue
        names = {entry.name for entry in entries}
        if "pyvenv.cfg" in names:
            continue

        is_run = _is_run_listing(directory, names)
        if is_run:
            yield "run", directory
        if _is_predictions_listing(names):
            yield "predictions", directory
        stack.extend(_subdirectories(entries, skip_model=is_run))


def _subdirectories(entries: list[os.DirEntry[str]], skip_model: bool) -> list[Path]:
    subdirectories = []
    for entry in entries:
        if entry.name.startswith(".") or entry.name in SKIPPED_DIRS:
            continue
        # A run's model/ folder contains weights and logs, never other runs. Symbolic links are
        # not followed so that a link loop cannot make the scan endless.
        if skip_model and entry.name == "model":
            continue
        if entry.is_dir(follow_symlinks=False):
            subdirectories.append(Path(entry.path))
    return subdirectories
