"""Reading the generated text from a ``ludwig predict`` or ``ludwig evaluate`` output directory."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..findings import Finding, Severity
from ..run import Predictions
from .problems import FILE_MALFORMED, damaged_file, display_name, unreadable_file

PARQUET_NAME = "predictions.parquet"
# LLM text output features put the decoded text in <feature>_response; ECD features only have
# <feature>_predictions (a class label, a number or a token list).
RESPONSE_SUFFIX = "_response"
PREDICTIONS_SUFFIX = "_predictions"


@dataclass
class PredictionsRead:
    """The text columns found in one output directory, and findings about damaged files."""

    predictions: list[Predictions] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def read_predictions(directory: Path, run_dir: Path | None = None) -> PredictionsRead:
    """Read ``predictions.parquet`` in ``directory``, or the header-less CSVs when it is unusable.

    Each ``<feature>_response`` column becomes one Predictions. A directory without any
    response column (ECD) yields its ``<feature>_predictions`` columns as text instead.
    ``directory`` may also name one such file: a parquet file, or a header-less CSV whose
    column is named by the file name (``output_response.csv``).
    """
    if directory.is_file():
        return _read_file(directory, run_dir)

    result = PredictionsRead()
    parquet = directory / PARQUET_NAME
    if parquet.is_file():
        predictions, finding = _read_parquet(parquet, directory, run_dir)
        if finding is not None:
            result.findings.append(finding)
        if predictions:
            result.predictions = predictions
            return result

    predictions, findings = _read_csvs(directory, run_dir)
    result.predictions = predictions
    result.findings.extend(findings)
    return result


def _read_file(path: Path, run_dir: Path | None) -> PredictionsRead:
    """Read one predictions file that the user named; a CSV file is one text column."""
    result = PredictionsRead()
    source = display_name(path, run_dir)
    if path.suffix.lower() == ".parquet":
        predictions, finding = _read_parquet(path, path.parent, run_dir)
        result.predictions = predictions
        if finding is not None:
            result.findings.append(finding)
        return result

    try:
        responses = read_headerless_column(path)
    except OSError as error:
        result.findings.append(unreadable_file(source, Severity.INFO, error))
    except csv.Error as error:
        detail = f"CSV error: {error}."
        action = "Name a predictions.parquet file or a one-column CSV file without a header."
        result.findings.append(damaged_file(FILE_MALFORMED, source, Severity.INFO, "(file)", detail, action))
    else:
        result.predictions.append(Predictions(path.parent, path, path.stem, responses))
    return result


def _text_columns(names: list[str]) -> list[str]:
    responses = [name for name in names if name.endswith(RESPONSE_SUFFIX)]
    if responses:
        return responses
    return [name for name in names if name.endswith(PREDICTIONS_SUFFIX)]


def _read_parquet(
    path: Path, directory: Path, run_dir: Path | None
) -> tuple[list[Predictions], Finding | None]:
    source = display_name(path, run_dir)
    try:
        names = list(pq.read_schema(path).names)
        columns = _text_columns(names)
        token_columns = _token_columns(columns, names)
        table = pq.read_table(path, columns=sorted({*columns, *token_columns.values()}))
    except OSError as error:
        return [], unreadable_file(source, Severity.INFO, error)
    except pa.ArrowException as error:
        detail = f"pyarrow could not read it: {error}."
        action = "The doctor falls back to the per-column CSV files; rerun ludwig predict to rewrite it."
        return [], damaged_file(FILE_MALFORMED, source, Severity.INFO, "(file)", detail, action)

    predictions = []
    for column in columns:
        values = table.column(column).to_pylist()
        token_column = token_columns.get(column)
        counts = _token_counts(table.column(token_column).to_pylist()) if token_column else None
        predictions.append(
            Predictions(directory, path, column, [_as_text(value) for value in values], counts)
        )
    return predictions, None


def _token_columns(text_columns: list[str], names: list[str]) -> dict[str, str]:
    """Map each <feature>_response column to its <feature>_predictions token-list column."""
    mapping = {}
    for column in text_columns:
        if column.endswith(RESPONSE_SUFFIX):
            candidate = column.removesuffix(RESPONSE_SUFFIX) + PREDICTIONS_SUFFIX
            if candidate in names:
                mapping[column] = candidate
    return mapping


def _token_counts(values: list[object]) -> list[int] | None:
    """Return the generated length of each row: the position of its last non-empty token.

    Ludwig pads each token list with empty strings up to max_new_tokens. Special tokens (the stop
    token, <unk>) also decode to an empty string, so one inside the text still counts, and a row
    whose last token is non-empty ran to max_new_tokens.
    """
    if not all(isinstance(value, list) for value in values):
        return None
    counts = []
    for value in values:
        assert isinstance(value, list)
        nonempty = [position for position, token in enumerate(value, start=1) if token]
        counts.append(nonempty[-1] if nonempty else 0)
    return counts


def _read_csvs(directory: Path, run_dir: Path | None) -> tuple[list[Predictions], list[Finding]]:
    try:
        names = sorted(entry.stem for entry in directory.glob("*.csv") if entry.is_file())
    except OSError as error:
        return [], [unreadable_file(display_name(directory, run_dir), Severity.INFO, error)]

    predictions = []
    findings = []
    for column in _text_columns(names):
        path = directory / f"{column}.csv"
        try:
            responses = read_headerless_column(path)
        except OSError as error:
            findings.append(unreadable_file(display_name(path, run_dir), Severity.INFO, error))
            continue
        except csv.Error as error:
            detail = f"CSV error: {error}."
            action = "Rerun ludwig predict to rewrite the file."
            source = display_name(path, run_dir)
            findings.append(damaged_file(FILE_MALFORMED, source, Severity.INFO, "(file)", detail, action))
            continue
        predictions.append(Predictions(directory, path, column, responses))
    return predictions, findings


def read_headerless_column(path: Path) -> list[str]:
    """Read a one-column CSV that Ludwig wrote without a header row; an empty line is an empty text."""
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return [row[0] if row else "" for row in csv.reader(handle)]


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)
