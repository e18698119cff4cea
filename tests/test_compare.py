"""Comparing a relaunched run with its parent when the new run has no predictions yet."""

from __future__ import annotations

from pathlib import Path

from ludwig_doctor.diagnostics.launch.compare import compare_runs
from ludwig_doctor.diagnostics.scan import DoctorOptions, RunEntry, check_entry


def test_prediction_findings_not_counted_as_gone(sample_runs: Path) -> None:
    parent_dir = sample_runs / "llm_truncated" / "results" / "experiment_run"
    child_dir = sample_runs / "llm_fits" / "results" / "experiment_run"
    parent = check_entry(
        RunEntry(parent_dir, sample_runs, [sample_runs / "llm_truncated" / "predict_test"]), DoctorOptions()
    )
    # A relaunch trains but does not predict: the new run has no prediction folder.
    child = check_entry(RunEntry(child_dir, sample_runs, []), DoctorOptions())

    comparison = compare_runs(parent, child)

    not_compared = {finding.id for finding in comparison.not_compared}
    resolved = {finding.id for finding in comparison.resolved}
    assert "repetition.no_stop" in not_compared
    assert "repetition.no_stop" not in resolved
    assert "truncation.global_max_sequence_length" in resolved
    assert any(line.startswith("not compared") for line in comparison.describe())
