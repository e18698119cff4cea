"""Compare a relaunched run with its parent: config, final losses, and findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..findings import Finding
from ..patching.yaml_edit import dump_yaml, unified_diff
from ..run import Run
from ..scan import RunReport

SPLITS = ("training", "validation", "test")


@dataclass
class RunComparison:
    """The differences between a parent run and a relaunch of it."""

    config_diff: str
    # split -> (parent's last combined loss, new run's last combined loss)
    final_losses: dict[str, tuple[float | None, float | None]]
    resolved: list[Finding] = field(default_factory=list)
    appeared: list[Finding] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)
    # Parent findings about generated text that the new run cannot show yet: a relaunch trains
    # but does not run `ludwig predict`, so their absence proves nothing.
    not_compared: list[Finding] = field(default_factory=list)

    def describe(self) -> list[str]:
        lines = ["final loss (parent -> new run):"]
        for split, (parent, child) in self.final_losses.items():
            lines.append(f"  {split}: {_format_loss(parent)} -> {_format_loss(child)}")
        for label, findings in (
            ("findings gone", self.resolved),
            ("new findings", self.appeared),
            ("findings still present", self.remaining),
            ("not compared, because the new run has no predictions", self.not_compared),
        ):
            lines.append(f"{label}: " + (", ".join(finding.id for finding in findings) or "none"))
        return lines


def final_loss(run: Run, split: str) -> float | None:
    """Return the last combined loss of ``split`` in training_statistics.json, if recorded."""
    statistics = run.training_statistics or {}
    values = statistics.get(split, {}).get("combined", {}).get("loss")
    if isinstance(values, list) and values and isinstance(values[-1], (int, float)):
        return float(values[-1])
    return None


def compare_runs(parent: RunReport, child: RunReport) -> RunComparison:
    """Compare the resolved configs, final losses and finding ids of two runs."""
    parent_ids = {finding.id for finding in parent.findings}
    child_ids = {finding.id for finding in child.findings}
    not_compared: list[Finding] = []
    if not child.run.predictions:
        not_compared = [
            finding
            for finding in parent.findings
            if finding.id not in child_ids and _depends_on_predictions(finding, parent.findings)
        ]
    return RunComparison(
        config_diff=unified_diff(
            _config_text(parent.run.config),
            _config_text(child.run.config),
            f"{parent.run.path}/description.json",
            f"{child.run.path}/description.json",
        ),
        final_losses={
            split: (final_loss(parent.run, split), final_loss(child.run, split)) for split in SPLITS
        },
        resolved=[
            finding
            for finding in parent.findings
            if finding.id not in child_ids and finding not in not_compared
        ],
        not_compared=not_compared,
        appeared=[finding for finding in child.findings if finding.id not in parent_ids],
        remaining=[finding for finding in child.findings if finding.id in parent_ids],
    )


def _depends_on_predictions(finding: Finding, findings: list[Finding]) -> bool:
    """Tell whether a finding rests on `ludwig predict` output, directly or through ``based_on``."""
    if "free generation" in finding.source:
        return True
    by_id = {other.id: other for other in findings}
    return any(
        "free generation" in by_id[finding_id].source
        for finding_id in finding.based_on
        if finding_id in by_id
    )


def _config_text(config: dict[str, Any]) -> str:
    return dump_yaml(config) if config else ""


def _format_loss(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
