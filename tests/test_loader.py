"""Tests for loading whole runs: every real run loads, and each missing or damaged file is a finding."""

from __future__ import annotations

import logging
import math
import shutil
import time
from pathlib import Path

import pytest

from ludwig_doctor.diagnostics.discovery import discover
from ludwig_doctor.diagnostics.expectations import RunFacts, expected_files, stopped_reason
from ludwig_doctor.diagnostics.findings import Severity
from ludwig_doctor.diagnostics.loader import load_run, run_facts
from ludwig_doctor.diagnostics.run import Run
from ludwig_doctor.diagnostics.summary import FROM_STATISTICS, summarize
from ludwig_doctor.diagnostics.versions import parse_version

logger = logging.getLogger(__name__)

# Run -> the (finding id, file) pairs its file findings must name, and nothing else.
EXPECTED_FILE_FINDINGS: dict[str, set[tuple[str, str]]] = {
    "IgorCzudy__Ludwig/results/experiment_run": {
        ("run.stopped", "training_statistics.json"),
        ("file.truncated", "model/logs/training/events.out.tfevents.1708797454.dell.32143.0"),
    },
    "codeurEnHerbe__Mistral7BAlpaca/results/api_experiment_run": {
        ("run.stopped", "training_statistics.json"),
        ("file.missing", "model/training_set_metadata.json"),
    },
    "codeurEnHerbe__Mistral7BAlpaca/results/api_experiment_run_1": {
        ("file.missing", "model/training_set_metadata.json"),
        ("file.missing", "model/logs/training"),
    },
    "falniir__norgen/results/api_experiment_run": {
        ("file.missing", "model/training_set_metadata.json"),
        ("file.missing", "model/logs/training"),
    },
    "nogibjj__automl-neo/results/api_experiment_run": set(),
    "nogibjj__automl-neo/results/experiment_run": set(),
    "nogibjj__automl-neo/results/experiment_run_0": set(),
    "oscarvilla__ludwig/results/api_experiment_run": set(),
    "oscarvilla__ludwig/results/api_experiment_run_0": set(),
    "viktor1223__intro_2_slurm/results/api_experiment_run": {
        ("file.missing", "training_statistics.json"),
        ("file.missing", "model/"),
    },
    "zuliani99__AutoML-Benchmark/results/api_experiment_run": set(),
    "zuliani99__AutoML-Benchmark/results/api_experiment_run_0": {
        ("run.stopped", "training_statistics.json"),
    },
}


def _load_all(root: Path) -> dict[str, Run]:
    runs = {}
    for found in discover([root]).runs:
        run = load_run(found.path, found.root, found.prediction_dirs)
        runs[run.name] = run
    return runs


@pytest.fixture(scope="module")
def loaded(real_runs: Path) -> dict[str, Run]:
    start = time.perf_counter()
    runs = _load_all(real_runs)
    logger.info("loaded %d real runs in %.2f s", len(runs), time.perf_counter() - start)
    return runs


def test_every_real_run_loads(loaded: dict[str, Run]) -> None:
    assert set(loaded) == set(EXPECTED_FILE_FINDINGS)


@pytest.mark.parametrize("name", sorted(EXPECTED_FILE_FINDINGS))
def test_real_run_file_findings(loaded: dict[str, Run], name: str) -> None:
    run = loaded[name]

    named = {(finding.id, finding.evidence[0].source) for finding in run.file_findings}

    assert named == EXPECTED_FILE_FINDINGS[name]


def test_file_findings_name_file_and_action(loaded: dict[str, Run]) -> None:
    for run in loaded.values():
        for finding in run.file_findings:
            assert finding.evidence, (run.name, finding.id)
            assert finding.evidence[0].source in finding.title or finding.id == "run.stopped", finding.title
            assert finding.action, (run.name, finding.id)


