"""The training launches the doctor started, found again after a restart, to follow or review."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ...diagnostics.launch.process import LaunchState
from ...diagnostics.scan import DoctorOptions
from .launch import LaunchScreen


def launch_prompt(state: LaunchState) -> Text:
    """Build one line per launch: status, start time, the new run's experiment name and its parent."""
    record = state.record
    style = "bold green" if state.running else "dim"
    text = Text(f"{state.status:<10}", style=style)
    text.append(f" {record.created_at or '?'}  ")
    text.append(record.experiment_name, style="bold")
    text.append(f"  from {Path(record.parent_run).name}", style="dim")
    return text


class LaunchesScreen(Screen[None]):
    """Lists launch records, newest first; Enter follows the highlighted one."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
    ]

    def __init__(self, launches: list[LaunchState], options: DoctorOptions) -> None:
        super().__init__()
        self.launches = launches
        self.options = options

    def compose(self) -> ComposeResult:
        running = sum(1 for state in self.launches if state.running)
        yield Static(
            f"Training launches: {running} running, {len(self.launches) - running} ended. "
            "Enter follows the log of the highlighted one.",
            id="launches-heading",
        )
        options = [Option(launch_prompt(state)) for state in self.launches]
        if not options:
            options = [Option("No launches found: relaunch a run from its findings with p.", disabled=True)]
        yield OptionList(*options, id="launch-list")
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Open the log of the selected launch."""
        if not self.launches:
            return
        state = self.launches[event.option_index]
        self.app.push_screen(LaunchScreen(state.record.record_path, self.options))
