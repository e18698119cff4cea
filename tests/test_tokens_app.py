"""The app's token budget screen on the truncated sample run, and the histogram drawing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Static

from ludwig_doctor.diagnostics.scan import DoctorOptions
from ludwig_doctor.tui.app import create_app
from ludwig_doctor.tui.screens.findings import FindingsScreen
from ludwig_doctor.tui.screens.tokens import TokensScreen, details
from ludwig_doctor.tui.widgets.token_histogram import LIMIT_MARK, bin_counts, histogram_text


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_bin_counts_cover_every_value() -> None:
    counts = bin_counts([22, 25, 25, 68], 22, 68, 47)
    assert sum(counts) == 4
    assert counts[0] == 1
    assert counts[-1] == 1


def test_histogram_marks_limit() -> None:
    text = histogram_text([22] * 80 + [67, 68] * 20, limit=32, width=60, height=4)
    lines = text.plain.splitlines()

    assert any(LIMIT_MARK in line for line in lines[:4])
    assert "limit 32" in lines[5]
    assert lines[4].index("▲") == 10
    assert any(span.style == "red" for span in text.spans)


def test_histogram_without_rows() -> None:
    assert histogram_text([], limit=32, width=40, height=4).plain == "no rows"


async def test_token_screen_opens_with_t(sample_runs: Path) -> None:
    app = create_app([sample_runs / "llm_truncated"], DoctorOptions())
    async with app.run_test(size=(100, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FindingsScreen)

        await pilot.press("t")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TokensScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()

        histogram = str(screen.query_one("#tokens-histogram", Static).render())
        assert screen.analysis is not None
        assert screen.suggestion is not None
        console = Console(width=100, file=io.StringIO(), record=True)
        console.print(details(screen.analysis, screen.suggestion))
        shown = console.export_text()
        assert "limit 32" in histogram
        assert "training: 31 of 90 rows lose target tokens" in shown
        assert "preprocessing.global_max_sequence_length: 72" in shown

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FindingsScreen)
