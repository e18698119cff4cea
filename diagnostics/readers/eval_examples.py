"""Reading ``model/llm_eval_examples/N.csv``: the teacher-forced outputs Ludwig logs at each evaluation."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..findings import Finding, Severity
from ..run import EvalExamples
from .problems import FILE_MALFORMED, FILE_TRUNCATED, damaged_file, display_name, unreadable_file

EXPECTED_COLUMNS = ("inputs", "targets", "outputs")
_FILE_NAME = re.compile(r"^(\d+)\.csv$")


@dataclass
class EvalExamplesRead:
    """The parsed files in index order, and findings about damaged ones."""

    examples: list[EvalExamples] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def read_eval_examples(
    directory: Path, run_dir: Path, severity: Severity = Severity.INFO
) -> EvalExamplesRead:
    """Read every ``<N>.csv`` in ``directory``; a header-only file is valid and has zero rows.

    Ludwig writes these files for LLM runs from 0.9 on, and header-only ones for ECD runs from
    0.10.4 on. Files with other names are ignored.
    """
    result = EvalExamplesRead()
    try:
        names = sorted(entry.name for entry in directory.iterdir() if entry.is_file())
    except OSError as error:
        result.findings.append(unreadable_file(display_name(directory, run_dir), severity, error))
        return result

    for name in names:
        match = _FILE_NAME.match(name)
        if match:
            path = directory / name
            examples, finding = read_eval_examples_file(path, int(match.group(1)), run_dir, severity)
            result.examples.append(examples)
            if finding is not None:
                result.findings.append(finding)
    result.examples.sort(key=lambda examples: examples.index)
    return result


def read_eval_examples_file(
    path: Path, index: int, run_dir: Path, severity: Severity = Severity.INFO
) -> tuple[EvalExamples, Finding | None]:
    """Read one eval-examples CSV; rows before a parse error are kept and the error becomes a finding."""
    source = display_name(path, run_dir)
    rows: list[dict[str, str]] = []
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.DictReader(handle, strict=True)
            missing = [column for column in EXPECTED_COLUMNS if column not in (reader.fieldnames or [])]
            if missing:
                return EvalExamples(path, index, rows), _missing_columns(
                    source, severity, missing, reader.fieldnames
                )
            try:
                for row in reader:
                    rows.append({column: row.get(column) or "" for column in EXPECTED_COLUMNS})
            except csv.Error as error:
                return EvalExamples(path, index, rows), _parse_error(
                    source, severity, reader.line_num, error, rows
                )
    except OSError as error:
        return EvalExamples(path, index, rows), unreadable_file(source, severity, error)
    return EvalExamples(path, index, rows), None


def _missing_columns(source: str, severity: Severity, missing: list[str], found: object) -> Finding:
    # An empty file has no header at all; fieldnames is then None.
    detail = f"the header lacks the column(s) {', '.join(missing)} (found {found or 'no header'})."
    action = f"The doctor skips {source}; Ludwig writes the header inputs,targets,outputs."
    return damaged_file(FILE_MALFORMED, source, severity, "header", detail, action)


def _parse_error(
    source: str, severity: Severity, line: int, error: csv.Error, rows: list[dict[str, str]]
) -> Finding:
    # In strict mode an unterminated quoted field at the end of the file raises "unexpected end
    # of data", which is what a copy cut short inside a multi-line prompt looks like.
    finding_id = FILE_TRUNCATED if "unexpected end of data" in str(error) else FILE_MALFORMED
    detail = f"CSV error at line {line}: {error}. The {len(rows)} rows before it were kept."
    action = f"Copy {source} again from the machine that trained the run to see every row."
    return damaged_file(finding_id, source, severity, f"line {line}", detail, action)
