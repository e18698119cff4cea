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
