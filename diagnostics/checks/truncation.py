"""Truncation check from the lengths Ludwig recorded: do the sequence limits cut targets?

Ludwig joins each LLM row (rendered prompt and input, then the target and its stop token) and cuts
the result to ``preprocessing.global_max_sequence_length`` (``llm_utils.generate_merged_ids``
appends the stop token before cutting). It also cuts each feature to its own
``max_sequence_length``. In LLM mode it logs no warning for either. A cut target never teaches the
model to stop; a row whose prompt alone fills the limit has no target tokens left, and a batch of
such rows logs a NaN step loss.

The merged finding uses exact per-row counts (``..tokens``) when the run's tokenizer and dataset
are available offline, and the lengths Ludwig recorded otherwise.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..findings import Evidence, Finding, Patch, Severity
from ..run import Run
from .context import (
    METADATA_FILE,
    as_int,
    config_section,
    feature_metadata,
    feature_preprocessing,
    features,
    local_base_model,
)

HYPERPARAMETERS_FILE = "model/model_hyperparameters.json"
TRAINING_LOGS = "model/logs/training"

# Suggested limits are rounded up to a multiple of 8, which GPU kernels handle efficiently.
LENGTH_MULTIPLE = 8
# Above this many tokens, and when the suggested limit grows by GROWTH_RATIO or more, memory per step
# grows enough that the patch also turns on gradient checkpointing (the Ludwig bug report about
# repeated outputs used 2048-token sequences without it).
GRADIENT_CHECKPOINTING_MIN_LENGTH = 512
GROWTH_RATIO = 1.5

# Ludwig's ECD text features log this line when the data is longer than the configured limit.
_ECD_TRUNCATION_LOG = re.compile(
    r"The max sequence length of the data, (\d+), is longer than the max sequence length set in the config, (\d+)"
)


@dataclass(frozen=True)
class FeatureLengths:
    """Token lengths of one feature as Ludwig recorded them."""

    index: int
    kind: str  # "input_features" or "output_features"
    name: str
    observed_max: int | None
    observed_p99: float | None
    configured_limit: int | None
    prompt_template_tokens: int | None
    source: str  # the file the observed lengths came from

    @property
    def config_path(self) -> str:
        return f"{self.kind}[{self.index}].preprocessing.max_sequence_length"


def check_truncation(run: Run) -> list[Finding]:
    """Return findings for sequence limits that cut the recorded data."""
    inputs = [
        _feature_lengths(run, feature, "input_features", index)
        for index, feature in _indexed(run, "input_features")
    ]
    outputs = [
        _feature_lengths(run, feature, "output_features", index)
        for index, feature in _indexed(run, "output_features")
    ]

    findings: list[Finding] = []
    if run.model_type == "llm":
        # Exact per-row counts replace the recorded estimate when the tokenizer and dataset are here.
        from ..tokens.finding import measured_or_recorded

        merged = measured_or_recorded(run, _merged_finding(run, inputs, outputs))
        if merged is not None:
            findings.append(merged)

    for lengths in [*inputs, *outputs]:
        finding = _feature_limit_finding(run, lengths)
        if finding is not None:
            findings.append(finding)

    return findings


def _indexed(run: Run, kind: str) -> list[tuple[int, dict[str, Any]]]:
    return list(enumerate(features(run, kind)))


def _feature_lengths(run: Run, feature: dict[str, Any], kind: str, index: int) -> FeatureLengths:
    entry = feature_metadata(run, feature)
    source = METADATA_FILE
    observed_max = as_int(entry.get("max_sequence_length")) if entry else None
    observed_p99 = _as_float(entry.get("max_sequence_length_99ptile")) if entry else None
    template_tokens = as_int(entry.get("prompt_template_num_tokens")) if entry else None

    if observed_max is None:
        observed_max = _hyperparameter_length(run, kind, index)
        source = HYPERPARAMETERS_FILE

    return FeatureLengths(
        index=index,
        kind=kind,
        name=str(feature.get("name")),
        observed_max=observed_max,
        observed_p99=observed_p99,
        configured_limit=as_int(feature_preprocessing(feature).get("max_sequence_length")),
        prompt_template_tokens=template_tokens
        if template_tokens is not None and template_tokens >= 0
        else None,
        source=source,
    )


def _hyperparameter_length(run: Run, kind: str, index: int) -> int | None:
    """Read the training-time length that model_hyperparameters.json stores in the encoder or decoder."""
    hyperparameters = run.model_hyperparameters or {}
    entries = hyperparameters.get(kind)
    if not isinstance(entries, list) or index >= len(entries) or not isinstance(entries[index], dict):
        return None
    block = entries[index].get("encoder" if kind == "input_features" else "decoder")
    return as_int(block.get("max_sequence_length")) if isinstance(block, dict) else None


def _as_float(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _merged_finding(run: Run, inputs: list[FeatureLengths], outputs: list[FeatureLengths]) -> Finding | None:
    limit = as_int(config_section(run, "preprocessing").get("global_max_sequence_length"))
    if limit is None or not inputs or not outputs:
        return None

    prompt, target = inputs[0], outputs[0]
    if prompt.observed_max is None or target.observed_max is None:
        return None

    # The stop token is appended to the target before the merged sequence is cut.
    longest_merged = prompt.observed_max + target.observed_max + 1
    if longest_merged <= limit:
        return None

    nan_evidence = _nan_step_loss_evidence(run)
    whole_target_lost = prompt.observed_max >= limit
    severity = Severity.ERROR if whole_target_lost or nan_evidence else Severity.WARNING

    evidence = [
        Evidence(
            source="description.json",
            field="config.preprocessing.global_max_sequence_length",
            value=limit,
        ),
        *_length_evidence(prompt, "the rendered prompt, template included"),
        *_length_evidence(target, "the target, before its stop token"),
        *nan_evidence,
        *_token_ceiling_evidence(run),
    ]
    return Finding(
        id="truncation.global_max_sequence_length",
        severity=severity,
        title=_merged_title(whole_target_lost, prompt, limit),
        explanation=(
            f"Ludwig joins the prompt ({prompt.observed_max} tokens at most) and the target "
            f"({target.observed_max} tokens at most, plus its stop token) and cuts the result to "
            f"global_max_sequence_length = {limit}. Rows longer than that lose the end of their target "
            "and its stop token, so the model does not learn to stop; rows whose prompt alone reaches "
            "the limit lose the whole target, and batches of them give NaN step losses. Ludwig logs no "
            "warning for this."
        ),
        action="Raise the limit so that the longest row fits (this needs more memory per step).",
        evidence=evidence,
        patches=_merged_patches(run, limit, longest_merged),
    )


def _merged_title(whole_target_lost: bool, prompt: FeatureLengths, limit: int) -> str:
    if whole_target_lost:
        return f"global_max_sequence_length {limit} cuts whole targets: prompts reach {prompt.observed_max} tokens"
    return f"global_max_sequence_length {limit} cuts the end of the longest targets and their stop token"


def _length_evidence(lengths: FeatureLengths, note: str) -> list[Evidence]:
    evidence = [
        Evidence(
            source=lengths.source,
            field=f"{lengths.name}.max_sequence_length",
            value=lengths.observed_max,
            note=note,
        )
    ]
    if lengths.observed_p99 is not None:
        evidence.append(
            Evidence(
                source=METADATA_FILE,
                field=f"{lengths.name}.max_sequence_length_99ptile",
                value=lengths.observed_p99,
            )
        )
    if lengths.prompt_template_tokens is not None and lengths.kind == "input_features":
        evidence.append(
            Evidence(
                source=METADATA_FILE,
                field=f"{lengths.name}.prompt_template_num_tokens",
                value=lengths.prompt_template_tokens,
            )
        )
    return evidence


def _nan_step_loss_evidence(run: Run) -> list[Evidence]:
    """Count NaN values of the per-step training loss in the TensorBoard training logs."""
    evidence = []
    for tag, points in sorted(run.scalars.get("training", {}).items()):
        if not tag.endswith("step_training_loss") or tag.startswith("combined/"):
            continue
        nan_steps = [point.step for point in points if math.isnan(point.value)]
        if nan_steps:
            shown = ", ".join(str(step) for step in nan_steps[:8])
            evidence.append(
                Evidence(
                    source=TRAINING_LOGS,
                    field=tag,
                    value=f"{len(nan_steps)} of {len(points)} steps are NaN",
                    note=f"steps {shown}{', ...' if len(nan_steps) > 8 else ''}",
                )
            )
    return evidence


def _token_ceiling_evidence(run: Run) -> list[Evidence]:
    """Report how often the per-step token count reached its maximum, a sign of a hard limit."""
    points = run.scalars.get("training", {}).get("tokens/tokens", [])
    values = [point.value for point in points if math.isfinite(point.value)]
    if not values:
        return []
    highest = max(values)
    at_highest = sum(1 for value in values if value == highest)
    return [
        Evidence(
            source=TRAINING_LOGS,
            field="tokens/tokens",
            value=f"max {highest:g} tokens per step, reached in {at_highest} of {len(values)} steps",
        )
    ]


def _merged_patches(run: Run, limit: int, longest_merged: int) -> list[Patch]:
    suggested = _round_up(longest_merged)
    context_window = _context_window(run)
    reason = f"the longest recorded row needs {longest_merged} tokens; rounded up to a multiple of {LENGTH_MULTIPLE}"

    if context_window is not None and suggested > context_window:
        suggested = context_window
        reason += f", capped at the model's context window of {context_window}"

    patches = [Patch(path="preprocessing.global_max_sequence_length", value=suggested, reason=reason)]

    trainer = config_section(run, "trainer")
    grows_a_lot = suggested >= GRADIENT_CHECKPOINTING_MIN_LENGTH and suggested >= GROWTH_RATIO * limit
    if grows_a_lot and trainer.get("enable_gradient_checkpointing") is not True:
        patches.append(
            Patch(
                path="trainer.enable_gradient_checkpointing",
                value=True,
                reason=f"sequences grow from {limit} to {suggested} tokens; checkpointing trades compute for activation memory",
            )
        )
    return patches


def _round_up(length: int) -> int:
    return ((length + LENGTH_MULTIPLE - 1) // LENGTH_MULTIPLE) * LENGTH_MULTIPLE


def _context_window(run: Run) -> int | None:
    """Read max_position_embeddings from the local base model's config.json, when it is available."""
    import json

    folder = local_base_model(run)
    if folder is None:
        return None
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return as_int(config.get("max_position_embeddings")) if isinstance(config, dict) else None


