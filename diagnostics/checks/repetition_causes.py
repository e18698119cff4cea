"""Causes of looping or non-stopping generations: which of the known causes a run's files support.

This runs after the other checks, on their findings. When the run has a repetition symptom
(``repetition.predictions``, ``repetition.no_stop`` or ``repetition.eval_examples``), each cause
that the run's files support becomes a ``repetition.cause.*`` finding with its evidence, its patch
and the ids of the findings it builds on. The causes are ranked by how directly they explain a
loop, and the rank is in the title. When no cause is supported, one finding states that.

The causes and their order follow what is known to make Ludwig fine-tunes repeat: a Ludwig
regression that closes targets with the wrong stop token, data that repeats, targets cut before
their stop token, unstable or too short training, prompt templates with special tokens, and
generation settings that let a loop run on.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..findings import Evidence, Finding, Patch, Severity
from ..loops import analyse_text, mark_loop
from ..paths import recorded_dataset_path
from ..readers.dataset import read_training_column
from ..run import Run
from ..tokenizer_info import read_tokenizer_info
from .context import (
    DESCRIPTION_FILE,
    PROGRESS_FILE,
    STATISTICS_FILE,
    as_int,
    config_section,
    feature_metadata,
    features,
    local_base_model,
)
from .repetition import scan_eval_examples, scan_predictions

SYMPTOM_IDS = ("repetition.predictions", "repetition.no_stop", "repetition.eval_examples")
FREE_GENERATION_SYMPTOMS = ("repetition.predictions", "repetition.no_stop")

# Version advisories that make a model never learn its stop token.
STOP_TOKEN_ADVISORIES = ("version.pad_token_maps_to_unk", "version.stop_token_is_pad")
PAD_ID_ZERO_ADVISORY = "version.pad_id_zero"
# Truncation findings that cut targets or their stop token; an input limit cuts only the prompt.
TARGET_TRUNCATION_IDS = ("truncation.global_max_sequence_length", "truncation.output_max_sequence_length")

# Share of training targets that must loop before the data is named as a cause, and the share
# above which the data is the first cause: most targets teach the loop directly.
MIN_TARGET_LOOP_SHARE = 0.05
DOMINANT_TARGET_LOOP_SHARE = 0.5

# LoRA fine-tunes usually train at 1e-4 to 3e-4 (Ludwig's LLM default is 1e-4 before 0.9 and 2e-4
# from 0.9). Above this the adapter often diverges.
HIGH_LORA_LEARNING_RATE = 5e-4
SUGGESTED_LEARNING_RATE = 2e-4
SUGGESTED_WARMUP_FRACTION = 0.03
# Validation loss this many times the training loss, or rising by this share above its minimum,
# means training was unstable or overfit.
VALIDATION_GAP_RATIO = 1.5
VALIDATION_RISE_RATIO = 1.1
# Training-health findings that a training cause builds on when that check has run.
TRAINING_HEALTH_IDS = (
    "health.divergence",
    "health.overfitting",
    "health.loss_spikes",
    "health.nan_loss",
    "health.lora_learning_rate_high",
    "health.no_warmup",
)
UNDERTRAINING_HEALTH_IDS = ("health.too_few_steps",)
# Fewer optimizer steps than this rarely teach a model where to stop.
FEW_STEPS = 100
FEW_TRAINING_ROWS = 50

# max_new_tokens this many times the 99th percentile of target tokens lets a loop run long.
MAX_NEW_TOKENS_RATIO = 3.0
# Greedy decoding, or sampling at or below this temperature, repeats without a penalty.
LOW_TEMPERATURE = 0.2
SUGGESTED_REPETITION_PENALTY = 1.1
SUGGESTED_NO_REPEAT_NGRAM_SIZE = 4
# Suggested max_new_tokens: this share above the longest target, rounded up to a multiple of 8.
MAX_NEW_TOKENS_MARGIN = 1.25
LENGTH_MULTIPLE = 8

# Special-token strings of common tokenizer families. One inside a prompt template teaches the
# model to see a stop or start token in the middle of a sequence.
SPECIAL_TOKEN_STRINGS = (
    "</s>",
    "<s>",
    "<unk>",
    "<pad>",
    "[PAD]",
    "<eos>",
    "<bos>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<|end_of_text|>",
    "<|begin_of_text|>",
    "<|im_end|>",
    "<end_of_turn>",
)
# Markers of the chat formats that instruct models were tuned with.
CHAT_MARKERS = (
    "[INST]",
    "<|im_start|>",
    "<start_of_turn>",
    "<|start_header_id|>",
    "<|user|>",
    "<|assistant|>",
)
_INSTRUCT_NAME = re.compile(r"instruct|chat|-it\b|-it-|zephyr|dolphin|hermes|vicuna", re.I)

# Rank weights: the higher, the earlier the cause is listed.
WEIGHT_DATA_DOMINANT = 100
WEIGHT_VERSION = 90
WEIGHT_TRUNCATION_WHOLE_TARGET = 80
WEIGHT_VERSION_PAD_ID_ZERO = 70
WEIGHT_TRUNCATION = 65
WEIGHT_DATA = 60
WEIGHT_TRAINING_LOSS = 50
WEIGHT_TRAINING_RATE = 40
WEIGHT_TEMPLATE = 30
WEIGHT_UNDERTRAINED = 25
WEIGHT_GENERATION = 20


@dataclass
class Cause:
    """One supported cause before ranking."""

    key: str  # the last part of the finding id: "version", "data", ...
    weight: int
    title: str
    explanation: str
    action: str
    evidence: list[Evidence]
    patches: list[Patch] = field(default_factory=list)
    based_on: list[str] = field(default_factory=list)


CauseBuilder = Callable[[Run, list[Finding], list[Finding]], Cause | None]


def explain_repetition(run: Run, findings: list[Finding]) -> list[Finding]:
    """Return one finding per supported cause of the run's repetition symptoms, best supported first."""
    symptoms = [finding for finding in findings if finding.id in SYMPTOM_IDS]
    if not symptoms:
        return []

    builders: list[CauseBuilder] = [
        _version_cause,
        _data_cause,
        _truncation_cause,
        _training_cause,
        _template_cause,
        _undertrained_cause,
        _generation_cause,
    ]
    causes = [cause for build in builders if (cause := build(run, findings, symptoms)) is not None]
    if not causes:
        return [_no_cause_finding(symptoms)]

    causes.sort(key=lambda cause: -cause.weight)
    symptom_ids = [finding.id for finding in symptoms]
    return [
        _cause_finding(cause, rank, len(causes), symptom_ids) for rank, cause in enumerate(causes, start=1)
    ]


