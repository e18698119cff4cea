"""Follow a relaunch: its log as it grows, epoch and step progress, cancel, and the comparison."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Log, Static

from ...diagnostics.discovery import ScanPathError
from ...diagnostics.launch.compare import compare_runs
from ...diagnostics.launch.process import LaunchState, cancel_launch, read_state
from ...diagnostics.launch.progress import LogFollower
from ...diagnostics.launch.record import SUCCEEDED
from ...diagnostics.scan import DoctorOptions, RunReport, check_entry, find_runs
from .confirm import ConfirmScreen

POLL_SECONDS = 0.5


class LaunchScreen(Screen[None]):
    """Tails the launch's log in a Log widget, which keeps the user's scroll position.

    Leaving the screen, or the app, leaves the training running.
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back (training goes on)"),
        Binding("c", "cancel", "Cancel training"),
    ]

    def __init__(self, record_path: Path, options: DoctorOptions, parent: RunReport | None = None) -> None:
        super().__init__()
        self.record_path = record_path
        self.options = options
        self.parent_report = parent
        self.state: LaunchState = read_state(record_path)
        self.follower = LogFollower(Path(self.state.record.log_path))
        self.comparison_started = False

    def compose(self) -> ComposeResult:
        yield Static(id="launch-heading")
        yield Static(id="launch-progress")
        yield Log(id="launch-log", highlight=False)
        yield Static(id="launch-outcome")
        yield Footer()

    def on_mount(self) -> None:
        """Show the log written so far, then poll it."""
        self.poll()
        self.set_interval(POLL_SECONDS, self.poll)

    def poll(self) -> None:
        """Append the new log lines and refresh the status, progress and outcome."""
        lines = self.follower.poll()
        if lines:
            self.query_one(Log).write_lines(lines)
        self.state = read_state(self.record_path)
        record = self.state.record

        self.query_one("#launch-heading", Static).update(
            f"{record.experiment_name} · {self.state.status} · process group {record.pgid}\n"
            f"log {record.log_path}"
        )
        progress = self.follower.progress.describe()
        bar = self.follower.pending_line.strip()
        self.query_one("#launch-progress", Static).update(f"{progress}\n{bar[:200]}" if bar else progress)

        if not self.state.running:
            outcome = f"{self.state.status}: {record.message}"
            if record.exit_status is not None:
                outcome += f" (exit status {record.exit_status})"
            self.query_one("#launch-outcome", Static).update(outcome)
            if self.state.status == SUCCEEDED and not self.comparison_started and record.run_dir:
                self.comparison_started = True
                self.compare_with_parent(Path(record.run_dir))

    @work(thread=True, exclusive=True, group="compare")
    def compare_with_parent(self, run_dir: Path) -> None:
        """Diagnose the new run and show how it differs from its parent."""
        outcome = self.query_one("#launch-outcome", Static)
        try:
            entries = find_runs([run_dir])
            parent_entries = [] if self.parent_report else find_runs([Path(self.state.record.parent_run)])
        except ScanPathError as error:
            self.app.call_from_thread(
                outcome.update, f"{self.state.status}; cannot compare with the parent: {error}"
            )
            return
        if not entries or not (self.parent_report or parent_entries):
            return
        child = check_entry(entries[0], self.options)
        parent = self.parent_report or check_entry(parent_entries[0], self.options)
        lines = compare_runs(parent, child).describe()
        self.app.call_from_thread(
            outcome.update, f"{self.state.status}: {self.state.record.message}\n" + "\n".join(lines)
        )

    def action_cancel(self) -> None:
        """Ask, then stop the training's whole process group."""
        if not self.state.running:
            self.notify("The training is not running.", severity="warning")
            return
        question = (
            f"Cancel {self.state.record.experiment_name}? Its process group gets SIGINT, then SIGTERM "
            "if it is still running after a grace period. The log and the record are kept."
        )
        self.app.push_screen(ConfirmScreen(question, yes_label="Cancel training"), self._on_cancel_answer)

    def _on_cancel_answer(self, answer: bool | None) -> None:
        if answer:
            self.notify("Cancelling: sent SIGINT to the process group.")
            self.cancel_in_background()

    @work(thread=True, exclusive=True, group="cancel")
    def cancel_in_background(self) -> None:
        """Run the blocking cancel outside the event loop."""
        state = cancel_launch(self.record_path)
        self.app.call_from_thread(self.notify, f"Training {state.status}.")
