"""Read a training dataset the way Ludwig's readers do, and reproduce its recorded split.

Formats follow ``ludwig.utils.data_utils`` (0.9 and 0.11): CSV and TSV are read with every column
as text (``dtype=object``) after sniffing the delimiter among ``,``, tab and ``|``; JSON, JSON Lines
and Parquet go through pandas' readers.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import TokenAnalysisError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".parquet": "parquet",
}
# Ludwig's read_xsv sniffs the delimiter from the first 100 KiB.
_SNIFF_BYTES = 100 * 1024
# Ludwig's split values: 0 training, 1 validation, 2 test.
SPLIT_NAMES = ("training", "validation", "test")
UNKNOWN_SPLIT = -1


class DatasetError(TokenAnalysisError):
    """The dataset is missing, unreadable, empty or lacks a column; the message says which."""


def dataset_format(path: Path) -> str:
    """Return the format name for ``path``'s extension, or raise DatasetError."""
    suffixes = [suffix.lower() for suffix in path.suffixes]
    for suffix in reversed(suffixes):
        if suffix in FORMATS:
            return FORMATS[suffix]
    raise DatasetError(
        f"{path}: unsupported dataset format {path.suffix or '(no extension)'}; "
        f"expected one of {', '.join(sorted(FORMATS))}"
    )


def file_checksum(path: Path) -> str:
    """Hash the file's bytes (SHA-256, hex)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 22), b""):
                digest.update(chunk)
    except OSError as error:
        raise DatasetError(f"{path}: cannot read the dataset: {error.strerror or error}") from error
    return digest.hexdigest()


def read_dataset(path: Path) -> pd.DataFrame:
    """Read every row of ``path``; raise DatasetError with the file and the cause on failure."""
    import pandas as pd

    if not path.is_file():
        raise DatasetError(f"{path}: dataset not found")
    kind = dataset_format(path)
    try:
        if kind in ("csv", "tsv"):
            frame = _read_xsv(path, "," if kind == "csv" else "\t")
        elif kind == "json":
            frame = pd.read_json(path)
        elif kind == "jsonl":
            frame = pd.read_json(path, lines=True)
        else:
            frame = pd.read_parquet(path)
    except pd.errors.EmptyDataError as error:
        raise DatasetError(f"{path}: the dataset is empty") from error
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from error
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise DatasetError(f"{path}: cannot parse the {kind} file: {_first_line(error)}") from error
    except Exception as error:  # noqa: BLE001 - pyarrow raises its own error types for damaged files
        raise DatasetError(f"{path}: cannot read the {kind} file: {_first_line(error)}") from error

    if len(frame) == 0:
        raise DatasetError(f"{path}: the dataset has a header but no rows")
    return frame


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _read_xsv(path: Path, separator: str) -> pd.DataFrame:
    import pandas as pd

    with path.open("r", encoding="utf8") as stream:
        sample = stream.read(_SNIFF_BYTES)
    if not sample.strip():
        raise pd.errors.EmptyDataError("no data")
    # When the sniffer cannot decide, Ludwig keeps the separator that the extension implies.
    with contextlib.suppress(csv.Error):
        separator = csv.Sniffer().sniff(sample, delimiters=",\t|").delimiter

    options: dict[str, Any] = {"sep": separator, "header": 0, "dtype": object}
    try:
        frame: pd.DataFrame = pd.read_csv(path, **options)
    except pd.errors.ParserError:
        # Ludwig retries with backslash as the escape character before giving up.
        frame = pd.read_csv(path, escapechar="\\", **options)
    return frame


def require_columns(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    """Raise DatasetError when a feature's column is missing from the dataset."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        present = ", ".join(str(column) for column in frame.columns[:12])
        raise DatasetError(f"{path}: column {', '.join(missing)} not found (columns: {present})")


def split_column(frame: pd.DataFrame, split: dict[str, Any] | None) -> tuple[npt.NDArray[np.int8], str]:
    """Return each row's split (0, 1, 2 or -1 when unknown) and a sentence on how it was found.

    Only a ``fixed`` split can be reproduced from the data alone. Ludwig's random, stratified,
    datetime and hash splits depend on its seed and code, so their rows are marked unknown.
    """
    import numpy as np
    import pandas as pd

    unknown = np.full(len(frame), UNKNOWN_SPLIT, dtype=np.int8)
    split = split or {}
    kind = split.get("type", "random")
    if kind != "fixed":
        return unknown, f"split type {kind} is not reproduced, so split counts are not shown"

    column = split.get("column", "split")
    if column not in frame.columns:
        return unknown, f"split column {column} is not in the dataset"
    values = pd.to_numeric(frame[column], errors="coerce")
    known = values.isin([0, 1, 2])
    result = np.where(known, values.fillna(UNKNOWN_SPLIT), UNKNOWN_SPLIT).astype(np.int8)
    return result, f"fixed split from column {column}"
