"""Runs copied to another machine: recorded absolute paths are found relative to the run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ludwig_doctor.diagnostics.findings import Finding
from ludwig_doctor.diagnostics.scan import DoctorOptions, scan

# A prefix that exists on no machine, standing in for the GPU box's folder layout.
GONE = "/gpu-box/home/someone/ludwig-doctor"


def copy_moved_run(sample_runs: Path, destination: Path, with_models: bool) -> Path:
    """Copy the 0.9.1 sample run and rewrite its recorded paths as if it came from another machine."""
    run_folder = destination / "sample_runs" / "llm_v091_nopad"
    shutil.copytree(sample_runs / "llm_v091_nopad", run_folder)
    if with_models:
        shutil.copytree(sample_runs / "models", destination / "sample_runs" / "models")

    description_path = run_folder / "results" / "experiment_run" / "description.json"
    description = json.loads(description_path.read_text())
    original_base_model = description["config"]["base_model"]
    moved_base_model = GONE + original_base_model[original_base_model.index("/sample_runs/") :]
    description["config"]["base_model"] = moved_base_model
    description["command"] = description["command"].replace(str(sample_runs), GONE + "/sample_runs")
    description_path.write_text(json.dumps(description))
    return destination / "sample_runs"


def findings_by_id(folder: Path, options: DoctorOptions | None = None) -> dict[str, Finding]:
    (report,) = scan([folder], options or DoctorOptions())
    return {finding.id: finding for finding in report.findings}


def test_moved_base_model_found_beside_run(sample_runs: Path, tmp_path: Path) -> None:
    folder = copy_moved_run(sample_runs, tmp_path, with_models=True)
    findings = findings_by_id(folder)

    moved = findings["paths.moved"]
    notes = [item.note for item in moved.evidence if item.field == "config.base_model"]
    assert notes and str(tmp_path / "sample_runs" / "models" / "tiny-llama") in notes[0]

    version = findings["version.pad_token_maps_to_unk"]
    sources = [item.source for item in version.evidence]
    assert str(tmp_path / "sample_runs" / "models" / "tiny-llama" / "tokenizer_config.json") in sources


def test_missing_base_model_reported(sample_runs: Path, tmp_path: Path) -> None:
    folder = copy_moved_run(sample_runs, tmp_path, with_models=False)
    findings = findings_by_id(folder)

    missing = findings["paths.base_model_not_found"]
    assert GONE in missing.evidence[0].value
    assert "--path-map" in missing.action
    # The recorded "[PAD]" padding symbol still shows the regression without the tokenizer.
    assert "version.pad_token_maps_to_unk" in findings


def test_path_map_points_to_moved_model(sample_runs: Path, tmp_path: Path) -> None:
    folder = copy_moved_run(sample_runs, tmp_path, with_models=False)
    options = DoctorOptions(path_map={GONE + "/sample_runs/models": str(sample_runs / "models")})
    findings = findings_by_id(folder, options)

    assert "paths.base_model_not_found" not in findings
    moved = findings["paths.moved"]
    assert any("user override" in item.note for item in moved.evidence)


def test_relaunch_plan_points_base_model_at_copy(sample_runs: Path, tmp_path: Path) -> None:
    from ludwig_doctor.diagnostics.launch.plan import plan_relaunch
    from ludwig_doctor.diagnostics.loader import load_run

    folder = copy_moved_run(sample_runs, tmp_path, with_models=True)
    shutil.copytree(sample_runs / "data", folder / "data")
    run_dir = folder / "llm_v091_nopad" / "results" / "experiment_run"

    plan = plan_relaunch(load_run(run_dir, folder), [], ludwig_python="/usr/bin/python3")

    edits = [edit for edit in plan.edits if edit.path == "base_model"]
    assert [edit.value for edit in edits] == [str(folder / "models" / "tiny-llama")]
    assert f"base_model: {folder / 'models' / 'tiny-llama'}" in plan.patched_text
