"""Pilot tests that drive the real app over real Ludwig runs, at 80x24 and at a larger size."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import WorkerState

from ludwig_doctor.diagnostics.findings import Severity
from ludwig_doctor.diagnostics.scan import DoctorOptions, RunEntry, RunReport, check_entry, find_runs
from ludwig_doctor.tui import formatting
from ludwig_doctor.tui.app import DoctorApp, create_app
from ludwig_doctor.tui.screens import runs as runs_screen_module
from ludwig_doctor.tui.screens.findings import FindingsScreen
from ludwig_doctor.tui.screens.help import HelpScreen
from ludwig_doctor.tui.screens.runs import RunsScreen
from ludwig_doctor.tui.widgets.finding_detail import FindingDetail
from ludwig_doctor.tui.widgets.finding_list import FindingList
from ludwig_doctor.tui.widgets.run_table import LOADING_TEXT, RunTable

REAL_RUNS = Path(__file__).resolve().parents[2] / "shared" / "real_runs"
SAMPLE_RUNS = Path(__file__).resolve().parents[1] / "sample_runs"

MISTRAL_RUN = "codeurEnHerbe__Mistral7BAlpaca/results/api_experiment_run_1"
ECD_RUN = "nogibjj__automl-neo/results/experiment_run"

SMALL = (80, 24)
LARGE = (160, 48)

needs_real_runs = pytest.mark.skipif(not REAL_RUNS.is_dir(), reason=f"{REAL_RUNS} is not present")


def make_app(*paths: Path) -> DoctorApp:
    return create_app(list(paths), DoctorOptions())


async def wait_for_scan(app: DoctorApp, pilot: Pilot[None]) -> None:
    """Wait until the scan worker ends and the screen has handled every message it posted."""
    await app.workers.wait_for_complete()
    await pilot.pause()


async def wait_until(pilot: Pilot[None], condition: Any, attempts: int = 200) -> None:
    """Let the app process messages until ``condition()`` holds, failing after a bounded wait."""
    for _ in range(attempts):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the app did not reach the expected state")


def table_rows(app: DoctorApp) -> dict[str, list[str]]:
    """Map each run's full name to the plain text of its cells, as the table shows them."""
    table = app.runs_screen.query_one(RunTable)
    return {
        run.name: [str(cell) for cell in table.get_row(str(index))] for index, run in enumerate(table.runs)
    }


def static_text(screen: Any, selector: str) -> str:
    """Return the plain text of a Static, rendering Rich tables the way the terminal would."""
    content = screen.query_one(selector, Static).content
    console = Console(width=200, record=True, color_system=None)
    console.print(content)
    return console.export_text()


async def move_to_run(pilot: Pilot[None], app: DoctorApp, name: str) -> None:
    """Press "j" until the cursor is on the run called ``name``."""
    table = app.runs_screen.query_one(RunTable)
    names = [run.name for run in table.runs]
    for _ in range(names.index(name)):
        await pilot.press("j")
    assert table.highlighted_run is not None
    assert table.highlighted_run.name == name


async def open_findings(pilot: Pilot[None], app: DoctorApp, name: str) -> FindingsScreen:
    """Wait for the scan, move to the run called ``name`` and press Enter on it."""
    await wait_for_scan(app, pilot)
    await move_to_run(pilot, app, name)
    await pilot.press("enter")
    await pilot.pause()

    screen = app.screen
    assert isinstance(screen, FindingsScreen)
    return screen


def expected_report(name: str) -> RunReport:
    """Check one real run with the core directly, for comparison with what the app shows."""
    for entry in find_runs([REAL_RUNS]):
        report = check_entry(entry, DoctorOptions())
        if report.run.name == name:
            return report
    raise AssertionError(f"{name} not found under {REAL_RUNS}")


@needs_real_runs
@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_runs_table_fills_in(size: tuple[int, int]) -> None:
    app = make_app(REAL_RUNS)
    async with app.run_test(size=size) as pilot:
        await wait_for_scan(app, pilot)
        rows = table_rows(app)

        assert len(rows) == len(find_runs([REAL_RUNS]))
        assert all(cells[-1] != LOADING_TEXT for cells in rows.values())

        mistral = rows[MISTRAL_RUN]
        assert mistral[1] == "llm"
        assert "Mistral-7B" in mistral[2]
        assert mistral[3] == "0.10.1"
        assert mistral[4] == "3"

        ecd = rows[ECD_RUN]
        assert ecd[1] == "ecd"
        assert ecd[3] == "0.5.2"

        status = static_text(app.runs_screen, "#status")
        assert f"{len(rows)} runs:" in status


