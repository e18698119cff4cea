"""One-line summaries of loaded runs for the run table and the JSON report."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .run import Run

FROM_STATISTICS = "training_statistics.json validation.combined.loss"
FROM_PROGRESS = "training_progress.json best_eval_metric_value"
FROM_TENSORBOARD = "TensorBoard validation combined/epoch_loss"


@dataclass(frozen=True)
class RunSummary:
    """The headline facts of one run; None marks a value no file of the run records."""

    name: str
    model_type: str
    base_model: str | None
    ludwig_version: str | None
    epochs_completed: int | None
    best_validation_loss: float | None
    # The file and field of best_validation_loss (one of the FROM_* constants).
    best_validation_loss_source: str | None
    steps: int | None


def summarize(run: Run) -> RunSummary:
    """Build the RunSummary of a loaded run from whichever files it has."""
    loss, source = best_validation_loss(run)
    return RunSummary(
        name=run.name,
        model_type=run.model_type,
        base_model=run.base_model,
        ludwig_version=run.ludwig_version_text,
        epochs_completed=epochs_completed(run),
        best_validation_loss=loss,
        best_validation_loss_source=source,
        steps=steps_completed(run),
    )


def best_validation_loss(run: Run) -> tuple[float | None, str | None]:
    """Return the lowest finite validation loss and the field it came from, or (None, None)."""
    statistics_losses = _nested(run.training_statistics, "validation", "combined", "loss")
    loss = _finite_min(statistics_losses if isinstance(statistics_losses, list) else [])
    if loss is not None:
        return loss, FROM_STATISTICS

    # best_eval_metric_value is the validation loss only when the trainer tracks the loss. It
    # is Infinity (Ludwig <= 0.11.0) or 1.8e308 (0.11.1 on) before the first improvement.
    progress_value = (run.training_progress or {}).get("best_eval_metric_value")
    if _validation_metric(run) == "loss" and isinstance(progress_value, (int, float)):
        loss = _finite_min([progress_value])
        if loss is not None and loss < 1e300:
            return loss, FROM_PROGRESS

    points = run.scalars.get("validation", {}).get("combined/epoch_loss", [])
    loss = _finite_min([point.value for point in points])
    if loss is not None:
        return loss, FROM_TENSORBOARD
    return None, None


def epochs_completed(run: Run) -> int | None:
    """Return training_progress.json ``epoch``, else the number of epochs in training_statistics.json."""
    epoch = (run.training_progress or {}).get("epoch")
    if isinstance(epoch, int):
        return epoch
    losses = _nested(run.training_statistics, "training", "combined", "loss")
    return len(losses) if isinstance(losses, list) else None


def steps_completed(run: Run) -> int | None:
    """Return training_progress.json ``steps``, else the number of logged training step losses."""
    steps = (run.training_progress or {}).get("steps")
    if isinstance(steps, int):
        return steps
    points = run.scalars.get("training", {}).get("combined/step_training_loss", [])
    return len(points) if points else None


def _validation_metric(run: Run) -> str | None:
    # Ludwig 0.3 calls the section "training"; 0.5 on call it "trainer".
    for section_name in ("trainer", "training"):
        section = run.config.get(section_name)
        if isinstance(section, dict):
            metric = section.get("validation_metric")
            return metric if isinstance(metric, str) else None
    return None


def _nested(data: dict[str, Any] | None, *keys: str) -> Any:
    value: Any = data
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _finite_min(values: list[Any]) -> float | None:
    finite = [float(value) for value in values if isinstance(value, (int, float)) and math.isfinite(value)]
    return min(finite) if finite else None
