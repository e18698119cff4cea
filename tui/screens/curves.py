"""Training curves of one or more runs: loss, learning rate, tokens per step and GPU memory.

The curves are drawn as braille dots in a Static widget. A timer polls each run's TensorBoard files in a
worker through the incremental reader, so a run that is still training grows on screen.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...diagnostics.run import Run, ScalarPoint
from ...diagnostics.scalars import ScalarFollower
from ..widgets.run_table import RunRow

# Seconds between polls of the event files.
LIVE_REFRESH_SECONDS = 2.0
PLOT_HEIGHT = 12
GPU_PEAK_TAG = "cuda/device0/reserved_gb.all.peak"


@dataclass(frozen=True)
class Panel:
    """One plot: its widget key, its title, and the (split, tag) series to draw per run."""

    key: str
    title: str
    series: tuple[tuple[str, str, str], ...]  # (split, tag, legend label)


PANELS = (
    Panel(
        "loss",
        "Loss",
        (
            ("training", "combined/step_training_loss", "training (step)"),
            ("validation", "combined/epoch_loss", "validation"),
        ),
    ),
    Panel("learning_rate", "Learning rate", (("training", "combined/step_learning_rate", "learning rate"),)),
    Panel("tokens", "Tokens per step", (("training", "tokens/tokens", "tokens"),)),
    Panel("gpu", "GPU memory (GB, reserved peak)", (("training", GPU_PEAK_TAG, "GPU 0"),)),
)


@dataclass
class LiveRun:
    """A run shown on the screen: its name, a copy whose scalars this screen owns, and the follower."""

    name: str
    run: Run
    follower: ScalarFollower = field(default_factory=ScalarFollower)


class CurvesScreen(Screen[None]):
    """Plots the training curves of one run, or of several runs overlaid, and keeps them current."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
        Binding("f5", "refresh_now", "Refresh"),
    ]

    def __init__(self, runs: list[tuple[str, Run]]) -> None:
        super().__init__()
        # Copies with empty scalars: the follower reads each file once from the start, and
        # later polls append to these copies without touching the runs of the other screens.
        self.live_runs = [LiveRun(name, dataclasses.replace(run, scalars={})) for name, run in runs]
        self.polls = 0

    def compose(self) -> ComposeResult:
        names = ", ".join(live.name for live in self.live_runs)
        yield Static(Text(f"Curves: {names}", style="bold"), id="curves-heading")
        yield Static("Reading TensorBoard logs…", id="curves-summary")
        with VerticalScroll(id="curves-plots"):
            for panel in PANELS:
                yield Static(id=f"plot-{panel.key}", classes="curve-plot")
        yield Footer()

    def on_mount(self) -> None:
        self.poll_runs()
        self.set_interval(LIVE_REFRESH_SECONDS, self.poll_runs)

    def action_refresh_now(self) -> None:
        self.poll_runs()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="curves",
        description="Read new TensorBoard records",
    )
    def poll_runs(self) -> None:
        """Read what each run's event files gained and redraw when anything is new."""
        new_points = 0
        for live in self.live_runs:
            new_points += live.follower.poll(live.run).point_count
        first = self.polls == 0
        self.polls += 1
        if new_points or first:
            self.app.call_from_thread(self.redraw)

    def redraw(self) -> None:
        """Redraw the summary line and every panel from the current scalars."""
        self.query_one("#curves-summary", Static).update(self.summary_text())
        width = max(40, self.size.width - 4)
        for panel in PANELS:
            widget = self.query_one(f"#plot-{panel.key}", Static)
            drawn = render_panel(panel, self.live_runs, width, PLOT_HEIGHT)
            widget.display = drawn is not None
            if drawn is not None:
                widget.update(drawn)

    def summary_text(self) -> Text:
        """Build one line per run: logged steps, the last training loss and the NaN steps."""
        text = Text()
        for index, live in enumerate(self.live_runs):
            points = live.run.scalars.get("training", {}).get("combined/step_training_loss", [])
            nan_steps = [point.step for point in points if not math.isfinite(point.value)]
            finite = [point for point in points if math.isfinite(point.value)]
            if index:
                text.append("\n")
            text.append(f"{live.name}: ", style="bold")
            if not points:
                text.append("no step losses logged")
                continue
            text.append(f"{len(points)} steps")
            if finite:
                text.append(f", last loss {finite[-1].value:.4g} at step {finite[-1].step}")
            if nan_steps:
                shown = ", ".join(str(step) for step in nan_steps[:5])
                more = ", …" if len(nan_steps) > 5 else ""
                text.append(f", {len(nan_steps)} NaN steps (x marks: {shown}{more})", style="bold red")
        return text


