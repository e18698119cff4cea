"""Loading one run directory into a Run; file problems become findings, never exceptions."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from .expectations import RunFacts, configured_epochs, expected_files, stopped_reason
from .findings import Evidence, Finding, Severity
from .readers.eval_examples import read_eval_examples
from .readers.jsonfile import read_json_object
from .readers.predictions import read_predictions
from .readers.problems import RUN_STOPPED, missing_file
from .run import Run
from .scalars import ScalarFollower

logger = logging.getLogger(__name__)

# Run attribute -> file relative to the run directory.
JSON_FILES = {
    "description": "description.json",
    "training_statistics": "training_statistics.json",
    "model_hyperparameters": "model/model_hyperparameters.json",
    "training_set_metadata": "model/training_set_metadata.json",
    "training_progress": "model/training_progress.json",
}


def load_run(
    path: Path,
    root: Path,
    prediction_dirs: Sequence[Path] = (),
    verify_crc: bool = True,
    follower: ScalarFollower | None = None,
) -> Run:
    """Read every file of the run at ``path``; ``root`` is the folder the user asked to scan.

    ``prediction_dirs`` are ludwig predict/evaluate output folders attached to this run by
    discovery. ``verify_crc`` is passed to the TensorBoard reader. Pass a ``follower`` to keep
    the TensorBoard read offsets, so that later ``follower.poll(run)`` calls read only what
    training appends.
    """
    run = Run(path=path, root=root)
    if not path.is_dir():
        # The folder was moved or deleted between discovery and loading.
        why = f"The run directory {path} no longer exists or is not a directory."
        action = "Rescan the folder; the run was moved or deleted after it was listed."
        finding = missing_file(".", Severity.WARNING, why, action)
        finding.title = f"Run directory {path.name} is missing"
        run.file_findings.append(finding)
        return run

    for attribute, relative in JSON_FILES.items():
        if (path / relative).exists():
            read = read_json_object(path / relative, relative)
            setattr(run, attribute, read.data)
            run.file_findings.extend(read.findings)

    follower = follower or ScalarFollower(verify_crc)
    run.file_findings.extend(follower.poll(run).findings)
    _load_eval_examples(run)
    for directory in prediction_dirs:
        predictions = read_predictions(directory, path)
        run.predictions.extend(predictions.predictions)
        run.file_findings.extend(predictions.findings)

    run.file_findings.extend(absence_findings(run))
    logger.debug("loaded %s with %d file findings", path, len(run.file_findings))
    return run


def _load_eval_examples(run: Run) -> None:
    directory = run.path / "model" / "llm_eval_examples"
    if directory.is_dir():
        read = read_eval_examples(directory, run.path)
        run.eval_examples = read.examples
        run.file_findings.extend(read.findings)


def run_facts(run: Run) -> RunFacts:
    """Collect the facts that decide which files this run should have."""
    progress = run.training_progress or {}
    epoch = progress.get("epoch")
    steps = progress.get("steps")
    evaluated = any(progress.get(key) for key in ("validation_metrics", "test_metrics"))
    return RunFacts(
        version=run.ludwig_version,
        model_type=run.model_type,
        has_description=(run.path / JSON_FILES["description"]).exists(),
        has_training_statistics=(run.path / JSON_FILES["training_statistics"]).exists(),
        has_training_progress=(run.path / JSON_FILES["training_progress"]).exists(),
        has_training_logs=bool(_step_count(run)),
        progress_epoch=epoch if isinstance(epoch, int) else None,
        progress_steps=steps if isinstance(steps, int) else None,
        progress_evaluated=evaluated,
        configured_epochs=configured_epochs(run.config),
    )


def _step_count(run: Run) -> int:
    training = run.scalars.get("training", {})
    return max((len(points) for points in training.values()), default=0)


def absence_findings(run: Run) -> list[Finding]:
    """Report each file this kind of run should have but lacks, and a run that stopped early."""
    facts = run_facts(run)
    findings: list[Finding] = []
    reason = stopped_reason(facts)
    if reason is not None:
        findings.append(_stopped_finding(run, facts, reason))

    model_missing = not (run.path / "model").is_dir()
    missing_in_model = []
    for expected in expected_files(facts):
        if (run.path / expected.path).exists():
            continue
        if model_missing and expected.path.startswith("model/"):
            missing_in_model.append(expected.path)
            continue
        findings.append(_missing_finding(run, expected.path, expected.needed, expected.purpose))

    if missing_in_model:
        purpose = "the training outputs (" + ", ".join(missing_in_model) + ")"
        findings.append(_missing_finding(run, "model/", True, purpose))
    return findings


def _missing_finding(run: Run, relative: str, needed: bool, purpose: str) -> Finding:
    version = run.ludwig_version_text or "(unknown version)"
    why = f"Ludwig {version} writes {relative} for this kind of run; the doctor reads {purpose} from it."
    action = f"Copy {relative} from the machine that trained the run; checks that need it are skipped."
    return missing_file(relative, Severity.WARNING if needed else Severity.INFO, why, action)


def _stopped_finding(run: Run, facts: RunFacts, reason: str) -> Finding:
    evidence = [Evidence("training_statistics.json", "(file)", "absent")]
    if facts.has_training_progress:
        evidence.append(Evidence("model/training_progress.json", "epoch", facts.progress_epoch))
        evidence.append(Evidence("model/training_progress.json", "steps", facts.progress_steps))
    else:
        evidence.append(Evidence("model/training_progress.json", "(file)", "absent"))
    if facts.configured_epochs is not None:
        evidence.append(Evidence("description.json", "config.trainer.epochs", facts.configured_epochs))
    evidence.append(Evidence("model/logs/training", "step count", _step_count(run), "TensorBoard step logs"))
    return Finding(
        id=RUN_STOPPED,
        severity=Severity.INFO,
        title="Run stopped before training finished",
        explanation=f"training_statistics.json is absent because the run did not finish. Evidence: {reason}.",
        evidence=evidence,
        action="Checks use the TensorBoard logs and any checkpoint data; resume or rerun training for full statistics.",
        source="file layout",
    )
