"""Pilot tests of the launch, patch, help and outputs screens at the 80x24 size that users work in.

Launches use a stand-in Ludwig environment: its `ludwig` script prints lines and exits or
sleeps, so the tests follow a real detached process group in a few seconds.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Footer, Input, Log, Static
from textual.widgets._footer import FooterKey

from ludwig_doctor.diagnostics.launch.plan import plan_relaunch, start_relaunch
from ludwig_doctor.diagnostics.launch.process import group_alive, read_state
from ludwig_doctor.diagnostics.launch.record import LaunchRecord
from ludwig_doctor.diagnostics.loader import load_run
from ludwig_doctor.diagnostics.ludwig_env import clear_probe_cache, probe_ludwig
from ludwig_doctor.diagnostics.scan import DoctorOptions, check_entry, find_runs
from ludwig_doctor.tui.app import DoctorApp, create_app
from ludwig_doctor.tui.screens.findings import FindingsScreen
from ludwig_doctor.tui.screens.help import HelpScreen
from ludwig_doctor.tui.screens.launch import LaunchScreen
from ludwig_doctor.tui.screens.launches import LaunchesScreen
from ludwig_doctor.tui.screens.patch import PatchScreen
from ludwig_doctor.tui.screens.predictions import PredictionsScreen

RECORDED_ROOT = "/work/main/sample_runs"

# Prints Ludwig's first lines and the folder of the finished run, then exits with status 0.
QUICK_LUDWIG = """#!/bin/sh
echo "Training for 450 step(s), approximately 10 epoch(s)."
echo "Saved to: $FAKE_RUN_DIR"
"""

# Prints many lines, then a progress bar that the launch screen shows above the log, and keeps
# training until the test stops it.
CHATTY_LUDWIG = """#!/bin/sh
i=0
while [ $i -lt 80 ]; do echo "line $i"; i=$((i + 1)); done
sleep 1
printf 'Training:  10%%|          | 45/450 [00:01<00:08, loss=5.9]\\r'
sleep 60
"""


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    clear_probe_cache()
    yield
    clear_probe_cache()


def make_environment(folder: Path, ludwig_script: str) -> Path:
    """Write a stand-in environment whose python reports Ludwig 0.11.0; return that python."""
    folder.mkdir(parents=True)
    for name, text in (("python", "#!/bin/sh\necho 0.11.0\n"), ("ludwig", ludwig_script)):
        script = folder / name
        script.write_text(text)
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder / "python"


def copy_run(sample_runs: Path, tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    shutil.copytree(sample_runs / "llm_truncated", runs / "llm_truncated")
    shutil.copytree(sample_runs / "data", runs / "data")
    return runs / "llm_truncated" / "results" / "experiment_run"


def start_launch(run_dir: Path, python: Path, sample_runs: Path) -> LaunchRecord:
    runs = run_dir.parents[2]
    plan = plan_relaunch(
        load_run(run_dir, runs), [], str(python), dataset=sample_runs / "data" / "instructions.csv"
    )
    return start_relaunch(plan)


def stop_launch(record: LaunchRecord) -> None:
    state = read_state(record.record_path)
    if state.record.pgid is not None and group_alive(state.record.pgid):
        os.killpg(state.record.pgid, signal.SIGTERM)


def patch_options(run_dir: Path, python: Path | str) -> DoctorOptions:
    copy = run_dir.parents[2]
    return DoctorOptions(
        ludwig_python=str(python),
        path_map={
            f"{RECORDED_ROOT}/llm_truncated": str(copy / "llm_truncated"),
            f"{RECORDED_ROOT}/data": str(copy / "data"),
        },
    )


async def wait_until(pilot: Pilot[None], condition, tries: int = 200) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)


async def wait_for_plan(pilot: Pilot[None], screen: PatchScreen) -> None:
    """Wait for the debounced plan refresh and its thread worker to finish."""
    await pilot.pause()
    await wait_until(pilot, lambda: getattr(screen, "plan_timer", None) is None)
    await screen.app.workers.wait_for_complete()
    await pilot.pause()


def outcome_text(screen: LaunchScreen) -> str:
    return str(screen.query_one("#launch-outcome", Static).content)


def footer_keys(app: DoctorApp) -> dict[str, FooterKey]:
    footer = app.screen.query_one(Footer)
    return {key.description: key for key in footer.query(FooterKey)}


# Launch screen


async def test_launch_comparison_stays_after_polls(
    sample_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = copy_run(sample_runs, tmp_path)
    monkeypatch.setenv("FAKE_RUN_DIR", str(run_dir))
    python = make_environment(tmp_path / "env" / "bin", QUICK_LUDWIG)
    record = start_launch(run_dir, python, sample_runs)
    options = patch_options(run_dir, python)
    app = create_app([run_dir.parent], options)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        screen = LaunchScreen(record.record_path, options)
        await app.push_screen(screen)
        await wait_until(pilot, lambda: "findings gone:" in outcome_text(screen))
        assert "findings gone:" in outcome_text(screen)

        # Several polls later the comparison is still under the outcome.
        await pilot.pause(1.2)
        assert "findings gone:" in outcome_text(screen)
        assert "new findings:" in outcome_text(screen)
        assert outcome_text(screen).startswith("succeeded: training finished")


async def test_launches_list_shows_comparison(
    sample_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = copy_run(sample_runs, tmp_path)
    monkeypatch.setenv("FAKE_RUN_DIR", str(run_dir))
    python = make_environment(tmp_path / "env" / "bin", QUICK_LUDWIG)
    record = start_launch(run_dir, python, sample_runs)
    app = create_app([run_dir.parents[2]], patch_options(run_dir, python))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: not read_state(record.record_path).running)
        await app.workers.wait_for_complete()
        await pilot.press("L")
        await pilot.pause()
        assert isinstance(app.screen, LaunchesScreen)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LaunchScreen)
        await wait_until(pilot, lambda: "findings gone:" in outcome_text(screen))
        await pilot.pause(1.2)
        assert "findings gone:" in outcome_text(screen)


async def test_launch_log_follows_unless_scrolled(sample_runs: Path, tmp_path: Path) -> None:
    run_dir = copy_run(sample_runs, tmp_path)
    python = make_environment(tmp_path / "env" / "bin", CHATTY_LUDWIG)
    record = start_launch(run_dir, python, sample_runs)
    try:
        options = patch_options(run_dir, python)
        app = create_app([run_dir.parent], options)
        async with app.run_test(size=(80, 24)) as pilot:
            await app.workers.wait_for_complete()
            screen = LaunchScreen(record.record_path, options)
            await app.push_screen(screen)
            log = screen.query_one(Log)
            await wait_until(pilot, lambda: "line 79" in log.lines)
            await pilot.pause(0.6)
            assert log.max_scroll_y > 0
            assert log.scroll_y == log.max_scroll_y

            # The progress bar adds a line above the log, which shortens it.
            await wait_until(pilot, lambda: bool(screen.follower.pending_line))
            await pilot.pause(0.6)

            # Lines written while the view is at the end are followed.
            with open(record.log_path, "a", encoding="utf-8") as stream:
                stream.write("appended while following\n")
            await wait_until(pilot, lambda: "appended while following" in log.lines)
            await pilot.pause()
            assert log.scroll_y == log.max_scroll_y

            # After the user scrolls up, new lines keep their place.
            log.scroll_home(animate=False, immediate=True)
            await pilot.pause()
            with open(record.log_path, "a", encoding="utf-8") as stream:
                stream.write("appended while reading\n")
            await wait_until(pilot, lambda: "appended while reading" in log.lines)
            await pilot.pause()
            assert log.scroll_y == 0
    finally:
        stop_launch(record)


# Patch screen


async def open_patch(pilot: Pilot[None], run_dir: Path, options: DoctorOptions) -> PatchScreen:
    report = check_entry(find_runs([run_dir])[0], options)
    screen = PatchScreen(report, options)
    await pilot.app.push_screen(screen)
    await wait_for_plan(pilot, screen)
    return screen


async def test_patch_second_launch_new_name(
    sample_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_RUN_DIR", str(tmp_path / "nowhere"))
    run_dir = copy_run(sample_runs, tmp_path)
    python = make_environment(tmp_path / "env" / "bin", QUICK_LUDWIG)
    options = patch_options(run_dir, python)
    app = create_app([run_dir.parent], options)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        screen = await open_patch(pilot, run_dir, options)
        names = []
        for _ in range(2):
            await pilot.press("ctrl+l", "y")
            await wait_until(pilot, lambda: isinstance(app.screen, LaunchScreen))
            launch = app.screen
            assert isinstance(launch, LaunchScreen)
            names.append(launch.state.record.experiment_name)
            await pilot.press("escape")
            await wait_for_plan(pilot, screen)
            assert app.screen is screen
        messages = [notification.message for notification in app._notifications]
        assert not [message for message in messages if "File exists" in message]
        assert names[0] != names[1]
        assert len(list((run_dir.parent / "ludwig-doctor").iterdir())) == 2


async def test_patch_diff_visible_at_80x24(sample_runs: Path, tmp_path: Path) -> None:
    run_dir = copy_run(sample_runs, tmp_path)
    python = make_environment(tmp_path / "env" / "bin", QUICK_LUDWIG)
    options = patch_options(run_dir, python)
    for size in ((80, 24), (120, 40)):
        app = create_app([run_dir.parent], options)
        async with app.run_test(size=size) as pilot:
            await app.workers.wait_for_complete()
            screen = await open_patch(pilot, run_dir, options)
            diff = screen.query_one("#patch-diff")
            # Border rows plus at least four lines of the diff, all inside the screen.
            assert diff.region.height >= 6, size
            assert diff.region.bottom <= size[1] - 1, size
            assert screen.query_one("#patch-diff-text").region.height >= 4, size


async def test_patch_value_typing_keeps_keys(
    sample_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ludwig_doctor.tui.screens.patch as patch_module

    run_dir = copy_run(sample_runs, tmp_path)
    python = make_environment(tmp_path / "env" / "bin", QUICK_LUDWIG)
    options = patch_options(run_dir, python)
    plans = []

    def counting_plan(*args, **kwargs):  # type: ignore[no-untyped-def]
        plans.append(args[1])
        return plan_relaunch(*args, **kwargs)

    monkeypatch.setattr(patch_module, "plan_relaunch", counting_plan)
    app = create_app([run_dir.parent], options)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        screen = await open_patch(pilot, run_dir, options)
        # Another finding may suggest the same path; unchecked, it cannot conflict with the edit.
        for index, candidate in enumerate(screen.candidates):
            if index > 0 and candidate.path == screen.candidates[0].path:
                screen.query_one(f"#patch-check-{index}", Checkbox).value = False
        await wait_for_plan(pilot, screen)
        plans.clear()

        value = screen.query_one("#patch-value-0", Input)
        value.focus()
        await pilot.pause()
        await pilot.press("end", "backspace", "backspace", "2", "4", "0")
        assert value.value == "240"
        await wait_for_plan(pilot, screen)
        assert value.value == "240"
        # The plan is recomputed once the typing stops, not once per key.
        assert len(plans) == 1
        assert "+  global_max_sequence_length: 240" in str(
            screen.query_one("#patch-diff-text", Static).content.code  # type: ignore[union-attr]
        )


def test_probe_ludwig_is_memoised(tmp_path: Path) -> None:
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\necho 0.11.0\n")
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    assert probe_ludwig(str(python)).ludwig_version == "0.11.0"

    # The cached result is returned without running the interpreter again.
    python.write_text("#!/bin/sh\nexit 1\n")
    assert probe_ludwig(str(python)).ludwig_version == "0.11.0"

    clear_probe_cache()
    assert probe_ludwig(str(python)).available is False


async def test_patch_shows_missing_ludwig(sample_runs: Path, tmp_path: Path) -> None:
    run_dir = copy_run(sample_runs, tmp_path)
    options = patch_options(run_dir, tmp_path / "missing" / "python")
    app = create_app([run_dir.parent], options)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        screen = await open_patch(pilot, run_dir, options)
        status = str(screen.query_one("#patch-status", Static).content)
        assert "Ludwig not available" in status
        assert "--ludwig-python PATH" in status
        assert "LUDWIG_DOCTOR_LUDWIG_PYTHON" in status
        assert "ludwig_python in the settings file" in status


# Footer and help


async def test_footer_fits_80_columns(sample_runs: Path, tmp_path: Path) -> None:
    run_dir = copy_run(sample_runs, tmp_path)
    python = make_environment(tmp_path / "env" / "bin", CHATTY_LUDWIG)
    options = patch_options(run_dir, python)
    report = check_entry(find_runs([run_dir])[0], options)
    record = start_launch(run_dir, python, sample_runs)
    try:
        app = create_app([run_dir.parent], options)
        async with app.run_test(size=(80, 24)) as pilot:
            await app.workers.wait_for_complete()
            await app.push_screen(FindingsScreen(report, "llm_truncated"))
            await pilot.pause()
            keys = footer_keys(app)
            for description in ("Back", "Patch", "Curves", "Tokens", "Outputs", "Help", "Quit"):
                assert description in keys, description
                assert keys[description].region.right <= 80, [(k, v.region) for k, v in keys.items()]

            await app.push_screen(LaunchScreen(record.record_path, options))
            await pilot.pause()
            keys = footer_keys(app)
            for description in ("Back", "Cancel", "Help", "Quit"):
                assert description in keys, description
                assert keys[description].region.right <= 80, [(k, v.region) for k, v in keys.items()]
    finally:
        stop_launch(record)


async def test_help_fits_80x24(sample_runs: Path, tmp_path: Path) -> None:
    app = create_app([tmp_path], DoctorOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        dialog = app.screen.query_one("#help-dialog")
        assert dialog.region.y >= 0
        assert dialog.region.bottom <= 24
        dialog.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        hint = app.screen.query_one("#help-hint")
        assert hint.region.height > 0
        assert hint.region.bottom <= dialog.region.bottom


# Outputs view


async def test_outputs_end_home_rows(sample_runs: Path, tmp_path: Path) -> None:
    report = check_entry(find_runs([sample_runs / "llm_looping_targets"])[0], DoctorOptions())
    app = create_app([tmp_path], DoctorOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = PredictionsScreen(report, "llm_looping_targets")
        await app.push_screen(screen)
        await pilot.pause()
        table = screen.query_one(DataTable)
        assert table.row_count > 2
        for key, row in (("end", table.row_count - 1), ("home", 0), ("G", table.row_count - 1), ("g", 0)):
            await pilot.press(key)
            await pilot.pause()
            assert table.cursor_row == row, key


async def test_outputs_title_without_loops(sample_runs: Path, tmp_path: Path) -> None:
    report = check_entry(find_runs([sample_runs / "llm_fits"])[0], DoctorOptions())
    app = create_app([tmp_path], DoctorOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = PredictionsScreen(report, "llm_fits")
        await app.push_screen(screen)
        await pilot.pause()
        assert screen.rows
        assert all(row.score == 0 for row in screen.rows)
        title = str(screen.query_one("#run-heading", Static).content)
        assert "worst loop first" not in title
        assert "no output loops, so rows in file order" in title
