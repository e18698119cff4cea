"""Tests for run and prediction-folder discovery, on the real runs and copies of their files."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from ludwig_doctor.diagnostics.discovery import ScanPathError, attach_predictions, discover, discover_runs

REAL_RUN_NAMES = {
    "IgorCzudy__Ludwig/results/experiment_run",
    "codeurEnHerbe__Mistral7BAlpaca/results/api_experiment_run",
    "codeurEnHerbe__Mistral7BAlpaca/results/api_experiment_run_1",
    "falniir__norgen/results/api_experiment_run",
    "nogibjj__automl-neo/results/api_experiment_run",
    "nogibjj__automl-neo/results/experiment_run",
    "nogibjj__automl-neo/results/experiment_run_0",
    "oscarvilla__ludwig/results/api_experiment_run",
    "oscarvilla__ludwig/results/api_experiment_run_0",
    "viktor1223__intro_2_slurm/results/api_experiment_run",
    "zuliani99__AutoML-Benchmark/results/api_experiment_run",
    "zuliani99__AutoML-Benchmark/results/api_experiment_run_0",
}


def _copy_run_files(source_run: Path, target_run: Path) -> Path:
    """Copy the description.json of a real run into ``target_run`` (enough for discovery)."""
    target_run.mkdir(parents=True)
    shutil.copy(source_run / "description.json", target_run / "description.json")
    return target_run


def test_discover_finds_every_real_run(real_runs: Path) -> None:
    runs = discover_runs([real_runs])

    names = {run.path.relative_to(real_runs).as_posix() for run in runs}
    assert names == REAL_RUN_NAMES
    assert all(run.root == real_runs.resolve() for run in runs)


def test_discover_ignores_stray_model_weights(real_runs: Path) -> None:
    # codeurEnHerbe has results/model_weights/adapter_config.json outside any run.
    runs = discover_runs([real_runs / "codeurEnHerbe__Mistral7BAlpaca"])

    assert [run.path.name for run in runs] == ["api_experiment_run", "api_experiment_run_1"]


def test_discover_is_fast(real_runs: Path) -> None:
    start = time.perf_counter()
    discover([real_runs])
    elapsed = time.perf_counter() - start

    # Listing 12 runs reads a few dozen directories; parsing them would take about a second.
    assert elapsed < 0.5


def test_discover_accepts_run_model_and_file(real_runs: Path) -> None:
    run_dir = real_runs / "falniir__norgen" / "results" / "api_experiment_run"

    for given in (
        run_dir,
        run_dir / "model",
        run_dir / "description.json",
        run_dir / "model" / "training_progress.json",
    ):
        runs = discover_runs([given])
        assert [run.path for run in runs] == [run_dir.resolve()], given


def test_discover_only_tb_logs_run(real_runs: Path, tmp_path: Path) -> None:
    # A run folder with only model/logs (for example a copy that dropped the JSON files).
    source = real_runs / "zuliani99__AutoML-Benchmark" / "results" / "api_experiment_run_0" / "model" / "logs"
    shutil.copytree(source, tmp_path / "exp2_m" / "model" / "logs")

    runs = discover_runs([tmp_path])

    assert [run.path.name for run in runs] == ["exp2_m"]


def test_discover_missing_path_raises(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_folder"

    with pytest.raises(ScanPathError) as raised:
        discover([missing])

    assert raised.value.path == missing
    assert str(missing) in str(raised.value)


def test_discover_other_file_raises(real_runs: Path) -> None:
    with pytest.raises(ScanPathError, match="it is a file"):
        discover([real_runs / "MANIFEST.md"])


def test_discover_skips_hidden_venv_and_caches(real_runs: Path, tmp_path: Path) -> None:
    source = real_runs / "IgorCzudy__Ludwig" / "results" / "experiment_run"
    _copy_run_files(source, tmp_path / "results" / "experiment_run")
    for skipped in (".hidden", "__pycache__", "node_modules", "site-packages"):
        _copy_run_files(source, tmp_path / skipped / "experiment_run")
    venv = tmp_path / "myenv"
    _copy_run_files(source, venv / "lib" / "experiment_run")
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")

    runs = discover_runs([tmp_path])

    assert [run.path.relative_to(tmp_path).as_posix() for run in runs] == ["results/experiment_run"]


def test_discover_does_not_enter_model(real_runs: Path, tmp_path: Path) -> None:
    source = real_runs / "IgorCzudy__Ludwig" / "results" / "experiment_run"
    run_dir = _copy_run_files(source, tmp_path / "experiment_run")
    _copy_run_files(source, run_dir / "model" / "nested_run")

    runs = discover_runs([tmp_path])

    assert [run.path for run in runs] == [run_dir.resolve()]


def test_predictions_attach_to_sibling_run(real_runs: Path, sample_runs: Path, tmp_path: Path) -> None:
    parquet = _sample_parquet(sample_runs)
    run_dir = _copy_run_files(
        real_runs / "falniir__norgen" / "results" / "api_experiment_run",
        tmp_path / "X" / "results" / "experiment_run",
    )
    (tmp_path / "X" / "predict_test").mkdir()
    shutil.copy(parquet, tmp_path / "X" / "predict_test" / "predictions.parquet")

    found = discover([tmp_path])

    assert [run.path for run in found.runs] == [run_dir.resolve()]
    assert found.runs[0].prediction_dirs == [(tmp_path / "X" / "predict_test").resolve()]
    assert found.unattached_predictions == []


def test_predictions_inside_run_attach(real_runs: Path, sample_runs: Path, tmp_path: Path) -> None:
    parquet = _sample_parquet(sample_runs)
    run_dir = _copy_run_files(
        real_runs / "falniir__norgen" / "results" / "api_experiment_run", tmp_path / "experiment_run"
    )
    (run_dir / "predictions").mkdir()
    shutil.copy(parquet, run_dir / "predictions" / "predictions.parquet")

    found = discover([tmp_path])

    assert found.runs[0].prediction_dirs == [(run_dir / "predictions").resolve()]


def test_predictions_with_two_runs_unattached(real_runs: Path, sample_runs: Path, tmp_path: Path) -> None:
    parquet = _sample_parquet(sample_runs)
    source = real_runs / "falniir__norgen" / "results" / "api_experiment_run"
    _copy_run_files(source, tmp_path / "results" / "experiment_run")
    _copy_run_files(source, tmp_path / "results" / "experiment_run_0")
    (tmp_path / "predict_test").mkdir()
    shutil.copy(parquet, tmp_path / "predict_test" / "predictions.parquet")

    found = discover([tmp_path])

    assert all(run.prediction_dirs == [] for run in found.runs)
    assert found.unattached_predictions == [(tmp_path / "predict_test").resolve()]


def test_headerless_csv_marks_predictions(sample_runs: Path, tmp_path: Path) -> None:
    response_csv = _sample_file(sample_runs, "*/predict_test/*_response.csv")
    (tmp_path / "predict_test").mkdir()
    shutil.copy(response_csv, tmp_path / "predict_test" / "output_response.csv")

    found = discover([tmp_path])

    assert found.unattached_predictions == [(tmp_path / "predict_test").resolve()]


def test_attach_predictions_prefers_nearest_run() -> None:
    outer = Path("/data/experiment_run")
    inner = outer / "sub" / "experiment_run"

    assert attach_predictions(inner / "predict", [outer, inner]) == inner
    assert attach_predictions(Path("/elsewhere/predict"), [outer, inner]) is None


def test_sample_runs_predictions_attached(sample_runs: Path) -> None:
    found = discover([sample_runs])
    if not found.runs:
        pytest.skip("no sample runs have been generated yet")

    for run in found.runs:
        sibling = run.path.parents[1] / "predict_test"
        if sibling.is_dir():
            assert sibling.resolve() in run.prediction_dirs, run.path
    assert found.unattached_predictions == []


def _sample_file(sample_runs: Path, pattern: str) -> Path:
    found = sorted(sample_runs.glob(pattern))
    if not found:
        pytest.skip(f"no sample run file matches {pattern}; sample runs have not been generated yet")
    return found[0]


def _sample_parquet(sample_runs: Path) -> Path:
    return _sample_file(sample_runs, "*/predict_test/predictions.parquet")
