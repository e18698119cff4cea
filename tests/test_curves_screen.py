"""Pilot tests for the curves screen: real runs, NaN marks, overlays and live refresh."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from ludwig_doctor.diagnostics.loader import load_run
from ludwig_doctor.diagnostics.readers.tfevents import read_event_file
from ludwig_doctor.diagnostics.run import Run
from ludwig_doctor.diagnostics.scan import DoctorOptions
from ludwig_doctor.tui.app import create_app
from ludwig_doctor.tui.screens.curves import CurvesScreen

TRUNCATED = Path("llm_truncated/results/experiment_run")
FITS = Path("llm_fits/results/experiment_run")
CODEUR = "codeurEnHerbe__Mistral7BAlpaca/results/api_experiment_run"


class CurvesApp(App[None]):
    """Opens the curves screen directly on the given runs."""

    def __init__(self, runs: list[tuple[str, Run]]) -> None:
        super().__init__()
        self.runs = runs

    def on_mount(self) -> None:
        self.push_screen(CurvesScreen(self.runs))


async def _wait_until(pilot: Pilot[Any], condition: Any, attempts: int = 200) -> None:
    for _ in range(attempts):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the screen did not reach the expected state")


def _text(screen: CurvesScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_curves_mark_nan_steps(sample_runs: Path) -> None:
    run = load_run(sample_runs / TRUNCATED, sample_runs)
    points = run.scalars["training"]["combined/step_training_loss"]
    nan_count = sum(1 for point in points if math.isnan(point.value))
    app = CurvesApp([("llm_truncated", run)])

    async with app.run_test(size=(120, 60)) as pilot:
        screen = app.screen
        assert isinstance(screen, CurvesScreen)
        await _wait_until(pilot, lambda: "steps" in _text(screen, "#curves-summary"))

        summary = _text(screen, "#curves-summary")
        assert f"{len(points)} steps" in summary
        assert f"{nan_count} NaN steps" in summary
        loss_plot = _text(screen, "#plot-loss")
        assert f"x {nan_count} NaN" in loss_plot
        assert "validation" in loss_plot
        assert "Learning rate" in _text(screen, "#plot-learning_rate")
        assert "Tokens per step" in _text(screen, "#plot-tokens")
        # A CPU run logs no cuda/* tags, so the GPU panel is hidden.
        assert not screen.query_one("#plot-gpu", Static).display


async def test_curves_overlay_and_gpu(sample_runs: Path, real_runs: Path) -> None:
    runs = [
        ("llm_fits", load_run(sample_runs / FITS, sample_runs)),
        ("codeur", load_run(real_runs / CODEUR, real_runs)),
    ]
    app = CurvesApp(runs)

    async with app.run_test(size=(120, 60)) as pilot:
        screen = app.screen
        assert isinstance(screen, CurvesScreen)
        await _wait_until(pilot, lambda: "codeur" in _text(screen, "#curves-summary"))

        summary = _text(screen, "#curves-summary")
        assert "llm_fits: 450 steps" in summary
        assert "codeur: 701 steps" in summary
        assert "NaN" not in summary
        loss_plot = _text(screen, "#plot-loss")
        assert "llm_fits training (step)" in loss_plot
        assert "codeur training (step)" in loss_plot
        assert screen.query_one("#plot-gpu", Static).display
        assert "codeur GPU 0" in _text(screen, "#plot-gpu")


async def test_curves_refresh_growing_file(sample_runs: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "experiment_run"
    shutil.copytree(sample_runs / TRUNCATED / "model" / "logs", run_dir / "model" / "logs")
    (training_log,) = (run_dir / "model" / "logs" / "training").glob("events.out.tfevents.*")
    data = training_log.read_bytes()
    full = read_event_file(training_log, "training")
    total = len(full.scalars["combined/step_training_loss"])
    training_log.write_bytes(data[: len(data) // 3])
    app = CurvesApp([("growing", load_run(run_dir, tmp_path))])

    async with app.run_test(size=(120, 60)) as pilot:
        screen = app.screen
        assert isinstance(screen, CurvesScreen)
        await _wait_until(pilot, lambda: "steps" in _text(screen, "#curves-summary"))
        assert f"{total} steps" not in _text(screen, "#curves-summary")

        with training_log.open("ab") as handle:
            handle.write(data[len(data) // 3 :])
        await pilot.press("f5")

        await _wait_until(pilot, lambda: f"{total} steps" in _text(screen, "#curves-summary"))
        tail = screen.live_runs[0].follower.tails[training_log]
        assert tail.offset == len(data)


async def test_runs_table_marks_and_opens_curves(sample_runs: Path) -> None:
    app = create_app([sample_runs], DoctorOptions())

    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()

        await pilot.press("space", "down", "space", "c")
        await _wait_until(pilot, lambda: isinstance(app.screen, CurvesScreen))

        screen = app.screen
        assert isinstance(screen, CurvesScreen)
        assert len(screen.live_runs) == 2
        await pilot.press("escape")
        await pilot.press("c")
        await _wait_until(pilot, lambda: isinstance(app.screen, CurvesScreen))
        assert len(app.screen.live_runs) == 2  # the marks stay until unmarked
