"""Measure the symptoms each sample run is meant to show and write them to measurements.json.

Usage: .venvs/ludwig-0.11.0/bin/python sample_runs/check_sample_runs.py [RUN_NAME ...]

Needs pandas, pyarrow, tensorboard and transformers, which the Ludwig 0.11.0 venv has. It
reads only the files Ludwig wrote and prints one JSON object per run.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import pandas as pd
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from transformers import AutoTokenizer
from transformers.utils import logging as transformers_logging

SAMPLE_RUNS_DIR = Path(__file__).resolve().parent
MODEL_DIR = SAMPLE_RUNS_DIR / "models" / "tiny-llama"
RUN_NAMES = ["llm_truncated", "llm_fits", "ecd_text_classifier", "llm_v091_nopad", "llm_looping_targets"]

# A response loops when some run of 1 to 4 words occurs at least this many times back to back.
MIN_LOOP_REPEATS = 3
MAX_LOOP_NGRAM = 4

PAD_LOG_PATTERN = re.compile(
    r".*\[PAD\].*pad token.*|.*pad token.*\[PAD\].*|.*eos_token as pad_token.*", re.IGNORECASE
)


def loops(text: str) -> bool:
    """Return True when a word n-gram (n <= MAX_LOOP_NGRAM) repeats MIN_LOOP_REPEATS times in a row."""
    words = text.split()
    for n in range(1, MAX_LOOP_NGRAM + 1):
        for start in range(len(words) - n * MIN_LOOP_REPEATS + 1):
            gram = words[start : start + n]
            if all(words[start + k * n : start + (k + 1) * n] == gram for k in range(1, MIN_LOOP_REPEATS)):
                return True
    return False


def step_losses(model_dir: Path) -> dict[str, object]:
    """Count NaN values of every training step-loss scalar in the TensorBoard training log."""
    accumulator = EventAccumulator(str(model_dir / "logs" / "training"), size_guidance={"scalars": 0})
    accumulator.Reload()
    result = {}
    for tag in accumulator.Tags()["scalars"]:
        if not tag.endswith("step_training_loss"):
            continue
        values = [event.value for event in accumulator.Scalars(tag)]
        result[tag] = {"steps": len(values), "nan_steps": sum(math.isnan(value) for value in values)}
    return result


def text_feature_metadata(model_dir: Path) -> dict[str, object]:
    metadata = json.loads((model_dir / "training_set_metadata.json").read_text())
    keys = [
        "max_sequence_length",
        "max_sequence_length_99ptile",
        "pad_idx",
        "padding_symbol",
        "prompt_template_num_tokens",
    ]
    return {
        name: {key: value.get(key) for key in keys if key in value}
        for name, value in metadata.items()
        if isinstance(value, dict) and "padding_symbol" in value
    }


def response_text(value) -> str:
    """Return the response string; Ludwig 0.9.1 stores each `output_response` as a one-item array."""
    if isinstance(value, str):
        return value
    return " ".join(str(item) for item in value)


def response_stats(predict_dir: Path, max_new_tokens: int, tokenizer) -> dict[str, object]:
    """Summarise the generated responses of an LLM run.

    `output_predictions` contains one decoded string per generated position, and special tokens
    decode to "". A generation's length is therefore the position of its last non-empty token;
    the empty strings before that position are special tokens emitted mid-answer (`<unk>` in the
    Ludwig 0.9.1 run), while those after it are padding.
    """
    predictions = pd.read_parquet(predict_dir / "predictions.parquet")
    responses = [response_text(value) for value in predictions["output_response"]]
    lengths = [len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in responses]

    generated = []
    inner_blanks = []
    for tokens in predictions["output_predictions"]:
        filled = [index for index, token in enumerate(tokens) if token != ""]
        length = filled[-1] + 1 if filled else 0
        generated.append(length)
        inner_blanks.append(length - len(filled))

    count = len(responses)
    return {
        "rows": count,
        "looping_share": round(sum(loops(text) for text in responses) / count, 3),
        "mean_response_tokens": round(sum(lengths) / count, 1),
        "max_response_tokens": max(lengths),
        "mean_generated_tokens": round(sum(generated) / count, 1),
        "share_at_max_new_tokens": round(sum(length >= max_new_tokens for length in generated) / count, 3),
        "mean_inner_special_tokens": round(sum(inner_blanks) / count, 1),
        "mean_sentence_ends": round(sum(text.count(".") for text in responses) / count, 1),
        "max_new_tokens": max_new_tokens,
        "examples": responses[:3],
    }


def category_stats(predict_dir: Path, dataset: Path) -> dict[str, object]:
    predictions = pd.read_parquet(predict_dir / "predictions.parquet")
    data = pd.read_csv(dataset)
    truth = data[data["split"] == 2]["sentiment"].tolist()
    predicted = predictions["sentiment_predictions"].tolist()
    correct = sum(left == right for left, right in zip(truth, predicted, strict=True))
    return {"rows": len(predicted), "test_accuracy": round(correct / len(predicted), 3)}


def check_run(name: str, tokenizer) -> dict[str, object]:
    run_dir = SAMPLE_RUNS_DIR / name
    experiment_dir = run_dir / "results" / "experiment_run"
    model_dir = experiment_dir / "model"
    description = json.loads((experiment_dir / "description.json").read_text())
    config = description["config"]
    train_log = (run_dir / "train.log").read_text(errors="replace")

    result: dict[str, object] = {
        "ludwig_version": description["ludwig_version"],
        "model_type": config["model_type"],
        "files": sum(1 for path in run_dir.rglob("*") if path.is_file()),
        "largest_file_bytes": max(path.stat().st_size for path in run_dir.rglob("*") if path.is_file()),
        "step_losses": step_losses(model_dir),
        "text_metadata": text_feature_metadata(model_dir),
        "pad_log_lines": sorted({match.strip() for match in PAD_LOG_PATTERN.findall(train_log)}),
    }
    if config["model_type"] == "llm":
        result["global_max_sequence_length"] = config["preprocessing"]["global_max_sequence_length"]
        result["predictions"] = response_stats(
            run_dir / "predict_test", config["generation"]["max_new_tokens"], tokenizer
        )
    else:
        result["predictions"] = category_stats(run_dir / "predict_test", Path(description["dataset"]))
    return result


def main(argv: list[str]) -> int:
    transformers_logging.set_verbosity_error()
    names = argv[1:] or RUN_NAMES
    tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)

    output_path = SAMPLE_RUNS_DIR / "measurements.json"
    measurements = json.loads(output_path.read_text()) if output_path.exists() else {}
    for name in names:
        measurements[name] = check_run(name, tokenizer)
        print(name, json.dumps(measurements[name], indent=1))

    ordered = {name: measurements[name] for name in RUN_NAMES if name in measurements}
    output_path.write_text(json.dumps(ordered, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
