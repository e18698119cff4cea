"""The detail of one finding: explanation, next step, evidence table and suggested patches."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...diagnostics.findings import Evidence, Finding, Patch
from ..formatting import format_value, severity_badge


def evidence_text(evidence: list[Evidence]) -> Text:
    """List the values behind a finding, each under the file it came from.

    One entry per item rather than a table, so that long paths, field names and notes wrap as
    whole lines at 80 columns. Values are plain Text, never Rich markup: evidence quotes the user's
    own files, and "[[two two]]" in a marked loop must show as written.
    """
    text = Text("Evidence", style="bold")

    for item in evidence:
        text.append("\n• ")
        text.append(item.source, style="dim")
        text.append("\n  ")
        if item.field:
            text.append(item.field, style="cyan")
            text.append(" = ")
        text.append(format_value(item.value), style="bold")
        if item.note:
            text.append(f"\n  {item.note}", style="italic")
    return text


def patches_text(patches: list[Patch]) -> Text:
    """List suggested config changes as "dotted.path = value" lines, each with its reason."""
    text = Text("Suggested patches", style="bold")

    for patch in patches:
        text.append("\n")
        text.append(f"{patch.path} = {format_value(patch.value)}", style="bold cyan")
        if patch.reason:
            text.append(f"\n  {patch.reason}")
    return text


def heading_text(finding: Finding) -> Text:
    """Build the heading: badge, title, and the finding id with the output it came from."""
    text = severity_badge(finding.severity)
    text.append(" ")
    text.append(finding.title, style="bold")
    text.append(f"\n{finding.id}", style="dim")
    if finding.source:
        text.append(f" · {finding.source}", style="dim")
    return text


class FindingDetail(VerticalScroll):
    """A scrollable view of the finding that the list highlights."""

    def compose(self) -> ComposeResult:
        yield Static(id="finding-heading")
        yield Static(id="finding-explanation")
        yield Static(id="finding-action")
        yield Static(id="finding-evidence")
        yield Static(id="finding-patches")

    def show_finding(self, finding: Finding | None) -> None:
        """Show ``finding``, or clear the view when it is None."""
        if finding is None:
            for static in self.query(Static):
                self._set(static, None)
            return

        action = Text.assemble(("Next step: ", "bold"), finding.action) if finding.action else None
        self._set(self.query_one("#finding-heading", Static), heading_text(finding))
        self._set(self.query_one("#finding-explanation", Static), Text(finding.explanation))
        self._set(self.query_one("#finding-action", Static), action)
        self._set(
            self.query_one("#finding-evidence", Static),
            evidence_text(finding.evidence) if finding.evidence else None,
        )
        self._set(
            self.query_one("#finding-patches", Static),
            patches_text(finding.patches) if finding.patches else None,
        )
        self.scroll_home(animate=False)

    @staticmethod
    def _set(static: Static, content: RenderableType | None) -> None:
        static.display = content is not None
        static.update(content if content is not None else "")
