"""A modal screen that lists the app's keys."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("↑ ↓  j k", "move between runs or findings"),
    ("g  G", "in the runs: first and last run"),
    ("Home  End", "in the outputs (also g G): first and last row"),
    ("Enter", "open the findings of the highlighted run"),
    ("Tab", "switch between the finding list and its detail"),
    ("o", "in a run's findings: open its outputs, worst loop first, with the repetition causes"),
    ("t", "in a run's findings: its token budget, a histogram of row lengths against the limit"),
    ("p", "in a run's findings: pick patches, see the config diff, relaunch training (ctrl+l)"),
    ("c", "curves of the highlighted run, or of the runs marked with space; in a launch: cancel it"),
    ("space", "in the runs: mark a run for overlaid curves"),
    ("L", "training launches, running ones first; Enter follows a launch's log"),
    ("Escape  Backspace", "go back; leaving a launch keeps its training running"),
    ("r", "scan the paths again"),
    ("?", "show this help"),
    ("q", "quit"),
)


def keys_table() -> Table:
    """Build the two-column table of keys and what each does."""
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column()
    for key, action in KEYS:
        table.add_row(key, action)
    return table


class HelpScreen(ModalScreen[None]):
    """Lists the keys. Escape, ? or Enter closes it."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Close"),
        Binding("question_mark", "app.pop_screen", "Close", show=False),
        Binding("enter", "app.pop_screen", "Close", show=False),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    def compose(self) -> ComposeResult:
        # It scrolls where the terminal is shorter than the list of keys, as at 80x24.
        with VerticalScroll(id="help-dialog"):
            yield Static("Keys", id="help-title")
            yield Static(keys_table(), id="help-keys")
            yield Static("Escape closes this help.", id="help-hint")
