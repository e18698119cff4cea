"""Build the ``ludwig train`` command of a relaunch from the parent run's recorded command.

The new command keeps the parent's dataset and options, points ``--config`` at the patched file,
and sets a new ``--experiment_name`` so that Ludwig writes a new run directory beside the parent.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import resolve_recorded_path
from ..run import Run

# `ludwig train` options (Ludwig 0.11.0, ludwig/train.py) that the relaunch sets itself.
_CONFIG_OPTIONS = ("--config", "-c", "--config_file", "--config_str", "-cs")
_REPLACED_OPTIONS = (*_CONFIG_OPTIONS, "--output_directory", "--experiment_name")
# Resuming or reusing the parent's metadata would ignore a patched preprocessing section.
_DROPPED_OPTIONS = {
    "--model_resume_path": "a relaunch trains a new model instead of resuming the parent",
    "-mrp": "a relaunch trains a new model instead of resuming the parent",
    "--training_set_metadata": "the metadata is recomputed for the patched preprocessing",
}
# GPUs are chosen through CUDA_VISIBLE_DEVICES, which renumbers the devices visible to Ludwig.
_GPU_OPTIONS = ("--gpus", "-g")
_DATA_OPTIONS = ("--dataset", "--training_set", "--validation_set", "--test_set", "--model_load_path", "-mlp")
# Options of `ludwig train` that take no value.
_FLAGS_PREFIXES = ("--skip_", "-ss")
_FLAGS = ("--disable_parallel_threads", "-dpt")
DEFAULT_EXPERIMENT_NAME = "experiment"
DEFAULT_MODEL_NAME = "run"


class CommandError(Exception):
    """The relaunch command cannot be built; the message names the path or option and the fix."""


@dataclass
class TrainCommand:
    """The argv of a relaunch, with notes on how each recorded path was found or what was dropped."""

    argv: list[str]
    model_name: str
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return shlex.join(self.argv)


def ludwig_executable(python: str) -> list[str]:
    """Return the ``ludwig`` script beside ``python`` when there is one, else ``python -m ludwig.cli``."""
    script = Path(python).parent / "ludwig"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [python, "-m", "ludwig.cli"]


def recorded_train_options(run: Run) -> list[str] | None:
    """Return the options after ``train`` in the recorded ``ludwig train`` command, else None."""
    command = (run.description or {}).get("command")
    if not isinstance(command, str):
        return None
    try:
        tokens = shlex.split(command)
    except ValueError:
        tokens = command.split()
    for index, token in enumerate(tokens[:-1]):
        if token != "train" or index == 0:
            continue
        program = tokens[:index]
        if any(Path(part).name.startswith("ludwig") or part == "ludwig.cli" for part in program):
            return tokens[index + 1 :]
    return None


def option_value(options: list[str], names: tuple[str, ...]) -> str | None:
    """Return the value of the first option in ``names``, in ``--name value`` or ``--name=value`` form."""
    for index, token in enumerate(options):
        name, separator, value = token.partition("=")
        if name in names:
            if separator:
                return value
            if index + 1 < len(options):
                return options[index + 1]
    return None


def build_train_command(
    run: Run,
    python: str,
    config_path: Path,
    output_directory: Path,
    experiment_name: str,
    dataset: Path | None = None,
) -> TrainCommand:
    """Build the relaunch argv for the Ludwig installed with ``python``.

    ``dataset`` replaces the recorded ``--dataset``. Raise CommandError when a recorded data
    path cannot be found on this machine, or when the run records no dataset at all.
    """
    options = recorded_train_options(run)
    notes: list[str] = []
    if options is None:
        notes.append(
            "the parent was not started with `ludwig train` (for example through the Python API); "
            "only its dataset is carried over"
        )
        recorded_dataset = (run.description or {}).get("dataset")
        options = ["--dataset", recorded_dataset] if isinstance(recorded_dataset, str) else []

    kept = _carry_options(run, options, dataset, notes)
    has_data = any(token.partition("=")[0] in ("--dataset", "--training_set") for token in kept)
    if not has_data:
        raise CommandError(
            f"{run.path}: the run records no dataset; pass the training data with --dataset PATH"
        )

    argv = [
        *ludwig_executable(python),
        "train",
        "--config",
        str(config_path),
        *kept,
        "--output_directory",
        str(output_directory),
        "--experiment_name",
        experiment_name,
    ]
    model_name = option_value(kept, ("--model_name",)) or DEFAULT_MODEL_NAME
    return TrainCommand(argv=argv, model_name=model_name, notes=notes)


def _carry_options(run: Run, options: list[str], dataset: Path | None, notes: list[str]) -> list[str]:
    kept: list[str] = []
    index = 0
    dataset_given = False
    while index < len(options):
        token = options[index]
        name, separator, inline_value = token.partition("=")
        takes_value = not separator and not _is_flag(name)
        if separator:
            value = inline_value
        elif index + 1 < len(options):
            value = options[index + 1]
        else:
            value = ""
        index += 1 if separator or not takes_value else 2

        if not name.startswith("-"):
            notes.append(f"dropped the stray argument {token!r} from the recorded command")
            continue
        if name in _GPU_OPTIONS:
            # --gpus takes one or more integers; the first one is already consumed.
            while index < len(options) and options[index].isdigit():
                index += 1
            notes.append(f"dropped {name}: the GPUs are chosen through CUDA_VISIBLE_DEVICES")
            continue
        if name in _REPLACED_OPTIONS:
            continue
        if name in _DROPPED_OPTIONS:
            notes.append(f"dropped {name} {value}: {_DROPPED_OPTIONS[name]}")
            continue
        if name == "--dataset" and dataset is not None:
            kept += ["--dataset", str(dataset)]
            dataset_given = True
            continue
        if name in _DATA_OPTIONS:
            kept += [name, _resolve_data_path(run, name, value, notes)]
            continue
        kept += [token] if not takes_value or separator else [token, value]

    if dataset is not None and not dataset_given:
        kept = ["--dataset", str(dataset), *kept]
    return kept


def _is_flag(name: str) -> bool:
    return name.startswith(_FLAGS_PREFIXES) or name in _FLAGS


def _resolve_data_path(run: Run, option: str, recorded: str, notes: list[str]) -> str:
    resolution = resolve_recorded_path(recorded, run, run.path_map)
    if resolution.path is not None:
        if resolution.path != Path(recorded):
            notes.append(f"{option}: {recorded} moved; using {resolution.path} ({resolution.how})")
        return str(resolution.path)
    if resolution.note:
        # A URI or a hub id is passed on as recorded.
        return recorded
    tried = ", ".join(str(candidate) for candidate in resolution.candidates[:4])
    raise CommandError(
        f"{option} {recorded} was not found on this machine (tried {tried}); pass --dataset PATH, "
        "or --path-map OLD=NEW to replace the recorded folder"
    )