def _cause_finding(cause: Cause, rank: int, total: int, symptom_ids: list[str]) -> Finding:
    based_on = [*symptom_ids, *(item for item in cause.based_on if item not in symptom_ids)]
    return Finding(
        id=f"repetition.cause.{cause.key}",
        severity=Severity.WARNING,
        title=f"Repetition cause {rank} of {total}: {cause.title}",
        explanation=f"{cause.explanation} Builds on: {', '.join(based_on)}.",
        action=cause.action,
        evidence=[
            Evidence(
                source="", field="rank", value=rank, note=f"of {total} supported causes, 1 is the most likely"
            ),
            *cause.evidence,
        ],
        patches=cause.patches,
        based_on=based_on,
    )


def _no_cause_finding(symptoms: list[Finding]) -> Finding:
    return Finding(
        id="repetition.cause.unknown",
        severity=Severity.INFO,
        title="No known cause of the repetition is supported by this run's files",
        explanation=(
            "None of the known causes applies: no Ludwig regression for this version and tokenizer, no "
            "truncated targets, no looping training targets, no sign of unstable training, no special "
            "tokens in the template, and generation settings that do not favour loops. The files that "
            "would show a cause may be missing (the dataset, training_statistics.json, the metadata). "
            f"Builds on: {', '.join(finding.id for finding in symptoms)}."
        ),
        evidence=[item for finding in symptoms for item in finding.evidence[:1]],
        based_on=[finding.id for finding in symptoms],
    )


