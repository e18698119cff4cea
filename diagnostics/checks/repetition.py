"""Repetition check: looping text in teacher-forced eval examples and in free generations."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..findings import Evidence, Finding, Severity
from ..loops import LoopReport, analyse_texts, mark_loop
from ..run import Run
from .context import METADATA_FILE, as_int, config_section, feature_metadata, features

# A run is reported when at least this share of its rows loop; one odd row is not a pattern.
MIN_LOOPING_SHARE = 0.05
# Free generations looping this often make the model unusable as it is.
ERROR_LOOPING_SHARE = 0.5
# Longest example text shown in evidence, in characters, and the number of looping rows shown.
EXAMPLE_CHARS = 240
EXAMPLE_ROWS = 3
# A generation with more than this many times the longest recorded target's tokens did not stop
# where the training targets did.
NO_STOP_LENGTH_RATIO = 2.0
# Words kept after the target's own length when reading the target part of a teacher-forced output
# (the stop token and a little misalignment).
TAIL_EXTRA_WORDS = 2

_WORD = re.compile(r"\S+")

TEACHER_FORCED = "llm_eval_examples (teacher-forced during training, not free generation)"
FREE_GENERATION = "predictions (free generation)"


@dataclass(frozen=True)
class SourceScan:
    """Loop measures of every row of one file."""

    file: str
    reports: list[LoopReport]
    texts: list[str]
    # TEACHER_FORCED or FREE_GENERATION.
    kind: str = FREE_GENERATION
    # The target of each row, when the file has one (llm_eval_examples do, predictions do not).
    targets: list[str] | None = None
    # Generated tokens per row, when the predictions record them.
    token_counts: list[int] | None = None

    @property
    def looping_rows(self) -> list[int]:
        return [index for index, report in enumerate(self.reports) if report.loops]

    @property
    def share(self) -> float:
        return len(self.looping_rows) / len(self.reports) if self.reports else 0.0


def check_repetition(run: Run) -> list[Finding]:
    """Return a finding for each source whose outputs loop in a notable share of rows."""
    findings = []

    eval_finding = _eval_examples_finding(scan_eval_examples(run))
    if eval_finding is not None:
        findings.append(eval_finding)

    for scan in scan_predictions(run):
        finding = _predictions_finding(run, scan, scan.token_counts)
        if finding is not None:
            findings.append(finding)
        no_stop = _no_stop_finding(run, scan, scan.token_counts)
        if no_stop is not None:
            findings.append(no_stop)

    return findings


def scan_predictions(run: Run) -> list[SourceScan]:
    """Measure the loops of every generated text of the run's predictions, one scan per file and column."""
    scans = []
    for predictions in run.predictions:
        texts = [text or "" for text in predictions.responses]
        scans.append(
            SourceScan(
                file=_relative(predictions.source_file, run.path),
                reports=analyse_texts(texts),
                texts=texts,
                kind=FREE_GENERATION,
                token_counts=predictions.generated_token_counts,
            )
        )
    return scans


def scan_eval_examples(run: Run) -> list[SourceScan]:
    """Measure the loops of the target part of every llm_eval_examples file, oldest evaluation first."""
    files = sorted((examples for examples in run.eval_examples if examples.rows), key=lambda item: item.index)
    scans = []
    for examples in files:
        texts = [_target_positions(row) for row in examples.rows]
        scans.append(
            SourceScan(
                file=_relative(examples.path, run.path),
                reports=analyse_texts(texts),
                texts=texts,
                kind=TEACHER_FORCED,
                targets=[row.get("targets") or "" for row in examples.rows],
            )
        )
    return scans


def _eval_examples_finding(scans: list[SourceScan]) -> Finding | None:
    if not scans:
        return None

    latest = scans[-1]
    if latest.share < MIN_LOOPING_SHARE:
        return None

    trend = ", ".join(f"{Path(scan.file).stem}: {scan.share:.0%}" for scan in scans)
    evidence = [
        _share_evidence(latest),
        Evidence(
            source="model/llm_eval_examples",
            field="outputs",
            value=trend,
            note="looping share per evaluation file",
        ),
        *_example_evidence(latest),
    ]
    return Finding(
        id="repetition.eval_examples",
        severity=Severity.WARNING,
        title=f"{latest.share:.0%} of the last evaluation's outputs loop",
        explanation=(
            "At the target positions, the outputs Ludwig saved during training repeat a span back to back. "
            "These outputs are teacher-forced (each token is predicted from the true previous tokens), so a "
            "loop here means the model itself predicts repetition; the prompt positions are ignored because "
            "they are never trained. The repetition.cause findings of this run rank the causes that its "
            "files support."
        ),
        source=TEACHER_FORCED,
        evidence=evidence,
    )


def _target_positions(row: dict[str, str]) -> str:
    """Return the end of a teacher-forced output: the part that predicts the target.

    Ludwig decodes the argmax at every position of the merged sequence, prompt included, and the
    prompt positions are never trained, so they often hold repeated filler such as "is is is". Only
    the last positions, as many words as the target has plus its stop token, predict the target.
    """
    output = row.get("outputs") or ""
    target_words = len((row.get("targets") or "").split())
    words = list(_WORD.finditer(output))
    keep = target_words + TAIL_EXTRA_WORDS
    if len(words) <= keep:
        return output
    return output[words[-keep].start() :]


