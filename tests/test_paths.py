"""Tests for resolving recorded paths of runs that moved, and for reading paths from the recorded command."""

from __future__ import annotations

from pathlib import Path

import pytest

from ludwig_doctor.diagnostics.loader import load_run
from ludwig_doctor.diagnostics.paths import (
    AS_RECORDED,
    RELATIVE_TO_RUN,
    RELATIVE_TO_SCANNED_FOLDER,
    USER_OVERRIDE,
    command_paths,
    looks_like_hub_id,
    recorded_config_path,
    recorded_dataset_path,
    resolve_recorded_path,
)
from ludwig_doctor.diagnostics.run import Run

IGOR = "IgorCzudy__Ludwig/results/experiment_run"
CODEUR = "codeurEnHerbe__Mistral7BAlpaca/results/api_experiment_run"


@pytest.fixture(scope="module")
def igor(real_runs: Path) -> Run:
    return load_run(real_runs / IGOR, real_runs)


def test_command_paths_of_real_run(igor: Run) -> None:
    # The real command: ludwig train --dataset Tweets.csv --config model-tweets.yaml
    assert recorded_config_path(igor) == "model-tweets.yaml"
    assert recorded_dataset_path(igor) == "Tweets.csv"


def test_command_paths_option_forms() -> None:
    cases = {
        "ludwig train -c cfg.yaml --dataset 'my data.csv'": ("cfg.yaml", "my data.csv"),
        "ludwig train --config=cfg.yaml --dataset=d.csv": ("cfg.yaml", "d.csv"),
        "ludwig experiment --config_file old.yaml": ("old.yaml", None),
        "python train.py": (None, None),
        # An unbalanced quote falls back to whitespace splitting.
        "ludwig train --config c.yaml --dataset 'broken": ("c.yaml", "'broken"),
    }
    for command, (config, dataset) in cases.items():
        paths = command_paths(command)
        assert paths.config == config, command
        assert paths.dataset == dataset, command


def test_dataset_from_description_field(real_runs: Path) -> None:
    run = load_run(real_runs / "nogibjj__automl-neo/results/experiment_run", real_runs)

    assert recorded_dataset_path(run) == "data/neo.csv"


def test_existing_absolute_path_as_recorded(igor: Run) -> None:
    recorded = str(igor.path / "description.json")

    resolution = resolve_recorded_path(recorded, igor, None)

    assert resolution.how == AS_RECORDED
    assert resolution.path == Path(recorded)


def test_moved_path_found_under_scanned_folder(igor: Run) -> None:
    recorded = "/home/igor/projects/IgorCzudy__Ludwig/results/experiment_run/model/model_hyperparameters.json"

    resolution = resolve_recorded_path(recorded, igor, None)

    assert resolution.how == RELATIVE_TO_SCANNED_FOLDER
    assert resolution.path == igor.root.resolve() / IGOR / "model" / "model_hyperparameters.json"
    assert resolution.candidates[0] == Path(recorded)


def test_moved_path_found_relative_to_run(real_runs: Path) -> None:
    # The stray results/model_weights folder sits beside the run, under the run's parent.
    run = load_run(real_runs / CODEUR, real_runs)

    resolution = resolve_recorded_path("/root/results/model_weights/adapter_config.json", run, None)

    assert resolution.how == RELATIVE_TO_RUN
    assert resolution.path == (real_runs / CODEUR).resolve().parent / "model_weights" / "adapter_config.json"


def test_relative_path_not_found_lists_candidates(igor: Run) -> None:
    resolution = resolve_recorded_path("Tweets.csv", igor, None)

    assert resolution.path is None
    assert resolution.how is None
    assert igor.path.resolve() / "Tweets.csv" in resolution.candidates
    assert igor.root.resolve().parent / "Tweets.csv" in resolution.candidates
    assert resolution.note == ""


def test_windows_path_parts(igor: Run) -> None:
    recorded = "C:\\Users\\igor\\IgorCzudy__Ludwig\\results\\experiment_run\\description.json"

    resolution = resolve_recorded_path(recorded, igor, None)

    assert resolution.path == igor.path.resolve() / "description.json"


def test_hub_id_is_not_a_path(real_runs: Path) -> None:
    run = load_run(real_runs / CODEUR, real_runs)

    resolution = resolve_recorded_path("mistralai/Mistral-7B-v0.1", run, None)

    assert resolution.path is None
    assert "Hugging Face hub id" in resolution.note
    assert resolution.candidates


def test_hub_id_shape_rules() -> None:
    assert looks_like_hub_id("mistralai/Mistral-7B-v0.1")
    assert looks_like_hub_id("bineric/NorskGPT-Mistral-7b")
    assert not looks_like_hub_id("data/neo.csv")
    assert not looks_like_hub_id("/abs/path")
    assert not looks_like_hub_id("a/b/c")


def test_ludwig_dataset_uri(real_runs: Path) -> None:
    run = load_run(real_runs / CODEUR, real_runs)

    resolution = resolve_recorded_path("ludwig://alpaca", run, None)

    assert resolution.path is None
    assert "URI" in resolution.note


def test_user_override_prefix(igor: Run) -> None:
    overrides = {"/mnt/gpu-box/experiments": str(igor.root)}

    resolution = resolve_recorded_path(f"/mnt/gpu-box/experiments/{IGOR}/description.json", igor, overrides)

    assert resolution.how == USER_OVERRIDE
    assert resolution.path == igor.root / IGOR / "description.json"


def test_sample_run_base_model_resolves(sample_runs: Path) -> None:
    descriptions = sorted(sample_runs.glob("*/results/*/description.json"))
    if not descriptions:
        pytest.skip("no sample runs have been generated yet")

    for description in descriptions:
        run = load_run(description.parent, sample_runs)
        if run.base_model is None:
            continue
        resolution = resolve_recorded_path(run.base_model, run, None)
        assert resolution.path is not None, (run.name, resolution.candidates)
        assert (resolution.path / "config.json").is_file(), run.name
