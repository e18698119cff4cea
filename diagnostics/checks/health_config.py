"""Checks on the trainer settings and recorded resources: steps, validation split, learning rate,
warmup, GPU memory, sequence length without gradient checkpointing, and perplexity."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from ..findings import Evidence, Finding, Patch, Severity
from ..run import Run
from .context import (
    DESCRIPTION_FILE,
    METADATA_FILE,
    PROGRESS_FILE,
    STATISTICS_FILE,
    as_int,
    config_section,
    feature_metadata,
    features,
)
from .health_data import (
    LEARNING_RATE_TAG,
    TOKENS_TAG,
    TRAINING_LOGS,
    finite,
    gradient_accumulation_steps,
    learning_rate,
    numbers,
    trainer_value,
)
from .truncation import GRADIENT_CHECKPOINTING_MIN_LENGTH

HYPERPARAMETERS_FILE = "model/model_hyperparameters.json"

# LLM fine-tunes with fewer optimizer updates than this barely move a LoRA adapter away from
# its initialization. This is an estimate, not a measured limit.
MIN_OPTIMIZER_STEPS = 100
# LoRA learning rates above this are high. Ludwig's LLM default is 2e-4 since 0.9 (1e-4 before),
# and its own LoRA example configs use 1e-4 to 3e-4.
LORA_MAX_LEARNING_RATE = 3e-4
# The suggested LoRA learning rate: Ludwig's LLM default since 0.9.
LORA_LEARNING_RATE = 2e-4
# The suggested warmup: 3% of the steps, as Ludwig's Mistral and Llama-2 example configs use.
WARMUP_FRACTION = 0.03
# GPU memory: a peak at or above this share of the device's memory leaves no room for a longer
# batch, and the caching allocator then fails with out-of-memory.
GPU_MEMORY_NEAR_FULL = 0.9
# Ludwig's cuda/device{i}/*_gb tags count 10^9 bytes: a real 8191 MiB card logs
# total_memory_occupied_gb 8.589.
_GB = 1e9
_MIB = 2**20
# Perplexity at or above this share of the vocabulary size, while exp(loss) is far lower, is the
# metric's known miscalculation in Ludwig (0.10.x real runs and the 0.11.0 sample runs), not the model.
PERPLEXITY_VOCAB_RATIO = 0.9

_TOTAL_MEMORY = re.compile(r"total_memory=(\d+)MB")
_CUDA_PEAK_TAG = re.compile(r"^cuda/device(\d+)/(reserved|allocated)_gb\.all\.peak$")


def check_too_few_steps(run: Run) -> Finding | None:
    """Report an LLM fine-tune that made fewer than MIN_OPTIMIZER_STEPS optimizer updates."""
    if run.model_type != "llm":
        return None
    steps, source = _steps(run)
    if steps is None:
        return None
    accumulation = gradient_accumulation_steps(run)
    updates = steps // accumulation
    if updates >= MIN_OPTIMIZER_STEPS:
        return None

    evidence = [Evidence(source, "steps", steps, "batches")]
    evidence.append(Evidence(HYPERPARAMETERS_FILE, "trainer.gradient_accumulation_steps", accumulation))
    finished = run.training_statistics is not None
    patches = []
    epochs = as_int(config_section(run, "trainer").get("epochs"))
    if finished and epochs and updates > 0:
        suggested = math.ceil(epochs * MIN_OPTIMIZER_STEPS / updates)
        patches.append(
            Patch(
                "trainer.epochs",
                suggested,
                f"{updates} updates in {epochs} epochs; {MIN_OPTIMIZER_STEPS} need {suggested}",
            )
        )
    stopped = (
        "" if finished else " The run has no training_statistics.json, so it stopped or is still training."
    )
    return Finding(
        id="health.too_few_steps",
        severity=Severity.WARNING,
        title=f"Only {updates} optimizer steps ({steps} batches / gradient accumulation {accumulation})",
        explanation=(
            f"The adapter was updated {updates} times. Fine-tunes with fewer than {MIN_OPTIMIZER_STEPS} "
            "updates rarely move the model far from the base model." + stopped
        ),
        action="Train more epochs, use more data (sample_ratio 1.0), or lower gradient_accumulation_steps.",
        evidence=evidence,
        patches=patches,
    )


def _steps(run: Run) -> tuple[int | None, str]:
    progress = run.training_progress or {}
    steps = as_int(progress.get("steps"))
    if steps is not None:
        return steps, PROGRESS_FILE
    points = run.scalars.get("training", {}).get("combined/step_training_loss", [])
    if points:
        return max(point.step for point in points) + 1, TRAINING_LOGS
    return None, ""


def check_no_validation(run: Run) -> Finding | None:
    """Report a split that leaves no rows for validation."""
    preprocessing = config_section(run, "preprocessing")
    split = preprocessing.get("split")
    probabilities: list[float] = []
    field = ""
    if isinstance(split, dict) and split.get("type", "random") == "random":
        probabilities = numbers(split.get("probabilities"))
        field = "config.preprocessing.split.probabilities"
    elif "split_probabilities" in preprocessing:
        probabilities = numbers(preprocessing.get("split_probabilities"))
        field = "config.preprocessing.split_probabilities"
    if len(probabilities) < 2 or probabilities[1] > 0:
        return None

    evidence = [Evidence(DESCRIPTION_FILE, field, probabilities)]
    statistics = run.training_statistics
    if statistics is not None and not statistics.get("validation"):
        evidence.append(Evidence(STATISTICS_FILE, "validation", "empty"))
    return Finding(
        id="health.no_validation",
        severity=Severity.WARNING,
        title=f"No validation split: split probabilities {probabilities}",
        explanation=(
            "Every row goes to training (and test), so Ludwig never evaluates on held-out data during "
            "training: overfitting is invisible, early stopping has no signal, and the best checkpoint "
            "is chosen on the training loss."
        ),
        action="Hold out a validation share; a few percent is enough for a large dataset.",
        evidence=evidence,
        patches=[
            Patch(
                "preprocessing.split.probabilities",
                [0.9, 0.05, 0.05],
                "keeps 90% for training and gives validation and test 5% each",
            )
        ],
    )


def _is_lora(run: Run) -> bool:
    adapter = run.config.get("adapter")
    return isinstance(adapter, dict) and str(adapter.get("type", "")).lower() in ("lora", "adalora", "qlora")


def check_lora_learning_rate(run: Run) -> Finding | None:
    """Report a LoRA fine-tune whose learning rate is above LORA_MAX_LEARNING_RATE."""
    lr = learning_rate(run)
    if not _is_lora(run) or lr is None or lr <= LORA_MAX_LEARNING_RATE:
        return None
    return Finding(
        id="health.lora_learning_rate_high",
        severity=Severity.WARNING,
        title=f"Learning rate {lr:g} is high for LoRA (Ludwig's default is {LORA_LEARNING_RATE:g})",
        explanation=(
            f"LoRA adapters are usually trained at 1e-4 to {LORA_MAX_LEARNING_RATE:g}. At {lr:g} ({lr / LORA_LEARNING_RATE:.0f}x "
            "Ludwig's default) updates overshoot: the loss spikes or diverges, and the model can learn "
            "to repeat itself or to produce empty answers."
        ),
        action="Lower the learning rate and add a short warmup.",
        evidence=[Evidence(DESCRIPTION_FILE, "config.trainer.learning_rate", lr)],
        patches=[
            Patch(
                "trainer.learning_rate",
                LORA_LEARNING_RATE,
                "Ludwig's default learning rate for LLM fine-tuning since 0.9",
            )
        ],
    )


def check_warmup(run: Run) -> Finding | None:
    """Report an LLM fine-tune whose learning rate starts at full size (no warmup)."""
    if run.model_type != "llm":
        return None
    scheduler = config_section(run, "trainer").get("learning_rate_scheduler")
    if not isinstance(scheduler, dict):
        return None
    fraction = scheduler.get("warmup_fraction") or 0
    evaluations = scheduler.get("warmup_evaluations") or 0
    if fraction or evaluations:
        return None

    evidence = [
        Evidence(
            DESCRIPTION_FILE,
            "config.trainer.learning_rate_scheduler.warmup_fraction",
            scheduler.get("warmup_fraction"),
        ),
        Evidence(
            DESCRIPTION_FILE,
            "config.trainer.learning_rate_scheduler.warmup_evaluations",
            scheduler.get("warmup_evaluations"),
        ),
    ]
    rates = finite([point.value for point in run.scalars.get("training", {}).get(LEARNING_RATE_TAG, [])])
    if rates:
        if rates[0] < max(rates):
            return None  # the logged rate does rise, whatever the config says
        evidence.append(
            Evidence(TRAINING_LOGS, LEARNING_RATE_TAG, rates[0], "first logged step, already the maximum")
        )
    return Finding(
        id="health.no_warmup",
        severity=Severity.INFO,
        title="No learning-rate warmup",
        explanation=(
            "The first updates use the full learning rate while the optimizer's moment estimates are "
            "still empty, which makes early loss spikes more likely in LLM fine-tuning."
        ),
        action=f"Warm up over the first {WARMUP_FRACTION:.0%} of the steps.",
        evidence=evidence,
        patches=[
            Patch(
                "trainer.learning_rate_scheduler.warmup_fraction",
                WARMUP_FRACTION,
                "a short linear warmup, as Ludwig's LLM example configs use",
            )
        ],
    )


def check_gpu_memory(run: Run) -> Finding | None:
    """Report a GPU memory peak near the device's capacity."""
    capacities = _device_capacities(run)
    worst: tuple[float, int, str, float, int] | None = None
    for tag, points in run.scalars.get("training", {}).items():
        match = _CUDA_PEAK_TAG.match(tag)
        values = finite([point.value for point in points])
        if match is None or not values:
            continue
        device = int(match.group(1))
        capacity = capacities.get(device)
        if capacity is None:
            continue
        peak_bytes = max(values) * _GB
        share = peak_bytes / capacity
        if worst is None or share > worst[0]:
            worst = (share, device, tag, max(values), capacity)
    if worst is None or worst[0] < GPU_MEMORY_NEAR_FULL:
        return None

    share, device, tag, peak, capacity = worst
    patches = []
    if not trainer_value(run, "enable_gradient_checkpointing"):
        patches.append(
            Patch(
                "trainer.enable_gradient_checkpointing",
                True,
                "recomputes activations instead of storing them",
            )
        )
    batch_size = as_int(trainer_value(run, "batch_size"))
    if batch_size is not None and batch_size > 1:
        accumulation = as_int(trainer_value(run, "gradient_accumulation_steps")) or 1
        patches.append(Patch("trainer.batch_size", batch_size // 2, "halves the activations per step"))
        patches.append(
            Patch("trainer.gradient_accumulation_steps", accumulation * 2, "keeps the effective batch size")
        )
    return Finding(
        id="health.gpu_memory_near_capacity",
        severity=Severity.WARNING,
        title=f"GPU {device} memory peaked at {share:.0%} of its {capacity / _MIB:,.0f} MiB",
        explanation=(
            f"The peak of {tag} is {peak:.2f} GB (10^9 bytes) on a device with {capacity / _GB:.2f} GB. "
            "A longer batch than any seen so far would run out of memory; above 100% the driver was "
            "already paging to host memory (possible on Windows), which slows training."
        ),
        action="Turn on gradient checkpointing, lower the batch size, or cap the sequence length.",
        evidence=[
            Evidence(TRAINING_LOGS, tag, round(peak, 3), "GB, maximum over all steps"),
            Evidence(
                DESCRIPTION_FILE,
                f"compute.devices.{device}.device_properties",
                f"total_memory={capacity // _MIB}MB",
            ),
        ],
        patches=patches,
        source="TensorBoard logs",
    )


def _device_capacities(run: Run) -> dict[int, int]:
    """Return device index -> memory in bytes, parsed from description.json compute.devices."""
    compute = (run.description or {}).get("compute")
    devices = compute.get("devices") if isinstance(compute, dict) else None
    capacities: dict[int, int] = {}
    if not isinstance(devices, dict):
        return capacities
    for key, device in devices.items():
        properties = device.get("device_properties") if isinstance(device, dict) else None
        match = _TOTAL_MEMORY.search(properties) if isinstance(properties, str) else None
        index = as_int(int(key)) if str(key).isdigit() else None
        if match and index is not None:
            # torch prints total_memory in MiB with the unit "MB".
            capacities[index] = int(match.group(1)) * _MIB
    return capacities


def check_long_sequences(run: Run) -> Finding | None:
    """Report LLM sequences of GRADIENT_CHECKPOINTING_MIN_LENGTH tokens or more without checkpointing."""
    if run.model_type != "llm" or trainer_value(run, "enable_gradient_checkpointing"):
        return None
    length, evidence = _longest_sequence(run)
    if length is None or length < GRADIENT_CHECKPOINTING_MIN_LENGTH:
        return None
    return Finding(
        id="health.long_sequences_without_checkpointing",
        severity=Severity.INFO,
        title=f"Sequences of up to {length} tokens without gradient checkpointing",
        explanation=(
            f"Activation memory grows with sequence length; from about {GRADIENT_CHECKPOINTING_MIN_LENGTH} "
            "tokens on, storing every layer's activations takes more memory than the 4-bit weights. "
            "Gradient checkpointing recomputes them in the backward pass, for about 20-30% more time."
        ),
        action="Turn on gradient checkpointing, or cap the sequence length.",
        evidence=evidence,
        patches=[
            Patch("trainer.enable_gradient_checkpointing", True, "trades compute for activation memory")
        ],
    )


def _longest_sequence(run: Run) -> tuple[int | None, list[Evidence]]:
    inputs = features(run, "input_features")
    outputs = features(run, "output_features")
    if inputs and outputs:
        input_entry = feature_metadata(run, inputs[0]) or {}
        output_entry = feature_metadata(run, outputs[0]) or {}
        input_max = as_int(input_entry.get("max_sequence_length"))
        output_max = as_int(output_entry.get("max_sequence_length"))
        limit = as_int(config_section(run, "preprocessing").get("global_max_sequence_length"))
        if input_max is not None and output_max is not None:
            merged = input_max + output_max + 1
            length = min(merged, limit) if limit else merged
            evidence = [
                Evidence(METADATA_FILE, f"{inputs[0].get('name')}.max_sequence_length", input_max),
                Evidence(METADATA_FILE, f"{outputs[0].get('name')}.max_sequence_length", output_max),
            ]
            return length, evidence

    limit = as_int(config_section(run, "preprocessing").get("global_max_sequence_length"))
    if limit is not None:
        return limit, [Evidence(DESCRIPTION_FILE, "config.preprocessing.global_max_sequence_length", limit)]

    tokens = finite([point.value for point in run.scalars.get("training", {}).get(TOKENS_TAG, [])])
    batch_size = as_int(trainer_value(run, "batch_size"))
    if tokens and batch_size:
        longest = int(max(tokens)) // batch_size
        return longest, [
            Evidence(TRAINING_LOGS, TOKENS_TAG, max(tokens), f"maximum per step, batch size {batch_size}")
        ]
    return None, []


def check_perplexity(run: Run) -> Finding | None:
    """Report a perplexity metric near the vocabulary size while exp(loss) is far lower."""
    statistics = run.training_statistics or {}
    for index, feature in enumerate(features(run, "output_features")):
        name = feature.get("name")
        if not isinstance(name, str):
            continue
        vocabulary, vocabulary_source = _vocabulary_size(run, feature, index)
        if not vocabulary:
            continue
        for split in ("validation", "training", "test"):
            metrics = statistics.get(split, {}).get(name) if isinstance(statistics.get(split), dict) else None
            if not isinstance(metrics, dict):
                continue
            perplexities = finite(numbers(metrics.get("perplexity")))
            losses = finite(numbers(metrics.get("loss")))
            if not perplexities or not losses:
                continue
            perplexity, loss = perplexities[-1], losses[-1]
            if (
                perplexity < PERPLEXITY_VOCAB_RATIO * vocabulary
                or loss > 50
                or math.exp(loss) > perplexity / 2
            ):
                continue
            return _perplexity_finding(run, name, split, perplexity, loss, vocabulary, vocabulary_source)
    return None


def _vocabulary_size(run: Run, feature: dict[str, Any], index: int) -> tuple[int | None, str]:
    entry = feature_metadata(run, feature) or {}
    size = as_int(entry.get("vocab_size"))
    if size:
        return size, f"{METADATA_FILE}: {feature.get('name')}.vocab_size"
    hyperparameters = run.model_hyperparameters or {}
    entries = hyperparameters.get("output_features")
    if isinstance(entries, list) and index < len(entries) and isinstance(entries[index], dict):
        decoder = entries[index].get("decoder")
        size = as_int(decoder.get("vocab_size")) if isinstance(decoder, dict) else None
        if size:
            return size, f"{HYPERPARAMETERS_FILE}: output_features[{index}].decoder.vocab_size"
    return None, ""


def _perplexity_finding(
    run: Run, name: str, split: str, perplexity: float, loss: float, vocabulary: int, vocabulary_source: str
) -> Finding:
    version = run.ludwig_version_text or "this version"
    source, field = vocabulary_source.split(": ", 1)
    return Finding(
        id="health.perplexity_misleading",
        severity=Severity.INFO,
        title=f"Perplexity {perplexity:,.0f} is the vocabulary size ({vocabulary:,}), not the model's",
        explanation=(
            f"The {split} loss is {loss:.4g}, so the perplexity it implies is exp(loss) = {math.exp(loss):,.1f}. "
            f"The perplexity metric that Ludwig {version} records is {perplexity:,.0f}, almost the vocabulary "
            "size, which is what a uniform guess over the vocabulary would score. The metric is computed "
            "wrongly for LLM outputs; it says nothing about this model."
        ),
        action="Judge the run by its loss (or exp(loss)), not by the perplexity column.",
        evidence=[
            Evidence(STATISTICS_FILE, f"{split}.{name}.perplexity", round(perplexity, 1), "last evaluation"),
            Evidence(
                STATISTICS_FILE, f"{split}.{name}.loss", round(loss, 4), f"exp(loss) = {math.exp(loss):,.1f}"
            ),
            Evidence(source, field, vocabulary),
        ],
        source="training_statistics.json",
    )


CHECKS: tuple[Callable[[Run], Finding | None], ...] = (
    check_too_few_steps,
    check_no_validation,
    check_lora_learning_rate,
    check_warmup,
    check_gpu_memory,
    check_long_sequences,
    check_perplexity,
)
