"""The truncation finding from measured token counts, or the recorded one with what is missing."""

from __future__ import annotations

import logging
import os
from dataclasses import replace

from ..findings import Evidence, Finding, Severity
from ..run import Run
from .analysis import TokenAnalysis, analyze_run
from .budget import CUT_DESCRIPTIONS, CUT_KINDS, LengthStats, expected_empty_batches
from .errors import TokenAnalysisError
from .suggest import suggest

logger = logging.getLogger(__name__)

FINDING_ID = "truncation.global_max_sequence_length"
METADATA_FILE = "model/training_set_metadata.json"
TRAINING_LOGS = "model/logs/training"


def measured_or_recorded(run: Run, recorded: Finding | None) -> Finding | None:
    """Return the finding from exact counts when the tokenizer and dataset are here, else ``recorded``.

    When the analysis cannot run, the recorded finding gains the reason, so the user learns which
    model or file is missing and how to provide it.
    """
    try:
        analysis = analyze_run(run)
    except TokenAnalysisError as error:
        logger.info("exact token counts unavailable for %s: %s", run.path, error)
        if recorded is None:
            return None
        note = Evidence(
            source="description.json",
            field="config.base_model",
            value=run.base_model,
            note=f"exact per-row counts unavailable: {error}",
        )
        return replace(
            recorded,
            evidence=[*recorded.evidence, note],
            action=f"{recorded.action} For exact per-row counts: {error}.",
        )
    return measured_finding(run, analysis, recorded)


def measured_finding(run: Run, analysis: TokenAnalysis, recorded: Finding | None = None) -> Finding | None:
    """Build the finding from measured counts; None when no row loses a target token."""
    cuts = analysis.cuts()
    every = cuts["all"]
    if every.target_cut == 0:
        return None
    training = cuts.get("training")
    spec, limit = analysis.spec, analysis.limits.global_limit
    dataset = _relative(analysis, run)

    nan_evidence = _nan_evidence(run, recorded)
    no_target = (training or every).no_target
    severity = Severity.ERROR if no_target or nan_evidence else Severity.WARNING

    evidence = [
        Evidence(
            source="description.json",
            field="config.preprocessing.global_max_sequence_length",
            value=spec.global_max_sequence_length,
        ),
        *_stats_evidence(analysis, dataset),
        *_cut_evidence(analysis, dataset),
        *_agreement_evidence(run, analysis),
        *nan_evidence,
        *_nan_estimate(run, analysis),
        *[item for item in (recorded.evidence if recorded else []) if item.field == "tokens/tokens"],
        *_example_evidence(analysis, dataset),
    ]
    suggestion = suggest(analysis)
    shown = f"{every.target_cut} of {every.rows} rows"
    if training is not None:
        shown += f" ({training.target_cut} of {training.rows} training rows)"
    return Finding(
        id=FINDING_ID,
        severity=severity,
        title=f"global_max_sequence_length {limit} cuts the target of {shown}",
        explanation=(
            f"Measured with the run's tokenizer on {dataset}: Ludwig joins the rendered prompt and input, the "
            f"target and its stop token, and cuts the result to {limit} tokens. {every.no_target} rows keep no "
            f"target token at all and {every.target_cut - every.no_target} lose the end of their target or only "
            "the stop token. A cut stop token means the model does not learn to stop; batches made only of rows "
            "without target tokens log a NaN step loss. Ludwig logs no warning for this."
        ),
        action="Raise the limit so that the rows fit (this needs more memory per step).",
        evidence=evidence,
        patches=suggestion.patches,
        source=f"measured: {analysis.tokenizer.how} tokenizer {analysis.tokenizer.folder}",
    )


def _relative(analysis: TokenAnalysis, run: Run) -> str:
    return os.path.relpath(analysis.dataset, run.path)


def _stats_text(stats: LengthStats | None) -> str:
    if stats is None:
        return "no rows"
    return f"min {stats.min}, median {stats.median:g}, p90 {stats.p90:g}, p99 {stats.p99:g}, max {stats.max}"


