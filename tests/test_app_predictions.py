"""Pilot tests of the predictions view on the sample run whose training targets loop."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from ludwig_doctor.diagnostics.loader import load_run
from ludwig_doctor.diagnostics.looping_rows import collect_rows
from ludwig_doctor.diagnostics.scan import DoctorOptions
from ludwig_doctor.tui.app import DoctorApp, create_app
from ludwig_doctor.tui.screens.findings import FindingsScreen
from ludwig_doctor.tui.screens.predictions import LOOP_STYLE, PredictionsScreen, highlighted_output

SAMPLE_RUNS = Path(__file__).resolve().parents[1] / "sample_runs"
LOOPING_RUN = SAMPLE_RUNS / "llm_looping_targets"
SIZE = (160, 48)


def rendered(screen: PredictionsScreen, selector: str) -> str:
    console = Console(width=160, record=True, color_system=None)
    console.print(screen.query_one(selector, Static).content)
    return console.export_text()


async def open_predictions(pilot: Pilot[None], app: DoctorApp) -> PredictionsScreen:
    """Wait for the scan, open the only run's findings, then press "o" for its outputs."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, FindingsScreen)

    await pilot.press("o")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, PredictionsScreen)
    return screen


async def test_rows_sorted_by_loop_score() -> None:
    app = create_app([LOOPING_RUN], DoctorOptions())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_predictions(pilot, app)
        table = screen.query_one(DataTable)

        assert table.row_count == 30
        scores = [float(str(table.get_row_at(index)[0])) for index in range(table.row_count)]
        assert scores == sorted(scores, reverse=True)
        first = table.get_row_at(0)
        assert first[1] == "'two'"
        assert first[2] == "generated"
        assert first[3] == "0"


async def test_detail_shows_target_beside_output() -> None:
    app = create_app([LOOPING_RUN], DoctorOptions())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_predictions(pilot, app)
        detail = rendered(screen, "#prediction-text")

        assert "target" in detail
        assert "output" in detail
        assert "the bear lives in the cave cave" in detail
        assert "the has and has two two" in detail
        measures = rendered(screen, "#prediction-measures")
        assert "words loop: 'two' repeated 43 times" in measures
        assert "free generation" in measures
        assert "generated tokens: 48" in measures


async def test_moving_cursor_changes_detail() -> None:
    app = create_app([LOOPING_RUN], DoctorOptions())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_predictions(pilot, app)
        table = screen.query_one(DataTable)
        teacher_forced = next(
            index for index in range(table.row_count) if table.get_row_at(index)[2] == "teacher-forced"
        )
        for _ in range(teacher_forced):
            await pilot.press("down")
        await pilot.pause()

        measures = rendered(screen, "#prediction-measures")
        assert "teacher-forced" in measures
        assert "llm_eval_examples" in measures


async def test_causes_panel_lists_ranked_causes() -> None:
    app = create_app([LOOPING_RUN], DoctorOptions())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_predictions(pilot, app)
        causes = rendered(screen, "#prediction-causes-text")

        assert "Repetition cause 1 of" in causes
        assert "repetition.cause.data" in causes
        assert causes.index("repetition.cause.data") < causes.index("repetition.cause.generation")
        assert "generation.max_new_tokens = 24" in causes

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FindingsScreen)


def test_loop_span_is_styled() -> None:
    run = load_run(LOOPING_RUN / "results" / "experiment_run", LOOPING_RUN, [LOOPING_RUN / "predict_test"])
    worst = collect_rows(run)[0]
    assert worst.span is not None
    text = highlighted_output(worst)
    styled = [span for span in text.spans if str(span.style) == LOOP_STYLE]
    assert len(styled) == 1
    assert text.plain[styled[0].start : styled[0].end].startswith("two two two")