def _findings_with_ids(findings: list[Finding], ids: tuple[str, ...]) -> list[Finding]:
    return [finding for finding in findings if finding.id in ids]


def _version_cause(run: Run, findings: list[Finding], symptoms: list[Finding]) -> Cause | None:
    advisories = _findings_with_ids(findings, STOP_TOKEN_ADVISORIES)
    weight = WEIGHT_VERSION
    if not advisories:
        advisories = _findings_with_ids(findings, (PAD_ID_ZERO_ADVISORY,))
        weight = WEIGHT_VERSION_PAD_ID_ZERO
    if not advisories:
        return None

    advisory = advisories[0]
    return Cause(
        key="version",
        weight=weight,
        title=f"a known Ludwig {run.ludwig_version_text} regression for this tokenizer",
        explanation=(
            f"{advisory.title}. A model that never learned its stop token keeps generating until "
            "max_new_tokens and starts its answer again, which is the repetition seen here."
        ),
        action=advisory.action,
        evidence=[*advisory.evidence, *_symptom_evidence(symptoms)],
        based_on=[item.id for item in advisories],
    )


def _symptom_evidence(symptoms: list[Finding]) -> list[Evidence]:
    """Return the first evidence item (the share of rows) of each symptom."""
    return [finding.evidence[0] for finding in symptoms if finding.evidence]


def _truncation_cause(run: Run, findings: list[Finding], symptoms: list[Finding]) -> Cause | None:
    # NOTE: findings of the per-row token analysis (ids starting with "tokens.") are used as they
    # are when present; their ids are not fixed yet, so any at warning or above counts.
    cuts = _findings_with_ids(findings, TARGET_TRUNCATION_IDS)
    cuts += [
        finding
        for finding in findings
        if finding.id.startswith("tokens.") and finding.severity.rank >= Severity.WARNING.rank
    ]
    if not cuts:
        return None

    whole_target = any(
        finding.id == "truncation.global_max_sequence_length" and finding.severity is Severity.ERROR
        for finding in cuts
    )
    return Cause(
        key="truncation",
        weight=WEIGHT_TRUNCATION_WHOLE_TARGET if whole_target else WEIGHT_TRUNCATION,
        title="the sequence limits cut targets and their stop token",
        explanation=(
            "Ludwig appends the stop token to each target and then cuts the row to the sequence limits, "
            "so a cut row trains without its stop token and the model learns to keep going. "
            + " ".join(f"{finding.title}." for finding in cuts)
        ),
        action="Apply the truncation patch and retrain.",
        evidence=[item for finding in cuts for item in finding.evidence[:4]],
        patches=[patch for finding in cuts for patch in finding.patches],
        based_on=[finding.id for finding in cuts],
    )


