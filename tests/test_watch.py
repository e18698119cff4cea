"""Incremental TensorBoard reading and `ludwig-doctor watch` on real event files that grow."""

from __future__ import annotations

import math
import os
import shutil
import struct
import threading
from pathlib import Path

import pytest

from ludwig_doctor.diagnostics.cli import run_headless_command
from ludwig_doctor.diagnostics.readers.tfevents import STILL_WRITING_SECONDS, EventFileTail, read_event_file
from ludwig_doctor.diagnostics.watch import RunWatcher, WatchEvent, watch_events

CODEUR_TRAINING = "codeurEnHerbe__Mistral7BAlpaca/results/api_experiment_run/model/logs/training"
TRUNCATED_RUN = Path("llm_truncated/results/experiment_run")


def _event_file(folder: Path) -> Path:
    (path,) = sorted(folder.glob("events.out.tfevents.*"))
    return path


def _record_ends(data: bytes) -> list[int]:
    """Return the end offset of every TFRecord frame in ``data``."""
    ends = []
    offset = 0
    while offset < len(data):
        (length,) = struct.unpack_from("<Q", data, offset)
        offset += length + 16
        ends.append(offset)
    return ends


def test_tail_reads_appended_chunks(real_runs: Path, tmp_path: Path) -> None:
    source = _event_file(real_runs / CODEUR_TRAINING)
    data = source.read_bytes()
    full = read_event_file(source, "training")
    growing = tmp_path / source.name
    growing.write_bytes(b"")
    tail = EventFileTail(growing, "training")

    collected: dict[str, list[object]] = {}
    # Chunk sizes that are not multiples of any record size, so most chunks end inside a record.
    for start in range(0, len(data), 77_777):
        with growing.open("ab") as handle:
            handle.write(data[start : start + 77_777])
        read = tail.read_new()
        assert read.findings == []
        for tag, points in read.scalars.items():
            collected.setdefault(tag, []).extend(points)

    assert tail.offset == len(data)
    assert tail.pending_bytes == 0
    assert tail.finish() == []
    assert collected == full.scalars


def test_tail_partial_record_waits_then_reports(real_runs: Path, tmp_path: Path) -> None:
    source = _event_file(real_runs / CODEUR_TRAINING)
    copy = tmp_path / source.name
    copy.write_bytes(source.read_bytes()[:500_001])
    modified = copy.stat().st_mtime
    tail = EventFileTail(copy, "training")

    first = tail.read_new(now=modified + 1)
    assert first.findings == []
    assert tail.pending_bytes > 0
    kept = len(first.scalars["combined/step_training_loss"])

    stalled = tail.read_new(now=modified + STILL_WRITING_SECONDS + 1)
    (finding,) = stalled.findings
    assert finding.id == "file.truncated"
    assert finding.evidence[0].field == f"byte offset {tail.offset}"
    assert stalled.scalars == {}
    assert 0 < kept < 701


def test_tail_bad_crc_reported_at_once(real_runs: Path, tmp_path: Path) -> None:
    source = _event_file(real_runs / CODEUR_TRAINING)
    data = bytearray(source.read_bytes())
    ends = _record_ends(bytes(data))
    data[ends[100] + 20] ^= 0xFF  # inside record 101's payload
    copy = tmp_path / source.name
    copy.write_bytes(bytes(data))

    tail = EventFileTail(copy, "training")
    read = tail.read_new(now=copy.stat().st_mtime)

    (finding,) = read.findings
    assert finding.id == "file.corrupt"
    assert finding.evidence[0].field == f"byte offset {ends[100]}"
    assert tail.events == 101
    assert tail.stopped
    assert tail.read_new().scalars == {}


def test_read_recent_partial_not_final(real_runs: Path, tmp_path: Path) -> None:
    source = _event_file(real_runs / CODEUR_TRAINING)
    copy = tmp_path / source.name
    copy.write_bytes(source.read_bytes()[:300_000])

    assert read_event_file(copy, "training", final=False).findings == []
    assert [finding.id for finding in read_event_file(copy, "training").findings] == ["file.truncated"]


