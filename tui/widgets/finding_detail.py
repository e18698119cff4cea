"""The detail of one finding: explanation, next step, evidence table and suggested patches."""

from __future__ import annotations

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...diagnostics.findings import Evidence, Finding, Patch
from ..formatting import format_value, severity_badge


def evidence_table(evidence: list[Evidence]) -> Table:
    """Build a table of the values behind a finding, with the file and field of each."""
    table = Table(title="Evidence", title_justify="left", box=box.SIMPLE_HEAD, expand=True, pad_edge=False)
    table.add_column("source file", overflow="fold")
    table.add_column("field", overflow="fold")
    table.add_column("value", overflow="fold", min_width=6)
    # Without a minimum, a long dotted field name squeezes the note to one letter per line.
    table.add_column("note", overflow="fold", min_width=20)

    for item in evidence:
        table.add_row(item.source, item.field, format_value(item.value), item.note)
    return table


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
            evidence_table(finding.evidence) if finding.evidence else None,
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
