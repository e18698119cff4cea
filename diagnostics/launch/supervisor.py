"""The detached process that runs one relaunch and records how it ends.

``python -m ludwig_doctor.diagnostics.launch.supervisor RECORD`` forks, and the parent exits at
once. The child starts a new session, so it has no controlling terminal and is its own process
group; closing the app or losing the SSH connection sends it no signal. It runs the recorded
command with the log file as stdout and stderr, waits for it, and writes the end time and exit
status into the record.

This module imports only the standard library and ``record``, so it starts in a fraction of a second.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import FrameType

from .record import (
    CANCELLED,
    FAILED,
    RUN_RECORD_FILE,
    RUNNING,
    SUCCEEDED,
    LaunchRecord,
    locked_record,
    now_text,
    write_record,
)

# Ludwig 0.11.0 ends a successful `ludwig train` with "Saved to: <run directory>".
_SAVED_TO = re.compile(r"^Saved to: (.+)$", re.MULTILINE)


def main(argv: list[str]) -> int:
    """Detach, run the recorded command, and record its end."""
    if len(argv) != 1:
        print("usage: python -m ludwig_doctor.diagnostics.launch.supervisor RECORD", file=sys.stderr)
        return 64
    record_path = Path(argv[0]).resolve()

    if os.fork() > 0:
        # The parent returns to the doctor, which waits for it; the child lives on alone.
        os._exit(0)
    os.setsid()
    return supervise(record_path)


def supervise(record_path: Path) -> int:
    """Run the command of the record at ``record_path`` and write its outcome there."""
    # The doctor cancels by signalling the whole process group. The supervisor outlives those
    # signals to record the outcome; Ludwig, its child, gets the default handlers back at exec.
    received: list[int] = []

    def remember(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    signal.signal(signal.SIGINT, remember)
    signal.signal(signal.SIGTERM, remember)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    with locked_record(record_path) as record:
        record.pgid = os.getpgid(0)
        record.hostname = socket.gethostname()
        record.started_at = now_text()
        record.status = RUNNING
        command, cwd, environment = list(record.command), record.cwd, dict(record.environment)

    print(f"ludwig-doctor: started at {now_text()} in {cwd}: {' '.join(command)}", flush=True)
    child_environment = {**os.environ, **environment}
    try:
        child = subprocess.Popen(command, cwd=cwd, env=child_environment, stdin=subprocess.DEVNULL)
    except OSError as error:
        print(f"ludwig-doctor: cannot start {command[0]}: {error}", flush=True)
        _finish(record_path, exit_status=127, message=f"cannot start {command[0]}: {error}")
        return 1

    with locked_record(record_path) as record:
        record.ludwig_pid = child.pid
    exit_status = child.wait()
    print(f"ludwig-doctor: `ludwig train` exited with status {exit_status} at {now_text()}", flush=True)
    _finish(record_path, exit_status=exit_status, message="")
    return 0


def _finish(record_path: Path, exit_status: int, message: str) -> None:
    with locked_record(record_path) as record:
        record.ended_at = now_text()
        record.exit_status = exit_status
        record.status = _final_status(record, exit_status)
        record.message = message or describe_exit(record.status, exit_status)
        record.run_dir = find_run_dir(record)
        finished = LaunchRecord.from_dict(record.to_dict())

    if finished.run_dir and Path(finished.run_dir).is_dir():
        write_record(finished, Path(finished.run_dir) / RUN_RECORD_FILE)


def _final_status(record: LaunchRecord, exit_status: int) -> str:
    if record.cancel_requested_at:
        return CANCELLED
    return SUCCEEDED if exit_status == 0 else FAILED


def describe_exit(status: str, exit_status: int | None) -> str:
    """Explain an outcome in one sentence, naming the signal for a negative exit status."""
    if status == SUCCEEDED:
        return "training finished"
    if status == CANCELLED:
        return "cancelled by the user"
    if exit_status is None:
        return "the launch stopped without recording an exit status"
    if exit_status < 0:
        name = (
            signal.Signals(-exit_status).name if -exit_status in signal.valid_signals() else str(-exit_status)
        )
        hint = "; the kernel's out-of-memory killer sends SIGKILL" if -exit_status == signal.SIGKILL else ""
        return f"`ludwig train` was killed by {name}{hint}"
    return f"`ludwig train` failed with exit status {exit_status}; the end of the log says why"


def find_run_dir(record: LaunchRecord) -> str | None:
    """Return the run directory Ludwig reported in the log, else the expected one when it exists."""
    try:
        with open(record.log_path, encoding="utf-8", errors="replace") as stream:
            text = stream.read()
    except OSError:
        text = ""
    matches = _SAVED_TO.findall(text)
    if matches:
        saved_to: str = matches[-1]
        return saved_to.strip()
    return record.expected_run_dir if Path(record.expected_run_dir).is_dir() else None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
