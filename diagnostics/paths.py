"""Resolving paths recorded in a run (base model, dataset, config) after the run moved machines."""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from .run import Run

logger = logging.getLogger(__name__)

AS_RECORDED = "as recorded"
RELATIVE_TO_RUN = "relative to the run"
RELATIVE_TO_SCANNED_FOLDER = "relative to the scanned folder"
USER_OVERRIDE = "user override"
MOVED_WITH_RUN = "moved with the run"

# "owner/name" with the characters the Hugging Face hub allows in repository ids.
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
# Schemes that name remote or registry data: ludwig://alpaca, hf://..., s3://...
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# A path like data/train.csv has the owner/name shape too; these extensions rule it out.
_FILE_EXTENSIONS = (".csv", ".tsv", ".json", ".jsonl", ".yaml", ".yml", ".parquet", ".txt", ".hdf5", ".pkl")
_CONFIG_OPTIONS = ("--config", "-c", "--config_file")
_DATASET_OPTIONS = ("--dataset",)
_OUTPUT_DIRECTORY_OPTIONS = ("--output_directory", "-od")


@dataclass
class PathResolution:
    """The outcome of resolving one recorded path: the local path, the method, and every candidate tried."""

    recorded: str
    path: Path | None
    # One of AS_RECORDED, MOVED_WITH_RUN, RELATIVE_TO_RUN, RELATIVE_TO_SCANNED_FOLDER, USER_OVERRIDE, or None.
    how: str | None
    candidates: list[Path] = field(default_factory=list)
    # Why a value is not a local path, for example a Hugging Face hub id or a ludwig:// URI.
    note: str = ""

    @property
    def found(self) -> bool:
        return self.path is not None


@dataclass(frozen=True)
class CommandPaths:
    """The ``--config`` and ``--dataset`` values of a recorded ``ludwig train`` command line."""

    config: str | None
    dataset: str | None


def resolve_recorded_path(
    recorded: str, run: Run, overrides: Mapping[str, str] | None = None
) -> PathResolution:
    """Find the file or folder that ``recorded`` named when the run was made.

    An override maps a recorded path, or a recorded folder prefix, to a local one. Otherwise
    an absolute path is used as recorded when it exists. Then the last 1..n parts of the
    recorded path (longest first) are joined onto the run directory and each of its ancestors
    up to the scanned folder's parent, nearest first.
    """
    result = PathResolution(recorded=recorded, path=None, how=None)
    if overrides and _apply_override(recorded, overrides, result):
        return result
    if _URI.match(recorded):
        result.note = f"{recorded} is a URI, not a local path"
        return result

    if _follow_run_move(recorded, run, result):
        return result

    parts = _recorded_parts(recorded)
    if _is_absolute(recorded):
        local = Path(recorded).expanduser()
        result.candidates.append(local)
        if local.exists():
            result.path, result.how = local, AS_RECORDED
            return result

    if _search_bases(parts, run, result):
        return result
    if _HUB_ID.match(recorded):
        result.note = (
            f"{recorded} looks like a Hugging Face hub id, not a path; it is loaded from the hub cache"
        )
    return result


def looks_like_hub_id(recorded: str) -> bool:
    """Tell whether ``recorded`` has the ``owner/name`` form of a hub id and no data-file extension."""
    return bool(_HUB_ID.match(recorded)) and not recorded.lower().endswith(_FILE_EXTENSIONS)


def _apply_override(recorded: str, overrides: Mapping[str, str], result: PathResolution) -> bool:
    # Longer prefixes are tried first, so a file override beats an override of its folder.
    for source in sorted(overrides, key=len, reverse=True):
        prefix = source.rstrip("/\\")
        if recorded == source or recorded.startswith(prefix + "/") or recorded.startswith(prefix + "\\"):
            tail = recorded[len(prefix) :].lstrip("/\\")
            local = (
                Path(overrides[source]).expanduser() / tail if tail else Path(overrides[source]).expanduser()
            )
            result.candidates.append(local)
            if local.exists():
                result.path, result.how = local, USER_OVERRIDE
                return True
    return False


def run_move(run: Run) -> tuple[str, Path] | None:
    """Return (old prefix, new prefix) when the run directory is no longer where it was trained.

    ``ludwig train`` records its absolute ``--output_directory``; the run directory was that folder
    plus the run's own name. When the run now lives elsewhere (a copy on a laptop, a clone of a
    repository), the trailing folders the two locations share are dropped, and what remains maps
    the old location to the new one, for example /work/main to /home/me/clone.
    """
    command = (run.description or {}).get("command")
    if not isinstance(command, str):
        return None
    recorded_output = _option_value(_split_command(command), _OUTPUT_DIRECTORY_OPTIONS)
    if not recorded_output or not recorded_output.startswith("/"):
        return None

    recorded_parts = PurePosixPath(recorded_output, run.path.name).parts
    actual_parts = run.path.resolve().parts
    if recorded_parts == actual_parts:
        return None

    shared = 0
    while (
        shared < min(len(recorded_parts), len(actual_parts)) - 1
        and recorded_parts[-1 - shared] == actual_parts[-1 - shared]
    ):
        shared += 1
    if shared == 0:
        return None
    old_prefix = str(PurePosixPath(*recorded_parts[: len(recorded_parts) - shared]))
    new_prefix = Path(*actual_parts[: len(actual_parts) - shared])
    return old_prefix, new_prefix


