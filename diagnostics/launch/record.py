"""The provenance record of one relaunch, stored as ``launch.json`` in the launch folder.

The doctor writes it before the launch; the detached supervisor updates it when training starts
and ends. Both update it under an exclusive file lock and replace the file atomically, so a
reader never sees a half-written record.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RECORD_FILE = "launch.json"
CONFIG_FILE = "config.yaml"
LOG_FILE = "train.log"
# The launch folders live in this folder inside the new run's output directory.
LAUNCHES_FOLDER = "ludwig-doctor"
# A copy of the finished record, written into the new run directory.
RUN_RECORD_FILE = "ludwig_doctor_launch.json"
SCHEMA_VERSION = 1

STARTING = "starting"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
# Computed, never stored: the record is "running", but its process group is gone.
LOST = "lost"
FINISHED_STATUSES = (SUCCEEDED, FAILED, CANCELLED)


@dataclass
class LaunchRecord:
    """Provenance of a relaunched run: its parent, patches, command, environment and outcome."""

    id: str
    parent_run: str
    # The config the patches were applied to: the user's file, or description.json's config.
    base_config: str
    base_config_kind: str
    patches: list[dict[str, Any]]
    config_path: str
    command: list[str]
    cwd: str
    # Variables the doctor set on top of its own environment, such as CUDA_VISIBLE_DEVICES.
    environment: dict[str, str]
    ludwig_python: str
    output_directory: str
    experiment_name: str
    expected_run_dir: str
    log_path: str
    validation: dict[str, Any] = field(default_factory=dict)
    gpus: str = ""
    status: str = STARTING
    run_dir: str | None = None
    # The supervisor's pid, which is also the process group id of the whole launch.
    pgid: int | None = None
    ludwig_pid: int | None = None
    hostname: str = ""
    created_at: str = ""
    started_at: str | None = None
    ended_at: str | None = None
    # The exit status of `ludwig train`; negative for a signal, as in subprocess.
    exit_status: int | None = None
    cancel_requested_at: str | None = None
    message: str = ""
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LaunchRecord:
        known = {item.name for item in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    @property
    def launch_dir(self) -> Path:
        return Path(self.log_path).parent

    @property
    def record_path(self) -> Path:
        return self.launch_dir / RECORD_FILE

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES


def now_text() -> str:
    """Return the current time as ISO 8601 with the local UTC offset."""
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def load_record(path: Path) -> LaunchRecord:
    """Read a launch record; raise OSError, ValueError or TypeError for a missing or invalid file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a launch record must be a JSON object")
    return LaunchRecord.from_dict(data)


def write_record(record: LaunchRecord, path: Path | None = None) -> None:
    """Write ``record`` to ``path`` (default: its launch folder) by an atomic replace."""
    target = path or record.record_path
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(record.to_dict(), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, target)


@contextlib.contextmanager
def locked_record(path: Path) -> Iterator[LaunchRecord]:
    """Hold the record's lock, yield it for changes, and write it back when the block ends."""
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            record = load_record(path)
            yield record
            write_record(record, path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def state_directory() -> Path:
    """Return ``$XDG_STATE_HOME/ludwig-doctor/launches``, where every launch leaves a pointer."""
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "ludwig-doctor" / "launches"


def register_launch(record: LaunchRecord) -> None:
    """Leave a pointer to the record in the state folder, so that the next start finds it."""
    folder = state_directory()
    folder.mkdir(parents=True, exist_ok=True)
    pointer = {"record": str(record.record_path.resolve())}
    (folder / f"{record.id}.json").write_text(json.dumps(pointer) + "\n", encoding="utf-8")


def registered_record_paths() -> list[Path]:
    """Return the record paths that the state folder points to, newest pointer first."""
    folder = state_directory()
    if not folder.is_dir():
        return []
    paths = []
    pointers = sorted(folder.glob("*.json"), key=lambda item: item.stat().st_mtime, reverse=True)
    for pointer in pointers:
        try:
            data = json.loads(pointer.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("record"), str):
            paths.append(Path(data["record"]))
    return paths
