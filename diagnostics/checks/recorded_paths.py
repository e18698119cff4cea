"""Paths a run recorded (base model, dataset, config file) that moved or cannot be found here.

Ludwig records absolute paths from the machine that trained the run. When the run directory is
copied elsewhere (from a GPU box to a laptop), the doctor looks for each path relative to the run
and the scanned folder. This check reports what it found and what it could not find.
"""

from __future__ import annotations

from ..findings import Evidence, Finding, Severity
from ..paths import (
    AS_RECORDED,
    PathResolution,
    looks_like_hub_id,
    recorded_config_path,
    recorded_dataset_path,
    resolve_recorded_path,
)
from ..run import Run

# The use of each recorded path, shown when it cannot be found.
_PURPOSE = {
    "base_model": "the tokenizer family and the model's context window",
    "dataset": "measuring token lengths and the training targets",
    "config": "patching the config the user wrote, with its comments",
}
_FIELD = {
    "base_model": ("description.json", "config.base_model"),
    "dataset": ("description.json", "dataset"),
    "config": ("description.json", "command (--config)"),
}


def check_recorded_paths(run: Run) -> list[Finding]:
    """Report recorded paths that were found somewhere else, and those that were not found."""
    moved: list[Evidence] = []
    findings: list[Finding] = []

    for kind, recorded in _recorded_paths(run):
        resolution = resolve_recorded_path(recorded, run, run.path_map)
        source, field = _FIELD[kind]

        if resolution.path is not None:
            if resolution.how != AS_RECORDED:
                moved.append(
                    Evidence(
                        source=source,
                        field=field,
                        value=recorded,
                        note=f"found {resolution.how}: {resolution.path}",
                    )
                )
            continue

        if resolution.note:
            continue
        findings.append(_not_found_finding(kind, recorded, resolution))

    if moved:
        findings.insert(0, _moved_finding(moved))
    return findings


def _recorded_paths(run: Run) -> list[tuple[str, str]]:
    paths = []
    base_model = run.base_model
    if base_model and not looks_like_hub_id(base_model):
        paths.append(("base_model", base_model))

    dataset = recorded_dataset_path(run)
    if dataset and not dataset.startswith("<"):
        paths.append(("dataset", dataset))

    config = recorded_config_path(run)
    if config:
        paths.append(("config", config))
    return paths


def _moved_finding(evidence: list[Evidence]) -> Finding:
    return Finding(
        id="paths.moved",
        severity=Severity.INFO,
        title="Recorded paths were found in a new place",
        explanation=(
            "The run recorded paths that do not exist on this machine; the doctor found them relative to "
            "the run or the scanned folder and uses those copies."
        ),
        action="If a copy is the wrong one, map the recorded folder with --path-map OLD=NEW.",
        evidence=evidence,
    )


def _not_found_finding(kind: str, recorded: str, resolution: PathResolution) -> Finding:
    source, field = _FIELD[kind]
    tried = ", ".join(str(candidate) for candidate in resolution.candidates[:4])
    evidence = [Evidence(source=source, field=field, value=recorded, note=f"tried: {tried}" if tried else "")]
    return Finding(
        id=f"paths.{kind}_not_found",
        severity=Severity.INFO,
        title=f"The recorded {kind.replace('_', ' ')} is not on this machine",
        explanation=(
            f"The run recorded {recorded}, which does not exist here, and no copy was found relative to the "
            f"run or the scanned folder. The doctor uses it for {_PURPOSE[kind]}; those parts fall back to "
            "what the run recorded."
        ),
        action=(
            "Copy it beside the run, or point to it with --path-map OLD=NEW "
            "(or [path_map] in the settings file), where OLD is a prefix of the recorded path."
        ),
        evidence=evidence,
    )
