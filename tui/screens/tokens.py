"""The token budget of one run: merged-length histogram, length table, cut counts and patch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...diagnostics.scan import RunReport
from ..widgets.token_histogram import histogram_text

if TYPE_CHECKING:
    from ...diagnostics.tokens.analysis import TokenAnalysis
    from ...diagnostics.tokens.suggest import Suggestion

HISTOGRAM_HEIGHT = 8


class TokensScreen(Screen[None]):
    """Counts the run's tokens in a thread worker, then shows the budget. Escape goes back."""

    DEFAULT_CSS = """
    #tokens-heading { height: 1; padding: 0 1; background: $boost; text-wrap: nowrap; text-overflow: ellipsis; }
    #tokens-body { height: 1fr; padding: 0 1; }
    #tokens-histogram { height: auto; margin-bottom: 1; }
    #tokens-details { height: auto; }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
    ]

    def __init__(self, report: RunReport, name: str) -> None:
        super().__init__()
        self.report = report
        self.run_name = name
        self.analysis: TokenAnalysis | None = None
        self.suggestion: Suggestion | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Token budget · {self.run_name}", style="bold"), id="tokens-heading")
        with VerticalScroll(id="tokens-body"):
            yield Static("Counting tokens with the run's tokenizer…", id="tokens-histogram")
            yield Static(id="tokens-details")
        yield Footer()

    def on_mount(self) -> None:
        self.count_tokens()

    @work(thread=True, exclusive=True, group="tokens")
    def count_tokens(self) -> None:
        """Run the analysis off the event loop; transformers is imported here, never at start-up."""
        from ...diagnostics.tokens.analysis import analyze_run
        from ...diagnostics.tokens.errors import TokenAnalysisError
        from ...diagnostics.tokens.suggest import suggest

        try:
            analysis = analyze_run(self.report.run)
            suggestion = suggest(analysis)
        except TokenAnalysisError as error:
            self.app.call_from_thread(self.show_error, str(error))
            return
        self.app.call_from_thread(self.show_analysis, analysis, suggestion)

    def show_error(self, message: str) -> None:
        self.query_one("#tokens-histogram", Static).update(
            Text(f"Exact token counts are unavailable: {message}", style="yellow")
        )

    def show_analysis(self, analysis: TokenAnalysis, suggestion: Suggestion) -> None:
        self.analysis, self.suggestion = analysis, suggestion
        self._draw_histogram()
        self.query_one("#tokens-details", Static).update(details(analysis, suggestion))

    def on_resize(self) -> None:
        if self.analysis is not None:
            self._draw_histogram()

    def _draw_histogram(self) -> None:
        assert self.analysis is not None
        merged = self.analysis.budgets().merged.tolist()
        width = max(self.size.width - 4, 10)
        self.query_one("#tokens-histogram", Static).update(
            histogram_text(merged, self.analysis.limits.global_limit, width, HISTOGRAM_HEIGHT)
        )


def details(analysis: TokenAnalysis, suggestion: Suggestion) -> Group:
    """Build the table of lengths, cut counts and the suggested patch."""
    from ...diagnostics.tokens.budget import CUT_DESCRIPTIONS, CUT_KINDS

    table = Table(show_header=True, box=None, padding=(0, 1), expand=False)
    for column in ("tokens", "min", "median", "p90", "p99", "max"):
        table.add_column(column, justify="left" if column == "tokens" else "right")
    for name, stats in analysis.stats().items():
        if stats is not None:
            table.add_row(
                name, str(stats.min), f"{stats.median:g}", f"{stats.p90:g}", f"{stats.p99:g}", str(stats.max)
            )

    lines = Text()
    for group, counts in analysis.cuts().items():
        style = "red" if counts.target_cut else "green"
        lines.append(f"\n{group}: {counts.target_cut} of {counts.rows} rows lose target tokens", style=style)
        for kind in CUT_KINDS:
            if counts.counts.get(kind):
                lines.append(f"\n  {counts.counts[kind]} {CUT_DESCRIPTIONS[kind]}")
    for patch in suggestion.patches:
        lines.append(f"\npatch {patch.path}: {patch.value}", style="bold")
        lines.append(f"  {patch.reason}", style="dim")
    if not suggestion.patches:
        lines.append(f"\nThe limit {analysis.limits.global_limit} fits every row.", style="green")
    return Group(table, lines)