def _predictions_finding(run: Run, scan: SourceScan, token_counts: list[int] | None) -> Finding | None:
    if scan.share < MIN_LOOPING_SHARE:
        return None

    evidence = [_share_evidence(scan), *_limit_evidence(run, scan, token_counts), *_example_evidence(scan)]
    severity = Severity.ERROR if scan.share >= ERROR_LOOPING_SHARE else Severity.WARNING
    return Finding(
        id="repetition.predictions",
        severity=severity,
        title=f"{scan.share:.0%} of the generated answers loop",
        explanation=(
            "The generated text repeats a span back to back until generation stops. A model that never "
            "learned to emit its stop token keeps generating up to max_new_tokens. The repetition.cause "
            "findings of this run rank the causes that its files support."
        ),
        source=FREE_GENERATION,
        evidence=evidence,
    )


def _share_evidence(scan: SourceScan) -> Evidence:
    return Evidence(
        source=scan.file,
        field="outputs",
        value=f"{len(scan.looping_rows)} of {len(scan.reports)} rows loop",
        note=f"{scan.share:.0%}",
    )


def worst_rows(scan: SourceScan) -> list[int]:
    """Return the looping rows, the one whose loop covers the largest share of its text first."""
    return sorted(scan.looping_rows, key=lambda index: (-scan.reports[index].score, index))


def _example_evidence(scan: SourceScan) -> list[Evidence]:
    """Show the worst looping rows, each with its loop between [[ and ]]."""
    evidence = []
    for row in worst_rows(scan)[:EXAMPLE_ROWS]:
        report = scan.reports[row]
        assert report.span is not None
        marked = mark_loop(scan.texts[row], report.span)
        if len(marked) > EXAMPLE_CHARS:
            marked = marked[: EXAMPLE_CHARS - 1] + "…"
        evidence.append(
            Evidence(
                source=scan.file,
                field=f"row {row}",
                value=marked,
                note=f"{report.span.kind} loop: {report.span.unit!r} repeated {report.span.repeats:g} times",
            )
        )
    return evidence


def _limit_evidence(run: Run, scan: SourceScan, token_counts: list[int] | None) -> list[Evidence]:
    """Count looping rows that ran to generation.max_new_tokens, when the token counts are known."""
    max_new_tokens = as_int(config_section(run, "generation").get("max_new_tokens"))
    if max_new_tokens is None or not token_counts or len(token_counts) != len(scan.reports):
        return []

    at_limit = sum(1 for index in scan.looping_rows if token_counts[index] >= max_new_tokens)
    return [
        Evidence(
            source=scan.file,
            field="generated tokens",
            value=f"{at_limit} of {len(scan.looping_rows)} looping rows ran to max_new_tokens = {max_new_tokens}",
        )
    ]


def _relative(path: Path, run_path: Path) -> str:
    return os.path.relpath(path, run_path)


def _no_stop_finding(run: Run, scan: SourceScan, token_counts: list[int] | None) -> Finding | None:
    """Report generations far longer than any training target: the model did not learn to stop."""
    target = _longest_recorded_target(run)
    if target is None or not token_counts:
        return None
    target_length, target_field = target

    threshold = NO_STOP_LENGTH_RATIO * target_length
    long_rows = [index for index, count in enumerate(token_counts) if count > threshold]
    share = len(long_rows) / len(token_counts)
    if share < MIN_LOOPING_SHARE:
        return None

    longest = sorted(token_counts)[len(token_counts) // 2]
    max_new_tokens = config_section(run, "generation").get("max_new_tokens")
    evidence = [
        Evidence(
            source=METADATA_FILE, field=target_field, value=target_length, note="longest training target"
        ),
        Evidence(
            source=scan.file,
            field="generated tokens",
            value=f"{len(long_rows)} of {len(token_counts)} rows exceed {threshold:g} tokens",
            note=f"median {longest} tokens per answer; generation.max_new_tokens = {max_new_tokens}",
        ),
    ]
    example = long_rows[0]
    evidence.append(Evidence(source=scan.file, field=f"row {example}", value=_clip(scan.texts[example])))

    return Finding(
        id="repetition.no_stop",
        severity=Severity.ERROR if share >= ERROR_LOOPING_SHARE else Severity.WARNING,
        title=f"{share:.0%} of the generated answers run far past the length of any training target",
        explanation=(
            f"No training target is longer than {target_length} tokens, yet these answers are more than "
            f"{NO_STOP_LENGTH_RATIO:g} times longer: the model does not emit its stop token where the targets "
            "end, so generation continues until max_new_tokens. The repetition.cause findings of this run "
            "rank the causes that its files support."
        ),
        source=FREE_GENERATION,
        evidence=evidence,
    )


def _longest_recorded_target(run: Run) -> tuple[int, str] | None:
    outputs = features(run, "output_features")
    if not outputs:
        return None
    entry = feature_metadata(run, outputs[0])
    length = as_int(entry.get("max_sequence_length")) if entry else None
    if length is None or length <= 0:
        return None
    return length, f"{outputs[0].get('name')}.max_sequence_length"


def _clip(text: str) -> str:
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"
