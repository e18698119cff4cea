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

# "owner/name" with the characters the Hugging Face hub allows in repository ids.
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
# Schemes that name remote or registry data: ludwig://alpaca, hf://..., s3://...
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# A path like data/train.csv has the owner/name shape too; these extensions rule it out.
_FILE_EXTENSIONS = (".csv", ".tsv", ".json", ".jsonl", ".yaml", ".yml", ".parquet", ".txt", ".hdf5", ".pkl")
_CONFIG_OPTIONS = ("--config", "-c", "--config_file")
_DATASET_OPTIONS = ("--dataset",)


@dataclass
class PathResolution:
    """The outcome of resolving one recorded path: the local path, the method, and every candidate tried."""

    recorded: str
    path: Path | None
    # One of AS_RECORDED, RELATIVE_TO_RUN, RELATIVE_TO_SCANNED_FOLDER, USER_OVERRIDE, or None.
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
    try:
        tokens = shlex.split(command)
    except ValueError:
        # An unbalanced quote, for example from a truncated command; whitespace splitting still
        # finds options whose values have no spaces.
        tokens = command.split()
    return CommandPaths(
        config=_option_value(tokens, _CONFIG_OPTIONS), dataset=_option_value(tokens, _DATASET_OPTIONS)
    )


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
