"""Loss series, trainer settings and formatting that the training-health checks share."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..run import Run, ScalarPoint
from .context import STATISTICS_FILE, as_int, config_section

TRAINING_LOGS = "model/logs/training"
STEP_LOSS_TAG = "combined/step_training_loss"
EPOCH_LOSS_TAG = "combined/epoch_loss"
LEARNING_RATE_TAG = "combined/step_learning_rate"
TOKENS_TAG = "tokens/tokens"


@dataclass(frozen=True)
class EpochSeries:
    """One loss value per evaluation, with the file and field it was read from."""

    values: list[float]
    source: str
    field: str


def epoch_losses(run: Run, split: str) -> EpochSeries | None:
    """Return the combined loss per evaluation of ``split``.

    ``training_statistics.json`` is preferred; a run that is still training (or stopped) has
    only the TensorBoard ``combined/epoch_loss`` tag.
    """
    statistics = run.training_statistics or {}
    block = statistics.get(split)
    if isinstance(block, dict):
        combined = block.get("combined")
        if isinstance(combined, dict):
            values = numbers(combined.get("loss"))
            if values:
                return EpochSeries(values, STATISTICS_FILE, f"{split}.combined.loss")

    points = run.scalars.get(split, {}).get(EPOCH_LOSS_TAG, [])
    if points:
        return EpochSeries([point.value for point in points], f"model/logs/{split}", EPOCH_LOSS_TAG)
    return None


def step_losses(run: Run) -> tuple[str, list[ScalarPoint]] | None:
    """Return the per-step training loss tag and its points: the combined loss, else a feature's."""
    training = run.scalars.get("training", {})
    if training.get(STEP_LOSS_TAG):
        return STEP_LOSS_TAG, training[STEP_LOSS_TAG]
    for tag in sorted(training):
        if tag.endswith("/step_training_loss") and training[tag]:
            return tag, training[tag]
    return None


def numbers(value: Any) -> list[float]:
    """Return ``value`` as a list of floats when it is a list of numbers, else an empty list."""
    if not isinstance(value, list):
        return []
    result = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            return []
        result.append(float(item))
    return result


def finite(values: list[float]) -> list[float]:
    return [value for value in values if math.isfinite(value)]


def trainer_value(run: Run, key: str) -> Any:
    """Return a trainer setting as Ludwig resolved it (model_hyperparameters.json first)."""
    hyperparameters = run.model_hyperparameters or {}
    trainer = hyperparameters.get("trainer")
    if isinstance(trainer, dict) and trainer.get(key) is not None:
        return trainer[key]
    return config_section(run, "trainer").get(key)


def learning_rate(run: Run) -> float | None:
    value = config_section(run, "trainer").get("learning_rate")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def gradient_accumulation_steps(run: Run) -> int:
    """Return the resolved gradient accumulation; "auto" or a missing value counts as 1."""
    value = as_int(trainer_value(run, "gradient_accumulation_steps"))
    return value if value is not None and value > 0 else 1


def format_steps(steps: list[int], shown: int = 8) -> str:
    text = ", ".join(str(step) for step in steps[:shown])
    return text + (", ..." if len(steps) > shown else "")
