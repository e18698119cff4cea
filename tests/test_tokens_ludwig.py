"""The doctor's cut counts against Ludwig 0.11.0's own preprocessing and merge of the same rows."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ludwig_doctor.diagnostics.loader import load_run
from ludwig_doctor.diagnostics.tokens.analysis import TokenAnalysis, analyze_run
from ludwig_doctor.diagnostics.tokens.budget import CUT_KINDS, FITS, cut_counts
from ludwig_doctor.diagnostics.tokens.dataset import SPLIT_NAMES

SCRIPT = Path(__file__).parent / "ludwig" / "count_cut_targets.py"
# 32 is the run's own limit (whole targets lost); the others cut part of the target or the stop token.
EXTRA_LIMITS = (60, 64, 66)

pytestmark = pytest.mark.ludwig


@pytest.fixture(scope="module")
def ludwig_counts(ludwig_python: Path, sample_runs: Path) -> dict[str, Any]:
    """Run Ludwig's preprocessing once (about 10 to 30 s) and return the script's JSON output."""
    command = [
        str(ludwig_python),
        str(SCRIPT),
        "--config",
        str(sample_runs / "llm_truncated" / "config.yaml"),
        "--dataset",
        str(sample_runs / "data" / "instructions.csv"),
        "--base-model",
        str(sample_runs / "models" / "tiny-llama"),
        *[argument for limit in EXTRA_LIMITS for argument in ("--limit", str(limit))],
    ]
    environment = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "NLTK_DATA": str(sample_runs.parent / "envs" / "nltk_data"),
    }
    completed = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=300, check=False
    )
    assert completed.returncode == 0, f"Ludwig's preprocessing failed:\n{completed.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def doctor(sample_runs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenAnalysis]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        run = load_run(sample_runs / "llm_truncated" / "results" / "experiment_run", sample_runs, [])
        yield analyze_run(run)


def doctor_counts(analysis: TokenAnalysis, limit: int) -> dict[str, dict[str, int]]:
    budgets = analysis.budgets(replace(analysis.limits, global_limit=limit))
    result = {}
    for code, name in enumerate(SPLIT_NAMES):
        counts = cut_counts(budgets, analysis.split == code)
        result[name] = {"rows": counts.rows, **{kind: counts.counts[kind] for kind in (FITS, *CUT_KINDS)}}
    return result


def test_cut_targets_match_ludwig(ludwig_counts: dict[str, Any], doctor: TokenAnalysis) -> None:
    assert ludwig_counts["limit"] == doctor.limits.global_limit == 32
    assert ludwig_counts["limits"]["32"] == doctor_counts(doctor, 32)
    assert ludwig_counts["limits"]["32"]["training"]["input"] == 31


@pytest.mark.parametrize("limit", EXTRA_LIMITS)
def test_cut_kinds_match_ludwig(ludwig_counts: dict[str, Any], doctor: TokenAnalysis, limit: int) -> None:
    assert ludwig_counts["limits"][str(limit)] == doctor_counts(doctor, limit)


def test_lengths_match_ludwig(ludwig_counts: dict[str, Any], doctor: TokenAnalysis) -> None:
    assert ludwig_counts["input_lengths"] == sorted(doctor.input_raw.tolist())
    assert ludwig_counts["target_lengths"] == sorted(doctor.target_raw.tolist())
    assert ludwig_counts["recorded_max_sequence_length"] == {
        "instruction": int(doctor.input_raw.max()),
        "output": int(doctor.target_raw.max()),
    }
