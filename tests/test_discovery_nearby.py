"""Prediction folders beside a run's results folder, found when the run itself is named."""

from __future__ import annotations

import shutil
from pathlib import Path

from ludwig_doctor.diagnostics.discovery import discover


def test_run_named_directly_gets_its_predictions(sample_runs: Path) -> None:
    run_dir = sample_runs / "llm_truncated" / "results" / "experiment_run"
    (run,) = discover([run_dir]).runs
    assert run.prediction_dirs == [sample_runs / "llm_truncated" / "predict_test"]


def test_results_folder_named_gets_predictions(sample_runs: Path) -> None:
    (run,) = discover([sample_runs / "llm_truncated" / "results"]).runs
    assert run.prediction_dirs == [sample_runs / "llm_truncated" / "predict_test"]


def test_relaunched_sibling_keeps_predictions_with_parent(sample_runs: Path, tmp_path: Path) -> None:
    copy = tmp_path / "llm_truncated"
    shutil.copytree(sample_runs / "llm_truncated", copy)
    results = copy / "results"
    shutil.copytree(results / "experiment_run", results / "experiment_doctor_20261204_120000_run")
    (results / "ludwig-doctor" / "experiment_doctor_20261204_120000_run").mkdir(parents=True)

    discovery = discover([copy])
    owners = {run.path.name: run.prediction_dirs for run in discovery.runs}
    assert owners["experiment_run"] == [copy / "predict_test"]
    assert owners["experiment_doctor_20261204_120000_run"] == []


def test_two_user_runs_leave_predictions_unattached(sample_runs: Path, tmp_path: Path) -> None:
    copy = tmp_path / "llm_truncated"
    shutil.copytree(sample_runs / "llm_truncated", copy)
    shutil.copytree(copy / "results" / "experiment_run", copy / "results" / "experiment_run_0")

    discovery = discover([copy / "results" / "experiment_run"])
    assert discovery.runs[0].prediction_dirs == []
    assert discovery.unattached_predictions == [copy / "predict_test"]