def test_stopped_runs_are_info(loaded: dict[str, Run]) -> None:
    stopped = [
        finding for run in loaded.values() for finding in run.file_findings if finding.id == "run.stopped"
    ]

    assert len(stopped) == 3
    assert all(finding.severity == Severity.INFO for finding in stopped)


def test_stopped_run_evidence(loaded: dict[str, Run]) -> None:
    run = loaded["codeurEnHerbe__Mistral7BAlpaca/results/api_experiment_run"]

    (finding,) = [finding for finding in run.file_findings if finding.id == "run.stopped"]

    assert "0 of 3 epochs" in finding.explanation
    assert ("model/training_progress.json", "steps", 701) in {
        (item.source, item.field, item.value) for item in finding.evidence
    }


def test_needed_files_missing_are_warnings(loaded: dict[str, Run]) -> None:
    run = loaded["falniir__norgen/results/api_experiment_run"]

    severities = {finding.evidence[0].source: finding.severity for finding in run.file_findings}

    assert severities["model/training_set_metadata.json"] == Severity.WARNING
    assert severities["model/logs/training"] == Severity.INFO


def test_real_run_scalar_counts(loaded: dict[str, Run]) -> None:
    counts = {
        "IgorCzudy__Ludwig/results/experiment_run": 95,
        "zuliani99__AutoML-Benchmark/results/api_experiment_run_0": 179,
        "codeurEnHerbe__Mistral7BAlpaca/results/api_experiment_run": 701,
    }
    for name, count in counts.items():
        assert len(loaded[name].scalars["training"]["combined/step_training_loss"]) == count, name


def test_real_run_eval_examples(loaded: dict[str, Run]) -> None:
    assert len(loaded["codeurEnHerbe__Mistral7BAlpaca/results/api_experiment_run_1"].eval_examples) == 3
    assert len(loaded["falniir__norgen/results/api_experiment_run"].eval_examples) == 1
    assert loaded["nogibjj__automl-neo/results/experiment_run"].eval_examples == []


def test_summary_best_validation_loss(loaded: dict[str, Run]) -> None:
    summary = summarize(loaded["oscarvilla__ludwig/results/api_experiment_run"])

    assert summary.best_validation_loss == pytest.approx(0.5671, abs=1e-4)
    assert summary.best_validation_loss_source == FROM_STATISTICS
    assert summary.epochs_completed == 10
    assert summary.steps == 2640
    assert summary.ludwig_version == "0.5.5"
    assert summary.model_type == "ecd"


def test_summary_stopped_llm_run(loaded: dict[str, Run]) -> None:
    summary = summarize(loaded["codeurEnHerbe__Mistral7BAlpaca/results/api_experiment_run"])

    # best_eval_metric_value is Infinity and there are no validation scalars.
    assert summary.best_validation_loss is None
    assert summary.base_model == "mistralai/Mistral-7B-v0.1"
    assert summary.epochs_completed == 0
    assert summary.steps == 701


def test_summary_steps_from_tensorboard(loaded: dict[str, Run]) -> None:
    summary = summarize(loaded["zuliani99__AutoML-Benchmark/results/api_experiment_run_0"])

    assert summary.steps == 179
    assert summary.ludwig_version == "0.3.3"


def test_summary_ignores_accuracy_metric(loaded: dict[str, Run]) -> None:
    # Ludwig 0.3.3 tracked last_accuracy, so best_eval_metric is not a loss; statistics win.
    summary = summarize(loaded["zuliani99__AutoML-Benchmark/results/api_experiment_run"])

    assert summary.best_validation_loss is not None
    assert summary.best_validation_loss < 0.2


def _copy_run(real_runs: Path, name: str, tmp_path: Path) -> Path:
    target = tmp_path / "results" / Path(name).name
    shutil.copytree(real_runs / name, target)
    return target