def render_panel(panel: Panel, live_runs: list[LiveRun], width: int, height: int) -> Text | None:
    """Draw one panel; return None when no run has any of its series."""
    drawn: list[tuple[str, list[ScalarPoint]]] = []
    for live in live_runs:
        for split, tag, label in panel.series:
            points = live.run.scalars.get(split, {}).get(tag, [])
            if points:
                name = label if len(live_runs) == 1 else f"{live.name} {label}"
                drawn.append((name, points))
    if not drawn:
        return None
    return render_chart(panel.title, drawn, width, height)


def render_chart(title: str, series: list[tuple[str, list[ScalarPoint]]], width: int, height: int) -> Text:
    """Draw line series as braille dots on a text grid, with NaN or infinite points as red x marks.

    Each character cell contains 2 x 4 braille dots. The y range covers the finite values of all
    series; non-finite points are drawn on the top row.
    """
    finite = [point for _, points in series for point in points if math.isfinite(point.value)]
    all_points = [point for _, points in series for point in points]
    label_width = 10
    columns = max(10, width - label_width - 1)
    rows = max(3, height)
    low = min((point.value for point in finite), default=0.0)
    high = max((point.value for point in finite), default=1.0)
    if high == low:
        high = low + 1.0
    first_step = min(point.step for point in all_points)
    last_step = max(max(point.step for point in all_points), first_step + 1)

    dots = [[0] * columns for _ in range(rows)]
    owner: list[list[int | None]] = [[None] * columns for _ in range(rows)]
    nan_cells: set[int] = set()
    for index, (_, points) in enumerate(series):
        for point in points:
            x = round((point.step - first_step) / (last_step - first_step) * (columns * 2 - 1))
            if not math.isfinite(point.value):
                nan_cells.add(x // 2)
                continue
            y = round((high - point.value) / (high - low) * (rows * 4 - 1))
            row, column = y // 4, x // 2
            dots[row][column] |= _BRAILLE_BITS[y % 4][x % 2]
            owner[row][column] = index

    text = Text(title, style="bold")
    text.append("\n")
    for row in range(rows):
        label = ""
        if row == 0:
            label = _format_value(high)
        elif row == rows - 1:
            label = _format_value(low)
        text.append(f"{label:>{label_width}}│")
        for column in range(columns):
            if row == 0 and column in nan_cells:
                text.append("x", style="bold red")
            elif dots[row][column]:
                series_index = owner[row][column] or 0
                text.append(chr(0x2800 + dots[row][column]), style=_COLORS[series_index % len(_COLORS)])
            else:
                text.append(" ")
        text.append("\n")
    text.append(" " * label_width + "└" + "─" * columns + "\n")
    axis = f"step {first_step}"
    text.append(" " * (label_width + 1) + axis + f"{last_step:>{max(1, columns - len(axis))}}\n")
    for index, (name, points) in enumerate(series):
        text.append("  ■ ", style=_COLORS[index % len(_COLORS)])
        text.append(name)
        bad = sum(1 for point in points if not math.isfinite(point.value))
        if bad:
            text.append(f"  x {bad} NaN", style="bold red")
        text.append("\n")
    text.rstrip()
    return text


# Braille dot bits by (row within the cell, column within the cell).
_BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_COLORS = ("cyan", "yellow", "magenta", "green", "blue", "white")


def _format_value(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1e4 else f"{value:.2e}"


def toggle_mark(marked: set[Path], row: RunRow) -> str:
    """Mark or unmark a run of the runs table for the overlay; return a message for the user."""
    path: Path = row.entry.path
    if path in marked:
        marked.discard(path)
        return f"Unmarked {row.name} ({len(marked)} marked)"
    marked.add(path)
    return f"Marked {row.name} for the curves overlay ({len(marked)} marked; c shows them)"


def curve_runs(rows: list[RunRow], highlighted: RunRow | None, marked: set[Path]) -> list[tuple[str, Run]]:
    """Return the checked runs to plot: the marked ones, else the highlighted one."""
    if marked:
        chosen = [row for row in rows if row.entry.path in marked]
    elif highlighted is not None:
        chosen = [highlighted]
    else:
        chosen = []
    return [(row.name, row.report.run) for row in chosen if row.report is not None]
