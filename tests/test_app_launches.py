"""Finding a training launch again after the app was closed, and following its log."""

from __future__ import annotations

import os
import shutil
import signal
import stat
from pathlib import Path

import pytest
from textual.widgets import Log, OptionList

from ludwig_doctor.diagnostics.launch.plan import plan_relaunch, start_relaunch
from ludwig_doctor.diagnostics.launch.process import group_alive, read_state
from ludwig_doctor.diagnostics.loader import load_run
from ludwig_doctor.diagnostics.scan import DoctorOptions
from ludwig_doctor.tui.app import create_app
from ludwig_doctor.tui.screens.launch import LaunchScreen
from ludwig_doctor.tui.screens.launches import LaunchesScreen

# A stand-in `ludwig`: it prints Ludwig's progress lines and keeps training for a while.
SLOW_LUDWIG = """#!/bin/sh
echo "Training for 450 step(s), approximately 10 epoch(s)."
echo "Starting with step 0, epoch: 0"
sleep 60
"""


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def make_stand_in_environment(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, text in (("python", "#!/bin/sh\necho 0.11.0\n"), ("ludwig", SLOW_LUDWIG)):
        script = folder / name
        script.write_text(text)
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder / "python"


async def test_running_launch_followed_after_restart(sample_runs: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(sample_runs / "llm_truncated", runs / "llm_truncated")
    run_dir = runs / "llm_truncated" / "results" / "experiment_run"
    python = make_stand_in_environment(tmp_path / "env" / "bin")

    # An earlier session started this launch and was closed while it trained.
    plan = plan_relaunch(
        load_run(run_dir, runs), [], str(python), dataset=sample_runs / "data" / "instructions.csv"
    )
    record = start_relaunch(plan)
    try:
        app = create_app([runs], DoctorOptions(ludwig_python=str(python)))
        async with app.run_test(size=(80, 24)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            messages = [notification.message for notification in app._notifications]
            assert any("still running. Press L to follow" in message for message in messages)

            await pilot.press("L")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, LaunchesScreen)
            assert "1 running" in str(screen.query_one("#launches-heading").render())
            assert screen.query_one(OptionList).option_count == 1

            await pilot.press("enter")
            await pilot.pause(0.5)
            assert isinstance(app.screen, LaunchScreen)
            log_lines = "\n".join(app.screen.query_one(Log).lines)
            assert "Starting with step 0" in log_lines
    finally:
        state = read_state(record.record_path)
        if state.record.pgid is not None and group_alive(state.record.pgid):
            os.killpg(state.record.pgid, signal.SIGTERM)
