"""Prepare a relaunch: the patched config, its diff and validation, the command, the record.

``plan_relaunch`` writes nothing, so ``--dry-run`` and the app's preview use it as is;
``start_relaunch`` writes the launch folder and starts the detached process.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..patching.validation import ValidationResult
from ..patching.yaml_edit import BaseConfig, ConfigEdit, apply_edits, load_base_config, unified_diff
from ..paths import AS_RECORDED, looks_like_hub_id, resolve_recorded_path
from ..run import Run
from .command import (
    DEFAULT_EXPERIMENT_NAME,
    TrainCommand,
    build_train_command,
    option_value,
    recorded_train_options,
)
from .process import start_launch
from .record import CONFIG_FILE, LAUNCHES_FOLDER, LOG_FILE, LaunchRecord

# Always set for the child: without it, Python buffers Ludwig's prints and the log lags behind.
_BASE_ENVIRONMENT = {"PYTHONUNBUFFERED": "1"}


@dataclass
class RelaunchPlan:
    """Everything a relaunch will write and run, computed before anything is written."""

    run: Run
    base: BaseConfig
    edits: list[ConfigEdit]
    patched_text: str
    diff: str
    output_directory: Path
    experiment_name: str
    run_dir: Path
    launch_dir: Path
    command: TrainCommand
    ludwig_python: str
    # None leaves CUDA_VISIBLE_DEVICES as the doctor found it; "" hides every GPU.
    cuda_visible_devices: str | None = None
    validation: ValidationResult | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def config_path(self) -> Path:
        return self.launch_dir / CONFIG_FILE

    @property
    def log_path(self) -> Path:
        return self.launch_dir / LOG_FILE

    @property
    def environment(self) -> dict[str, str]:
        environment = dict(_BASE_ENVIRONMENT)
        if self.cuda_visible_devices is not None:
            environment["CUDA_VISIBLE_DEVICES"] = self.cuda_visible_devices
        return environment

    @property
    def command_text(self) -> str:
        """The command as a shell line, with the environment changes in front."""
        prefix = " ".join(f"{name}={shlex.quote(value)}" for name, value in self.environment.items())
        return f"{prefix} {self.command.text}"


def plan_relaunch(
    run: Run,
    edits: list[ConfigEdit],
    ludwig_python: str,
    output_directory: Path | None = None,
    experiment_name: str | None = None,
    dataset: Path | None = None,
    cuda_visible_devices: str | None = None,
    now: datetime | None = None,
) -> RelaunchPlan:
    """Patch the run's config and build the command of its relaunch, writing nothing.

    The new run goes beside the parent (``output_directory`` defaults to the folder that contains
    the parent run), under a new experiment name that no existing folder uses. Raise PatchError
    or CommandError when the config or the command cannot be made.
    """
    # An absolute interpreter path keeps the command valid from any folder; abspath keeps a
    # virtual environment's symlinked python as it is, where resolve() would leave the venv.
    ludwig_python = os.path.abspath(ludwig_python)
    base = load_base_config(run)
    edits = [*_moved_base_model_edits(run, edits), *edits]
    patched = apply_edits(base.text, edits)
    output_directory = (output_directory or run.path.parent).resolve()

    options = recorded_train_options(run) or []
    model_name = option_value(options, ("--model_name",)) or "run"
    stamp = (now or datetime.now()).strftime("%Y%m%d_%H%M%S")
    parent_experiment = option_value(options, ("--experiment_name",)) or DEFAULT_EXPERIMENT_NAME
    name = _unused_experiment_name(
        output_directory, experiment_name or f"{parent_experiment}_doctor_{stamp}", model_name
    )
    run_dir_name = f"{name}_{model_name}" if model_name else name
    launch_dir = output_directory / LAUNCHES_FOLDER / run_dir_name

    command = build_train_command(
        run,
        ludwig_python,
        config_path=launch_dir / CONFIG_FILE,
        output_directory=output_directory,
        experiment_name=name,
        dataset=dataset,
    )
    notes = list(command.notes)
    if base.note:
        notes.insert(0, f"patching the resolved config from description.json: {base.note}")

    return RelaunchPlan(
        run=run,
        base=base,
        edits=edits,
        patched_text=patched,
        diff=unified_diff(base.text, patched, base.label, str(launch_dir / CONFIG_FILE)),
        output_directory=output_directory,
        experiment_name=name,
        run_dir=output_directory / run_dir_name,
        launch_dir=launch_dir,
        command=command,
        ludwig_python=ludwig_python,
        cuda_visible_devices=cuda_visible_devices,
        notes=notes,
    )


def build_record(plan: RelaunchPlan) -> LaunchRecord:
    """Make the provenance record of ``plan``, with status "starting"."""
    validation = plan.validation
    return LaunchRecord(
        id=f"{plan.run_dir.name}-{os.getpid()}",
        parent_run=str(plan.run.path.resolve()),
        base_config=plan.base.label,
        base_config_kind=plan.base.kind,
        patches=[edit.to_dict() for edit in plan.edits],
        config_path=str(plan.config_path),
        command=list(plan.command.argv),
        cwd=str(Path.cwd()),
        environment=plan.environment,
        ludwig_python=plan.ludwig_python,
        output_directory=str(plan.output_directory),
        experiment_name=plan.experiment_name,
        expected_run_dir=str(plan.run_dir),
        log_path=str(plan.log_path),
        validation=(
            {
                "status": validation.status,
                "message": validation.message,
                "ludwig_version": validation.ludwig_version,
            }
            if validation
            else {}
        ),
        gpus="unchanged" if plan.cuda_visible_devices is None else (plan.cuda_visible_devices or "cpu"),
    )


def start_relaunch(plan: RelaunchPlan) -> LaunchRecord:
    """Write the patched config and the record into a new launch folder, then start training.

    Raise FileExistsError when the launch folder exists already: a relaunch never overwrites.
    """
    plan.launch_dir.mkdir(parents=True, exist_ok=False)
    plan.config_path.write_text(plan.patched_text, encoding="utf-8")
    return start_launch(build_record(plan))


def _moved_base_model_edits(run: Run, edits: list[ConfigEdit]) -> list[ConfigEdit]:
    """Point ``base_model`` at the local copy when the recorded folder is not on this machine.

    Ludwig loads ``base_model`` itself, so a recorded path from the GPU box would make the new run
    fail at once even though the doctor found the model beside the run.
    """
    recorded = run.base_model
    if not recorded or looks_like_hub_id(recorded) or any(edit.path == "base_model" for edit in edits):
        return []
    resolution = resolve_recorded_path(recorded, run, run.path_map)
    if resolution.path is None or resolution.how == AS_RECORDED:
        return []
    reason = f"the recorded base model {recorded} is not where the run was trained; found {resolution.how}"
    return [ConfigEdit("base_model", str(resolution.path), source="paths.moved", reason=reason)]


def _unused_experiment_name(output_directory: Path, name: str, model_name: str) -> str:
    def taken(candidate: str) -> bool:
        folder = f"{candidate}_{model_name}" if model_name else candidate
        return (output_directory / folder).exists() or (output_directory / LAUNCHES_FOLDER / folder).exists()

    if not taken(name):
        return name
    suffix = 1
    while taken(f"{name}_{suffix}"):
        suffix += 1
    return f"{name}_{suffix}"
