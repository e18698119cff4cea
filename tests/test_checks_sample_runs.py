"""The first diagnoses on the committed sample runs, made by real Ludwig 0.11.0 and 0.9.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from ludwig_doctor.diagnostics.findings import Finding, Severity
from ludwig_doctor.diagnostics.scan import DoctorOptions, RunReport, scan


@pytest.fixture(scope="module")
def reports(sample_runs: Path) -> dict[str, RunReport]:
    scanned = scan([sample_runs], DoctorOptions())
    return {report.run.path.parents[1].name: report for report in scanned}


def finding_ids(report: RunReport) -> set[str]:
    return {finding.id for finding in report.findings}


def find(report: RunReport, finding_id: str) -> Finding:
    return next(finding for finding in report.findings if finding.id == finding_id)


def test_every_sample_run_found(reports: dict[str, RunReport]) -> None:
    assert set(reports) == {
        "llm_truncated",
        "llm_fits",
        "ecd_text_classifier",
        "llm_v091_nopad",
        "llm_looping_targets",
    }


def test_truncated_run_reports_cut_targets(reports: dict[str, RunReport]) -> None:
    finding = find(reports["llm_truncated"], "truncation.global_max_sequence_length")

    assert finding.severity is Severity.ERROR
    assert [patch.path for patch in finding.patches] == ["preprocessing.global_max_sequence_length"]
    assert finding.patches[0].value % 8 == 0
    assert finding.patches[0].value > 32
    nan_evidence = [item for item in finding.evidence if item.field == "output/step_training_loss"]
    assert nan_evidence and "NaN" in str(nan_evidence[0].value)


def test_suggested_length_fits_second_run(reports: dict[str, RunReport]) -> None:
    suggested = find(reports["llm_truncated"], "truncation.global_max_sequence_length").patches[0].value
    fits_config = reports["llm_fits"].run.config
    assert suggested <= fits_config["preprocessing"]["global_max_sequence_length"]


def test_fitting_run_has_no_truncation(reports: dict[str, RunReport]) -> None:
    assert not any(finding_id.startswith("truncation.") for finding_id in finding_ids(reports["llm_fits"]))


def test_fitting_run_gets_no_repetition_warning(reports: dict[str, RunReport]) -> None:
    repetition = [finding for finding in reports["llm_fits"].findings if finding.id.startswith("repetition.")]
    assert not [finding for finding in repetition if finding.severity.rank >= Severity.WARNING.rank]


def test_v091_run_reports_pad_regression(reports: dict[str, RunReport]) -> None:
    finding = find(reports["llm_v091_nopad"], "version.pad_token_maps_to_unk")

    assert finding.severity is Severity.ERROR
    assert "retrain" in finding.action
    padding = [item for item in finding.evidence if item.field.endswith("padding_symbol")]
    assert padding and padding[0].value == "[PAD]"


def test_v091_generations_never_stop(reports: dict[str, RunReport]) -> None:
    finding = find(reports["llm_v091_nopad"], "repetition.no_stop")
    assert finding.source.startswith("predictions")


def test_looping_targets_run_reports_loops(reports: dict[str, RunReport]) -> None:
    ids = finding_ids(reports["llm_looping_targets"])
    assert "repetition.predictions" in ids
    assert "repetition.eval_examples" in ids
    assert "teacher-forced" in find(reports["llm_looping_targets"], "repetition.eval_examples").source


def test_ecd_run_has_no_llm_or_truncation_finding(reports: dict[str, RunReport]) -> None:
    ids = finding_ids(reports["ecd_text_classifier"])
    assert not [
        finding_id for finding_id in ids if finding_id.startswith(("truncation.", "repetition.", "version."))
    ]


def test_newer_runs_not_flagged_for_pad_regression(reports: dict[str, RunReport]) -> None:
    for name in ("llm_truncated", "llm_fits", "llm_looping_targets"):
        assert not any(finding_id.startswith("version.pad") for finding_id in finding_ids(reports[name]))


def test_config_evidence_names_hyperparameters_without_description(sample_runs: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(sample_runs / "llm_truncated", tmp_path / "llm_truncated")
    (tmp_path / "llm_truncated" / "results" / "experiment_run" / "description.json").unlink()
    (report,) = scan([tmp_path], DoctorOptions())

    cited = [
        (finding.id, item.field)
        for finding in report.findings
        for item in finding.evidence
        if item.source == "description.json" and finding.id != "file.missing"
    ]
    assert cited == []
    truncation = find(report, "truncation.global_max_sequence_length")
    limit = [item for item in truncation.evidence if item.field == "preprocessing.global_max_sequence_length"]
    assert limit[0].source == "model/model_hyperparameters.json"
