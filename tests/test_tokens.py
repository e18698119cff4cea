"""Exact token budgets measured with the real tiny Llama tokenizer on the committed sample data."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from ludwig_doctor.diagnostics.loader import load_run
from ludwig_doctor.diagnostics.run import Run
from ludwig_doctor.diagnostics.tokens.analysis import analyze, analyze_run
from ludwig_doctor.diagnostics.tokens.budget import cut_counts
from ludwig_doctor.diagnostics.tokens.dataset import DatasetError, read_dataset
from ludwig_doctor.diagnostics.tokens.finding import measured_or_recorded
from ludwig_doctor.diagnostics.tokens.spec import spec_from_config
from ludwig_doctor.diagnostics.tokens.suggest import suggest
from ludwig_doctor.diagnostics.tokens.tokenizer import (
    LoadedTokenizer,
    TokenizerSource,
    TokenizerUnavailable,
    locate_tokenizer,
)

RUN = "results/experiment_run"


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the token cache of each test in its own folder."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    return folder


def sample_run(sample_runs: Path, name: str) -> Run:
    return load_run(sample_runs / name / RUN, sample_runs, [])


def tiny_source(sample_runs: Path) -> TokenizerSource:
    return locate_tokenizer(str(sample_runs / "models" / "tiny-llama"))


def test_tokenizer_adds_llama_bos(sample_runs: Path) -> None:
    tokenizer = LoadedTokenizer(tiny_source(sample_runs))
    # "the fox is red." is 5 tokens; the Llama tokenizer adds <s> as Ludwig's encode() does.
    assert tokenizer.count("the fox is red.") == 6
    assert list(tokenizer.lengths(["the fox is red.", ""])) == [6, 1]


def test_truncated_run_counts(sample_runs: Path) -> None:
    analysis = analyze_run(sample_run(sample_runs, "llm_truncated"))
    cuts = analysis.cuts()

    assert analysis.rows == 120
    assert analysis.limits.global_limit == 32
    assert cuts["all"].target_cut == 40
    assert cuts["all"].counts["input"] == 40
    assert cuts["training"].rows == 90
    assert cuts["training"].no_target == 31
    assert cuts["validation"].target_cut == 4
    assert cuts["test"].target_cut == 5


def test_measured_lengths_match_recorded(sample_runs: Path) -> None:
    run = sample_run(sample_runs, "llm_truncated")
    analysis = analyze_run(run)
    metadata = run.training_set_metadata or {}
    stats = analysis.stats()

    for name in ("instruction", "output"):
        measured = stats[name]
        assert measured is not None
        assert measured.max == metadata[name]["max_sequence_length"]
        assert measured.p99_linear == metadata[name]["max_sequence_length_99ptile"]
    assert analysis.template_tokens == metadata["instruction"]["prompt_template_num_tokens"]


def test_suggested_limit_fits_second_run(sample_runs: Path) -> None:
    analysis = analyze_run(sample_run(sample_runs, "llm_truncated"))
    suggestion = suggest(analysis)
    fits = sample_run(sample_runs, "llm_fits")

    assert suggestion.needed == 68
    assert suggestion.global_limit == 72
    assert [patch.path for patch in suggestion.patches] == ["preprocessing.global_max_sequence_length"]
    assert suggestion.global_limit <= fits.config["preprocessing"]["global_max_sequence_length"]
    refit = analysis.budgets(replace(analysis.limits, global_limit=suggestion.global_limit))
    assert cut_counts(refit).target_cut == 0


def test_fitting_run_has_no_cut(sample_runs: Path) -> None:
    analysis = analyze_run(sample_run(sample_runs, "llm_fits"))
    assert analysis.cuts()["all"].target_cut == 0
    assert not suggest(analysis).patches


def test_cut_kinds_at_other_limits(sample_runs: Path) -> None:
    analysis = analyze_run(sample_run(sample_runs, "llm_truncated"))
    training = analysis.split == 0

    at_60 = cut_counts(analysis.budgets(replace(analysis.limits, global_limit=60)), training)
    assert at_60.counts == {"fits": 59, "stop_token": 0, "part_of_target": 21, "whole_target": 10, "input": 0}
    at_66 = cut_counts(analysis.budgets(replace(analysis.limits, global_limit=66)), training)
    assert at_66.counts == {"fits": 65, "stop_token": 14, "part_of_target": 11, "whole_target": 0, "input": 0}


def test_feature_limit_binds(sample_runs: Path) -> None:
    run = sample_run(sample_runs, "llm_truncated")
    config = json.loads(json.dumps(run.config))
    config["input_features"][0]["preprocessing"]["max_sequence_length"] = 40
    spec = spec_from_config(config, "0.11.0")
    analysis = analyze(spec, tiny_source(sample_runs), sample_runs / "data" / "instructions.csv")
    patches = {patch.path: patch.value for patch in suggest(analysis).patches}

    assert analysis.budgets().input.max() == 40
    assert patches["input_features[0].preprocessing.max_sequence_length"] == 64
    assert patches["preprocessing.global_max_sequence_length"] == 72


def test_long_limit_adds_gradient_checkpointing(sample_runs: Path, tmp_path: Path) -> None:
    long_rows = tmp_path / "long.csv"
    long_rows.write_text("instruction,output\n" + f'"{"word " * 700}",short answer.\n', encoding="utf-8")
    run = sample_run(sample_runs, "llm_truncated")
    analysis = analyze(spec_from_config(run.config), tiny_source(sample_runs), long_rows)
    patches = {patch.path: patch for patch in suggest(analysis).patches}

    assert patches["preprocessing.global_max_sequence_length"].value % 8 == 0
    assert patches["trainer.enable_gradient_checkpointing"].value is True
    assert "memory" in patches["trainer.enable_gradient_checkpointing"].reason


def test_limit_capped_at_context_window(sample_runs: Path, tmp_path: Path) -> None:
    long_rows = tmp_path / "longer.csv"
    long_rows.write_text("instruction,output\n" + f'"{"word " * 1500}",short answer.\n', encoding="utf-8")
    run = sample_run(sample_runs, "llm_truncated")
    analysis = analyze(spec_from_config(run.config), tiny_source(sample_runs), long_rows)
    suggestion = suggest(analysis)

    assert suggestion.capped
    assert suggestion.global_limit == 1024


def test_p99_share_ignores_outlier(sample_runs: Path, tmp_path: Path) -> None:
    rows = (
        ["instruction,output"] + ["What color is the fox?,the fox is red."] * 199 + [f'"{"word " * 300}",x.']
    )
    data = tmp_path / "outlier.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    run = sample_run(sample_runs, "llm_truncated")
    analysis = analyze(spec_from_config(run.config), tiny_source(sample_runs), data)

    assert suggest(analysis, "all").global_limit > 300
    assert suggest(analysis, "p99").patches == []


def test_cache_reopens_without_tokenizing(sample_runs: Path, private_cache: Path) -> None:
    run = sample_run(sample_runs, "llm_truncated")
    first = analyze_run(run)
    second = analyze_run(run)

    assert not first.from_cache
    assert second.from_cache
    assert list(private_cache.glob("ludwig-doctor/tokens/*.npz"))
    assert (second.input_raw == first.input_raw).all()
    assert second.examples() == first.examples()
    assert not list((run.path).rglob("*.npz"))


def test_cache_key_follows_dataset_content(sample_runs: Path, tmp_path: Path) -> None:
    data = tmp_path / "instructions.csv"
    shutil.copyfile(sample_runs / "data" / "instructions.csv", data)
    run = sample_run(sample_runs, "llm_truncated")
    spec = spec_from_config(run.config)
    analyze(spec, tiny_source(sample_runs), data)
    data.write_text(data.read_text(encoding="utf-8") + '"one more row",the end.,0\n', encoding="utf-8")
    changed = analyze(spec, tiny_source(sample_runs), data)

    assert not changed.from_cache
    assert changed.rows == 121


@pytest.mark.parametrize("fmt", ["tsv", "json", "jsonl", "parquet"])
def test_formats_give_same_counts(sample_runs: Path, tmp_path: Path, fmt: str) -> None:
    frame = read_dataset(sample_runs / "data" / "instructions.csv")
    path = tmp_path / f"instructions.{fmt}"
    if fmt == "tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif fmt == "json":
        frame.to_json(path, orient="records")
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_parquet(path)
    run = sample_run(sample_runs, "llm_truncated")
    analysis = analyze(spec_from_config(run.config), tiny_source(sample_runs), path)

    assert analysis.cuts()["training"].no_target == 31
    assert analysis.cuts()["all"].target_cut == 40


def test_moved_dataset_message(sample_runs: Path, tmp_path: Path) -> None:
    moved = tmp_path / "llm_truncated"
    shutil.copytree(sample_runs / "llm_truncated" / "results", moved / "results")
    # The model moves with the run; only the dataset is left behind.
    shutil.copytree(sample_runs / "models", tmp_path / "models")
    run = load_run(moved / RUN, tmp_path, [])
    assert run.description is not None
    # The run was made on another machine: its recorded absolute path does not exist here.
    run.description["dataset"] = "/old-machine/work/data/instructions.csv"

    with pytest.raises(DatasetError, match=r"instructions\.csv .*not found.*--dataset PATH"):
        analyze_run(run)
    given = analyze_run(run, dataset=sample_runs / "data" / "instructions.csv")
    assert given.cuts()["all"].target_cut == 40


def test_moved_run_finds_data_relative(sample_runs: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "sample_runs"
    shutil.copytree(sample_runs / "llm_truncated" / "results", copy / "llm_truncated" / "results")
    shutil.copytree(sample_runs / "data", copy / "data")
    shutil.copytree(sample_runs / "models", copy / "models")
    run = load_run(copy / "llm_truncated" / RUN, copy, [])
    assert run.description is not None
    run.description["dataset"] = "/old-machine/sample_runs/data/instructions.csv"
    run.description["config"]["base_model"] = "/old-machine/sample_runs/models/tiny-llama"
    analysis = analyze_run(run)

    assert analysis.dataset == copy / "data" / "instructions.csv"
    assert analysis.tokenizer.folder == copy / "models" / "tiny-llama"


def test_missing_tokenizer_message(
    sample_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    with pytest.raises(TokenizerUnavailable, match="meta-llama/Llama-2-7b-hf.*huggingface-cli download"):
        locate_tokenizer("meta-llama/Llama-2-7b-hf")


def test_missing_tokenizer_keeps_recorded(
    sample_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    run = sample_run(sample_runs, "llm_truncated")
    assert run.description is not None
    run.description["config"]["base_model"] = "meta-llama/Llama-2-7b-hf"
    from ludwig_doctor.diagnostics.checks.truncation import check_truncation

    finding = next(
        item for item in check_truncation(run) if item.id == "truncation.global_max_sequence_length"
    )
    assert "meta-llama/Llama-2-7b-hf" in finding.action
    assert any("exact per-row counts unavailable" in item.note for item in finding.evidence)


def test_hub_cache_snapshot_is_used(
    sample_runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = tmp_path / "hub"
    snapshot = hub / "models--tiny--llama" / "snapshots" / "abc123"
    shutil.copytree(sample_runs / "models" / "tiny-llama", snapshot)
    (hub / "models--tiny--llama" / "refs").mkdir()
    (hub / "models--tiny--llama" / "refs" / "main").write_text("abc123", encoding="utf-8")
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))

    source = locate_tokenizer("tiny/llama")
    assert source.how == "Hugging Face cache"
    assert LoadedTokenizer(source).count("the fox is red.") == 6


def test_unreadable_row_message(sample_runs: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("instruction,output,split\nfine,row,0\nbad,row,0,extra\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="broken.csv: cannot parse the csv file.*line 3"):
        read_dataset(broken)


def test_unreadable_jsonl_message(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"instruction": "a", "output": "b"}\n{"instruction": \n', encoding="utf-8")
    with pytest.raises(DatasetError, match="broken.jsonl: cannot parse the jsonl file"):
        read_dataset(broken)


@pytest.mark.parametrize("content", ["", "instruction,output,split\n"])
def test_empty_dataset_message(tmp_path: Path, content: str) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError, match="empty.csv: the dataset"):
        read_dataset(empty)


def test_missing_target_rows_dropped(sample_runs: Path, tmp_path: Path) -> None:
    data = tmp_path / "gaps.csv"
    data.write_text(
        "instruction,output\nWhat color is the fox?,the fox is red.\nWhere is it?,\n", encoding="utf-8"
    )
    run = sample_run(sample_runs, "llm_truncated")
    analysis = analyze(spec_from_config(run.config), tiny_source(sample_runs), data)

    assert analysis.rows_read == 2
    assert analysis.rows_dropped == 1
    assert analysis.rows == 1


def test_finding_uses_measured_counts(sample_runs: Path) -> None:
    run = sample_run(sample_runs, "llm_truncated")
    finding = measured_or_recorded(run, None)

    assert finding is not None
    assert "40 of 120 rows" in finding.title
    assert finding.patches[0].value == 72
    sources = {item.source for item in finding.evidence}
    assert "model/training_set_metadata.json" in sources
    assert any(source.endswith("data/instructions.csv") for source in sources)
    agreement = [item for item in finding.evidence if item.field == "instruction.max_sequence_length"]
    assert agreement and "agrees" in agreement[0].note
