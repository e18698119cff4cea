"""The table of runs: one row per run directory, filled in as each run is checked."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widgets import DataTable

from ...diagnostics.scan import RunEntry, RunReport
from ..formatting import (
    FIXED_COLUMN_WIDTHS,
    ColumnWidths,
    column_widths,
    distinct_run_names,
    format_count,
    format_loss,
    severity_counts_text,
    shorten_model_name,
    shorten_run_name,
)

COLUMN_LABELS = ("run", "type", "base model", "ludwig", "epochs", "val loss", "findings")

LOADING_TEXT = "loading…"


class RunState(enum.Enum):
    """The stage of a run in the scan: loading, checked or failed."""

    LOADING = "loading"
    CHECKED = "checked"
    FAILED = "failed"


@dataclass
class RunRow:
    """One run as the table shows it: its entry, its state and, once checked, its report."""

    entry: RunEntry
    state: RunState = RunState.LOADING
    report: RunReport | None = None
    error: str = ""

    @property
    def name(self) -> str:
        """The run's path relative to the scanned folder, as ``Run.name`` computes it."""
        path: Path = self.entry.path
        root: Path = self.entry.root
        try:
            relative = path.resolve().relative_to(root.resolve())
        except ValueError:
            return path.name
        text = relative.as_posix()
        return text if text != "." else self.entry.path.name


Cell = str | Text


class RunTable(DataTable[Cell]):
    """A row-cursor DataTable of runs whose name and base-model columns shrink to fit."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Open"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        # Some terminals and tmux do not send Home and End; g and G work everywhere.
        Binding("g", "scroll_top", "First", show=False),
        Binding("G", "scroll_bottom", "Last", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.runs: list[RunRow] = []
        # The run names without the components that all runs share, in the order of ``runs``.
        self._display_names: list[str] = []
        self._widths: ColumnWidths | None = None

    def show_runs(self, runs: list[RunRow]) -> None:
        """Replace every row with ``runs``."""
        self.runs = runs
        self._display_names = distinct_run_names([run.name for run in runs])
        self._rebuild()

    def refresh_run(self, index: int) -> None:
        """Redraw the row of the run at ``index`` after its state changed."""
        cells = self._cells(index)
        for label, value in zip(COLUMN_LABELS, cells, strict=True):
            self.update_cell(str(index), label, value)

    @property
    def highlighted_run(self) -> RunRow | None:
        """The run under the cursor, or None when the table is empty."""
        if not self.runs or not 0 <= self.cursor_row < len(self.runs):
            return None
        return self.runs[self.cursor_row]

    def on_resize(self, event: events.Resize) -> None:
        """Recompute the shrinking columns when the terminal width changes."""
        widths = column_widths(event.size.width)
        if widths != self._widths:
            self._rebuild()

    def _rebuild(self) -> None:
        cursor_row = self.cursor_row
        self._widths = column_widths(self.size.width or self.app.size.width)

        self.clear(columns=True)
        column_sizes = (
            self._widths.name,
            FIXED_COLUMN_WIDTHS[0],
            self._widths.base_model,
            *FIXED_COLUMN_WIDTHS[1:],
        )
        for label, width in zip(COLUMN_LABELS, column_sizes, strict=True):
            self.add_column(label, width=width, key=label)

        for index in range(len(self.runs)):
            self.add_row(*self._cells(index), key=str(index))

        if self.runs:
            self.move_cursor(row=min(cursor_row, len(self.runs) - 1))

    def _cells(self, index: int) -> tuple[Cell, ...]:
        run = self.runs[index]
        widths = self._widths or column_widths(self.app.size.width)
        name = shorten_run_name(self._display_names[index], widths.name)

        if run.state is RunState.FAILED:
            return (name, "", "", "", "", "", Text("failed", style="bold red"))
        if run.report is None:
            return (name, "", "", "", "", "", LOADING_TEXT)

        summary = run.report.summary
        return (
            name,
            summary.model_type,
            shorten_model_name(summary.base_model or "–", widths.base_model),
            summary.ludwig_version or "?",
            format_count(summary.epochs_completed),
            format_loss(summary.best_validation_loss),
            severity_counts_text(run.report.findings),
        )
