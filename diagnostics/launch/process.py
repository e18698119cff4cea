"""Start a relaunch detached from the terminal, check whether it still runs, and cancel it."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .record import (
    CANCELLED,
    LAUNCHES_FOLDER,
    LOST,
    RECORD_FILE,
    RUNNING,
    STARTING,
    LaunchRecord,
    load_record,
    locked_record,
    now_text,
    register_launch,
    registered_record_paths,
    write_record,
)

logger = logging.getLogger(__name__)

# The supervisor only imports the standard library before it records its start.
SUPERVISOR_START_TIMEOUT_SECONDS = 30.0
# Ludwig saves a checkpoint on SIGINT before it exits; a large model takes a while.
CANCEL_GRACE_SECONDS = 30.0
# After SIGTERM, the time left before the whole group gets SIGKILL.
TERMINATE_GRACE_SECONDS = 10.0
_POLL_SECONDS = 0.1


class LaunchError(Exception):
    """The supervisor could not be started or did not report its start."""


@dataclass(frozen=True)
class LaunchState:
    """A record with its live status: LOST when its status is running but its process group is gone."""

    record: LaunchRecord
    status: str

    @property
    def running(self) -> bool:
        return self.status in (STARTING, RUNNING)


def start_launch(record: LaunchRecord) -> LaunchRecord:
    """Write ``record``, start its detached supervisor, and return the record once it runs.

    The launch folder must exist. Raise LaunchError when the supervisor does not record its start
    within SUPERVISOR_START_TIMEOUT_SECONDS.
    """
    record.created_at = record.created_at or now_text()
    record.status = STARTING
    write_record(record)
    register_launch(record)

    with open(record.log_path, "ab") as log:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "ludwig_doctor.diagnostics.launch.supervisor", str(record.record_path)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            close_fds=True,
        )
    # The supervisor forks and its parent exits at once; waiting reaps that parent.
    supervisor.wait(timeout=SUPERVISOR_START_TIMEOUT_SECONDS)

    deadline = time.monotonic() + SUPERVISOR_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        current = load_record(record.record_path)
        if current.status != STARTING:
            return current
        time.sleep(_POLL_SECONDS)
    raise LaunchError(
        f"the launch supervisor did not start within {SUPERVISOR_START_TIMEOUT_SECONDS:.0f} s; "
        f"see {record.log_path}"
    )


def group_alive(pgid: int | None) -> bool:
    """Tell whether any process of the group ``pgid`` is still alive."""
    if not pgid:
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # The group exists but belongs to another user, so it is not this launch.
        return False
    return True


def launch_state(record: LaunchRecord) -> LaunchState:
    """Return the record's status, or LOST when its status is running but no process of it is left."""
    if record.finished:
        return LaunchState(record, record.status)
    if record.status == RUNNING and not group_alive(record.pgid):
        return LaunchState(record, LOST)
    return LaunchState(record, record.status)


def read_state(record_path: Path) -> LaunchState:
    """Read the record at ``record_path`` and return its live state."""
    return launch_state(load_record(record_path))


def wait_for_end(record_path: Path, timeout: float | None = None) -> LaunchState:
    """Poll the record until the launch ends or is lost; raise TimeoutError after ``timeout`` seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        state = read_state(record_path)
        if not state.running:
            return state
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"the launch recorded in {record_path} still runs after {timeout:.0f} s")
        time.sleep(0.5)


def cancel_launch(
    record_path: Path,
    grace_seconds: float = CANCEL_GRACE_SECONDS,
    terminate_seconds: float = TERMINATE_GRACE_SECONDS,
) -> LaunchState:
    """Stop the launch's whole process group: SIGINT, then SIGTERM, then SIGKILL as a last resort.

    The cancel request is recorded first, so the supervisor records the outcome as cancelled.
    When the supervisor itself had to be killed, this function records the end.
    """
    state = read_state(record_path)
    if not state.running or state.record.pgid is None:
        return state
    pgid = state.record.pgid

    with locked_record(record_path) as record:
        record.cancel_requested_at = now_text()

    for signum, wait_seconds in (
        (signal.SIGINT, grace_seconds),
        (signal.SIGTERM, terminate_seconds),
        (signal.SIGKILL, terminate_seconds),
    ):
        logger.info("cancelling launch %s: sending %s to process group %d", record.id, signum.name, pgid)
        try:
            os.killpg(pgid, signum)
        except ProcessLookupError:
            break
        if _wait_for_group_exit(pgid, wait_seconds):
            break

    _wait_for_record_end(record_path, seconds=2.0)
    with locked_record(record_path) as record:
        if not record.finished:
            record.status = CANCELLED
            record.ended_at = now_text()
            record.message = (
                "cancelled by the user; the supervisor was stopped before it recorded the exit status"
            )
    return read_state(record_path)


def _wait_for_group_exit(pgid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return True
        time.sleep(_POLL_SECONDS)
    return not group_alive(pgid)


def _wait_for_record_end(record_path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if load_record(record_path).finished:
            return
        time.sleep(_POLL_SECONDS)


def find_launches(paths: Iterable[Path] = ()) -> list[LaunchState]:
    """Find launch records in the state folder and under ``paths``, newest first, without duplicates."""
    candidates = list(registered_record_paths())
    for path in paths:
        if path.is_dir():
            candidates.extend(sorted(path.glob(f"**/{LAUNCHES_FOLDER}/*/{RECORD_FILE}")))

    states: list[LaunchState] = []
    seen: set[Path] = set()
    for candidate in candidates:
        try:
            resolved = candidate.resolve()
        except OSError:
            continue
        if resolved in seen or not resolved.is_file():
            continue
        seen.add(resolved)
        try:
            states.append(read_state(resolved))
        except (OSError, ValueError, TypeError) as error:
            logger.warning("skipping the unreadable launch record %s: %s", resolved, error)
    states.sort(key=lambda state: state.record.created_at, reverse=True)
    return states


def running_launches(paths: Iterable[Path] = ()) -> list[LaunchState]:
    """Return the launches that still run, for following them again after a restart."""
    return [state for state in find_launches(paths) if state.running]
