"""The one finding type that every check returns, and its JSON form."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.StrEnum):
    """How urgent a finding is; the order matters for exit codes and sorting."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True)
class Evidence:
    """One number or value behind a finding, with the file and field it was read from.

    ``source`` is a path relative to the run directory (for example
    ``model/training_set_metadata.json``); ``field`` is a dotted path inside that file, a
    TensorBoard tag, or a column name.
    """

    source: str
    field: str
    value: Any
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "field": self.field, "value": json_safe(self.value), "note": self.note}


@dataclass(frozen=True)
class Patch:
    """A suggested config change: a dotted path into the Ludwig config and its new value.

    Paths use Ludwig's own keys, with list indexes in brackets, for example
    ``preprocessing.global_max_sequence_length`` or
    ``input_features[0].preprocessing.max_sequence_length``.
    """

    path: str
    value: Any
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "value": json_safe(self.value), "reason": self.reason}


@dataclass
class Finding:
    """A diagnosis of one run: what is wrong, the evidence, and what to change."""

    id: str
    severity: Severity
    title: str
    explanation: str
    evidence: list[Evidence] = field(default_factory=list)
    patches: list[Patch] = field(default_factory=list)
    # Where the observation came from when a check reads several kinds of output, for example
    # "llm_eval_examples (teacher-forced)" or "predictions (free generation)".
    source: str = ""
    # Extra text the user needs to act, such as "upgrade Ludwig to 0.9.3 or later and retrain".
    action: str = ""
    # Ids of the findings of the same run that this one explains or builds on, for example a
    # repetition cause that rests on "version.pad_token_maps_to_unk" and "repetition.predictions".
    based_on: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity.value,
            "title": self.title,
            "explanation": self.explanation,
            "action": self.action,
            "source": self.source,
            "evidence": [item.to_dict() for item in self.evidence],
            "patches": [patch.to_dict() for patch in self.patches],
            "based_on": list(self.based_on),
        }


def worst_severity(findings: list[Finding]) -> Severity | None:
    """Return the highest severity among ``findings``, or None when there are none."""
    if not findings:
        return None
    return max((finding.severity for finding in findings), key=lambda severity: severity.rank)


def count_by_severity(findings: list[Finding]) -> dict[Severity, int]:
    """Count findings per severity, with every severity present as a key."""
    counts = {severity: 0 for severity in Severity}
    for finding in findings:
        counts[finding.severity] += 1
    return counts


def json_safe(value: Any) -> Any:
    """Turn NaN and infinities into strings so that the output is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