def _data_cause(run: Run, findings: list[Finding], symptoms: list[Finding]) -> Cause | None:
    outputs = features(run, "output_features")
    if not outputs:
        return None
    column = outputs[0].get("column") or outputs[0].get("name")
    if not isinstance(column, str):
        return None
    dataset = read_training_column(run, column)
    if dataset is None or not dataset.values:
        return None

    reports = [analyse_text(text) for text in dataset.values]
    looping = [index for index, report in enumerate(reports) if report.loops]
    share = len(looping) / len(reports)
    if share < MIN_TARGET_LOOP_SHARE:
        return None

    source = os.path.relpath(dataset.path, run.path)
    sampled = f", first {len(dataset.values)} rows read" if dataset.sampled else ""
    evidence = [
        Evidence(
            source=source,
            field=column,
            value=f"{len(looping)} of {len(reports)} targets loop",
            note=f"{share:.0%} of the {dataset.rows}{sampled}",
        )
    ]
    worst = max(looping, key=lambda index: (reports[index].score, -index))
    span = reports[worst].span
    assert span is not None
    evidence.append(
        Evidence(
            source=source,
            field=f"{column}, data row {dataset.rows_read[worst]}",
            value=mark_loop(dataset.values[worst], span),
            note=f"{span.kind} loop: {span.unit!r} repeated {span.repeats:g} times",
        )
    )
    target_units = {report.span.unit for report in reports if report.span is not None}
    output_units = _output_loop_units(run)
    shared_units = sorted(target_units & output_units)
    if shared_units:
        evidence.append(
            Evidence(
                source=source,
                field=column,
                value=", ".join(shared_units[:8]),
                note=f"{len(shared_units)} of the {len(output_units)} units that loop in the model's "
                "outputs also loop in the training targets",
            )
        )

    return Cause(
        key="data",
        weight=WEIGHT_DATA_DOMINANT if share >= DOMINANT_TARGET_LOOP_SHARE else WEIGHT_DATA,
        title=f"the model learned the loop from its data: {share:.0%} of the training targets loop",
        explanation=(
            f"The targets in column {column!r} of the dataset repeat a span back to back, measured the same "
            "way as the outputs. A model fine-tuned on them learns to repeat, whatever the Ludwig version "
            "or the generation settings."
        ),
        action=f"Clean the looping targets in {dataset.path.name} and retrain.",
        evidence=evidence,
    )


def _output_loop_units(run: Run) -> set[str]:
    """Return the repeating units of every looping output: free generations and eval examples."""
    scans = [*scan_predictions(run), *scan_eval_examples(run)]
    return {report.span.unit for scan in scans for report in scan.reports if report.span is not None}


def _training_cause(run: Run, findings: list[Finding], symptoms: list[Finding]) -> Cause | None:
    evidence: list[Evidence] = []
    weight = 0
    trainer = config_section(run, "trainer")

    loss_evidence = _validation_loss_evidence(run)
    if loss_evidence:
        evidence.extend(loss_evidence)
        weight = WEIGHT_TRAINING_LOSS

    learning_rate = _number(trainer.get("learning_rate"))
    rate_too_high = learning_rate is not None and learning_rate > HIGH_LORA_LEARNING_RATE
    uses_adapter = bool(config_section(run, "adapter"))
    if rate_too_high and uses_adapter:
        evidence.append(
            Evidence(
                source=DESCRIPTION_FILE,
                field="config.trainer.learning_rate",
                value=learning_rate,
                note=f"high for a {config_section(run, 'adapter').get('type', 'adapter')} fine-tune "
                f"(above {HIGH_LORA_LEARNING_RATE:g})",
            )
        )
        weight = max(weight, WEIGHT_TRAINING_RATE)

    health = _findings_with_ids(findings, TRAINING_HEALTH_IDS)
    if not evidence and not health:
        return None

    patches = []
    if rate_too_high:
        patches.append(
            Patch(
                path="trainer.learning_rate",
                value=SUGGESTED_LEARNING_RATE,
                reason="Ludwig's default for LLM fine-tuning from 0.9",
            )
        )
    scheduler = trainer.get("learning_rate_scheduler")
    warmup = _number(scheduler.get("warmup_fraction")) if isinstance(scheduler, dict) else None
    if warmup is None or warmup <= 0:
        evidence.append(
            Evidence(
                source=DESCRIPTION_FILE,
                field="config.trainer.learning_rate_scheduler.warmup_fraction",
                value=warmup,
                note="no warmup: the first steps run at the full learning rate",
            )
        )
        patches.append(
            Patch(
                path="trainer.learning_rate_scheduler.warmup_fraction",
                value=SUGGESTED_WARMUP_FRACTION,
                reason="a short warmup keeps the first updates of a fresh adapter small",
            )
        )

    return Cause(
        key="training",
        weight=max(weight, WEIGHT_TRAINING_LOSS if health else 0),
        title=_training_title(bool(loss_evidence), weight == WEIGHT_TRAINING_RATE or bool(patches)),
        explanation=(
            "A learning rate too high for the adapter, no warmup, or a validation loss far above the "
            "training loss or rising, means the adapter did not settle on the targets. Such a model often "
            "falls into repeating its most frequent words."
        ),
        action="Lower the learning rate, add a warmup, and retrain.",
        evidence=evidence,
        patches=_merge_patches(patches, [patch for finding in health for patch in finding.patches]),
        based_on=[finding.id for finding in health],
    )


