"""Shared fixtures: the public real runs beside the project and the committed sample runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# No test may reach a model hub; tiny models and tokenizers are built offline.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REAL_RUNS = PROJECT_ROOT.parent / "shared" / "real_runs"
SAMPLE_RUNS = PROJECT_ROOT / "sample_runs"


@pytest.fixture(scope="session")
def real_runs() -> Path:
    """Real output directories that people published, Ludwig 0.3 to 0.10 (read in place, never copied)."""
    if not REAL_RUNS.is_dir():
        pytest.fail(f"{REAL_RUNS} not found: the shared real runs must sit beside the project")
    return REAL_RUNS


@pytest.fixture(scope="session")
def sample_runs() -> Path:
    """The committed output of real Ludwig runs made by sample_runs/make_sample_runs.py."""
    return SAMPLE_RUNS


LUDWIG_PYTHON = PROJECT_ROOT / ".venvs" / "ludwig-0.11.0" / "bin" / "python"


@pytest.fixture(scope="session")
def ludwig_python() -> Path:
    """The interpreter of the Ludwig 0.11.0 environment that scripts/bootstrap creates."""
    if not LUDWIG_PYTHON.exists():
        pytest.fail(
            f"{LUDWIG_PYTHON} not found: run scripts/bootstrap (without LUDWIG_DOCTOR_NO_LUDWIG=1) "
            "to create the Ludwig environment that this test needs"
        )
    return LUDWIG_PYTHON
