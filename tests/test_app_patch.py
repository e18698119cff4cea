"""Pilot tests of the patch screen and the launch screen, on a copy of the truncated sample run.

The launch uses a stand-in Ludwig environment: its `ludwig` script prints Ludwig's progress lines
and sleeps, so the tests follow a real detached process group in a few seconds.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, Log, Static

from ludwig_doctor.diagnostics.launch.process import group_alive, read_state
from ludwig_doctor.diagnostics.launch.record import CANCELLED, SUCCEEDED
from ludwig_doctor.diagnostics.scan import DoctorOptions, check_entry, find_runs
from ludwig_doctor.tui.app import create_app
from ludwig_doctor.tui.screens.launch import LaunchScreen
from ludwig_doctor.tui.screens.patch import PatchScreen

RECORDED_ROOT = "/work/main/sample_runs"

FAKE_LUDWIG = """#!/bin/sh
echo "Training for 450 step(s), approximately 10 epoch(s)."
echo "Starting with step 0, epoch: 0"
printf 'Training:   1%%|          | 3/450 [00:00<00:08, loss=6.1]\\r'
printf 'Training:  10%%|          | 45/450 [00:01<00:08, loss=5.9]\\n'
echo "Running evaluation for step: 45, epoch: 1"
sleep "${FAKE_LUDWIG_SECONDS:-1}"
echo "Saved to: nowhere"
"""


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def run_copy(tmp_path: Path, sample_runs: Path) -> tuple[Path, DoctorOptions]:
    copy = tmp_path / "runs"
    shutil.copytree(sample_runs / "llm_truncated", copy / "llm_truncated")
    shutil.copytree(sample_runs / "data", copy / "data")
    bin_dir = tmp_path / "fake-env" / "bin"
    bin_dir.mkdir(parents=True)
    # The probe asks this "python" for Ludwig's version; the schema check then gets no answer
    # from it and reports the config as not validated, which does not block a launch.
    for name, text in (("python", "#!/bin/sh\necho 0.11.0\n"), ("ludwig", FAKE_LUDWIG)):
        script = bin_dir / name
        script.write_text(text)
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    options = DoctorOptions(
        ludwig_python=str(bin_dir / "python"),
        path_map={
            f"{RECORDED_ROOT}/llm_truncated": str(copy / "llm_truncated"),
            f"{RECORDED_ROOT}/data": str(copy / "data"),
        },
    )
    return copy / "llm_truncated" / "results" / "experiment_run", options


async def wait_for_plan(pilot, screen: PatchScreen) -> None:  # type: ignore[no-untyped-def]
    """Wait for the debounced plan refresh and its thread worker to finish."""
    for _ in range(100):
        await pilot.pause(0.05)
        await screen.app.workers.wait_for_complete()
        if screen.plan_timer is None:
            break
    await screen.app.workers.wait_for_complete()
    await pilot.pause()


def diff_text(screen: PatchScreen) -> str:
    return str(screen.query_one("#patch-diff-text", Static).content.code)  # type: ignore[union-attr]


async def open_patch_screen(run_dir: Path, options: DoctorOptions):  # type: ignore[no-untyped-def]
    report = check_entry(find_runs([run_dir])[0], options)
    app = create_app([run_dir.parent], options)
    return app, report


async def test_patch_screen_select_edit_diff(run_copy: tuple[Path, DoctorOptions]) -> None:
    run_dir, options = run_copy
    app, report = await open_patch_screen(run_dir, options)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = PatchScreen(report, options)
        await app.push_screen(screen)
        await wait_for_plan(pilot, screen)

        checkbox = screen.query_one("#patch-check-0", Checkbox)
        assert "preprocessing.global_max_sequence_length" in str(checkbox.label)
        assert checkbox.value is True
        assert "+  global_max_sequence_length: 72" in diff_text(screen)

        # More than one finding may suggest this path; they must agree, or the plan is a conflict.
        same_path = [
            index
            for index, candidate in enumerate(screen.candidates)
            if candidate.path == "preprocessing.global_max_sequence_length"
        ]
        for index in same_path:
            screen.query_one(f"#patch-value-{index}", Input).value = "96"
        await wait_for_plan(pilot, screen)
        assert "+  global_max_sequence_length: 96" in diff_text(screen)

        for index in same_path:
            screen.query_one(f"#patch-check-{index}", Checkbox).value = False
        await wait_for_plan(pilot, screen)
        assert "+  global_max_sequence_length" not in diff_text(screen)

        manual = screen.query_one("#patch-manual", Input)
        manual.focus()
        manual.value = "trainer.epochs=1"
        await pilot.press("enter")
        await wait_for_plan(pilot, screen)
        assert "+  epochs: 1" in diff_text(screen)
        assert "set by hand: trainer.epochs = 1" in str(screen.query_one("#patch-status", Static).content)

        manual.value = "trainer..epochs=1"
        await pilot.press("enter")
        await pilot.pause()
        assert manual.value == "trainer..epochs=1"


async def test_patch_screen_launch_and_follow(run_copy: tuple[Path, DoctorOptions]) -> None:
    run_dir, options = run_copy
    app, report = await open_patch_screen(run_dir, options)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = PatchScreen(report, options)
        await app.push_screen(screen)
        await wait_for_plan(pilot, screen)

        await pilot.press("ctrl+l")
        await pilot.pause()
        await pilot.press("y")
        for _ in range(200):
            await pilot.pause(0.05)
            if isinstance(app.screen, LaunchScreen):
                break
        launch = app.screen
        assert isinstance(launch, LaunchScreen)

        for _ in range(200):
            await pilot.pause(0.05)
            if not launch.state.running and "Saved to" in "\n".join(launch.query_one(Log).lines):
                break
        lines = launch.query_one(Log).lines
        assert "Running evaluation for step: 45, epoch: 1" in lines
        assert "Training:  10%|          | 45/450 [00:01<00:08, loss=5.9]" in lines
        assert launch.follower.progress.describe() == "epoch 2/10 · step 45/450 · loss 5.9"
        assert launch.state.status == SUCCEEDED
        config = Path(launch.state.record.config_path).read_text()
        assert "global_max_sequence_length: 72" in config
        assert sorted(path.name for path in run_dir.parent.iterdir()) == ["experiment_run", "ludwig-doctor"]


async def test_launch_screen_cancel_asks_first(
    run_copy: tuple[Path, DoctorOptions], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LUDWIG_SECONDS", "300")
    run_dir, options = run_copy
    app, report = await open_patch_screen(run_dir, options)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = PatchScreen(report, options)
        await app.push_screen(screen)
        await wait_for_plan(pilot, screen)
        await pilot.press("ctrl+l", "y")
        for _ in range(200):
            await pilot.pause(0.05)
            if isinstance(app.screen, LaunchScreen):
                break
        launch = app.screen
        assert isinstance(launch, LaunchScreen)
        pgid = launch.state.record.pgid
        assert group_alive(pgid)

        await pilot.press("c")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert group_alive(pgid)

        await pilot.press("c")
        await pilot.pause()
        await pilot.press("y")
        for _ in range(300):
            await pilot.pause(0.05)
            if not group_alive(pgid):
                break
        await app.workers.wait_for_complete()
        assert pgid is not None
        with pytest.raises(ProcessLookupError):
            os.killpg(pgid, 0)
        assert read_state(launch.record_path).status == CANCELLED


async def test_findings_key_opens_patch_screen(run_copy: tuple[Path, DoctorOptions]) -> None:
    from ludwig_doctor.tui.screens.findings import FindingsScreen

    run_dir, options = run_copy
    app, report = await open_patch_screen(run_dir, options)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(FindingsScreen(report, "llm_truncated"))
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PatchScreen)
        assert app.screen.report is report
