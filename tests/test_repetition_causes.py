"""Repetition on the sample runs: looping shares against hand labels, and the ranked causes.

Each cause is shown on a copy of a real sample run whose config, statistics or predictions were
changed in one place, so that exactly that cause applies.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ludwig_doctor.diagnostics.checks.repetition import scan_eval_examples, scan_predictions
from ludwig_doctor.diagnostics.findings import Finding
from ludwig_doctor.diagnostics.loader import load_run
from ludwig_doctor.diagnostics.run import Run
from ludwig_doctor.diagnostics.scan import DoctorOptions, scan

LABELS = Path(__file__).parent / "data" / "looping_rows.json"
RUN_FOLDER = Path("results") / "experiment_run"


def load_sample_run(run_folder: Path) -> Run:
    return load_run(run_folder / RUN_FOLDER, run_folder, [run_folder / "predict_test"])


def findings_of(run_folder: Path) -> list[Finding]:
    reports = scan([run_folder], DoctorOptions())
    assert len(reports) == 1
    return reports[0].findings


def cause_ids(findings: list[Finding]) -> list[str]:
    return [finding.id for finding in findings if finding.id.startswith("repetition.cause.")]


def finding(findings: list[Finding], finding_id: str) -> Finding:
    matches = [item for item in findings if item.id == finding_id]
    assert matches, f"{finding_id} not in {[item.id for item in findings]}"
    return matches[0]


def patch_values(item: Finding) -> dict[str, Any]:
    return {patch.path: patch.value for patch in item.patches}


def copy_run(sample_runs: Path, name: str, tmp_path: Path) -> Path:
    """Copy a sample run with the shared data and models, as a moved sample_runs folder would be."""
    target = tmp_path / name
    shutil.copytree(sample_runs / name, target)
    for shared in ("data", "models"):
        if not (tmp_path / shared).exists():
            shutil.copytree(sample_runs / shared, tmp_path / shared)
    return target


def edit_json(path: Path, edit: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def edit_config(run_folder: Path, edit: Any) -> None:
    edit_json(run_folder / RUN_FOLDER / "description.json", lambda data: edit(data["config"]))


LABELLED = [
    (run_name, file_name)
    for run_name, files in json.loads(LABELS.read_text(encoding="utf-8"))["runs"].items()
    for file_name in files
]


@pytest.mark.parametrize(("run_name", "file_name"), LABELLED)
def test_looping_rows_match_labels(sample_runs: Path, run_name: str, file_name: str) -> None:
    label = json.loads(LABELS.read_text(encoding="utf-8"))["runs"][run_name][file_name]
    run = load_sample_run(sample_runs / run_name)
    scans = [*scan_predictions(run), *scan_eval_examples(run)]
    wanted = (sample_runs / run_name / file_name).resolve()
    matching = [item for item in scans if (run.path / item.file).resolve() == wanted]
    assert len(matching) == 1, [item.file for item in scans]
    found = matching[0]

    labelled_rows = sorted(int(row) for row in label["looping"])
    assert len(found.reports) == label["rows"]
    assert found.looping_rows == labelled_rows
    assert found.share == pytest.approx(len(labelled_rows) / label["rows"])


def test_fits_run_has_no_repetition_finding(sample_runs: Path) -> None:
    findings = findings_of(sample_runs / "llm_fits")
    assert [item.id for item in findings if item.id.startswith("repetition.")] == []


def test_v091_run_blames_version_first(sample_runs: Path) -> None:
    findings = findings_of(sample_runs / "llm_v091_nopad")
    causes = cause_ids(findings)
    assert causes[0] == "repetition.cause.version"
    version = finding(findings, "repetition.cause.version")
    assert version.title.startswith("Repetition cause 1 of")
    assert version.evidence[0].field == "rank"
    assert version.evidence[0].value == 1
    assert "version.pad_token_maps_to_unk" in version.based_on
    assert "repetition.no_stop" in version.based_on
    assert "retrain" in version.action
    assert "repetition.cause.data" not in causes


def test_looping_targets_run_blames_data_first(sample_runs: Path) -> None:
    findings = findings_of(sample_runs / "llm_looping_targets")
    causes = cause_ids(findings)
    assert causes[0] == "repetition.cause.data"
    data = finding(findings, "repetition.cause.data")
    assert "90 of 90 targets loop" in str(data.evidence[1].value)
    assert "training split" in data.evidence[1].note
    assert "[[" in str(data.evidence[2].value)
    assert "also loop in the training targets" in data.evidence[3].note
    assert "repetition.predictions" in data.based_on
    assert "repetition.cause.version" not in causes


def test_truncated_run_blames_truncation_first(sample_runs: Path) -> None:
    findings = findings_of(sample_runs / "llm_truncated")
    causes = cause_ids(findings)
    assert causes[0] == "repetition.cause.truncation"
    truncation = finding(findings, "repetition.cause.truncation")
    assert "truncation.global_max_sequence_length" in truncation.based_on
    assert patch_values(truncation) == patch_values(
        finding(findings, "truncation.global_max_sequence_length")
    )


def test_causes_are_ranked_in_order(sample_runs: Path) -> None:
    for name in ("llm_truncated", "llm_v091_nopad", "llm_looping_targets"):
        causes = [item for item in findings_of(sample_runs / name) if item.id.startswith("repetition.cause.")]
        ranks = [item.evidence[0].value for item in causes]
        assert ranks == list(range(1, len(causes) + 1)), name


def test_high_learning_rate_names_training(sample_runs: Path) -> None:
    findings = findings_of(sample_runs / "llm_looping_targets")
    training = finding(findings, "repetition.cause.training")
    assert patch_values(training) == {
        "trainer.learning_rate": 0.0002,
        "trainer.learning_rate_scheduler.warmup_fraction": 0.03,
    }
    assert any(
        item.field == "config.trainer.learning_rate" and item.value == 0.01 for item in training.evidence
    )


def test_rising_validation_loss_names_training(sample_runs: Path, tmp_path: Path) -> None:
    run_folder = copy_run(sample_runs, "llm_v091_nopad", tmp_path)

    def diverge(statistics: dict[str, Any]) -> None:
        statistics["validation"]["combined"]["loss"] = [5.9, 5.7, 5.6, 6.4, 7.9, 9.8]
        statistics["training"]["combined"]["loss"] = [6.0, 5.8, 5.6, 5.5, 5.4, 5.3]

    edit_json(run_folder / RUN_FOLDER / "training_statistics.json", diverge)
    training = finding(findings_of(run_folder), "repetition.cause.training")
    notes = [item.note for item in training.evidence if item.field == "validation.combined.loss"]
    assert any("times the last training loss" in note for note in notes)
    assert any("rose from its minimum" in note for note in notes)
    assert training.title.startswith("Repetition cause")
    assert "validation loss" in training.title


def test_loose_generation_settings_named(sample_runs: Path) -> None:
    findings = findings_of(sample_runs / "llm_v091_nopad")
    generation = finding(findings, "repetition.cause.generation")
    assert cause_ids(findings)[-1] == "repetition.cause.generation"
    patches = patch_values(generation)
    assert patches["generation.max_new_tokens"] == 16
    assert patches["generation.repetition_penalty"] == 1.1
    assert patches["generation.no_repeat_ngram_size"] == 4
    assert "issue #3876" in generation.patches[1].reason


def test_teacher_forced_loops_skip_generation_cause(sample_runs: Path, tmp_path: Path) -> None:
    run_folder = copy_run(sample_runs, "llm_looping_targets", tmp_path)
    shutil.rmtree(run_folder / "predict_test")
    findings = findings_of(run_folder)
    assert "repetition.eval_examples" in [item.id for item in findings]
    causes = cause_ids(findings)
    assert causes[0] == "repetition.cause.data"
    assert "repetition.cause.generation" not in causes


def test_special_tokens_in_template_named(sample_runs: Path, tmp_path: Path) -> None:
    run_folder = copy_run(sample_runs, "llm_looping_targets", tmp_path)
    edit_config(
        run_folder, lambda config: config["prompt"].update(template="<s>### Instruction: {instruction}</s>\n")
    )
    template = finding(findings_of(run_folder), "repetition.cause.template")
    assert "</s>, <s>" in template.evidence[1].note
    assert patch_values(template) == {"prompt.template": "### Instruction: {instruction}\n"}


def test_instruct_model_plain_template_named(sample_runs: Path, tmp_path: Path) -> None:
    run_folder = copy_run(sample_runs, "llm_looping_targets", tmp_path)
    edit_config(run_folder, lambda config: config.update(base_model="mistralai/Mistral-7B-Instruct-v0.2"))
    template = finding(findings_of(run_folder), "repetition.cause.template")
    assert "instruct or chat model" in template.evidence[1].note


def test_few_steps_named_undertrained(sample_runs: Path, tmp_path: Path) -> None:
    run_folder = copy_run(sample_runs, "llm_looping_targets", tmp_path)
    edit_json(
        run_folder / RUN_FOLDER / "model" / "training_progress.json",
        lambda progress: progress.update(steps=40),
    )
    undertrained = finding(findings_of(run_folder), "repetition.cause.undertrained")
    assert undertrained.evidence[1].value == 40
    assert patch_values(undertrained) == {"trainer.epochs": 30}


def test_unsupported_cause_reported_as_unknown(sample_runs: Path, tmp_path: Path) -> None:
    run_folder = copy_run(sample_runs, "llm_looping_targets", tmp_path)

    def calm(config: dict[str, Any]) -> None:
        config["trainer"]["learning_rate"] = 0.0002
        config["trainer"]["learning_rate_scheduler"]["warmup_fraction"] = 0.03
        config["generation"].update(max_new_tokens=24, repetition_penalty=1.2)

    edit_config(run_folder, calm)
    edit_json(
        run_folder / RUN_FOLDER / "description.json",
        lambda description: description.update(dataset=str(sample_runs / "data" / "instructions.csv")),
    )
    findings = findings_of(run_folder)
    assert cause_ids(findings) == ["repetition.cause.unknown"]
    unknown = finding(findings, "repetition.cause.unknown")
    assert "repetition.predictions" in unknown.based_on


@pytest.mark.parametrize("file_name", ["predictions.parquet", "output_response.csv"])
def test_named_predictions_file_read(sample_runs: Path, tmp_path: Path, file_name: str) -> None:
    run_folder = copy_run(sample_runs, "llm_fits", tmp_path)
    shutil.rmtree(run_folder / "predict_test")
    named = sample_runs / "llm_looping_targets" / "predict_test" / file_name
    reports = scan([run_folder], DoctorOptions(extra_predictions=[named]))

    predictions = finding(reports[0].findings, "repetition.predictions")
    assert predictions.evidence[0].value == "14 of 15 rows loop"
    assert predictions.evidence[0].source.endswith(file_name)
