"""Training-health checks: each fires on a real run that has the problem and stays quiet on healthy ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from ludwig_doctor.diagnostics.checks import run_checks
from ludwig_doctor.diagnostics.checks.health import check_health
from ludwig_doctor.diagnostics.findings import Finding, Severity
from ludwig_doctor.diagnostics.loader import load_run
from ludwig_doctor.diagnostics.run import Run

NOGIBJJ = "nogibjj__automl-neo/results"
OSCAR = "oscarvilla__ludwig/results/api_experiment_run"
CODEUR = "codeurEnHerbe__Mistral7BAlpaca/results"
VIKTOR = "viktor1223__intro_2_slurm/results/api_experiment_run"
IGOR = "IgorCzudy__Ludwig/results/experiment_run"
FALNIIR = "falniir__norgen/results/api_experiment_run"
ZULIANI = "zuliani99__AutoML-Benchmark/results/api_experiment_run"


def _run(root: Path, relative: str) -> Run:
    return load_run(root / relative, root)


def _sample(sample_runs: Path, name: str) -> Run:
    return load_run(sample_runs / name / "results" / "experiment_run", sample_runs)


def _by_id(findings: list[Finding]) -> dict[str, Finding]:
    return {finding.id: finding for finding in findings}


def _ids(run: Run) -> set[str]:
    return {finding.id for finding in check_health(run)}


def test_healthy_ecd_sample_is_quiet(sample_runs: Path) -> None:
    assert check_health(_sample(sample_runs, "ecd_text_classifier")) == []


def test_healthy_real_runs_quiet_on_curves(real_runs: Path) -> None:
    curve_ids = {
        "health.nan_loss",
        "health.divergence",
        "health.overfitting",
        "health.loss_spikes",
        "health.plateau",
    }
    for relative in (ZULIANI, CODEUR + "/api_experiment_run_1", FALNIIR):
        assert _ids(_run(real_runs, relative)) & curve_ids == set(), relative


def test_llm_fits_has_no_curve_findings(sample_runs: Path) -> None:
    ids = _ids(_sample(sample_runs, "llm_fits"))

    # The sample configs use learning rate 0.01 without warmup on purpose (a tiny random model),
    # and Ludwig 0.11.0 records a perplexity equal to the vocabulary size.
    assert ids == {"health.lora_learning_rate_high", "health.no_warmup", "health.perplexity_misleading"}


def test_nan_loss_refers_to_truncation(sample_runs: Path) -> None:
    run = _sample(sample_runs, "llm_truncated")

    findings = _by_id(run_checks(run))

    nan = findings["health.nan_loss"]
    assert nan.severity is Severity.INFO
    assert "truncation.global_max_sequence_length" in nan.explanation
    assert "truncation.global_max_sequence_length" in findings
    assert nan.evidence[0].field.endswith("step_training_loss")
    assert "NaN or infinite" in str(nan.evidence[0].value)


def test_nan_loss_without_truncation_is_error(sample_runs: Path, tmp_path: Path) -> None:
    run = _sample(sample_runs, "llm_truncated")
    # The same NaN steps with a limit that cuts nothing: truncation no longer explains them.
    run.config["preprocessing"]["global_max_sequence_length"] = 1024

    nan = _by_id(check_health(run))["health.nan_loss"]

    assert nan.severity is Severity.ERROR
    assert nan.title.startswith("NaN or infinite loss (first at step ")
    assert [patch.path for patch in nan.patches] == ["trainer.learning_rate"]
    assert nan.patches[0].value == pytest.approx(0.001)


def test_divergence_nogibjj(real_runs: Path) -> None:
    for name, best, last in (
        ("api_experiment_run", "878.4", "6,999"),
        ("experiment_run", "365.7", "7,417"),
        ("experiment_run_0", "496", "19,366"),
    ):
        finding = _by_id(check_health(_run(real_runs, f"{NOGIBJJ}/{name}")))["health.divergence"]
        assert finding.severity is Severity.ERROR, name
        assert best in finding.title, finding.title
        assert last in finding.title, finding.title
        paths = [patch.path for patch in finding.patches]
        assert paths[0] == "trainer.learning_rate"
        assert finding.patches[0].value == pytest.approx(0.0001)
        # Numbers that Ludwig 0.5.2 fed unscaled get z-score normalization.
        assert "input_features[0].preprocessing.normalization" in paths, name
        assert "input_features[6].preprocessing.normalization" not in paths, name  # a category


def test_overfitting_oscarvilla(real_runs: Path) -> None:
    finding = _by_id(check_health(_run(real_runs, OSCAR)))["health.overfitting"]

    assert finding.severity is Severity.WARNING
    assert "0.5671" in finding.title
    assert "0.786" in finding.title
    assert "rose 39%" in finding.explanation
    assert [(patch.path, patch.value) for patch in finding.patches] == [("trainer.epochs", 5)]


def test_overfitting_quiet_when_diverging(real_runs: Path) -> None:
    assert "health.overfitting" not in _ids(_run(real_runs, f"{NOGIBJJ}/api_experiment_run"))


def test_loss_spikes_codeur(real_runs: Path) -> None:
    finding = _by_id(check_health(_run(real_runs, f"{CODEUR}/api_experiment_run")))["health.loss_spikes"]

    assert finding.severity is Severity.WARNING
    assert finding.title.startswith("12 loss spikes")
    assert finding.evidence[0].field == "combined/step_training_loss"


def test_plateau_igor(real_runs: Path) -> None:
    finding = _by_id(check_health(_run(real_runs, IGOR)))["health.plateau"]

    assert "0.8715" in finding.title
    assert "rose" in finding.explanation


def test_too_few_steps_codeur(real_runs: Path) -> None:
    findings = _by_id(check_health(_run(real_runs, f"{CODEUR}/api_experiment_run")))

    finding = findings["health.too_few_steps"]
    assert finding.title == "Only 43 optimizer steps (701 batches / gradient accumulation 16)"
    # The run stopped, so no epoch count is suggested.
    assert finding.patches == []
    assert "health.too_few_steps" not in _ids(_run(real_runs, f"{CODEUR}/api_experiment_run_1"))


def test_no_validation_viktor(real_runs: Path, sample_runs: Path) -> None:
    finding = _by_id(check_health(_run(real_runs, VIKTOR)))["health.no_validation"]

    assert finding.evidence[0].value == [1.0, 0.0, 0.0]
    assert finding.patches[0].path == "preprocessing.split.probabilities"
    assert "health.no_validation" not in _ids(_run(real_runs, FALNIIR))
    assert "health.no_validation" not in _ids(_sample(sample_runs, "llm_fits"))


def test_lora_learning_rate_viktor(real_runs: Path) -> None:
    finding = _by_id(check_health(_run(real_runs, VIKTOR)))["health.lora_learning_rate_high"]

    assert "0.0004" in finding.title
    assert [(patch.path, patch.value) for patch in finding.patches] == [("trainer.learning_rate", 0.0002)]
    assert "health.lora_learning_rate_high" not in _ids(_run(real_runs, FALNIIR))


def test_warmup_quiet_with_warmup(real_runs: Path) -> None:
    # Both set warmup_fraction (0.03 and 0.01); codeur's logged rate starts at 9e-07.
    assert "health.no_warmup" not in _ids(_run(real_runs, VIKTOR))
    assert "health.no_warmup" not in _ids(_run(real_runs, f"{CODEUR}/api_experiment_run"))


def test_warmup_missing_llm_sample(sample_runs: Path) -> None:
    finding = _by_id(check_health(_sample(sample_runs, "llm_fits")))["health.no_warmup"]

    assert finding.evidence[-1].field == "combined/step_learning_rate"
    assert finding.evidence[-1].value == pytest.approx(0.01)


def test_gpu_memory_codeur(real_runs: Path) -> None:
    finding = _by_id(check_health(_run(real_runs, f"{CODEUR}/api_experiment_run")))[
        "health.gpu_memory_near_capacity"
    ]

    # reserved_gb.all.peak reached 10.95 GB on an RTX 2070 SUPER with 8191 MiB.
    assert finding.title == "GPU 0 memory peaked at 128% of its 8,191 MiB"
    assert finding.evidence[0].field == "cuda/device0/reserved_gb.all.peak"
    assert [patch.path for patch in finding.patches] == ["trainer.enable_gradient_checkpointing"]


def _write_scalars(directory: Path, tag: str, values: list[float]) -> None:
    writer = EventFileWriter(str(directory))
    for step, value in enumerate(values):
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
        writer.add_event(event_pb2.Event(wall_time=1.0 + step, step=step, summary=summary))
    writer.close()


def test_gpu_memory_quiet_below_capacity(real_runs: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    logs = run_dir / "model" / "logs" / "training"
    logs.mkdir(parents=True)
    shutil.copy(real_runs / FALNIIR / "description.json", run_dir / "description.json")
    # 12 GB of the RTX 3090's 24575 MiB (25.8 GB): half full.
    _write_scalars(logs, "cuda/device0/reserved_gb.all.peak", [6.0, 9.5, 12.0])

    run = load_run(run_dir, tmp_path)

    assert run.scalars["training"]["cuda/device0/reserved_gb.all.peak"][-1].value == 12.0
    assert "health.gpu_memory_near_capacity" not in _ids(run)

    _write_scalars(logs, "cuda/device0/reserved_gb.all.peak", [24.0])
    assert "health.gpu_memory_near_capacity" in _ids(load_run(run_dir, tmp_path))


def test_long_sequences_viktor(real_runs: Path, sample_runs: Path) -> None:
    finding = _by_id(check_health(_run(real_runs, VIKTOR)))["health.long_sequences_without_checkpointing"]

    assert "512" in finding.title
    assert finding.patches[0].path == "trainer.enable_gradient_checkpointing"
    assert "health.long_sequences_without_checkpointing" not in _ids(
        _run(real_runs, f"{CODEUR}/api_experiment_run")
    )
    assert "health.long_sequences_without_checkpointing" not in _ids(_sample(sample_runs, "llm_fits"))


def test_perplexity_near_vocabulary(real_runs: Path) -> None:
    for relative in (f"{CODEUR}/api_experiment_run_1", FALNIIR):
        finding = _by_id(check_health(_run(real_runs, relative)))["health.perplexity_misleading"]
        assert "32,000" in finding.title, relative
        assert finding.severity is Severity.INFO
    # An ECD text output whose perplexity (1.17) is far from its 4-entry vocabulary.
    assert "health.perplexity_misleading" not in _ids(_run(real_runs, ZULIANI))


def test_text_metrics_left_to_version_check(real_runs: Path) -> None:
    findings = run_checks(_run(real_runs, f"{CODEUR}/api_experiment_run_1"))

    ids = [finding.id for finding in findings]
    assert ids.count("version.text_metrics_invalid") == 1
    assert not any(finding_id.startswith("health.") and "rouge" in finding_id for finding_id in ids)


def test_nan_in_statistics_is_error(real_runs: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(real_runs / ZULIANI, run_dir)
    statistics = json.loads((run_dir / "training_statistics.json").read_text())
    statistics["validation"]["combined"]["loss"][-1] = float("nan")
    (run_dir / "training_statistics.json").write_text(json.dumps(statistics))

    nan = _by_id(check_health(load_run(run_dir, tmp_path)))["health.nan_loss"]

    assert nan.severity is Severity.ERROR
    assert nan.evidence[-1].field == "validation.combined.loss"
