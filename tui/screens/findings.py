"""The findings of one run: a list sorted by severity beside the highlighted finding's detail."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static

from ...diagnostics.scan import RunReport
from ..formatting import format_count, format_loss, severity_counts_text
from ..widgets.finding_detail import FindingDetail
from ..widgets.finding_list import FindingList


def run_heading(report: RunReport, name: str) -> Text:
    """Build the two-line heading: the run name, then its model, Ludwig version and counts."""
    summary = report.summary
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(name, style="bold")

    # The base model comes last: at 80 columns an ellipsis may cut it, and the table shows it.
    text.append(f"\n{summary.model_type} · Ludwig {summary.ludwig_version or '?'} · ")
    text.append(severity_counts_text(report.findings))
    facts = [
        f"epochs {format_count(summary.epochs_completed)}",
        f"steps {format_count(summary.steps)}",
        f"val loss {format_loss(summary.best_validation_loss)}",
        summary.base_model or "no base model",
    ]
    text.append(" · " + " · ".join(facts))
    return text


class FindingsScreen(Screen[None]):
    """Shows one run's findings. Escape or Backspace goes back to the runs."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
        # Short descriptions keep the footer within 80 columns; the help screen explains each key.
        Binding("tab", "app.focus_next", "Detail/list", show=False),
        Binding("t", "token_budget", "Tokens"),
        Binding("o", "show_outputs", "Outputs"),
        Binding("p", "patch", "Patch"),
        Binding("c", "curves", "Curves"),
        # The app's reload key, hidden from this footer so that Help and Quit fit at 80 columns.
        Binding("r", "app.reload", "Reload", show=False),
    ]

    def __init__(self, report: RunReport, name: str) -> None:
        super().__init__()
        self.report = report
        self.run_name = name

    def compose(self) -> ComposeResult:
        yield Static(run_heading(self.report, self.run_name), id="run-heading")
        with Container(id="findings-body"):
            yield FindingList(self.report.findings, id="finding-list")
            yield FindingDetail(id="finding-detail")
        yield Footer()

    def on_mount(self) -> None:
        """Focus the list and show its first finding."""
        finding_list = self.query_one(FindingList)
        finding_list.focus()
        if finding_list.findings:
            finding_list.highlighted = 0
        self.query_one(FindingDetail).show_finding(finding_list.highlighted_finding)

    def action_show_outputs(self) -> None:
        """Open the run's outputs, worst loop first, with the repetition causes."""
        from .predictions import PredictionsScreen

        self.app.push_screen(PredictionsScreen(self.report, self.run_name))

    def action_token_budget(self) -> None:
        """Open the run's token budget, measured with its own tokenizer."""
        from .tokens import TokensScreen

        self.app.push_screen(TokensScreen(self.report, self.run_name))

    def action_patch(self) -> None:
        """Open the patch screen: choose patches, see the diff, relaunch training."""
        from ...diagnostics.scan import DoctorOptions
        from .patch import PatchScreen

        options = getattr(self.app, "options", None) or DoctorOptions()
        self.app.push_screen(PatchScreen(self.report, options))

    @on(OptionList.OptionHighlighted, "#finding-list")
    def show_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Show the detail of the finding under the cursor."""
        finding = self.query_one(FindingList).highlighted_finding
        self.query_one(FindingDetail).show_finding(finding)

    def action_curves(self) -> None:
        """Open the run's training curves."""
        from .curves import CurvesScreen

        self.app.push_screen(CurvesScreen([(self.run_name, self.report.run)]))
