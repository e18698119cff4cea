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
        # Leaving keeps the training running, as the help screen states.
        Binding("escape", "app.pop_screen", "Back"),
        Binding("c", "cancel", "Cancel"),
    ]

    def __init__(self, record_path: Path, options: DoctorOptions, parent: RunReport | None = None) -> None:
        super().__init__()
        self.record_path = record_path
        self.options = options
        self.parent_report = parent
        self.state: LaunchState = read_state(record_path)
        self.follower = LogFollower(Path(self.state.record.log_path))
        self.comparison_started = False
        # Lines comparing the new run with its parent, kept under the outcome once computed.
        self.comparison_lines: list[str] = []
        # Whether the log view follows new lines, and the scroll position where it last did.
        self.following = True
        self.followed_scroll_y = 0.0

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
        self.follow_log(self.follower.poll())
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
            self.query_one("#launch-outcome", Static).update("\n".join([outcome, *self.comparison_lines]))
            if self.state.status == SUCCEEDED and not self.comparison_started and record.run_dir:
                self.comparison_started = True
                self.compare_with_parent(Path(record.run_dir))

    def follow_log(self, lines: list[str]) -> None:
        """Append ``lines`` and keep the end in view, unless the user scrolled up to read.

        Log's own auto_scroll stops following once the log is not at its end, which also
        happens when the progress bar or the outcome above shortens the log. So the screen
        follows until the view is above the position where it last scrolled to the end.
        """
        log = self.query_one(Log)
        if log.is_vertical_scroll_end:
            self.following = True
        elif log.scroll_y < self.followed_scroll_y:
            self.following = False
        if lines:
            log.write_lines(lines, scroll_end=False)
        if self.following:
            log.scroll_end(animate=False, immediate=True, x_axis=False)
            # Before the first layout the log has no height, and its scroll position means nothing.
            self.followed_scroll_y = log.scroll_y if log.size.height else 0.0

    @work(thread=True, exclusive=True, group="compare")
    def compare_with_parent(self, run_dir: Path) -> None:
        """Diagnose the new run and keep how it differs from its parent under the outcome."""
        try:
            entries = find_runs([run_dir])
            parent_entries = [] if self.parent_report else find_runs([Path(self.state.record.parent_run)])
        except ScanPathError as error:
            self.app.call_from_thread(self.show_comparison, [f"cannot compare with the parent: {error}"])
            return
        if not entries or not (self.parent_report or parent_entries):
            return
        child = check_entry(entries[0], self.options)
        parent = self.parent_report or check_entry(parent_entries[0], self.options)
        self.app.call_from_thread(self.show_comparison, compare_runs(parent, child).describe())

    def show_comparison(self, lines: list[str]) -> None:
        """Keep ``lines`` under the outcome, which every later poll shows again."""
        self.comparison_lines = lines
        self.poll()

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