def _follow_run_move(recorded: str, run: Run, result: PathResolution) -> bool:
    """Map a recorded path that lay beside the run to the same place beside the run's new location.

    This comes before the recorded path itself: a repository cloned on the machine where the runs
    were made still has the old copy at the recorded path, and the clone must use its own files.
    """
    move = run_move(run)
    if move is None:
        return False
    old_prefix, new_prefix = move
    if not recorded.startswith(old_prefix.rstrip("/") + "/"):
        return False

    candidate = new_prefix / recorded[len(old_prefix.rstrip("/")) + 1 :]
    result.candidates.append(candidate)
    if candidate.exists():
        result.path, result.how = candidate, MOVED_WITH_RUN
        return True
    return False


def find_beside(recorded: str, start: Path, levels: int = 4) -> Path | None:
    """Find a recorded path that moved with a file: its trailing parts below ``start`` or an ancestor.

    Used for paths inside a config file that is not part of a run, such as the ``base_model`` of a
    config copied with its project: /old/project/models/m is found as ./models/m beside it.
    """
    parts = _recorded_parts(recorded)
    bases = [start, *list(start.parents)[:levels]]
    for count in range(len(parts), 0, -1):
        for base in bases:
            candidate = base / Path(*parts[-count:])
            if candidate.exists():
                return candidate
    return None


def _search_bases(parts: tuple[str, ...], run: Run, result: PathResolution) -> bool:
    bases = _base_directories(run)
    for count in range(len(parts), 0, -1):
        tail = Path(*parts[-count:])
        for base, how in bases:
            candidate = base / tail
            result.candidates.append(candidate)
            if candidate.exists():
                result.path, result.how = candidate, how
                return True
    return False


def _base_directories(run: Run) -> list[tuple[Path, str]]:
    """Return the run directory and its ancestors up to the scanned folder's parent, nearest first."""
    run_dir = run.path.resolve()
    root = run.root.resolve()
    if run_dir != root and root not in run_dir.parents:
        return [(run_dir, RELATIVE_TO_RUN), (run_dir.parent, RELATIVE_TO_RUN)]

    bases = []
    directory = run_dir
    while directory != root:
        bases.append((directory, RELATIVE_TO_RUN))
        directory = directory.parent
    bases.append((root, RELATIVE_TO_SCANNED_FOLDER if root != run_dir else RELATIVE_TO_RUN))
    bases.append((root.parent, RELATIVE_TO_SCANNED_FOLDER))
    return bases


def _is_absolute(recorded: str) -> bool:
    return recorded.startswith(("/", "~")) or PureWindowsPath(recorded).is_absolute()


def _recorded_parts(recorded: str) -> tuple[str, ...]:
    # Runs trained on Windows record backslash paths, such as .\main.py or C:\data\x.csv.
    if "\\" in recorded or re.match(r"^[A-Za-z]:", recorded):
        parts = PureWindowsPath(recorded).parts
    else:
        parts = PurePosixPath(recorded).parts
    return tuple(
        part for part in parts if part not in ("/", "~", ".", "..") and not part.endswith((":\\", ":"))
    )


def command_paths(command: str) -> CommandPaths:
    """Extract the ``--config``/``-c``/``--config_file`` and ``--dataset`` values from a command line."""
    tokens = _split_command(command)
    return CommandPaths(
        config=_option_value(tokens, _CONFIG_OPTIONS), dataset=_option_value(tokens, _DATASET_OPTIONS)
    )


def _split_command(command: str) -> list[str]:
    try:
        return shlex.split(command)
    except ValueError:
        # An unbalanced quote, for example from a truncated command; whitespace splitting still
        # finds options whose values have no spaces.
        return command.split()


def _option_value(tokens: list[str], names: tuple[str, ...]) -> str | None:
    for index, token in enumerate(tokens):
        if token in names and index + 1 < len(tokens):
            return tokens[index + 1]
        for name in names:
            if name.startswith("--") and token.startswith(name + "="):
                return token[len(name) + 1 :]
    return None


def recorded_config_path(run: Run) -> str | None:
    """Return the config file named in description.json ``command``, if the run was started by the CLI."""
    command = (run.description or {}).get("command")
    return command_paths(command).config if isinstance(command, str) else None


def recorded_dataset_path(run: Run) -> str | None:
    """Return description.json ``dataset``, else the ``--dataset`` value of its ``command``."""
    description = run.description or {}
    dataset = description.get("dataset")
    if isinstance(dataset, str):
        return dataset
    command = description.get("command")
    return command_paths(command).dataset if isinstance(command, str) else None