@needs_real_runs
async def test_findings_column_counts_severities() -> None:
    app = make_app(REAL_RUNS)
    async with app.run_test(size=LARGE) as pilot:
        await wait_for_scan(app, pilot)
        findings_cell = table_rows(app)[MISTRAL_RUN][-1]

    expected = str(formatting.severity_counts_text(expected_report(MISTRAL_RUN).findings))
    assert findings_cell == expected


@needs_real_runs
async def test_enter_opens_findings_at_80x24() -> None:
    report = expected_report(MISTRAL_RUN)
    expected_titles = [finding.title for finding in formatting.sort_findings(report.findings)]
    assert expected_titles, f"the checks found nothing in {MISTRAL_RUN}; pick a run with findings"

    app = make_app(REAL_RUNS)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for_scan(app, pilot)
        await move_to_run(pilot, app, MISTRAL_RUN)
        assert MISTRAL_RUN in static_text(app.runs_screen, "#run-preview")

        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FindingsScreen)

        finding_list = screen.query_one(FindingList)
        list_lines = [
            str(finding_list.get_option_at_index(index).prompt) for index in range(finding_list.option_count)
        ]
        assert len(list_lines) == len(expected_titles)
        for line, title in zip(list_lines, expected_titles, strict=True):
            assert title in line

        first = finding_list.findings[0]
        assert first.severity.value in list_lines[0]
        heading = static_text(screen, "#finding-heading")
        assert first.title in heading
        assert first.severity.value in heading
        assert first.explanation.split()[0] in static_text(screen, "#finding-explanation")
        assert "Ludwig 0.10.1" in static_text(screen, "#run-heading")


@needs_real_runs
async def test_moving_in_findings_updates_detail() -> None:
    app = make_app(REAL_RUNS)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_findings(pilot, app, MISTRAL_RUN)
        findings = screen.query_one(FindingList).findings
        if len(findings) < 2:
            pytest.skip(f"{MISTRAL_RUN} has fewer than two findings")

        await pilot.press("j")
        await pilot.pause()
        second = findings[1]
        assert second.title in static_text(screen, "#finding-heading")

        evidence_shown = screen.query_one("#finding-evidence", Static).display
        assert evidence_shown == bool(second.evidence)
        if second.evidence:
            evidence = static_text(screen, "#finding-evidence")
            assert second.evidence[0].source in evidence
        if second.patches:
            assert second.patches[0].path in static_text(screen, "#finding-patches")


@needs_real_runs
async def test_escape_and_backspace_go_back() -> None:
    app = make_app(REAL_RUNS)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for_scan(app, pilot)

        for back_key in ("escape", "backspace"):
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, FindingsScreen)

            await pilot.press(back_key)
            await pilot.pause()
            assert isinstance(app.screen, RunsScreen)


@needs_real_runs
async def test_findings_side_by_side_when_wide() -> None:
    app = make_app(REAL_RUNS)
    async with app.run_test(size=LARGE) as pilot:
        screen = await open_findings(pilot, app, MISTRAL_RUN)
        assert screen.has_class("-wide")
        finding_list = screen.query_one(FindingList).region
        detail = screen.query_one(FindingDetail).region
        assert finding_list.right <= detail.x
        assert finding_list.y == detail.y


@needs_real_runs
async def test_findings_stacked_at_80x24() -> None:
    app = make_app(REAL_RUNS)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_findings(pilot, app, MISTRAL_RUN)
        assert screen.has_class("-narrow")
        finding_list = screen.query_one(FindingList).region
        detail = screen.query_one(FindingDetail).region
        assert finding_list.bottom <= detail.y
        assert detail.height >= 8


@needs_real_runs
async def test_help_screen_lists_keys() -> None:
    app = make_app(REAL_RUNS)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for_scan(app, pilot)

        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = static_text(app.screen, "#help-keys")
        for key, action in (("Enter", "open the findings"), ("r", "scan the paths again"), ("q", "quit")):
            assert key in keys
            assert action in keys

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)


@needs_real_runs
async def test_reload_scans_again() -> None:
    app = make_app(REAL_RUNS)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for_scan(app, pilot)
        before = table_rows(app)
        await pilot.press("enter")
        await pilot.pause()

        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        await wait_for_scan(app, pilot)
        assert table_rows(app) == before