def _merge_patches(own: list[Patch], others: list[Patch]) -> list[Patch]:
    """Prefer the patches of the findings a cause builds on; keep own patches for other paths."""
    paths = {patch.path for patch in others}
    merged = list({patch.path: patch for patch in others}.values())
    return merged + [patch for patch in own if patch.path not in paths]


def _training_title(loss_signs: bool, rate_signs: bool) -> str:
    if loss_signs:
        return "unstable training: the validation loss is far above the training loss or rising"
    if rate_signs:
        return "a learning rate high for an adapter fine-tune, or no warmup"
    return "unstable training, as the training-health findings show"


def _validation_loss_evidence(run: Run) -> list[Evidence]:
    """Compare the last validation loss with the training loss and with its own minimum."""
    statistics = run.training_statistics or {}
    training = _combined_loss(statistics.get("training"))
    validation = _combined_loss(statistics.get("validation"))
    if not validation:
        return []

    evidence = []
    last = validation[-1]
    if training and training[-1] > 0 and last >= VALIDATION_GAP_RATIO * training[-1]:
        evidence.append(
            Evidence(
                source=STATISTICS_FILE,
                field="validation.combined.loss",
                value=round(last, 4),
                note=f"{last / training[-1]:.1f} times the last training loss {training[-1]:.4g}",
            )
        )
    lowest = min(validation)
    if (
        lowest > 0
        and last >= VALIDATION_RISE_RATIO * lowest
        and validation.index(lowest) < len(validation) - 1
    ):
        evidence.append(
            Evidence(
                source=STATISTICS_FILE,
                field="validation.combined.loss",
                value=round(last, 4),
                note=f"rose from its minimum {lowest:.4g} at evaluation {validation.index(lowest)}",
            )
        )
    return evidence


def _combined_loss(split: Any) -> list[float]:
    if not isinstance(split, dict):
        return []
    combined = split.get("combined")
    values = combined.get("loss") if isinstance(combined, dict) else None
    if not isinstance(values, list):
        return []
    numbers = [_number(value) for value in values]
    return [value for value in numbers if value is not None]


def _template_cause(run: Run, findings: list[Finding], symptoms: list[Finding]) -> Cause | None:
    template = config_section(run, "prompt").get("template")
    if not isinstance(template, str) or not template:
        return None

    tokenizer = read_tokenizer_info(run.base_model, local_base_model(run))
    special = {
        *SPECIAL_TOKEN_STRINGS,
        *(token for token in (tokenizer.eos_token, tokenizer.pad_token) if token),
    }
    found = sorted(token for token in special if token in template)
    evidence = []
    notes = []
    if found:
        evidence.append(
            Evidence(
                source=DESCRIPTION_FILE,
                field="config.prompt.template",
                value=template,
                note=f"contains the special-token strings {', '.join(found)}",
            )
        )
        notes.append(
            "The prompt template contains special-token strings, so the model sees a stop or start "
            "token inside the prompt and learns that text goes on after it."
        )

    mismatch = _template_mismatch(run.base_model or "", template)
    if mismatch:
        evidence.append(
            Evidence(source=DESCRIPTION_FILE, field="config.base_model", value=run.base_model, note=mismatch)
        )
        notes.append(
            "The template does not match how the base model was tuned, so the model has to learn the "
            "format and where it ends from the fine-tuning data alone."
        )

    if not evidence:
        return None
    patches = []
    if found:
        cleaned = template
        for token in found:
            cleaned = cleaned.replace(token, "")
        patches.append(
            Patch(path="prompt.template", value=cleaned, reason="the template without special-token strings")
        )
    return Cause(
        key="template",
        weight=WEIGHT_TEMPLATE,
        title="the prompt template does not fit the model",
        explanation=" ".join(notes),
        action="Remove special-token strings from the template, and use the chat format of an instruct "
        "model (or a plain template with a base model); then retrain.",
        evidence=evidence,
        patches=patches,
    )