def _stats_evidence(analysis: TokenAnalysis, dataset: str) -> list[Evidence]:
    spec = analysis.spec
    stats = analysis.stats()
    notes = {
        spec.input.name: f"column {spec.input.column} with the prompt template rendered, special tokens included",
        spec.output.name: f"column {spec.output.column}, special tokens included, before the stop token",
        "merged": "input + target + stop token, after the feature limits",
    }
    return [
        Evidence(source=dataset, field=name, value=_stats_text(stats[name]), note=notes[name])
        for name in notes
    ]


def _cut_evidence(analysis: TokenAnalysis, dataset: str) -> list[Evidence]:
    evidence = []
    for group, counts in analysis.cuts().items():
        for kind in CUT_KINDS:
            count = counts.counts.get(kind, 0)
            if count:
                evidence.append(
                    Evidence(
                        source=dataset,
                        field=f"rows ({group})",
                        value=f"{count} of {counts.rows} ({counts.share(count):.0%})",
                        note=CUT_DESCRIPTIONS[kind],
                    )
                )
    return evidence


def _agreement_evidence(run: Run, analysis: TokenAnalysis) -> list[Evidence]:
    """Compare the measured maxima with the max_sequence_length that Ludwig recorded."""
    metadata = run.training_set_metadata or {}
    evidence = []
    for feature, raw in (
        (analysis.spec.input, analysis.input_raw),
        (analysis.spec.output, analysis.target_raw),
    ):
        entry = metadata.get(feature.name)
        recorded = entry.get("max_sequence_length") if isinstance(entry, dict) else None
        if not isinstance(recorded, int) or len(raw) == 0:
            continue
        measured = int(raw.max())
        if feature.max_sequence_length is not None:
            measured = min(measured, feature.max_sequence_length)
        if measured == recorded:
            note = f"measured {measured}: agrees"
        else:
            note = (
                f"measured {measured}: differs, so the dataset, the tokenizer files or the prompt changed after "
                "training, or the run read another file"
            )
        evidence.append(
            Evidence(
                source=METADATA_FILE, field=f"{feature.name}.max_sequence_length", value=recorded, note=note
            )
        )
    return evidence


def _nan_evidence(run: Run, recorded: Finding | None) -> list[Evidence]:
    return [
        item
        for item in (recorded.evidence if recorded else [])
        if item.source == TRAINING_LOGS and "NaN" in str(item.value)
    ]


def _nan_estimate(run: Run, analysis: TokenAnalysis) -> list[Evidence]:
    """Relate the rows without target tokens to the NaN steps that such batches produce."""
    training = analysis.cuts().get("training")
    trainer = run.config.get("trainer")
    batch_size = trainer.get("batch_size") if isinstance(trainer, dict) else None
    epochs = trainer.get("epochs") if isinstance(trainer, dict) else None
    if training is None or not isinstance(batch_size, int) or not isinstance(epochs, int):
        return []
    expected = expected_empty_batches(training.rows, training.no_target, batch_size, epochs)
    if expected == 0:
        return []
    return [
        Evidence(
            source="description.json",
            field="config.trainer.batch_size",
            value=batch_size,
            note=(
                f"{training.no_target} of {training.rows} training rows keep no target token; with shuffled batches "
                f"of {batch_size} over {epochs} epochs, about {expected:.0f} steps draw only such rows (an estimate)"
            ),
        )
    ]


def _example_evidence(analysis: TokenAnalysis, dataset: str) -> list[Evidence]:
    evidence = []
    for example in analysis.examples():
        if example.kind == "fits":
            continue
        text = f"{example.input_tokens} + {example.target_tokens} + 1 = {example.merged_tokens} tokens"
        if example.input_preview is not None:
            text += f": {example.input_preview!r} -> {example.target_preview!r}"
        evidence.append(
            Evidence(
                source=dataset,
                field=f"row {example.row + 1}" + (f" ({example.split})" if example.split else ""),
                value=text,
                note=CUT_DESCRIPTIONS[example.kind],
            )
        )
    return evidence
