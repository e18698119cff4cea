"""Plain-text helpers that turn runs and findings into table cells and labels."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from rich.text import Text

from ..diagnostics.findings import Finding, Severity, count_by_severity

# Rich styles per severity. The text label next to each badge keeps the meaning without color.
SEVERITY_STYLES = {
    Severity.ERROR: "bold white on red",
    Severity.WARNING: "bold black on yellow",
    Severity.INFO: "bold white on blue",
}

SEVERITY_LETTERS = {Severity.ERROR: "E", Severity.WARNING: "W", Severity.INFO: "I"}

ELLIPSIS = "…"


def shorten_middle(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters by replacing its middle with an ellipsis.

    The tail keeps more characters than the head because the last path component (for
    example ``experiment_run_1``) is what distinguishes the runs of one folder.
    """
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]

    visible = width - 1
    head = visible * 2 // 5
    tail = visible - head
    return f"{text[:head]}{ELLIPSIS}{text[len(text) - tail :]}"


def distinct_run_names(names: list[str]) -> list[str]:
    """Drop the leading and trailing path components that every run name shares.

    Runs scanned from one project differ only in the last component
    (``results/experiment_run``, ``results/experiment_run_1``), and runs from several projects
    often only in the first (``llm_fits/results/experiment_run``), so the shared parts only
    take room in a narrow column. Each name keeps at least one component.
    """
    if len(names) < 2:
        return list(names)

    split_names = [name.split("/") for name in names]
    shortest = min(len(parts) for parts in split_names)

    prefix = 0
    while prefix < shortest - 1 and len({parts[prefix] for parts in split_names}) == 1:
        prefix += 1

    suffix = 0
    while prefix + suffix < shortest - 1 and len({parts[-1 - suffix] for parts in split_names}) == 1:
        suffix += 1

    return ["/".join(parts[prefix : len(parts) - suffix]) for parts in split_names]


def shorten_run_name(name: str, width: int) -> str:
    """Fit a run name such as ``project/results/experiment_run_1`` into ``width`` characters.

    The run folder (the last component) stays whole when it fits, after as much of the first
    component as the width leaves, because the folders in between are usually Ludwig's
    ``results``.
    """
    if len(name) <= width:
        return name

    first, _, rest = name.partition("/")
    _, _, last = rest.rpartition("/")
    room = width - len(last) - 1
    if not last or room < 3:
        return shorten_middle(name, width)
    return f"{first[: room - 1]}{ELLIPSIS}/{last}"


def shorten_model_name(model_name: str, width: int) -> str:
    """Fit a Hugging Face model id into ``width`` characters, dropping the organization first."""
    if len(model_name) <= width:
        return model_name

    _, _, repo = model_name.rpartition("/")
    if len(repo) <= width:
        return repo
    return repo[: max(width - 1, 0)] + ELLIPSIS


def format_loss(value: float | None) -> str:
    """Format a loss with four significant digits, or an en dash when there is none."""
    if value is None:
        return "–"
    if not math.isfinite(value):
        return str(value)
    # Three significant digits keep large ECD losses such as 1.79e+05 within the column.
    if abs(value) >= 1e4:
        return f"{value:.3g}"
    return f"{value:.4g}"


def format_count(value: int | None) -> str:
    """Format an epoch or step count, or an en dash when there is none."""
    return "–" if value is None else str(value)


def severity_counts_text(findings: list[Finding]) -> Text:
    """Summarize findings as "2E 1W 3I", leaving out severities with no findings."""
    counts = count_by_severity(findings)
    text = Text()

    for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        if counts[severity] == 0:
            continue
        if text:
            text.append(" ")
        text.append(f"{counts[severity]}{SEVERITY_LETTERS[severity]}", style=_count_style(severity))

    if not text:
        text.append("none")
    return text


def severity_badge(severity: Severity) -> Text:
    """Return a colored badge that also spells out the severity: " error ", " warning "."""
    label = f" {severity.value} ".center(len(" warning "))
    return Text(label, style=SEVERITY_STYLES[severity])


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Sort findings from errors to infos, keeping the order of the checks within a severity."""
    return sorted(findings, key=lambda finding: -finding.severity.rank)


def _count_style(severity: Severity) -> str:
    if severity is Severity.ERROR:
        return "bold red"
    if severity is Severity.WARNING:
        return "bold yellow"
    return ""


@dataclass(frozen=True)
class ColumnWidths:
    """Widths in cells of the two run-table columns that shrink with the terminal."""

    name: int
    base_model: int


# Content widths of the fixed columns: type, Ludwig version, epochs, best val loss, findings.
FIXED_COLUMN_WIDTHS = (4, 7, 6, 8, 8)

# DataTable pads each cell with one space on both sides, and app.tcss sets a one-cell scrollbar.
CELL_PADDING = 2
SCROLLBAR_WIDTH = 1
COLUMN_COUNT = 2 + len(FIXED_COLUMN_WIDTHS)


def column_widths(total_width: int) -> ColumnWidths:
    """Split what the fixed columns leave of ``total_width`` between run name and base model."""
    fixed = sum(FIXED_COLUMN_WIDTHS) + COLUMN_COUNT * CELL_PADDING + SCROLLBAR_WIDTH
    free = max(total_width - fixed, 24)

    name = free * 2 // 3
    return ColumnWidths(name=name, base_model=free - name)


def format_value(value: object, width: int = 240) -> str:
    """Format an evidence or patch value as JSON text (strings quoted), cut to ``width``."""
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except ValueError:
        text = repr(value)
    return shorten_middle(text, width)
