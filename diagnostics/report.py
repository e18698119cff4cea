"""Render scan results as text for a terminal or as JSON for scripts."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import __version__
from .findings import Finding, Severity, count_by_severity, json_safe
from .scan import RunReport

# Version of the JSON layout below; bump it when a field changes meaning or disappears.
JSON_SCHEMA_VERSION = 1

_SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)


def sorted_findings(findings: list[Finding]) -> list[Finding]:
    """Order findings by severity, errors first, keeping each check's own order within a severity."""
    return sorted(findings, key=lambda finding: -finding.severity.rank)


def report_to_dict(report: RunReport) -> dict[str, Any]:
    """Return the JSON form of one run's report."""
    counts = count_by_severity(report.findings)
    return {
        "path": report.run.path.as_posix(),
        "name": report.run.name,
        "summary": json_safe(asdict(report.summary)),
        "counts": {severity.value: counts[severity] for severity in _SEVERITY_ORDER},
        "findings": [finding.to_dict() for finding in sorted_findings(report.findings)],
    }


def render_json(reports: list[RunReport]) -> str:
    """Return the whole scan as one JSON document."""
    document = {
        "schema_version": JSON_SCHEMA_VERSION,
        "ludwig_doctor_version": __version__,
        "runs": [report_to_dict(report) for report in reports],
    }
    return json.dumps(document, indent=2, allow_nan=False)


def render_text(reports: list[RunReport]) -> str:
    """Return the whole scan as plain text, one block per run."""
    if not reports:
        return "No Ludwig run directories found.\n"

    blocks = [_render_run_text(report) for report in reports]
    totals = count_by_severity([finding for report in reports for finding in report.findings])
    footer = (
        f"{len(reports)} run(s): {totals[Severity.ERROR]} error(s), "
        f"{totals[Severity.WARNING]} warning(s), {totals[Severity.INFO]} info."
    )
    return "\n".join(blocks) + footer + "\n"


def _render_run_text(report: RunReport) -> str:
    summary = report.summary
    header_parts = [report.run.model_type, f"Ludwig {summary.ludwig_version or 'unknown'}"]
    if summary.base_model:
        header_parts.append(summary.base_model)
    lines = [f"== {_display_path(report.run.path)} ({', '.join(header_parts)})"]

    if not report.findings:
        lines.append("   no findings")

    for finding in sorted_findings(report.findings):
        lines.extend(_render_finding_text(finding))

    return "\n".join(lines) + "\n\n"


def _render_finding_text(finding: Finding) -> list[str]:
    lines = [f"  [{finding.severity.value}] {finding.id}: {finding.title}"]
    if finding.source:
        lines.append(f"      source: {finding.source}")
    lines.append(f"      {finding.explanation}")
    if finding.action:
        lines.append(f"      action: {finding.action}")

    for item in finding.evidence:
        note = f" ({item.note})" if item.note else ""
        field = f" {item.field}" if item.field else ""
        lines.append(f"      - {item.source}{field} = {_short(item.value)}{note}")

    for patch in finding.patches:
        reason = f"  # {patch.reason}" if patch.reason else ""
        lines.append(f"      patch: {patch.path}: {json.dumps(patch.value)}{reason}")

    return lines


def _display_path(path: Path) -> str:
    """Show a run's path relative to the working folder when it lies below it, else absolute."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"
