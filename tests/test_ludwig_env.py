"""Finding Ludwig in another environment, through the interpreter the user names."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ludwig_doctor.diagnostics.ludwig_env import probe_ludwig
from ludwig_doctor.tui.main import main


@pytest.mark.ludwig
def test_probe_finds_ludwig_in_other_env(ludwig_python: Path) -> None:
    environment = probe_ludwig(str(ludwig_python))
    assert environment.available
    assert environment.ludwig_version == "0.11.0"


def test_probe_reports_missing_interpreter(tmp_path: Path) -> None:
    environment = probe_ludwig(str(tmp_path / "python"))
    assert not environment.available
    assert environment.error is not None
    assert "--ludwig-python" in environment.error


def test_probe_of_doctor_env_without_ludwig() -> None:
    environment = probe_ludwig(sys.executable)
    assert not environment.available
    assert environment.error == f"Ludwig is not installed for {sys.executable}"


@pytest.mark.ludwig
def test_env_command_lists_features(ludwig_python: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["env", "--ludwig-python", str(ludwig_python)]) == 0
    output = capsys.readouterr().out
    assert "Ludwig version: 0.11.0" in output
    assert "Needs Ludwig (available)" in output


def test_env_command_without_ludwig(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["env", "--ludwig-python", sys.executable]) == 1
    output = capsys.readouterr().out
    assert "Ludwig: not available" in output
    assert "relaunching `ludwig train`" in output
