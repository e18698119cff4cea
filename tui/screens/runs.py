"""The first screen: the table of runs, a preview of the highlighted run, and the scan worker."""

from __future__ import annotations

import traceback
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState, get_current_worker

from ...diagnostics.findings import Severity, worst_severity
from ...diagnostics.scan import DoctorOptions, RunEntry, check_entry, find_runs
from ..formatting import sort_findings
from ..messages import RunChecked, RunFailed, RunLoading, RunsFound
from ..widgets.finding_list import finding_prompt
from ..widgets.run_table import RunRow, RunState, RunTable
from .findings import FindingsScreen

SCAN_GROUP = "scan"

# Number of findings listed under the table. Enter opens the full list.
PREVIEW_FINDINGS = 4


class RunsScreen(Screen[None]):
    """Lists the runs found under the scanned paths and checks them one by one in a worker."""

    BINDINGS = [
        Binding("space", "mark_run", "Mark"),
        Binding("c", "curves", "Curves"),
    ]

    def __init__(self, paths: list[Path], options: DoctorOptions) -> None:
        super().__init__()
        self.paths = paths
        self.options = options
        # Incremented by every scan, so that messages from a cancelled scan are ignored.
        self.generation = 0
        self.reading_index: int | None = None
        # Run directories marked with space for the curves overlay.
        self.marked: set[Path] = set()

    def compose(self) -> ComposeResult:
        yield RunTable(id="runs")
        yield Static(id="run-preview")
        yield Static(id="empty-message")
        yield Static(id="status")
        yield Footer()

    # The run to put the cursor on when a reload finds it again.
    _reselect: Path | None = None

    def on_mount(self) -> None:
        """Start the first scan as soon as the screen exists."""
        self.query_one("#empty-message").display = False
        self.reload()

    def action_mark_run(self) -> None:
        """Mark or unmark the highlighted run for the curves overlay."""
        from .curves import toggle_mark

        row = self.query_one(RunTable).highlighted_run
        if row is not None:
            self.notify(toggle_mark(self.marked, row))

    def action_curves(self) -> None:
        """Open the curves of the marked runs, or of the highlighted run when none is marked."""
        from .curves import CurvesScreen, curve_runs

        table = self.query_one(RunTable)
        runs = curve_runs(table.runs, table.highlighted_run, self.marked)
        if runs:
            self.app.push_screen(CurvesScreen(runs))
        else:
            self.notify("No checked run to plot yet: wait until the run is read.", severity="warning")

    def reload(self) -> None:
        """Forget the current runs and scan the paths again, cancelling a scan in progress.

        The cursor returns to the same run after the scan when that run is still there.
        """
        highlighted = self.query_one(RunTable).highlighted_run
        self._reselect = highlighted.entry.path if highlighted is not None else None
        self.generation += 1
        self.reading_index = None

        self.query_one(RunTable).show_runs([])
        self.query_one("#run-preview", Static).update("")
        self._set_status(f"Looking for runs under {self._paths_text()}…")
        self.scan_runs(self.generation)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group=SCAN_GROUP,
        description="Find Ludwig runs, then read and check each one",
    )
    def scan_runs(self, generation: int) -> None:
        """Find the runs, then read and check them in order, posting a message for each step."""
        worker = get_current_worker()
        entries, path_errors = self._discover()
        self.post_message(RunsFound(generation, entries, path_errors))

        for index, entry in enumerate(entries):
            # Quitting or reloading cancels the worker, but a run already being read still finishes.
            if worker.is_cancelled:
                return

            self.post_message(RunLoading(generation, index))
            try:
                report = check_entry(entry, self.options)
            except Exception as error:  # noqa: BLE001 - one broken run must not stop the others
                detail = "".join(traceback.format_exception(error))
                self.post_message(RunFailed(generation, index, f"{type(error).__name__}: {error}\n{detail}"))
                continue

            if worker.is_cancelled:
                return
            self.post_message(RunChecked(generation, index, report))

    def _discover(self) -> tuple[list[RunEntry], dict[Path, str]]:
        from ...diagnostics.discovery import ScanPathError

        entries: list[RunEntry] = []
        path_errors: dict[Path, str] = {}

        # One path at a time, so that a missing path does not hide the runs under the others.
        for path in self.paths:
            try:
                entries.extend(find_runs([path]))
            except ScanPathError as error:
                path_errors[path] = str(error)
        return entries, path_errors

    @on(RunsFound)
    def show_found_runs(self, message: RunsFound) -> None:
        """Fill the table with one loading row per run, or explain why there is none."""
        if message.generation != self.generation:
            return

        table = self.query_one(RunTable)
        table.show_runs([RunRow(entry) for entry in message.entries])
        paths = [entry.path for entry in message.entries]
        if self._reselect in paths:
            table.move_cursor(row=paths.index(self._reselect))
        self._show_empty_message(message.entries, message.path_errors)

        if message.path_errors and message.entries:
            errors = "; ".join(message.path_errors.values())
            self.notify(f"{errors}. The runs under the other paths are listed.", severity="warning")
        self._update_status()

    @on(RunLoading)
    def mark_loading(self, message: RunLoading) -> None:
        """Note which run the worker is reading, for the status line."""
        if message.generation != self.generation:
            return
        self.reading_index = message.index
        self._update_status()

    @on(RunChecked)
    def show_checked_run(self, message: RunChecked) -> None:
        """Fill in the row of a run that was read and checked."""
        if message.generation != self.generation:
            return

        table = self.query_one(RunTable)
        run = table.runs[message.index]
        run.state = RunState.CHECKED
        run.report = message.report
        self._finish_row(message.index)

    @on(RunFailed)
    def show_failed_run(self, message: RunFailed) -> None:
        """Mark a run whose reading raised, and log the traceback."""
        if message.generation != self.generation:
            return

        table = self.query_one(RunTable)
        run = table.runs[message.index]
        run.state = RunState.FAILED
        run.error = message.error
        self.log.error(f"reading {run.entry.path} failed: {message.error}")
        self.notify(f"Reading {run.name} failed: {message.error.splitlines()[0]}", severity="error")
        self._finish_row(message.index)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Turn a scan worker that raised into an error notification and failed rows."""
        if event.worker.group != SCAN_GROUP:
            return
        self.log.debug(f"scan worker {event.worker.name}: {event.state.name}")

        if event.state is WorkerState.ERROR:
            self._fail_scan(event.worker.error)
        elif event.state is WorkerState.SUCCESS:
            self.reading_index = None
            self._update_status()

    def _fail_scan(self, error: BaseException | None) -> None:
        self.log.error(f"scan of {self._paths_text()} failed: {error!r}")
        self.notify(f"Scanning failed: {error}. Press r to try again.", severity="error", timeout=15)

        table = self.query_one(RunTable)
        for index, run in enumerate(table.runs):
            if run.state is RunState.LOADING:
                run.state = RunState.FAILED
                run.error = f"The scan stopped before this run was read: {error}"
                table.refresh_run(index)

        self.reading_index = None
        self._set_status(f"Scanning failed: {error}. Press r to try again.")

    @on(DataTable.RowHighlighted)
    def preview_run(self, event: DataTable.RowHighlighted) -> None:
        """Show the highlighted run's path and its most severe findings under the table."""
        self._update_preview()

    @on(DataTable.RowSelected)
    def open_run(self, event: DataTable.RowSelected) -> None:
        """Open the findings screen of the selected run once it has been checked."""
        run = self.query_one(RunTable).highlighted_run
        if run is None:
            return

        if run.report is not None:
            self.app.push_screen(FindingsScreen(run.report, run.name))
        elif run.state is RunState.FAILED:
            self.notify(f"{run.name} could not be read: {run.error.splitlines()[0]}", severity="error")
        else:
            self.notify(f"{run.name} is still loading.")

    def _finish_row(self, index: int) -> None:
        self.query_one(RunTable).refresh_run(index)
        if index == self.query_one(RunTable).cursor_row:
            self._update_preview()
        self._update_status()

    def _update_preview(self) -> None:
        preview = self.query_one("#run-preview", Static)
        run = self.query_one(RunTable).highlighted_run
        if run is None:
            preview.update("")
            return
        preview.update(preview_text(run))

    def _update_status(self) -> None:
        runs = self.query_one(RunTable).runs
        loading = sum(1 for run in runs if run.state is RunState.LOADING)

        if not runs:
            self._set_status("No runs to show. Press r to scan again.")
        elif loading and self.reading_index is not None:
            self._set_status(f"Reading {self.reading_index + 1} of {len(runs)} runs…")
        elif loading:
            self._set_status(f"Found {len(runs)} runs; starting to read them…")
        else:
            self._set_status(finished_status(runs))

    def _set_status(self, text: str) -> None:
        self.query_one("#status", Static).update(text)

    def _show_empty_message(self, entries: list[RunEntry], path_errors: dict[Path, str]) -> None:
        message = self.query_one("#empty-message", Static)
        message.display = not entries
        self.query_one(RunTable).display = bool(entries)
        self.query_one("#run-preview").display = bool(entries)
        if not entries:
            message.update(empty_message(self.paths, path_errors))

    def _paths_text(self) -> str:
        return ", ".join(str(path) for path in self.paths)


