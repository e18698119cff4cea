"""The registry of checks: each takes a loaded run and returns findings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from ..findings import Evidence, Finding, Severity
from ..run import Run

logger = logging.getLogger(__name__)

Check = Callable[[Run], list[Finding]]
# An explainer runs after every check and reads their findings, for example to name the causes of a
# symptom that another check found.
Explainer = Callable[[Run, list[Finding]], list[Finding]]


def _registered_checks() -> list[tuple[str, Check]]:
    from . import health, recorded_paths, repetition, truncation, version

    return [
        ("version", version.check_version),
        ("truncation", truncation.check_truncation),
        ("repetition", repetition.check_repetition),
        ("paths", recorded_paths.check_recorded_paths),
        ("health", health.check_health),
    ]


def _registered_explainers() -> list[tuple[str, Explainer]]:
    from . import repetition_causes

    return [("repetition_causes", repetition_causes.explain_repetition)]


def run_checks(run: Run) -> list[Finding]:
    """Run every check on ``run`` and return its file findings followed by the diagnoses.

    A check that raises is reported as an error finding so that one bad run or one bug never
    hides the other findings.
    """
    findings = list(run.file_findings)

    for name, check in _registered_checks():
        try:
            findings.extend(check(run))
        except Exception as error:  # noqa: BLE001 - reported as a finding, with the traceback logged
            logger.exception("check %s failed on %s", name, run.path)
            findings.append(_check_failed_finding(name, run, error))

    for name, explain in _registered_explainers():
        try:
            findings.extend(explain(run, list(findings)))
        except Exception as error:  # noqa: BLE001 - reported as a finding, with the traceback logged
            logger.exception("check %s failed on %s", name, run.path)
            findings.append(_check_failed_finding(name, run, error))

    return [_with_config_source(run, finding) for finding in findings]


def _with_config_source(run: Run, finding: Finding) -> Finding:
    """Cite model_hyperparameters.json for config values when description.json is absent.

    Checks cite ``description.json`` ``config.*`` because that is where Ludwig records the config;
    ``Run.config`` falls back to the model hyperparameters, and the evidence must name the file the
    value really came from.
    """
    if run.config_source == "description.json":
        return finding

    evidence = []
    for item in finding.evidence:
        if item.source == "description.json" and item.field.startswith("config."):
            item = replace(item, source=run.config_source, field=item.field.removeprefix("config."))
        elif item.source == "description.json" and item.field == "ludwig_version":
            item = replace(item, source=run.config_source)
        evidence.append(item)
    return replace(finding, evidence=evidence)


def _check_failed_finding(name: str, run: Run, error: Exception) -> Finding:
    return Finding(
        id=f"{name}.check_failed",
        severity=Severity.ERROR,
        title=f"The {name} check failed on this run",
        explanation=(
            f"{type(error).__name__}: {error}. The other checks still ran. "
            "Run with --verbose for the traceback and report it with the run's files."
        ),
        evidence=[Evidence(source=".", field="", value=run.path.as_posix())],
    )
