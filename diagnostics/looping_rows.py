"""Every generated or teacher-forced output of a run as a row with its loop and its target.

The app's predictions view lists these rows, worst loop first. The targets of ``ludwig predict``
rows come from the dataset: with a fixed split, a predictions file with as many rows as the test
split is taken to hold the test rows in file order, which is what ``ludwig predict --split test``
writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .checks.context import features
from .checks.repetition import SourceScan, scan_eval_examples, scan_predictions
from .loops import LoopSpan
from .readers.dataset import TEST_SPLIT, read_split_column
from .run import Run


@dataclass(frozen=True)
class LoopingRow:
    """One output of a run with its loop measures."""

    file: str  # relative to the run directory
    kind: str  # repetition.TEACHER_FORCED or repetition.FREE_GENERATION
    row: int
    output: str
    target: str | None
    span: LoopSpan | None
    score: float
    repeated_ngram_rate: tuple[float, float, float, float]
    generated_tokens: int | None


def collect_rows(run: Run) -> list[LoopingRow]:
    """Return the rows of every predictions file and of the latest llm_eval_examples file, worst loop first."""
    scans = scan_predictions(run)
    eval_scans = scan_eval_examples(run)
    if eval_scans:
        scans.append(eval_scans[-1])

    rows = []
    for scan in scans:
        targets = scan.targets if scan.targets is not None else _test_targets(run, len(scan.texts))
        rows.extend(_rows_of(scan, targets))
    rows.sort(key=lambda item: (-item.score, item.file, item.row))
    return rows


def _rows_of(scan: SourceScan, targets: list[str] | None) -> list[LoopingRow]:
    rows = []
    for index, (text, report) in enumerate(zip(scan.texts, scan.reports, strict=True)):
        counts = scan.token_counts
        rows.append(
            LoopingRow(
                file=scan.file,
                kind=scan.kind,
                row=index,
                output=text,
                target=targets[index] if targets is not None else None,
                span=report.span,
                score=report.score,
                repeated_ngram_rate=report.repeated_ngram_rate,
                generated_tokens=counts[index] if counts is not None and index < len(counts) else None,
            )
        )
    return rows


def _test_targets(run: Run, count: int) -> list[str] | None:
    """Return the test-split targets when there are exactly ``count`` of them, else None."""
    outputs = features(run, "output_features")
    column = (outputs[0].get("column") or outputs[0].get("name")) if outputs else None
    if not isinstance(column, str):
        return None
    dataset = read_split_column(run, column, TEST_SPLIT)
    if dataset is None or dataset.rows != "test split" or len(dataset.values) != count:
        return None
    return dataset.values
