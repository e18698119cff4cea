"""The list of a run's findings, errors first, each with a severity badge and label."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ...diagnostics.findings import Finding
from ..formatting import severity_badge, sort_findings


def finding_prompt(finding: Finding) -> Text:
    """Build one list line: the badge, which spells out the severity, then the title."""
    prompt = severity_badge(finding.severity)
    prompt.append(" ")
    prompt.append(finding.title)
    return prompt


class FindingList(OptionList):
    """An OptionList of findings sorted by severity, with ``findings`` in option order."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, findings: list[Finding], *, id: str | None = None) -> None:
        self.findings = sort_findings(findings)
        options = [Option(finding_prompt(finding)) for finding in self.findings]
        if not options:
            options = [Option("No findings: every check passed on the files this run has.", disabled=True)]
        super().__init__(*options, id=id)

    @property
    def highlighted_finding(self) -> Finding | None:
        """The finding under the cursor, or None when the run has none."""
        if self.highlighted is None or not self.findings:
            return None
        return self.findings[self.highlighted]