async def test_nonexistent_path_shows_message(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_results"
    app = make_app(missing)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for_scan(app, pilot)

        message = app.runs_screen.query_one("#empty-message", Static)
        assert message.display
        text = static_text(app.runs_screen, "#empty-message")
        assert str(missing) in text
        assert "results/ directory" in text
        assert not app.runs_screen.query_one(RunTable).display
        assert app.is_running


async def test_folder_without_runs_shows_message(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a Ludwig run\n")
    app = make_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for_scan(app, pilot)

        text = static_text(app.runs_screen, "#empty-message")
        assert f"No Ludwig runs found under {tmp_path}" in text
        assert "Press r to scan again" in text


@needs_real_runs
async def test_missing_path_beside_real_runs(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_results"
    app = make_app(missing, REAL_RUNS)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for_scan(app, pilot)

        assert len(table_rows(app)) == len(find_runs([REAL_RUNS]))
        notifications = [notification.message for notification in app._notifications]
        assert any(str(missing) in message for message in notifications)


class BlockedChecks:
    """Stands in for ``check_entry`` and blocks every call until ``release`` is set."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls: list[RunEntry] = []

    def __call__(self, entry: RunEntry, options: DoctorOptions) -> RunReport:
        self.calls.append(entry)
        self.release.wait(timeout=30)
        return check_entry(entry, options)


@needs_real_runs
async def test_rows_show_loading_before_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = BlockedChecks()
    monkeypatch.setattr(runs_screen_module, "check_entry", blocked)

    app = make_app(REAL_RUNS)
    async with app.run_test(size=SMALL) as pilot:
        await wait_until(
            pilot,
            lambda: len(blocked.calls) == 1 and "Reading 1 of" in static_text(app.runs_screen, "#status"),
        )

        rows = table_rows(app)
        assert rows
        assert all(cells[-1] == LOADING_TEXT for cells in rows.values())

        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        notifications = [notification.message for notification in app._notifications]
        assert any("is still loading" in message for message in notifications)

        blocked.release.set()
        await wait_for_scan(app, pilot)
        assert all(cells[-1] != LOADING_TEXT for cells in table_rows(app).values())


@needs_real_runs
async def test_reload_while_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = BlockedChecks()
    monkeypatch.setattr(runs_screen_module, "check_entry", blocked)
    run_count = len(find_runs([REAL_RUNS]))

    app = make_app(REAL_RUNS)
    async with app.run_test(size=SMALL) as pilot:
        await wait_until(pilot, lambda: len(blocked.calls) == 1)
        await pilot.press("r")
        await wait_until(pilot, lambda: len(blocked.calls) == 2)
        assert app.runs_screen.generation == 2

        blocked.release.set()
        await wait_for_scan(app, pilot)
        rows = table_rows(app)

        assert len(rows) == run_count
        assert all(cells[-1] != LOADING_TEXT for cells in rows.values())
        # The cancelled first scan stopped after its first run, and the second read all of them.
        assert len(blocked.calls) == 1 + run_count


@needs_real_runs
async def test_quit_while_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = BlockedChecks()
    monkeypatch.setattr(runs_screen_module, "check_entry", blocked)

    app = make_app(REAL_RUNS)

    async def quit_during_first_run() -> None:
        async with app.run_test(size=SMALL) as pilot:
            await wait_until(pilot, lambda: len(blocked.calls) == 1)
            await pilot.press("q")
            blocked.release.set()

    await asyncio.wait_for(quit_during_first_run(), timeout=30)

    scan_workers = [worker for worker in app.workers if worker.group == "scan"]
    assert all(worker.state is not WorkerState.RUNNING for worker in scan_workers)
    assert len(blocked.calls) == 1


@needs_real_runs
async def test_failing_run_marks_row(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail_on_mistral(entry: RunEntry, options: DoctorOptions) -> RunReport:
        if entry.path.name == "api_experiment_run_1":
            raise OSError(f"simulated read error in {entry.path}")
        return check_entry(entry, options)

    monkeypatch.setattr(runs_screen_module, "check_entry", fail_on_mistral)

    app = make_app(REAL_RUNS)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for_scan(app, pilot)
        rows = table_rows(app)

        assert rows[MISTRAL_RUN][-1] == "failed"
        assert rows[ECD_RUN][3] == "0.5.2"
        assert "1 could not be read" in static_text(app.runs_screen, "#status")

        await move_to_run(pilot, app, MISTRAL_RUN)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        assert "simulated read error" in static_text(app.runs_screen, "#run-preview")


async def test_scan_error_reaches_state_handler(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken_discovery(paths: list[Path]) -> list[RunEntry]:
        raise RuntimeError("simulated discovery bug")

    monkeypatch.setattr(runs_screen_module, "find_runs", broken_discovery)

    app = make_app(tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for_scan(app, pilot)

        # Only the Worker.StateChanged handler writes "Scanning failed" to the status line.
        status = static_text(app.runs_screen, "#status")
        assert "Scanning failed" in status
        assert "simulated discovery bug" in status
        notifications = [notification.message for notification in app._notifications]
        assert any("simulated discovery bug" in message for message in notifications)
        assert app.is_running


needs_sample_runs = pytest.mark.skipif(
    not (SAMPLE_RUNS / "llm_truncated").is_dir(), reason="sample_runs/ has not been generated"
)


@needs_sample_runs
async def test_sample_runs_load() -> None:
    entries = find_runs([SAMPLE_RUNS])

    app = make_app(SAMPLE_RUNS)
    async with app.run_test(size=LARGE) as pilot:
        await wait_for_scan(app, pilot)
        rows = table_rows(app)

        assert len(rows) == len(entries)
        for name, cells in rows.items():
            assert cells[-1] not in (LOADING_TEXT, "failed"), name
            assert cells[1] in ("llm", "ecd"), name

        # Every sample run sits in <case>/results/experiment_run, so the table shows only <case>.
        assert rows["llm_truncated/results/experiment_run"][0] == "llm_truncated"


@needs_sample_runs
async def test_truncated_sample_shows_patch() -> None:
    run_name = "llm_truncated/results/experiment_run"
    report = check_entry(find_runs([SAMPLE_RUNS / "llm_truncated"])[0], DoctorOptions())
    first = formatting.sort_findings(report.findings)[0]
    assert first.severity is Severity.ERROR
    assert first.patches, "the truncation finding of llm_truncated suggests no patch"

    app = make_app(SAMPLE_RUNS)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for_scan(app, pilot)
        assert "1E" in table_rows(app)[run_name][-1]
        screen = await open_findings(pilot, app, run_name)

        heading = static_text(screen, "#finding-heading")
        assert "error" in heading
        assert first.title in heading
        patch = first.patches[0]
        patches = static_text(screen, "#finding-patches")
        assert f"{patch.path} = {formatting.format_value(patch.value)}" in patches
        assert first.evidence[0].field in static_text(screen, "#finding-evidence")


def test_app_start_imports_no_ml_libraries() -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from ludwig_doctor.tui.app import create_app\n"
        "from ludwig_doctor.diagnostics.scan import DoctorOptions\n"
        "create_app([Path('.')], DoctorOptions())\n"
        "print(sorted(name for name in ('torch', 'transformers', 'ludwig') if name in sys.modules))\n"
    )
    environment = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("experiment_run", 20, "experiment_run"),
        ("abcdefghijklmnopqrst", 10, "abc…opqrst"),
        ("abc", 1, "a"),
    ],
)
def test_shorten_middle(text: str, width: int, expected: str) -> None:
    shortened = formatting.shorten_middle(text, width)
    assert shortened == expected
    assert len(shortened) <= width


@pytest.mark.parametrize(
    ("name", "width", "expected"),
    [
        ("results/experiment_run", 30, "results/experiment_run"),
        ("IgorCzudy__Ludwig/results/experiment_run", 20, "Igor…/experiment_run"),
        ("codeurEnHerbe__Mistral7BAlpaca/results/api_experiment_run_1", 20, "codeurE…riment_run_1"),
    ],
)
def test_shorten_run_name(name: str, width: int, expected: str) -> None:
    shortened = formatting.shorten_run_name(name, width)
    assert shortened == expected
    assert len(shortened) <= width


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["a/results/experiment_run", "b/results/experiment_run"], ["a", "b"]),
        (["results/experiment_run", "results/experiment_run_1"], ["experiment_run", "experiment_run_1"]),
        (["a/results/run", "b/results/run_1"], ["a/results/run", "b/results/run_1"]),
        (["results/experiment_run", "results/experiment_run/x"], ["experiment_run", "experiment_run/x"]),
        (["experiment_run"], ["experiment_run"]),
    ],
)
def test_distinct_run_names(names: list[str], expected: list[str]) -> None:
    assert formatting.distinct_run_names(names) == expected


def test_shorten_model_name_drops_organization() -> None:
    assert formatting.shorten_model_name("mistralai/Mistral-7B-v0.1", 30) == "mistralai/Mistral-7B-v0.1"
    assert formatting.shorten_model_name("mistralai/Mistral-7B-v0.1", 16) == "Mistral-7B-v0.1"
    assert formatting.shorten_model_name("mistralai/Mistral-7B-v0.1", 8) == "Mistral…"


def test_severity_counts_text() -> None:
    from ludwig_doctor.diagnostics.findings import Finding

    findings = [
        Finding(id="a", severity=Severity.INFO, title="a", explanation=""),
        Finding(id="b", severity=Severity.ERROR, title="b", explanation=""),
        Finding(id="c", severity=Severity.ERROR, title="c", explanation=""),
    ]
    assert str(formatting.severity_counts_text(findings)) == "2E 1I"
    assert str(formatting.severity_counts_text([])) == "none"


def test_column_widths_fit_80_columns() -> None:
    widths = formatting.column_widths(80)
    padding = formatting.COLUMN_COUNT * formatting.CELL_PADDING + formatting.SCROLLBAR_WIDTH
    used = widths.name + widths.base_model + sum(formatting.FIXED_COLUMN_WIDTHS) + padding
    assert used <= 80
    assert widths.name >= 12
    assert widths.base_model >= 8