@pytest.mark.parametrize(
    ("relative", "cut", "finding_id"),
    [
        ("model/training_progress.json", 2000, "file.truncated"),
        ("description.json", 0, "file.empty"),
        ("training_statistics.json", 100, "file.truncated"),
        ("model/training_set_metadata.json", 1, "file.truncated"),
    ],
)
def test_damaged_copy_loads(
    real_runs: Path, tmp_path: Path, relative: str, cut: int, finding_id: str
) -> None:
    run_dir = _copy_run(real_runs, "zuliani99__AutoML-Benchmark/results/api_experiment_run", tmp_path)
    path = run_dir / relative
    path.write_bytes(path.read_bytes()[:cut])

    run = load_run(run_dir, tmp_path)

    damaged = [finding for finding in run.file_findings if finding.evidence[0].source == relative]
    assert [finding.id for finding in damaged] == [finding_id]
    assert damaged[0].severity == Severity.WARNING


def test_deleted_files_reported(real_runs: Path, tmp_path: Path) -> None:
    run_dir = _copy_run(real_runs, "nogibjj__automl-neo/results/experiment_run", tmp_path)
    (run_dir / "model" / "model_hyperparameters.json").unlink()
    shutil.rmtree(run_dir / "model" / "logs")

    run = load_run(run_dir, tmp_path)

    named = {(finding.id, finding.evidence[0].source, finding.severity) for finding in run.file_findings}
    assert named == {
        ("file.missing", "model/model_hyperparameters.json", Severity.WARNING),
        ("file.missing", "model/logs/training", Severity.INFO),
    }


def test_vanished_run_loads(tmp_path: Path) -> None:
    run = load_run(tmp_path / "gone", tmp_path)

    (finding,) = run.file_findings
    assert finding.id == "file.missing"
    assert str(tmp_path / "gone") in finding.explanation


def _facts(version: str, model_type: str, statistics: bool = True) -> RunFacts:
    return RunFacts(
        version=parse_version(version),
        model_type=model_type,
        has_description=True,
        has_training_statistics=statistics,
        has_training_progress=True,
        has_training_logs=True,
        progress_epoch=3,
        progress_steps=100,
        progress_evaluated=True,
        configured_epochs=3,
    )


def test_eval_examples_expected_by_version() -> None:
    cases = [("0.8.6", "llm", False), ("0.9", "llm", True), ("0.10.4", "ecd", False), ("0.11.0", "llm", True)]
    for version, model_type, expected in cases:
        paths = {item.path for item in expected_files(_facts(version, model_type))}
        assert ("model/llm_eval_examples" in paths) == expected, (version, model_type)


def test_finished_run_without_statistics_not_stopped() -> None:
    facts = _facts("0.10.1", "llm", statistics=False)

    assert stopped_reason(facts) is None
    assert "training_statistics.json" in {item.path for item in expected_files(facts)}


def test_run_facts_of_real_run(loaded: dict[str, Run]) -> None:
    facts = run_facts(loaded["codeurEnHerbe__Mistral7BAlpaca/results/api_experiment_run"])

    assert facts.progress_epoch == 0
    assert facts.configured_epochs == 3
    assert facts.has_training_logs
    assert not facts.has_training_statistics


# Sample runs made by real Ludwig (present once sample_runs/make_sample_runs.py has run).


def test_sample_runs_load(sample_runs: Path) -> None:
    runs = _load_all(sample_runs)
    if not runs:
        pytest.skip("no sample runs have been generated yet")

    for name, run in runs.items():
        assert run.description is not None, name
        assert run.scalars.get("training"), name
        if run.model_type == "llm" and (run.path.parents[1] / "predict_test").is_dir():
            assert run.predictions, name
            assert all(prediction.responses for prediction in run.predictions), name
        if run.model_type == "llm" and run.ludwig_version and run.ludwig_version >= parse_version("0.9"):
            assert run.eval_examples, name
            assert all(examples.rows for examples in run.eval_examples), name
        summary = summarize(run)
        assert summary.steps, name
        assert summary.best_validation_loss is None or math.isfinite(summary.best_validation_loss)
