"""The table of files a run should contain, by Ludwig version and model type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .versions import Version

# Ludwig 0.9 records its version as "0.9"; llm_eval_examples first appear in this release.
EVAL_EXAMPLES_SINCE = Version(0, 9, 0)


@dataclass(frozen=True)
class RunFacts:
    """The facts the expected files depend on, read from the files that are present."""

    version: Version | None
    model_type: str
    has_description: bool
    has_training_statistics: bool
    has_training_progress: bool
    has_training_logs: bool
    # From training_progress.json: completed epochs, global steps and whether any metrics were
    # logged (Ludwig fills validation_metrics/test_metrics at each evaluation).
    progress_epoch: int | None
    progress_steps: int | None
    progress_evaluated: bool
    configured_epochs: int | None


@dataclass(frozen=True)
class ExpectedFile:
    """One file or folder a run should contain when ``applies`` holds for the run."""

    path: str
    # True: the doctor needs it and its absence is a warning. False: optional, info only.
    needed: bool
    purpose: str
    applies: Callable[[RunFacts], bool]


def _always(facts: RunFacts) -> bool:
    return True


def _trained(facts: RunFacts) -> bool:
    # A run with neither statistics nor progress nor logs may not have trained at all (for
    # example a crash during preprocessing), so only runs with signs of training expect logs.
    return facts.has_training_statistics or bool(facts.progress_steps)


def _finished(facts: RunFacts) -> bool:
    # Ludwig writes training_statistics.json once, after the last epoch; a stopped run has none.
    return stopped_reason(facts) is None


def _evaluated_once(facts: RunFacts) -> bool:
    # training_progress.json is saved with each checkpoint, at the end of an evaluation round. A
    # run stopped before its first evaluation has only TensorBoard step logs (seen in runs from
    # Ludwig 0.3.3 and 0.10.0), and stopped_reason reports that case instead.
    return not (facts.has_training_logs and not facts.has_training_statistics)


def _llm_eval_examples(facts: RunFacts) -> bool:
    # LLM runs write model/llm_eval_examples/N.csv at each evaluation from Ludwig 0.9 on
    # (0.8.6 has none). ECD runs from 0.10.4 on write header-only files, which are not needed.
    if facts.model_type != "llm" or facts.version is None or facts.version < EVAL_EXAMPLES_SINCE:
        return False
    return facts.has_training_statistics or facts.progress_evaluated


EXPECTED_FILES: tuple[ExpectedFile, ...] = (
    ExpectedFile("description.json", True, "the config, Ludwig version and training command", _always),
    ExpectedFile("training_statistics.json", True, "the metrics of every epoch", _finished),
    ExpectedFile("model/model_hyperparameters.json", True, "the config with training-time values", _always),
    ExpectedFile(
        "model/training_set_metadata.json", True, "the observed sequence lengths and vocabularies", _always
    ),
    ExpectedFile(
        "model/training_progress.json", True, "the best checkpoint and metric history", _evaluated_once
    ),
    ExpectedFile("model/logs/training", False, "the per-step losses (TensorBoard)", _trained),
    ExpectedFile(
        "model/llm_eval_examples", False, "the generated text at each evaluation", _llm_eval_examples
    ),
)


def expected_files(facts: RunFacts) -> list[ExpectedFile]:
    """Return the entries of EXPECTED_FILES that apply to a run with these facts."""
    return [expected for expected in EXPECTED_FILES if expected.applies(facts)]


def stopped_reason(facts: RunFacts) -> str | None:
    """Explain why the run looks stopped before training finished, or return None.

    Only a run without training_statistics.json can be stopped. The evidence is either
    training_progress.json with fewer epochs than configured, or TensorBoard step logs with no
    training_progress.json at all (the run never reached its first evaluation).
    """
    if facts.has_training_statistics:
        return None
    if facts.has_training_progress:
        epoch = facts.progress_epoch
        epochs = facts.configured_epochs
        if epoch is not None and epochs is not None and epoch < epochs:
            return f"training_progress.json shows {epoch} of {epochs} epochs completed ({facts.progress_steps} steps)"
        return None
    if facts.has_training_logs:
        return "only TensorBoard step logs exist, so the run stopped before its first evaluation"
    return None


def configured_epochs(config: dict[str, Any]) -> int | None:
    """Return ``trainer.epochs`` from a resolved config (``training.epochs`` in Ludwig 0.3; 0.5.2 has ``trainer``)."""
    for section_name in ("trainer", "training"):
        section = config.get(section_name)
        if isinstance(section, dict) and isinstance(section.get("epochs"), int):
            epochs: int = section["epochs"]
            return epochs
    return None