def _template_mismatch(base_model: str, template: str) -> str:
    instruct = bool(_INSTRUCT_NAME.search(base_model))
    chat_format = any(marker in template for marker in CHAT_MARKERS)
    if instruct and not chat_format:
        return "an instruct or chat model used with a template that has none of its chat markers"
    if not instruct and chat_format and base_model:
        return "a base model used with a chat template"
    return ""


def _undertrained_cause(run: Run, findings: list[Finding], symptoms: list[Finding]) -> Cause | None:
    steps = as_int((run.training_progress or {}).get("steps"))
    evidence = []
    if steps is not None and 0 < steps < FEW_STEPS:
        evidence.append(
            Evidence(
                source=PROGRESS_FILE,
                field="steps",
                value=steps,
                note=f"fewer than {FEW_STEPS} optimizer steps",
            )
        )
    rows = _training_rows(run)
    if rows is not None and 0 < rows < FEW_TRAINING_ROWS:
        evidence.append(
            Evidence(
                source=recorded_dataset_path(run) or "dataset",
                field="training rows",
                value=rows,
                note=f"fewer than {FEW_TRAINING_ROWS}",
            )
        )
    health = _findings_with_ids(findings, UNDERTRAINING_HEALTH_IDS)
    if not evidence and not health:
        return None
    return Cause(
        key="undertrained",
        weight=WEIGHT_UNDERTRAINED,
        title="too little training",
        explanation=(
            "With this few steps or rows the adapter has seen each target's end too rarely to learn to "
            "stop there."
        ),
        action="Train on more rows or for more epochs.",
        evidence=evidence,
        based_on=[finding.id for finding in health],
        patches=[Patch(path="trainer.epochs", value=_more_epochs(run), reason="more passes over the data")]
        if steps is not None and steps < FEW_STEPS
        else [],
    )


def _training_rows(run: Run) -> int | None:
    """Count the training rows of the run's dataset, when it can be read and is not sampled."""
    outputs = features(run, "output_features")
    column = (outputs[0].get("column") or outputs[0].get("name")) if outputs else None
    if not isinstance(column, str):
        return None
    dataset = read_training_column(run, column)
    if dataset is None or dataset.sampled:
        return None
    return len(dataset.values)


def _more_epochs(run: Run) -> int:
    epochs = as_int(config_section(run, "trainer").get("epochs")) or 1
    return epochs * 3


