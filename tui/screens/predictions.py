"""The outputs of one run, worst loop first: the target beside the output, and the ranked causes."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ...diagnostics.checks.repetition import TEACHER_FORCED
from ...diagnostics.findings import Finding
from ...diagnostics.looping_rows import LoopingRow, collect_rows
from ...diagnostics.scan import RunReport

LOOP_STYLE = "bold reverse red"
# Characters of the output shown in the table; the detail shows the whole text.
PREVIEW_CHARS = 60
CAUSE_PREFIX = "repetition.cause."


def highlighted_output(row: LoopingRow) -> Text:
    """Return the output with its repeating span styled, so the loop is easy to see."""
    text = Text(row.output)
    if row.span is not None:
        text.stylize(LOOP_STYLE, row.span.start, row.span.end)
    return text


def row_detail(row: LoopingRow) -> Table:
    """Build the target and the output side by side, with the loop measures under them."""
    table = Table(expand=True, show_lines=False, pad_edge=False)
    table.add_column("target", ratio=1, overflow="fold")
    table.add_column("output", ratio=1, overflow="fold")
    target = Text(row.target) if row.target is not None else Text("(no target for this row)", style="dim")
    table.add_row(target, highlighted_output(row))
    return table


def measures_text(row: LoopingRow) -> Text:
    """Describe the loop, the repeated n-gram rates and where the row came from."""
    text = Text(f"{row.file}, row {row.row} · ", style="dim")
    text.append("teacher-forced" if row.kind == TEACHER_FORCED else "free generation", style="dim")
    if row.span is not None:
        text.append(
            f"\n{row.span.kind} loop: {row.span.unit!r} repeated {row.span.repeats:g} times, "
            f"covering {row.score:.0%} of the text",
            style="bold",
        )
    else:
        text.append("\nno loop")
    rates = ", ".join(f"{n}-gram {rate:.0%}" for n, rate in enumerate(row.repeated_ngram_rate, start=1))
    text.append(f"\nrepeated n-grams: {rates}")
    if row.generated_tokens is not None:
        text.append(f" · generated tokens: {row.generated_tokens}")
    return text


def causes_text(findings: list[Finding]) -> Text:
    """List the ranked repetition causes of the run with their patches."""
    causes = [finding for finding in findings if finding.id.startswith(CAUSE_PREFIX)]
    text = Text("Causes", style="bold")
    if not causes:
        text.append("\nNo repetition finding in this run, so no cause is named.")
        return text
    for cause in causes:
        text.append(f"\n{cause.title}", style="bold")
        text.append(f"\n  {cause.id}", style="dim")
        for patch in cause.patches:
            text.append(f"\n  {patch.path} = {patch.value!r}", style="cyan")
    return text


class OutputTable(DataTable[str]):
    """The outputs table, where Home and End (and g, G) move to the first and last row.

    DataTable binds Home and End to horizontal scrolling; rows matter more here than columns.
    """

    BINDINGS = [
        Binding("home", "first_row", "First row", show=False),
        Binding("end", "last_row", "Last row", show=False),
        Binding("g", "first_row", "First row", show=False),
        Binding("G", "last_row", "Last row", show=False),
    ]

    def action_first_row(self) -> None:
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self.move_cursor(row=max(self.row_count - 1, 0))


def outputs_title(name: str, rows: list[LoopingRow]) -> str:
    """Name the run and the order of its rows, which is file order when no row loops."""
    if any(row.score > 0 for row in rows):
        return f"{name}: outputs, worst loop first"
    return f"{name}: outputs; no output loops, so rows in file order"


class PredictionsScreen(Screen[None]):
    """Shows one run's outputs sorted by loop score. Escape goes back to the findings."""

    DEFAULT_CSS = """
    #predictions-table {
        height: 40%;
    }
    #predictions-body {
        height: 1fr;
        layout: horizontal;
    }
    #prediction-detail {
        width: 2fr;
        padding: 0 1;
    }
    #prediction-causes {
        width: 1fr;
        padding: 0 1;
        border-left: solid $primary-darken-2;
    }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
        Binding("tab", "app.focus_next", "Next pane"),
    ]

    def __init__(self, report: RunReport, name: str) -> None:
        super().__init__()
        self.report = report
        self.run_name = name
        self.rows = collect_rows(report.run)

    def compose(self) -> ComposeResult:
        yield Static(Text(outputs_title(self.run_name, self.rows), style="bold"), id="run-heading")
        yield OutputTable(id="predictions-table", cursor_type="row", zebra_stripes=True)
        with Container(id="predictions-body"):
            with VerticalScroll(id="prediction-detail"):
                yield Static(id="prediction-text")
                yield Static(id="prediction-measures")
            with VerticalScroll(id="prediction-causes"):
                yield Static(causes_text(self.report.findings), id="prediction-causes-text")
        yield Footer()

    def on_mount(self) -> None:
        """Fill the table and show the worst row."""
        table = self.query_one(DataTable)
        table.add_columns("score", "loop", "source", "row", "output")
        for index, row in enumerate(self.rows):
            unit = repr(row.span.unit) if row.span is not None else ""
            source = "teacher-forced" if row.kind == TEACHER_FORCED else "generated"
            preview = row.output.replace("\n", " ")[:PREVIEW_CHARS]
            table.add_row(f"{row.score:.2f}", unit, source, str(row.row), preview, key=str(index))
        table.focus()
        if self.rows:
            self.show_row(0)
        else:
            self.query_one("#prediction-text", Static).update("This run has no predictions or eval examples.")

    def show_row(self, index: int) -> None:
        """Show one row's target, output and measures in the detail pane."""
        row = self.rows[index]
        self.query_one("#prediction-text", Static).update(row_detail(row))
        self.query_one("#prediction-measures", Static).update(measures_text(row))

    @on(DataTable.RowHighlighted, "#predictions-table")
    def show_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Show the detail of the row under the cursor."""
        if event.row_key.value is not None:
            self.show_row(int(event.row_key.value))
