"""The ludwig-doctor Textual app and the factory that builds it for the CLI and the tests."""

from __future__ import annotations

import logging
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.logging import TextualHandler

from ..diagnostics.scan import DoctorOptions
from .screens.help import HelpScreen
from .screens.runs import RunsScreen


class DoctorApp(App[None]):
    """Lists Ludwig runs, checks them in the background and shows each run's findings."""

    CSS_PATH = "app.tcss"
    TITLE = "ludwig-doctor"
    ENABLE_COMMAND_PALETTE = False
    # Below 120 columns the findings screen stacks its list above the detail.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    BINDINGS = [
        Binding("r", "reload", "Reload"),
        Binding("L", "launches", "Launches"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, paths: list[Path], options: DoctorOptions) -> None:
        super().__init__()
        self.paths = paths
        self.options = options
        self.runs_screen = RunsScreen(paths, options)
        self._log_handler = TextualHandler()

    def get_default_screen(self) -> RunsScreen:
        """Start on the table of runs."""
        return self.runs_screen

    def on_mount(self) -> None:
        """Send the core's log records to Textual's log, then look for launches still training."""
        package_logger = logging.getLogger("ludwig_doctor")
        package_logger.addHandler(self._log_handler)
        package_logger.propagate = False
        self.find_running_launches()

    @work(
        thread=True, exit_on_error=False, group="launches", description="Find training launches still running"
    )
    def find_running_launches(self) -> None:
        """Tell the user about launches from an earlier session that are still training."""
        from ..diagnostics.launch.process import running_launches

        running = running_launches(self.paths)
        if running:
            self.call_from_thread(
                self.notify,
                f"{len(running)} training launch(es) from an earlier session still running. Press L to follow.",
                timeout=10,
            )

    def action_launches(self) -> None:
        """List the training launches, running ones and ended ones, newest first."""
        from ..diagnostics.launch.process import find_launches
        from .screens.launches import LaunchesScreen

        if not isinstance(self.screen, LaunchesScreen):
            self.push_screen(LaunchesScreen(find_launches(self.paths), self.options))

    def on_unmount(self) -> None:
        """Give the core's log records back to the standard handlers."""
        package_logger = logging.getLogger("ludwig_doctor")
        package_logger.removeHandler(self._log_handler)
        package_logger.propagate = True

    def action_reload(self) -> None:
        """Go back to the runs and scan the paths again."""
        while self.screen is not self.runs_screen:
            self.pop_screen()
        self.runs_screen.reload()

    def action_help(self) -> None:
        """Show the keys, unless the help is already open."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def create_app(paths: list[Path], options: DoctorOptions) -> DoctorApp:
    """Build the app for ``paths``. The scan starts when the app runs."""
    return DoctorApp(paths, options)
