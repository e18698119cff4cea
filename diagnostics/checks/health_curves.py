"""Checks on the loss curves: NaN or infinite losses, divergence, overfitting, spikes, plateaus."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..findings import Evidence, Finding, Patch, Severity
from ..run import Run
from .context import METADATA_FILE, STATISTICS_FILE, features
from .health_data import (
    TRAINING_LOGS,
    epoch_losses,
    finite,
    format_steps,
    learning_rate,
    step_losses,
)

# Divergence: the loss ends at least this many times above its own minimum. Noise between
# epochs stays well below it: the healthy real runs end within 1.1x of their minimum, while the
# three diverging nogibjj/automl-neo runs (Ludwig 0.5.2, unnormalized numbers) end 8-39x above.
DIVERGENCE_RATIO = 5.0
# Overfitting: after its minimum, the validation loss rises by at least this fraction while the
# training loss keeps falling. oscarvilla/ludwig rises 39% (0.567 -> 0.786).
OVERFITTING_RISE = 0.2
# Overfitting, second sign: the last validation loss is at least this many times the last
# training loss. The healthy LLM runs end at 1.3x or below.
VALIDATION_GAP_RATIO = 2.0
# Spikes: a step loss above SPIKE_RATIO times the median of the previous SPIKE_WINDOW steps
# and above the median of the first SPIKE_WINDOW steps (so early, fast-falling losses do not count).
SPIKE_WINDOW = 20
SPIKE_RATIO = 4.0
# From this many spikes on, the finding is a warning; one or two are common and harmless.
SPIKE_WARNING_COUNT = 3
# Plateau: the median step loss of the last quarter of training is less than this fraction
# below the median of the second quarter. A heuristic: the healthy sample runs improve by 2.2%
# or more between those quarters, the stalled IgorCzudy/Ludwig run gets worse by 3%.
PLATEAU_MIN_IMPROVEMENT = 0.01
PLATEAU_MIN_STEPS = 40
# A loss that already fell below this fraction of its start has converged, not stalled.
PLATEAU_CONVERGED_FRACTION = 0.1
# The suggested learning rate after divergence or NaN losses: ten times lower.
LEARNING_RATE_REDUCTION = 10.0

TRUNCATION_FINDING = "truncation.global_max_sequence_length"


def check_nan_loss(run: Run) -> Finding | None:
    """Report NaN or infinite losses in the TensorBoard logs and in training_statistics.json."""
    evidence: list[Evidence] = []
    step_nan_tags: list[str] = []
    first_steps: list[int] = []
    other_nan = False
    for split, tags in sorted(run.scalars.items()):
        for tag, points in sorted(tags.items()):
            if not tag.endswith("loss"):
                continue
            bad = [point.step for point in points if not math.isfinite(point.value)]
            if not bad:
                continue
            first_steps.append(bad[0])
            if tag.endswith("step_training_loss"):
                step_nan_tags.append(tag)
            else:
                other_nan = True
            evidence.append(
                Evidence(
                    source=f"model/logs/{split}",
                    field=tag,
                    value=f"{len(bad)} of {len(points)} values are NaN or infinite",
                    note=f"steps {format_steps(bad)}",
                )
            )
    evidence.extend(_statistics_nan_evidence(run))
    if not evidence:
        return None
    other_nan = other_nan or any(item.source == STATISTICS_FILE for item in evidence)

    first = min(first_steps) if first_steps else None
    where = f" (first at step {first})" if first is not None else ""
    if step_nan_tags and not other_nan and _truncation_explains_nan(run):
        return Finding(
            id="health.nan_loss",
            severity=Severity.INFO,
            title=f"NaN step losses{where} come from targets cut by truncation",
            explanation=(
                "The only non-finite losses are per-step training losses, and the truncation finding "
                f"({TRUNCATION_FINDING}) shows rows whose whole target is cut: a batch of such rows "
                "has no target token, so its loss is NaN. The epoch losses are finite."
            ),
            action=f"Fix the sequence limit as {TRUNCATION_FINDING} suggests; these NaNs then go away.",
            evidence=evidence,
            source="TensorBoard logs",
        )

    patches = []
    lr = learning_rate(run)
    if lr is not None and first is not None and first > 0:
        patches.append(
            Patch(
                "trainer.learning_rate",
                _round_rate(lr / LEARNING_RATE_REDUCTION),
                "losses were finite before they turned NaN, the usual sign of updates that overflow",
            )
        )
    return Finding(
        id="health.nan_loss",
        severity=Severity.ERROR,
        title=f"NaN or infinite loss{where}",
        explanation=(
            "A NaN or infinite loss means the forward pass or the update overflowed. Weights that "
            "received a NaN gradient stay NaN, so the rest of training and the saved model may be "
            "useless. Common causes are a learning rate that is too high, float16 overflow, "
            "unnormalized inputs, and batches with no target tokens."
        ),
        action="Lower the learning rate, use bf16 or float32 instead of float16, and check the inputs.",
        evidence=evidence,
        patches=patches,
        source="TensorBoard logs",
    )


def _statistics_nan_evidence(run: Run) -> list[Evidence]:
    evidence = []
    statistics = run.training_statistics or {}
    for split in ("training", "validation", "test"):
        block = statistics.get(split)
        if not isinstance(block, dict):
            continue
        for feature, metrics in sorted(block.items()):
            values = metrics.get("loss") if isinstance(metrics, dict) else None
            if not isinstance(values, list):
                continue
            bad = [
                index
                for index, value in enumerate(values)
                if isinstance(value, float) and not math.isfinite(value)
            ]
            if bad:
                evidence.append(
                    Evidence(
                        source=STATISTICS_FILE,
                        field=f"{split}.{feature}.loss",
                        value=f"{len(bad)} of {len(values)} evaluations are NaN or infinite",
                        note=f"evaluations {format_steps(bad)} (counted from 0)",
                    )
                )
    return evidence


def _truncation_explains_nan(run: Run) -> bool:
    from .truncation import check_truncation

    for finding in check_truncation(run):
        if finding.id == TRUNCATION_FINDING and any(
            item.field.endswith("step_training_loss") for item in finding.evidence
        ):
            return True
    return False


def check_divergence(run: Run) -> Finding | None:
    """Report a loss that ends far above its own minimum (validation first, else training)."""
    series = epoch_losses(run, "validation") or epoch_losses(run, "training")
    if series is None:
        return None
    values = finite(series.values)
    if len(values) < 3:
        return None
    lowest = min(values)
    best = values.index(lowest)
    last = values[-1]
    if best == len(values) - 1 or lowest <= 0 or last < DIVERGENCE_RATIO * lowest:
        return None

    evidence = [
        Evidence(series.source, series.field, _format_loss(values[0]), "first evaluation"),
        Evidence(series.source, series.field, _format_loss(lowest), f"minimum, evaluation {best + 1}"),
        Evidence(series.source, series.field, _format_loss(last), f"last, evaluation {len(values)}"),
    ]
    training = epoch_losses(run, "training")
    if training is not None and series.field != training.field and training.values:
        evidence.append(
            Evidence(training.source, training.field, _format_loss(training.values[-1]), "last training loss")
        )

    patches = []
    lr = learning_rate(run)
    if lr is not None:
        patches.append(
            Patch(
                "trainer.learning_rate",
                _round_rate(lr / LEARNING_RATE_REDUCTION),
                f"the loss ended {last / lowest:.1f}x above its minimum; smaller updates keep it there",
            )
        )
    unnormalized = _unnormalized_number_inputs(run)
    for index, name in unnormalized:
        patches.append(
            Patch(
                f"input_features[{index}].preprocessing.normalization",
                "zscore",
                f"{name} is fed to the model unscaled (normalization null in training_set_metadata.json)",
            )
        )
    if unnormalized:
        names = ", ".join(name for _, name in unnormalized)
        evidence.append(
            Evidence(
                METADATA_FILE,
                "<number feature>.preprocessing.normalization",
                None,
                f"not normalized: {names}",
            )
        )

    return Finding(
        id="health.divergence",
        severity=Severity.ERROR,
        title=f"Loss diverges: {_format_loss(lowest)} at best, {_format_loss(last)} at the end ({last / lowest:.0f}x)",
        explanation=(
            f"The {series.field} reached {_format_loss(lowest)} at evaluation {best + 1} and then rose to "
            f"{_format_loss(last)}. Training that moves away from a minimum this far is unstable: "
            "the learning rate is too high for the scale of the inputs or of the loss."
        ),
        action="Lower the learning rate and normalize numeric inputs, then retrain.",
        evidence=evidence,
        patches=patches,
    )


def _unnormalized_number_inputs(run: Run) -> list[tuple[int, str]]:
    metadata = run.training_set_metadata or {}
    found = []
    for index, feature in enumerate(features(run, "input_features")):
        name = feature.get("name")
        if feature.get("type") not in ("number", "numerical") or not isinstance(name, str):
            continue
        entry = metadata.get(name)
        preprocessing = entry.get("preprocessing") if isinstance(entry, dict) else None
        if isinstance(preprocessing, dict) and preprocessing.get("normalization", "unset") in (None, "none"):
            found.append((index, name))
    return found


def check_overfitting(run: Run) -> Finding | None:
    """Report validation loss that rises while training loss falls, or that ends far above it."""
    validation = epoch_losses(run, "validation")
    training = epoch_losses(run, "training")
    if validation is None or training is None:
        return None
    val = validation.values
    train = training.values
    if len(val) < 3 or len(val) != len(train) or not all(math.isfinite(v) for v in val + train):
        return None
    lowest = min(val)
    best = val.index(lowest)
    if lowest <= 0 or val[-1] >= DIVERGENCE_RATIO * lowest:
        return None  # check_divergence reports it

    rising = (
        best < len(val) - 1
        and val[-1] >= (1 + OVERFITTING_RISE) * lowest
        and min(train[best + 1 :]) < train[best]
    )
    gap = train[-1] > 0 and val[-1] >= VALIDATION_GAP_RATIO * train[-1]
    if not rising and not gap:
        return None

    evidence = [
        Evidence(validation.source, validation.field, round(lowest, 4), f"minimum, evaluation {best + 1}"),
        Evidence(validation.source, validation.field, round(val[-1], 4), f"last, evaluation {len(val)}"),
        Evidence(training.source, training.field, round(train[best], 4), f"at evaluation {best + 1}"),
        Evidence(training.source, training.field, round(min(train), 4), "minimum"),
        Evidence(training.source, training.field, round(train[-1], 4), "last"),
    ]
    reasons = []
    if rising:
        reasons.append(
            f"validation loss rose {val[-1] / lowest - 1:.0%} above its minimum (evaluation {best + 1}) "
            "while the training loss kept falling"
        )
    if gap:
        reasons.append(f"the last validation loss is {val[-1] / train[-1]:.1f}x the last training loss")
    patches = []
    if rising:
        patches.append(
            Patch(
                "trainer.epochs",
                best + 1,
                f"the validation loss was lowest after evaluation {best + 1}; later epochs only fit the training set",
            )
        )
    return Finding(
        id="health.overfitting",
        severity=Severity.WARNING,
        title=f"Overfitting: validation loss {lowest:.4g} at best, {val[-1]:.4g} at the end",
        explanation=(
            "The model keeps fitting the training data but generalizes worse: "
            + "; ".join(reasons)
            + ". Ludwig keeps the weights of the best evaluation, so the saved model is from evaluation "
            f"{best + 1}; the later epochs cost time without helping."
        ),
        action="Train fewer epochs or with a smaller early_stop, add regularization (dropout), or add data.",
        evidence=evidence,
        patches=patches,
    )


def check_loss_spikes(run: Run) -> Finding | None:
    """Report step losses that jump far above the recent median."""
    found = step_losses(run)
    if found is None:
        return None
    tag, points = found
    kept = [point for point in points if math.isfinite(point.value)]
    if len(kept) <= 2 * SPIKE_WINDOW:
        return None
    values = np.array([point.value for point in kept])
    medians = _previous_medians(values, SPIKE_WINDOW)
    baseline = float(np.median(values[:SPIKE_WINDOW]))
    candidates = values[SPIKE_WINDOW:]
    spikes = np.flatnonzero((candidates > SPIKE_RATIO * medians) & (candidates > baseline) & (medians > 0))
    if len(spikes) == 0:
        return None

    indexes = (spikes + SPIKE_WINDOW).tolist()
    worst = max(indexes, key=lambda index: values[index] / medians[index - SPIKE_WINDOW])
    worst_ratio = values[worst] / medians[worst - SPIKE_WINDOW]
    steps = [kept[index].step for index in indexes]
    severity = Severity.WARNING if len(indexes) >= SPIKE_WARNING_COUNT else Severity.INFO
    patches = []
    lr = learning_rate(run)
    if lr is not None and severity is Severity.WARNING:
        patches.append(
            Patch(
                "trainer.learning_rate",
                _round_rate(lr / 2),
                "smaller updates let one bad batch move the weights less",
            )
        )
    return Finding(
        id="health.loss_spikes",
        severity=severity,
        title=f"{len(indexes)} loss spike{'s' if len(indexes) != 1 else ''} (up to {worst_ratio:.1f}x the recent median)",
        explanation=(
            f"{len(indexes)} of {len(kept)} step losses are more than {SPIKE_RATIO:g}x the median of the "
            f"{SPIKE_WINDOW} steps before them. Isolated spikes come from unusual batches, which small "
            "batch sizes make more likely; frequent ones mean the learning rate is too high for the data."
        ),
        action="Look at the batches at these steps; lower the learning rate or raise the batch size if spikes recur.",
        evidence=[
            Evidence(TRAINING_LOGS, tag, f"{len(indexes)} spikes", f"steps {format_steps(steps)}"),
            Evidence(
                TRAINING_LOGS,
                tag,
                round(float(values[worst]), 4),
                f"step {kept[worst].step}; median of the previous {SPIKE_WINDOW} steps "
                f"{float(medians[worst - SPIKE_WINDOW]):.4g}",
            ),
        ],
        patches=patches,
        source="TensorBoard logs",
    )


def _previous_medians(values: np.ndarray, window: int) -> np.ndarray:
    """Return, for each index i >= window, the median of values[i - window:i]."""
    result = np.empty(len(values) - window)
    chunk = 100_000  # bounds the temporary (chunk x window) array
    for start in range(0, len(result), chunk):
        stop = min(start + chunk, len(result))
        windows = np.lib.stride_tricks.sliding_window_view(values[start : stop + window - 1], window)
        result[start:stop] = np.median(windows, axis=1)
    return result


def check_plateau(run: Run) -> Finding | None:
    """Report a training loss that stopped improving over the second half of the logged steps."""
    found = step_losses(run)
    if found is None:
        return None
    tag, points = found
    values = [point.value for point in points if math.isfinite(point.value)]
    if len(values) < PLATEAU_MIN_STEPS:
        return None
    quarter = len(values) // 4
    first = float(np.median(values[:quarter]))
    second = float(np.median(values[quarter : 2 * quarter]))
    last = float(np.median(values[3 * quarter :]))
    if second <= 0 or last < PLATEAU_CONVERGED_FRACTION * first:
        return None
    improvement = (second - last) / second
    if improvement >= PLATEAU_MIN_IMPROVEMENT:
        return None

    change = f"fell {improvement:.1%}" if improvement >= 0 else f"rose {-improvement:.1%}"
    return Finding(
        id="health.plateau",
        severity=Severity.WARNING,
        title=f"Training loss plateaued: median {second:.4g} in the second quarter, {last:.4g} in the last",
        explanation=(
            f"Over the second half of the {len(values)} logged steps the median step loss {change}, "
            f"less than the {PLATEAU_MIN_IMPROVEMENT:.0%} a run that is still learning shows. More "
            "epochs at these settings will not help."
        ),
        action=(
            "Check that the model can learn the data (frozen encoders, a learning rate that decayed to "
            "almost zero, labels that do not depend on the inputs), or stop training earlier."
        ),
        evidence=[
            Evidence(TRAINING_LOGS, tag, round(first, 4), "median of the first quarter of steps"),
            Evidence(TRAINING_LOGS, tag, round(second, 4), "median of the second quarter"),
            Evidence(TRAINING_LOGS, tag, round(last, 4), "median of the last quarter"),
        ],
        source="TensorBoard logs",
    )


def _format_loss(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _round_rate(value: float) -> float:
    return float(f"{value:.2g}")


CHECKS: tuple[Callable[[Run], Finding | None], ...] = (
    check_nan_loss,
    check_divergence,
    check_overfitting,
    check_loss_spikes,
    check_plateau,
)
