"""Reading one column of the dataset a run was trained on, found from the path the run recorded."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..paths import recorded_dataset_path, resolve_recorded_path
from ..run import Run

logger = logging.getLogger(__name__)

# Rows read at most. The loop measures need only a sample, and a sample of this size keeps the
# check under a second for 300-token targets.
MAX_ROWS = 50_000
# Ludwig's fixed split uses 0 for training, 1 for validation and 2 for test rows.
TRAINING_SPLIT = 0
TEST_SPLIT = 2
SPLIT_NAMES = {TRAINING_SPLIT: "training split", 1: "validation split", TEST_SPLIT: "test split"}

SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".parquet")


@dataclass(frozen=True)
class DatasetColumn:
    """The values of one dataset column, with where they were read from."""

    path: Path
    column: str
    values: list[str]
    # The 0-based data row of each value in the file (the header is not a row).
    rows_read: list[int]
    # "training split" (or "test split") when a fixed split column selected those rows, else "all rows".
    rows: str
    # True when the file has more rows than were read.
    sampled: bool


def read_training_column(run: Run, column: str) -> DatasetColumn | None:
    """Read ``column`` from the run's dataset, keeping the training rows of a fixed split."""
    return read_split_column(run, column, TRAINING_SPLIT)


def read_split_column(run: Run, column: str, split: int) -> DatasetColumn | None:
    """Read ``column`` from the run's dataset, keeping the rows of ``split`` when the split is fixed.

    Returns None when the run records no dataset, the dataset is remote (``ludwig://``, hub) or
    cannot be found or read, or it has no such column. The paths check reports a missing dataset.
    """
    recorded = recorded_dataset_path(run)
    if not recorded:
        return None
    resolution = resolve_recorded_path(recorded, run, run.path_map)
    path = resolution.path
    if path is None or not path.is_file():
        return None

    if path.suffix.lower() not in SUFFIXES:
        return None
    try:
        frame = _read_frame(path)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        logger.info("could not read the dataset %s: %s", path, error)
        return None
    if column not in frame.columns:
        return None

    sampled = len(frame) >= MAX_ROWS
    frame = frame.head(MAX_ROWS)
    rows = "all rows"
    split_column = _fixed_split_column(run)
    if split_column is not None and split_column in frame.columns:
        selected = frame[split_column].astype(str) == str(split)
        if selected.any():
            frame = frame[selected]
            rows = SPLIT_NAMES.get(split, f"split {split}")

    frame = frame.reset_index()
    values = ["" if value is None else str(value) for value in frame[column].tolist()]
    row_numbers = [int(number) for number in frame["index"].tolist()]
    return DatasetColumn(
        path=path, column=column, values=values, rows_read=row_numbers, rows=rows, sampled=sampled
    )


def _read_frame(path: Path) -> pd.DataFrame:
    """Read up to MAX_ROWS rows of a CSV, TSV, JSON Lines, JSON or Parquet file as strings."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        separator = "\t" if suffix == ".tsv" else ","
        return pd.read_csv(path, sep=separator, nrows=MAX_ROWS, dtype=str, keep_default_na=False)
    if suffix == ".jsonl":
        return pd.read_json(path, lines=True, nrows=MAX_ROWS, dtype=False)
    if suffix == ".json":
        return pd.read_json(path, dtype=False)
    return pd.read_parquet(path)


def _fixed_split_column(run: Run) -> str | None:
    preprocessing = run.config.get("preprocessing")
    split = preprocessing.get("split") if isinstance(preprocessing, dict) else None
    if isinstance(split, dict) and split.get("type") == "fixed":
        column = split.get("column", "split")
        return column if isinstance(column, str) else None
    return None