def _feature_limit_finding(run: Run, lengths: FeatureLengths) -> Finding | None:
    """Report a feature whose recorded length reached its own max_sequence_length, which cut it."""
    limit = lengths.configured_limit
    if limit is None or lengths.observed_max is None or lengths.observed_max < limit:
        return None

    logged = _logged_data_length(run, lengths)
    share_cut = lengths.observed_p99 is not None and lengths.observed_p99 >= limit
    if logged is None and not share_cut and run.model_type != "llm":
        severity = Severity.INFO
    else:
        severity = Severity.WARNING

    evidence = [
        Evidence(source="description.json", field=f"config.{lengths.config_path}", value=limit),
        *_length_evidence(lengths, "capped at the configured limit"),
    ]
    patches: list[Patch] = []
    if logged is not None:
        log_path, data_length = logged
        evidence.append(
            Evidence(source=log_path, field="log", value=f"the data is {data_length} tokens long")
        )
        patches.append(
            Patch(
                path=lengths.config_path,
                value=_round_up(data_length),
                reason=f"Ludwig logged a data length of {data_length}; rounded up to a multiple of {LENGTH_MULTIPLE}",
            )
        )

    return Finding(
        id=f"truncation.{lengths.kind.removesuffix('_features')}_max_sequence_length",
        severity=severity,
        title=f"Feature '{lengths.name}' reaches its max_sequence_length {limit}, so longer rows were cut",
        explanation=(
            f"Ludwig recorded a longest '{lengths.name}' of {lengths.observed_max} tokens, equal to the "
            f"configured max_sequence_length {limit}: it cut every longer row to that length"
            + (" and at least 1% of rows reach it." if share_cut else ".")
        ),
        action="Raise the feature's max_sequence_length to the real length of the data, or remove it.",
        evidence=evidence,
        patches=patches,
    )


def _logged_data_length(run: Run, lengths: FeatureLengths) -> tuple[str, int] | None:
    """Find Ludwig's 'data is longer than the config' line in a log saved beside the run."""
    if lengths.configured_limit is None:
        return None
    for log_path in _candidate_logs(run.path):
        try:
            text = log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for match in _ECD_TRUNCATION_LOG.finditer(text):
            if int(match.group(2)) == lengths.configured_limit:
                return (_relative(log_path, run.path), int(match.group(1)))
    return None


def _candidate_logs(run_path: Path) -> list[Path]:
    """Return *.log files in the run directory and up to two folders above it."""
    folders = [run_path, run_path.parent, run_path.parent.parent]
    logs: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            logs.extend(sorted(folder.glob("*.log")))
    return logs


def _relative(path: Path, run_path: Path) -> str:
    try:
        return path.relative_to(run_path).as_posix()
    except ValueError:
        import os

        return os.path.relpath(path, run_path)