def _copy_run_without_statistics(sample_runs: Path, tmp_path: Path) -> tuple[Path, Path, bytes]:
    """Copy llm_truncated's JSON files and logs; return the run, its training log and that log's bytes."""
    source = sample_runs / TRUNCATED_RUN
    run_dir = tmp_path / "results" / "experiment_run"
    shutil.copytree(source / "model" / "logs", run_dir / "model" / "logs")
    for name in ("description.json", "model/model_hyperparameters.json", "model/training_set_metadata.json"):
        (run_dir / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / name, run_dir / name)
    training_log = _event_file(run_dir / "model" / "logs" / "training")
    return run_dir, training_log, training_log.read_bytes()


def test_watch_reports_nan_when_it_appears(sample_runs: Path, tmp_path: Path) -> None:
    run_dir, training_log, data = _copy_run_without_statistics(sample_runs, tmp_path)
    full = read_event_file(training_log, "training")
    nan_steps = [p.step for p in full.scalars["output/step_training_loss"] if math.isnan(p.value)]
    first_nan = nan_steps[0]
    # Start with the records before the first NaN step: the file as it was early in training.
    ends = _record_ends(data)
    points_before = sum(1 for points in full.scalars.values() for point in points if point.step < first_nan)
    start = ends[points_before]  # the file_version record plus the scalars before the NaN step
    training_log.write_bytes(data[:start])

    watcher = RunWatcher(run_dir, tmp_path)
    assert all(
        not math.isnan(point.value) for point in watcher.run.scalars["training"]["output/step_training_loss"]
    )

    # The writer thread appends one 1000-byte chunk per poll: the watcher's sleep hands it the turn.
    polled = threading.Semaphore(0)
    appended = threading.Semaphore(0)

    def append_rest() -> None:
        for offset in range(start, len(data), 1000):
            polled.acquire(timeout=10)
            with training_log.open("ab") as handle:
                handle.write(data[offset : offset + 1000])
            appended.release()
        polled.acquire(timeout=10)
        # Ludwig writes training_statistics.json when training ends.
        shutil.copy(
            sample_runs / TRUNCATED_RUN / "training_statistics.json", run_dir / "training_statistics.json"
        )
        appended.release()

    def wait_for_writer(seconds: float) -> None:
        polled.release()
        appended.acquire(timeout=10)

    writer = threading.Thread(target=append_rest)
    events: list[WatchEvent] = []
    writer.start()
    try:
        for event in watch_events(watcher, interval=0.01, timeout=60, sleep=wait_for_writer):
            events.append(event)
    finally:
        polled.release()
        writer.join()

    nan_events = [event for event in events if event.finding.id == "health.nan_loss"]
    assert len(nan_events) == 1
    assert nan_events[0].step is not None
    assert nan_events[0].step >= first_nan
    assert nan_events[0].step < nan_steps[-1]  # reported while training went on, not at the end
    assert len(watcher.run.scalars["training"]["output/step_training_loss"]) == 450
    assert not [event for event in events if event.finding.id.startswith("file.")]


def test_watch_command_finished_run(sample_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = run_headless_command(["watch", str(sample_runs / TRUNCATED_RUN), "--interval", "0.01"])

    output = capsys.readouterr().out
    assert status == 2
    assert "health.nan_loss" in output
    assert "truncation.global_max_sequence_length" in output
    assert output.count("health.nan_loss") == 1


def test_watch_command_rejects_folder_of_runs(sample_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = run_headless_command(["watch", str(sample_runs)])

    assert status == 64
    assert "exactly one run" in capsys.readouterr().err


def test_watch_command_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = run_headless_command(["watch", os.fspath(tmp_path / "absent")])

    assert status == 74
    assert "does not exist" in capsys.readouterr().err
