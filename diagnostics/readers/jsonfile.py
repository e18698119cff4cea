"""Lenient reading of the JSON files Ludwig writes, turning every problem into a finding."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..findings import Finding, Severity
from .problems import (
    FILE_MALFORMED,
    FILE_TRUNCATED,
    damaged_file,
    empty_file,
    unreadable_file,
)


@dataclass
class JsonRead:
    """The top-level object of a JSON file (None when unusable) and the findings about it."""

    data: dict[str, Any] | None
    findings: list[Finding] = field(default_factory=list)


def read_json_object(path: Path, source: str, severity: Severity = Severity.WARNING) -> JsonRead:
    """Parse ``path`` as a JSON object; ``source`` is the name used in findings.

    Python's json module accepts the bare ``Infinity``, ``-Infinity`` and ``NaN`` tokens that
    Ludwig writes into training_progress.json (``best_eval_metric_value`` before the first
    improvement, up to Ludwig 0.11.0), so no preprocessing is needed for them.
    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        return JsonRead(None, [unreadable_file(source, severity, error)])

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        detail = f"byte {error.start} is not valid UTF-8."
        where = f"byte {error.start}"
        return JsonRead(None, [_damaged(FILE_MALFORMED, source, severity, where, detail)])

    if not text.strip():
        return JsonRead(None, [empty_file(source, severity)])

    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return JsonRead(None, [_decode_error_finding(source, severity, text, error)])

    if not isinstance(data, dict):
        detail = f"the top level is a JSON {_json_type(data)}, but Ludwig writes an object here."
        return JsonRead(None, [_damaged(FILE_MALFORMED, source, severity, "(top level)", detail)])
    return JsonRead(data)


def _decode_error_finding(source: str, severity: Severity, text: str, error: json.JSONDecodeError) -> Finding:
    # An error at the end of the content means the writer stopped early, for example a copy cut
    # short or a process killed while saving. An error before the end means invalid content.
    where = f"line {error.lineno}, column {error.colno}"
    if error.pos >= len(text.rstrip()):
        detail = f"the JSON ends early at {where} ({error.msg})."
        return _damaged(FILE_TRUNCATED, source, severity, where, detail)
    detail = f"invalid JSON at {where}: {error.msg}."
    return _damaged(FILE_MALFORMED, source, severity, where, detail)


def _damaged(finding_id: str, source: str, severity: Severity, where: str, detail: str) -> Finding:
    action = f"Copy {source} again from the machine that trained the run; the doctor ignores it until then."
    return damaged_file(finding_id, source, severity, where, detail, action)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"
