"""What the findings detail shows of evidence quoted from a run's own files."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from textual.widgets import Static

from ludwig_doctor.diagnostics.scan import DoctorOptions
from ludwig_doctor.tui.app import create_app
from ludwig_doctor.tui.screens.findings import FindingsScreen
from ludwig_doctor.tui.widgets.finding_list import FindingList
from ludwig_doctor.tui.widgets.run_table import RunTable


def rendered(static: Static, width: int = 80) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(static.content)
    return console.export_text()


async def test_marked_loop_shown_verbatim(sample_runs: Path) -> None:
    app = create_app([sample_runs / "llm_looping_targets"], DoctorOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.runs_screen.query_one(RunTable).highlighted_run is not None
        await pilot.press("enter")
        await pilot.pause()

        screen = app.screen
        assert isinstance(screen, FindingsScreen)
        finding_list = screen.query_one(FindingList)
        ids = [finding.id for finding in finding_list.findings]
        for _ in range(ids.index("repetition.predictions")):
            await pilot.press("j")
        await pilot.pause()

        evidence = rendered(screen.query_one("#finding-evidence", Static))
        # The loop is marked with [[ and ]] in the core; Rich markup must not swallow it.
        assert "[[" in evidence
        assert "]]" in evidence or "…" in evidence
        assert "predictions.parquet" in evidence


async def test_evidence_lines_not_cut_at_80_columns(sample_runs: Path) -> None:
    app = create_app([sample_runs / "llm_truncated"], DoctorOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()

        screen = app.screen
        assert isinstance(screen, FindingsScreen)
        finding = screen.query_one(FindingList).highlighted_finding
        assert finding is not None
        # Wrapped lines are joined again: every note and source must appear whole, not cut off.
        shown = " ".join(rendered(screen.query_one("#finding-evidence", Static)).split())
        for item in finding.evidence:
            assert item.source in shown
            assert " ".join(item.note.split()) in shown


async def test_reload_keeps_the_highlighted_run(sample_runs: Path) -> None:
    app = create_app([sample_runs], DoctorOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.runs_screen.query_one(RunTable)
        await pilot.press("G")
        last = table.highlighted_run
        assert last is not None
        assert table.cursor_row == len(table.runs) - 1

        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()

        highlighted = table.highlighted_run
        assert highlighted is not None
        assert highlighted.entry.path == last.entry.path
        await pilot.press("g")
        assert table.cursor_row == 0
