"""`ludwig-doctor tokens` on the sample runs, before training (--config) and after (a run folder)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ludwig_doctor.tui.main import main


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def tokens_json(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, dict[str, Any]]:
    code = main(["tokens", *arguments, "--format", "json"])
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return code, document["analyses"][0]


def test_run_reports_cut_targets(sample_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["tokens", str(sample_runs / "llm_truncated")])
    output = capsys.readouterr().out

    assert code == 2
    assert "training: 31 of 90 rows (34.4%) lose target tokens" in output
    assert "preprocessing.global_max_sequence_length: 72" in output


def test_preflight_matches_run(sample_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_code, from_run = tokens_json(capsys, str(sample_runs / "llm_truncated"))
    config = sample_runs / "llm_truncated" / "config.yaml"
    data = sample_runs / "data" / "instructions.csv"
    preflight_code, preflight = tokens_json(capsys, "--config", str(config), "--dataset", str(data))

    assert preflight_code == run_code == 2
    for key in ("rows", "lengths", "cuts", "suggestion", "limits", "prompt_template_tokens"):
        assert preflight[key] == from_run[key], key
    assert preflight["from_cache"] is True


def test_preflight_fitting_config(sample_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = sample_runs / "llm_fits" / "config.yaml"
    data = sample_runs / "data" / "instructions.csv"
    code, document = tokens_json(capsys, "--config", str(config), "--dataset", str(data))

    assert code == 0
    assert document["cuts"]["all"]["target_cut"] == 0
    assert document["suggestion"]["patches"] == []


def test_p99_share_option(sample_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, document = tokens_json(capsys, str(sample_runs / "llm_truncated"), "--share", "p99")
    assert code == 2
    assert document["suggestion"]["share"] == "p99"
    assert document["suggestion"]["global_max_sequence_length"] == 72


def test_missing_dataset_exit_code(
    sample_runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = sample_runs / "llm_fits" / "config.yaml"
    code = main(["tokens", "--config", str(config), "--dataset", str(tmp_path / "gone.csv")])
    error = capsys.readouterr().err

    assert code == 74
    assert "gone.csv: cannot read the dataset" in error
    assert "Traceback" not in error


def test_empty_dataset_exit_code(
    sample_runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("instruction,output,split\n", encoding="utf-8")
    code = main(
        ["tokens", "--config", str(sample_runs / "llm_fits" / "config.yaml"), "--dataset", str(empty)]
    )

    assert code == 74
    assert "the dataset has a header but no rows" in capsys.readouterr().err


def test_missing_tokenizer_exit_code(
    sample_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    config = tmp_path / "config.yaml"
    text = (sample_runs / "llm_fits" / "config.yaml").read_text(encoding="utf-8")
    base_model = next(line for line in text.splitlines() if line.startswith("base_model:"))
    config.write_text(text.replace(base_model, "base_model: meta-llama/Llama-2-7b-hf"), encoding="utf-8")
    code = main(
        ["tokens", "--config", str(config), "--dataset", str(sample_runs / "data" / "instructions.csv")]
    )
    error = capsys.readouterr().err

    assert code == 74
    assert "meta-llama/Llama-2-7b-hf is not in the Hugging Face cache" in error
    assert "--download" in error


def test_moved_run_with_dataset_option(
    sample_runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    moved = tmp_path / "moved"
    shutil.copytree(sample_runs / "llm_truncated" / "results", moved / "results")
    # The model moves with the run; only the dataset is left behind.
    shutil.copytree(sample_runs / "models", moved / "models")
    description_path = moved / "results" / "experiment_run" / "description.json"
    description = json.loads(description_path.read_text(encoding="utf-8"))
    description["dataset"] = "/old-machine/data/instructions.csv"
    description_path.write_text(json.dumps(description), encoding="utf-8")

    assert main(["tokens", str(moved)]) == 74
    assert "--dataset PATH" in capsys.readouterr().err
    code, document = tokens_json(
        capsys, str(moved), "--dataset", str(sample_runs / "data" / "instructions.csv")
    )
    assert code == 2
    assert document["cuts"]["training"]["input"] == 31


def test_usage_errors(sample_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tokens"]) == 64
    assert main(["tokens", "--config", str(sample_runs / "llm_fits" / "config.yaml")]) == 64
    assert "--dataset" in capsys.readouterr().err


def test_ecd_run_rejected(sample_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tokens", str(sample_runs / "ecd_text_classifier")]) == 74
    assert "no LLM run found" in capsys.readouterr().err
