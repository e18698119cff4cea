"""The `ludwig-doctor` command line: check output, JSON shape and sysexits exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ludwig_doctor.tui.main import main


def run_cli(*arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ludwig_doctor.tui.main", *arguments],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def test_check_reads_every_real_run(real_runs: Path) -> None:
    completed = run_cli("check", str(real_runs), "--format", "json")
    document = json.loads(completed.stdout)

    names = {run["name"] for run in document["runs"]}
    assert len(names) == 12
    assert "IgorCzudy__Ludwig/results/experiment_run" in names
    assert "zuliani99__AutoML-Benchmark/results/api_experiment_run_0" in names
    assert not any(
        finding["id"].endswith("check_failed") for run in document["runs"] for finding in run["findings"]
    )
    severities = {finding["severity"] for run in document["runs"] for finding in run["findings"]}
    expected_code = 0
    if "warning" in severities:
        expected_code = 1
    if "error" in severities:
        expected_code = 2
    assert completed.returncode == expected_code


def test_check_json_shape(real_runs: Path) -> None:
    completed = run_cli("check", str(real_runs / "codeurEnHerbe__Mistral7BAlpaca"), "--format", "json")
    document = json.loads(completed.stdout)

    assert document["schema_version"] == 1
    run = next(run for run in document["runs"] if run["name"].endswith("api_experiment_run_1"))
    assert run["summary"]["ludwig_version"] == "0.10.1"
    assert set(run["counts"]) == {"error", "warning", "info"}
    finding = run["findings"][0]
    assert set(finding) == {
        "id",
        "severity",
        "title",
        "explanation",
        "action",
        "source",
        "evidence",
        "patches",
        "based_on",
    }
    assert {"source", "field", "value", "note"} == set(finding["evidence"][0])


def test_check_names_each_missing_file(real_runs: Path) -> None:
    completed = run_cli("check", str(real_runs / "viktor1223__intro_2_slurm"), "--format", "json")
    findings = json.loads(completed.stdout)["runs"][0]["findings"]
    missing = {
        evidence["source"]
        for finding in findings
        if finding["id"] == "file.missing"
        for evidence in finding["evidence"]
    }
    assert "training_statistics.json" in missing


def test_check_text_lists_findings(real_runs: Path) -> None:
    completed = run_cli("check", str(real_runs / "codeurEnHerbe__Mistral7BAlpaca"))
    assert (
        "codeurEnHerbe__Mistral7BAlpaca/results/api_experiment_run_1 (llm, Ludwig 0.10.1" in completed.stdout
    )
    assert "[info] version.text_metrics_invalid" in completed.stdout


def test_check_missing_path_exits_74(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    completed = run_cli("check", str(missing))
    assert completed.returncode == 74
    assert str(missing) in completed.stderr


def test_check_without_path_exits_64() -> None:
    completed = run_cli("check")
    assert completed.returncode == 64
    assert "path" in completed.stderr


def test_check_unknown_format_exits_64(real_runs: Path) -> None:
    completed = run_cli("check", str(real_runs), "--format", "yaml")
    assert completed.returncode == 64


def test_bad_path_map_exits_64(real_runs: Path) -> None:
    assert main(["check", str(real_runs), "--path-map", "no-equals-sign"]) == 64


def test_folder_without_runs_exits_74(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path)]) == 74
    assert f"no Ludwig run directories found under {tmp_path}" in capsys.readouterr().err


def test_options_before_command(real_runs: Path) -> None:
    completed = run_cli("--format", "json", "check", str(real_runs / "viktor1223__intro_2_slurm"))
    assert completed.returncode == 1
    assert json.loads(completed.stdout)["runs"]


def test_json_output_ends_with_newline(real_runs: Path) -> None:
    completed = run_cli("check", str(real_runs / "viktor1223__intro_2_slurm"), "--format", "json")
    assert completed.stdout.endswith("}\n")


def test_usage_error_shows_usage() -> None:
    completed = run_cli("check")
    assert completed.stderr.startswith("usage: ludwig-doctor check")


def test_app_missing_path_exits_74(tmp_path: Path) -> None:
    completed = run_cli(str(tmp_path / "absent"))
    assert completed.returncode == 74


def test_invalid_settings_file_named(tmp_path: Path, real_runs: Path) -> None:
    settings = tmp_path / "ludwig-doctor" / "settings.toml"
    settings.parent.mkdir()
    settings.write_text("ludwig_python = 3\n")
    completed = subprocess.run(
        [sys.executable, "-m", "ludwig_doctor.tui.main", "check", str(real_runs)],
        capture_output=True,
        text=True,
        check=False,
        env={**__import__("os").environ, "XDG_CONFIG_HOME": str(tmp_path)},
    )
    assert completed.returncode == 74
    assert str(settings) in completed.stderr
    assert "ludwig_python" in completed.stderr