def preview_text(run: RunRow) -> Text:
    """Describe one run in a few lines: its path, then its most severe findings."""
    # One line per item: a long finding title ends in an ellipsis instead of pushing others out.
    text = Text(str(run.entry.path), style="bold", no_wrap=True, overflow="ellipsis")

    if run.state is RunState.FAILED:
        text.append(f"\nReading this run failed: {run.error.splitlines()[0]}", style="red")
        text.append("\nPress r to scan again.")
        return text
    if run.report is None:
        text.append("\nLoading…", style="dim")
        return text

    findings = sort_findings(run.report.findings)
    if not findings:
        text.append("\nNo findings.")
    for finding in findings[:PREVIEW_FINDINGS]:
        text.append("\n")
        text.append(finding_prompt(finding))

    hidden = len(findings) - PREVIEW_FINDINGS
    more = f"{hidden} more. " if hidden > 0 else ""
    text.append(f"\n{more}Enter opens the findings with their evidence.", style="dim")
    return text


def finished_status(runs: list[RunRow]) -> str:
    """Summarize a finished scan: how many runs, and how many have errors or warnings."""
    reports = [run.report for run in runs if run.report is not None]
    failed = sum(1 for run in runs if run.state is RunState.FAILED)
    worst = [worst_severity(report.findings) for report in reports]

    errors = worst.count(Severity.ERROR)
    warnings = worst.count(Severity.WARNING)
    healthy = len(reports) - errors - warnings
    # Each run counts once, by its most severe finding, so the three numbers add up to the runs read.
    parts = [
        f"{len(runs)} runs: {errors} with errors, {warnings} with warnings but no error, {healthy} without either"
    ]
    if failed:
        parts.append(f"{failed} could not be read")
    return "; ".join(parts) + "."


def empty_message(paths: list[Path], path_errors: dict[Path, str]) -> Text:
    """Explain why the table is empty and what to run next."""
    text = Text()

    for error in path_errors.values():
        text.append(f"{error}\n", style="bold red")
    if path_errors:
        text.append("Pass the folder that contains Ludwig's results/ directory, or a run folder inside it.\n")

    found_nothing = [path for path in paths if path not in path_errors]
    for path in found_nothing:
        text.append(f"No Ludwig runs found under {path}\n", style="bold")
    if found_nothing:
        text.append(
            "Ludwig writes each run to a folder such as results/experiment_run with description.json "
            "and training_statistics.json. Pass that folder, or one above it.\n"
        )

    text.append("\nExample: ludwig-doctor ~/my_project/results\nPress r to scan again, q to quit.")
    return text
