"""Tests for the JSON, TensorBoard, eval-examples and predictions readers on real files and damaged copies."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ludwig_doctor.diagnostics.readers.crc32c import crc32c, masked_crc32c, masked_crc32c_batch
from ludwig_doctor.diagnostics.readers.eval_examples import read_eval_examples, read_eval_examples_file
from ludwig_doctor.diagnostics.readers.jsonfile import read_json_object
from ludwig_doctor.diagnostics.readers.predictions import read_headerless_column, read_predictions
from ludwig_doctor.diagnostics.readers.tfevents import read_event_file, tensor_scalar

CODEUR = Path("codeurEnHerbe__Mistral7BAlpaca/results")
IGOR_TRAINING_LOGS = Path("IgorCzudy__Ludwig/results/experiment_run/model/logs/training")
ZULIANI_STOPPED_LOGS = Path("zuliani99__AutoML-Benchmark/results/api_experiment_run_0/model/logs/training")


def _event_file(real_runs: Path, directory: Path) -> Path:
    (path,) = sorted((real_runs / directory).glob("events.out.tfevents.*"))
    return path


# JSON


def test_json_reads_bare_infinity(real_runs: Path) -> None:
    path = real_runs / CODEUR / "api_experiment_run" / "model" / "training_progress.json"

    read = read_json_object(path, "model/training_progress.json")

    assert read.findings == []
    assert read.data is not None
    assert math.isinf(read.data["best_eval_metric_value"])
    assert read.data["steps"] == 701


def test_json_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "description.json"
    path.write_bytes(b"")

    read = read_json_object(path, "description.json")

    assert read.data is None
    assert [finding.id for finding in read.findings] == ["file.empty"]
    assert "description.json" in read.findings[0].title


def test_json_truncated_copy(real_runs: Path, tmp_path: Path) -> None:
    source = real_runs / "nogibjj__automl-neo/results/experiment_run/model/training_progress.json"
    path = tmp_path / "training_progress.json"
    path.write_bytes(source.read_bytes()[:5000])

    read = read_json_object(path, "model/training_progress.json")

    assert read.data is None
    (finding,) = read.findings
    assert finding.id == "file.truncated"
    assert "model/training_progress.json" in finding.title
    assert finding.evidence[0].field.startswith("line ")
    assert "column" in finding.evidence[0].field


def test_json_malformed_copy(real_runs: Path, tmp_path: Path) -> None:
    text = (real_runs / "nogibjj__automl-neo/results/experiment_run/training_statistics.json").read_text()
    path = tmp_path / "training_statistics.json"
    path.write_text(text.replace('"validation"', '"validation" oops', 1))

    read = read_json_object(path, "training_statistics.json")

    (finding,) = read.findings
    assert finding.id == "file.malformed"
    assert "line" in finding.title


def test_json_non_object_top_level(real_runs: Path, tmp_path: Path) -> None:
    # The validation loss list of a real run, saved as the whole file.
    text = (real_runs / "nogibjj__automl-neo/results/experiment_run/training_statistics.json").read_text()
    start = text.index("[", text.index('"validation"'))
    path = tmp_path / "training_statistics.json"
    path.write_text(text[start : text.index("]", start) + 1])

    read = read_json_object(path, "training_statistics.json")

    (finding,) = read.findings
    assert finding.id == "file.malformed"
    assert "array" in finding.explanation


# CRC-32C


def test_crc32c_known_vector() -> None:
    # The check value of CRC-32C (Castagnoli) for the ASCII digits 1-9.
    assert crc32c(b"123456789") == 0xE3069283


def test_crc32c_batch_matches_loop(real_runs: Path) -> None:
    data = _event_file(real_runs, ZULIANI_STOPPED_LOGS).read_bytes()
    offsets = list(range(0, 20000, 37))
    lengths = [(offset * 13) % 300 for offset in offsets] + [5000]
    offsets.append(100)

    batch = masked_crc32c_batch(data, offsets, lengths)

    assert batch == [masked_crc32c(data[o : o + n]) for o, n in zip(offsets, lengths, strict=True)]


# TensorBoard


def test_tfevents_igor_step_losses(real_runs: Path) -> None:
    read = read_event_file(_event_file(real_runs, IGOR_TRAINING_LOGS), "training")

    losses = read.scalars["combined/step_training_loss"]
    assert len(losses) == 95
    assert losses[0].value == pytest.approx(1.4526, abs=1e-4)
    assert min(point.value for point in losses) == pytest.approx(0.687, abs=1e-3)


def test_tfevents_igor_zero_tail_kept(real_runs: Path) -> None:
    # The real file ends with 317 zero bytes after its last complete record.
    read = read_event_file(_event_file(real_runs, IGOR_TRAINING_LOGS), "training")

    (finding,) = read.findings
    assert finding.id == "file.truncated"
    assert finding.evidence[0].field == "byte offset 30193"
    assert len(read.scalars["tokens/tokens"]) == 95


def test_tfevents_tf2_tensor_scalars(real_runs: Path) -> None:
    # Ludwig 0.3.3 (TensorFlow 2) stores each scalar as a rank-0 tensor.
    read = read_event_file(_event_file(real_runs, ZULIANI_STOPPED_LOGS), "training")

    losses = read.scalars["combined/step_training_loss"]
    assert len(losses) == 179
    assert losses[0].value == pytest.approx(1.393, abs=1e-3)
    assert losses[-1].value == pytest.approx(0.193, abs=1e-3)
    assert read.findings == []


def test_tfevents_codeur_step_losses(real_runs: Path) -> None:
    path = _event_file(real_runs, CODEUR / "api_experiment_run/model/logs/training")

    read = read_event_file(path, "training")

    assert len(read.scalars["combined/step_training_loss"]) == 701


def test_tfevents_empty_split_files(real_runs: Path) -> None:
    for directory in (IGOR_TRAINING_LOGS.parent / "validation", ZULIANI_STOPPED_LOGS.parent / "test"):
        read = read_event_file(_event_file(real_runs, directory), directory.name)
        assert read.scalars == {}, directory
        assert read.findings == [], directory


def _accumulator_scalars(path: Path) -> dict[str, list[tuple[int, float]]]:
    accumulator = EventAccumulator(str(path), size_guidance={"scalars": 0, "tensors": 0})
    accumulator.Reload()
    tags: dict[str, list[tuple[int, float]]] = {}
    for tag in accumulator.Tags()["scalars"]:
        tags[tag] = [(event.step, event.value) for event in accumulator.Scalars(tag)]
    for tag in accumulator.Tags()["tensors"]:
        points = []
        for event in accumulator.Tensors(tag):
            value = tensor_scalar(event.tensor_proto)
            if value is not None:
                points.append((event.step, value))
        if points:
            tags.setdefault(tag, []).extend(points)
    return tags


def _all_event_files(*folders: Path) -> list[Path]:
    return sorted(path for folder in folders for path in folder.glob("**/events.out.tfevents.*"))


def test_tfevents_agree_with_event_accumulator(real_runs: Path, sample_runs: Path) -> None:
    files = _all_event_files(real_runs, sample_runs)
    assert len(files) >= 31

    for path in files:
        read = read_event_file(path, path.name)
        ours = {tag: [(point.step, point.value) for point in points] for tag, points in read.scalars.items()}
        theirs = _accumulator_scalars(path)
        assert ours.keys() == theirs.keys(), path
        for tag, points in theirs.items():
            assert len(ours[tag]) == len(points), (path, tag)
            assert [step for step, _ in ours[tag]] == [step for step, _ in points], (path, tag)
            values = [value for _, value in ours[tag]]
            assert values == pytest.approx([value for _, value in points], nan_ok=True), (path, tag)


def test_tfevents_truncated_copy(real_runs: Path, tmp_path: Path) -> None:
    source = _event_file(real_runs, CODEUR / "api_experiment_run/model/logs/training")
    full = read_event_file(source, "training")
    copy = tmp_path / source.name
    copy.write_bytes(source.read_bytes()[:500_001])

    read = read_event_file(copy, "training")

    (finding,) = read.findings
    assert finding.id == "file.truncated"
    assert finding.evidence[0].field.startswith("byte offset ")
    kept = read.scalars["combined/step_training_loss"]
    assert 0 < len(kept) < 701
    assert kept == full.scalars["combined/step_training_loss"][: len(kept)]


def test_tfevents_corrupt_byte_detected(real_runs: Path, tmp_path: Path) -> None:
    source = _event_file(real_runs, ZULIANI_STOPPED_LOGS)
    data = bytearray(source.read_bytes())
    data[20_000] ^= 0xFF
    copy = tmp_path / source.name
    copy.write_bytes(bytes(data))

    read = read_event_file(copy, "training")

    (finding,) = read.findings
    assert finding.id == "file.corrupt"
    offset = int(finding.evidence[0].field.removeprefix("byte offset "))
    assert offset <= 20_000
    assert 0 < len(read.scalars["combined/step_training_loss"]) < 179


def test_tfevents_crc_check_optional(real_runs: Path, tmp_path: Path) -> None:
    source = _event_file(real_runs, ZULIANI_STOPPED_LOGS)
    data = bytearray(source.read_bytes())
    # Flip a byte of a record's footer CRC: the data still parses when the check is off.
    read_full = read_event_file(source, "training")
    data[-1] ^= 0xFF
    copy = tmp_path / source.name
    copy.write_bytes(bytes(data))

    unchecked = read_event_file(copy, "training", verify_crc=False)
    checked = read_event_file(copy, "training")

    assert unchecked.findings == []
    assert unchecked.events == read_full.events
    assert [finding.id for finding in checked.findings] == ["file.corrupt"]
    assert checked.events == read_full.events - 1


# llm_eval_examples


def test_eval_examples_real_counts(real_runs: Path) -> None:
    run_dir = real_runs / CODEUR / "api_experiment_run_1"

    read = read_eval_examples(run_dir / "model" / "llm_eval_examples", run_dir)

    assert [(examples.index, len(examples.rows)) for examples in read.examples] == [
        (0, 520),
        (2, 520),
        (4, 520),
    ]
    assert read.findings == []
    assert all(row["outputs"].startswith("#") for row in read.examples[0].rows)


def test_eval_examples_multiline_fields(real_runs: Path) -> None:
    run_dir = real_runs / "falniir__norgen/results/api_experiment_run"

    read = read_eval_examples(run_dir / "model" / "llm_eval_examples", run_dir)

    rows = read.examples[0].rows
    assert len(rows) == 519
    # This run was made on Windows: the quoted prompt keeps its CRLF line ends.
    assert rows[0]["inputs"].startswith("### Instruction:\r\n")
    assert rows[0]["inputs"].endswith("### Response:\r\n")


def test_eval_examples_header_only(real_runs: Path, tmp_path: Path) -> None:
    source = real_runs / "falniir__norgen/results/api_experiment_run/model/llm_eval_examples/0.csv"
    path = tmp_path / "4.csv"
    path.write_bytes(source.read_bytes().split(b"\n", 1)[0] + b"\n")

    examples, finding = read_eval_examples_file(path, 4, tmp_path)

    assert finding is None
    assert examples.rows == []
    assert examples.index == 4


def test_eval_examples_truncated_copy(real_runs: Path, tmp_path: Path) -> None:
    source = real_runs / "falniir__norgen/results/api_experiment_run/model/llm_eval_examples/0.csv"
    path = tmp_path / "0.csv"
    path.write_bytes(source.read_bytes()[:5000])

    examples, finding = read_eval_examples_file(path, 0, tmp_path)

    assert finding is not None
    assert finding.id == "file.truncated"
    assert finding.evidence[0].field.startswith("line ")
    assert len(examples.rows) == 7


def test_eval_examples_wrong_header(real_runs: Path, tmp_path: Path) -> None:
    source = real_runs / "falniir__norgen/results/api_experiment_run/model/llm_eval_examples/0.csv"
    path = tmp_path / "0.csv"
    path.write_bytes(source.read_bytes().replace(b"inputs,targets,outputs", b"inputs,targets", 1))

    _, finding = read_eval_examples_file(path, 0, tmp_path)

    assert finding is not None
    assert finding.id == "file.malformed"
    assert "outputs" in finding.explanation


# predictions


def _predict_dirs(sample_runs: Path) -> list[Path]:
    found = sorted(path.parent for path in sample_runs.glob("*/predict_test/predictions.parquet"))
    if not found:
        pytest.skip("no sample run with predictions has been generated yet")
    return found


def test_predictions_parquet_responses(sample_runs: Path) -> None:
    for directory in _predict_dirs(sample_runs):
        read = read_predictions(directory)
        assert read.findings == [], directory
        assert read.predictions, directory
        for predictions in read.predictions:
            assert predictions.source_file.name == "predictions.parquet"
            assert all(isinstance(text, str) for text in predictions.responses)


def test_predictions_csv_has_no_header(sample_runs: Path) -> None:
    for directory in _predict_dirs(sample_runs):
        for predictions in read_predictions(directory).predictions:
            from_csv = read_headerless_column(directory / f"{predictions.column}.csv")
            # A header row would make the CSV one line longer and shift every text by one.
            assert len(from_csv) == len(predictions.responses), directory
            assert from_csv == predictions.responses, directory


def test_predictions_damaged_parquet_falls_back(sample_runs: Path, tmp_path: Path) -> None:
    source = _predict_dirs(sample_runs)[0]
    copy = tmp_path / "predict_test"
    shutil.copytree(source, copy)
    parquet = copy / "predictions.parquet"
    parquet.write_bytes(parquet.read_bytes()[:200])

    read = read_predictions(copy)

    assert [finding.id for finding in read.findings] == ["file.malformed"]
    assert read.predictions
    assert all(predictions.source_file.suffix == ".csv" for predictions in read.predictions)