def _generation_cause(run: Run, findings: list[Finding], symptoms: list[Finding]) -> Cause | None:
    free_generation = [finding for finding in symptoms if finding.id in FREE_GENERATION_SYMPTOMS]
    if not free_generation:
        return None

    generation = config_section(run, "generation")
    evidence: list[Evidence] = []
    patches: list[Patch] = []

    max_new_tokens = as_int(generation.get("max_new_tokens"))
    target_p99, target_max = _target_lengths(run)
    if (
        max_new_tokens is not None
        and target_p99 is not None
        and max_new_tokens >= MAX_NEW_TOKENS_RATIO * target_p99
    ):
        evidence.append(
            Evidence(
                source=DESCRIPTION_FILE,
                field="config.generation.max_new_tokens",
                value=max_new_tokens,
                note=f"{max_new_tokens / target_p99:.1f} times the targets' 99th percentile of {target_p99:g} tokens",
            )
        )
        longest = target_max if target_max is not None else target_p99
        suggested = _round_up(math.ceil(MAX_NEW_TOKENS_MARGIN * longest))
        patches.append(
            Patch(
                path="generation.max_new_tokens",
                value=suggested,
                reason=f"the longest target has {longest:g} tokens; {MAX_NEW_TOKENS_MARGIN:g} times that, "
                f"rounded up to a multiple of {LENGTH_MULTIPLE}",
            )
        )

    penalty = _number(generation.get("repetition_penalty", 1.0))
    greedy = generation.get("do_sample") is not True
    temperature = _number(generation.get("temperature"))
    low_temperature = temperature is not None and temperature <= LOW_TEMPERATURE
    if penalty is not None and penalty <= 1.0 and (greedy or low_temperature):
        decoding = "greedy decoding" if greedy else f"sampling at temperature {temperature}"
        evidence.append(
            Evidence(
                source=DESCRIPTION_FILE,
                field="config.generation.repetition_penalty",
                value=penalty,
                note=f"no penalty, with {decoding}",
            )
        )
        patches.append(
            Patch(
                path="generation.repetition_penalty",
                value=SUGGESTED_REPETITION_PENALTY,
                reason=_penalty_reason(run),
            )
        )
        if not as_int(generation.get("no_repeat_ngram_size")):
            patches.append(
                Patch(
                    path="generation.no_repeat_ngram_size",
                    value=SUGGESTED_NO_REPEAT_NGRAM_SIZE,
                    reason="forbids repeating any 4 tokens; it also blocks answers that legitimately repeat a phrase",
                )
            )

    if not evidence:
        return None
    return Cause(
        key="generation",
        weight=WEIGHT_GENERATION,
        title="generation settings let a loop run long",
        explanation=(
            "These settings do not make the model loop, but they let a loop run on: generation may go far "
            "past the longest target, and nothing penalises repeated tokens. Changing them shortens the "
            "damage without fixing the model."
        ),
        action="Use the generation patch as a stop-gap for prediction; fix the causes above it and retrain.",
        evidence=[*evidence, *_symptom_evidence(free_generation)],
        patches=patches,
    )


def _target_lengths(run: Run) -> tuple[float | None, float | None]:
    """Return the 99th percentile and the maximum of the output feature's recorded token lengths."""
    outputs = features(run, "output_features")
    entry = feature_metadata(run, outputs[0]) if outputs else None
    if not entry:
        return None, None
    p99 = entry.get("max_sequence_length_99ptile")
    longest = entry.get("max_sequence_length")
    p99_value = _number(p99)
    longest_value = _number(longest)
    p99_value = p99_value if p99_value is not None and p99_value > 0 else None
    longest_value = longest_value if longest_value is not None and longest_value > 0 else None
    return (p99_value if p99_value is not None else longest_value), longest_value


def _penalty_reason(run: Run) -> str:
    reason = "a mild penalty on tokens already generated"
    version = run.ludwig_version
    if version is not None and (0, 9, 0) <= version.release < (0, 9, 3):
        reason += (
            "; ludwig-ai/ludwig issue #3876 (January 2024, when 0.9.x was current) reports predict "
            "failing with repetition_penalty set, so test it on a few rows first"
        )
    return reason


def _round_up(length: int) -> int:
    return ((length + LENGTH_MULTIPLE - 1) // LENGTH_MULTIPLE) * LENGTH_MULTIPLE


def _number(value: Any) -> float | None:
    """Return a finite int or float (not a bool) as a float, else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
