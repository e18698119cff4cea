"""Regenerate sample_runs/: seeded datasets, a tiny Llama, and real `ludwig train` + `ludwig predict` runs.

Usage (from anywhere; paths are resolved from this file):
    python3 sample_runs/make_sample_runs.py [RUN_NAME ...] [--keep-model]

With no RUN_NAME every run is made. The script needs only the standard library. It calls
the two Ludwig venvs that `envs/install_ludwig.sh` creates (.venvs/ludwig-0.11.0 and
.venvs/ludwig-0.9.1), runs fully offline on the CPU, and one training at a time.

Each run folder gets config.yaml, train.log, predict.log, run_times.json, the Ludwig output
(results/experiment_run/, predict_test/) and DROPPED_FILES.txt. check_sample_runs.py then
writes the measured symptoms to measurements.json. Ludwig's own files are
never edited. Files over MAX_FILE_BYTES and training_checkpoints/ are deleted and listed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_RUNS_DIR = Path(__file__).resolve().parent
REPO_DIR = SAMPLE_RUNS_DIR.parent
DATA_DIR = SAMPLE_RUNS_DIR / "data"
MODEL_DIR = SAMPLE_RUNS_DIR / "models" / "tiny-llama"
NLTK_DATA_DIR = REPO_DIR / "envs" / "nltk_data"
VENVS = {
    "0.11.0": REPO_DIR / ".venvs" / "ludwig-0.11.0",
    "0.9.1": REPO_DIR / ".venvs" / "ludwig-0.9.1",
}
# transformers 4.x saves a tokenizer folder that both 4.x and 5.x load.
MODEL_BUILDER_VERSION = "0.9.1"

# The prompt of every LLM run. Ludwig fills {instruction} from the dataset column.
PROMPT_TEMPLATE = "### Instruction: {instruction}\n### Response:\n"

MAX_FILE_BYTES = 1_000_000
SEED = 20240601

# Ludwig's fixed splitter reads 0 = training, 1 = validation, 2 = test.
TRAIN, VALIDATION, TEST = 0, 1, 2


# --------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------

# animal: (color, number of legs, home)
ANIMALS = {
    "fox": ("red", "four", "forest"),
    "frog": ("green", "four", "pond"),
    "owl": ("brown", "two", "barn"),
    "crow": ("black", "two", "tree"),
    "swan": ("white", "two", "lake"),
    "bear": ("brown", "four", "cave"),
    "duck": ("yellow", "two", "pond"),
    "cat": ("grey", "four", "house"),
    "goat": ("white", "four", "hill"),
    "crab": ("orange", "ten", "beach"),
    "bee": ("yellow", "six", "hive"),
    "ant": ("black", "six", "nest"),
    "hen": ("red", "two", "farm"),
    "wolf": ("grey", "four", "forest"),
    "mouse": ("grey", "four", "field"),
    "pig": ("pink", "four", "farm"),
    "horse": ("brown", "four", "stable"),
    "spider": ("black", "eight", "web"),
    "parrot": ("green", "two", "jungle"),
    "lion": ("yellow", "four", "savanna"),
}

# (question phrasings, answer template, answer field index in ANIMALS)
QUESTIONS = [
    (["What color is the {animal}?", "Tell me the color of the {animal}."], "the {animal} is {value}", 0),
    (
        ["How many legs does the {animal} have?", "Count the legs of the {animal}."],
        "the {animal} has {value} legs",
        1,
    ),
    (
        ["Where does the {animal} live?", "Name the home of the {animal}."],
        "the {animal} lives in the {value}",
        2,
    ),
]

# Prepended to every third instruction. With the prompt template this makes the rendered input
# longer than 32 tokens, so `global_max_sequence_length: 32` cuts off the whole target.
LONG_PREAMBLE = (
    "You are a patient teacher who explains simple facts about animals to young children. "
    "Read the question below with care, think about the animal that it names, and then reply "
    "with exactly one short and friendly sentence. Question: "
)

LOOP_REPEATS = 8


def split_labels(row_count: int, rng: random.Random) -> list[int]:
    """Return shuffled split labels: 75% training, 12.5% validation, 12.5% test."""
    validation_count = row_count // 8
    test_count = row_count // 8
    labels = [VALIDATION] * validation_count + [TEST] * test_count
    labels += [TRAIN] * (row_count - len(labels))
    rng.shuffle(labels)
    return labels


def instruction_rows(looping_targets: bool) -> list[dict[str, object]]:
    """Return 120 instruction/output rows, every third with a long preamble.

    With `looping_targets` each output repeats its last word LOOP_REPEATS times
    ("the fox is red red red ..."), so a model trained on it learns the loop from the data.
    """
    rng = random.Random(SEED)
    rows = []
    for animal, facts in ANIMALS.items():
        for phrasings, answer, field in QUESTIONS:
            for phrasing in phrasings:
                value = facts[field]
                output = answer.format(animal=animal, value=value)
                if looping_targets:
                    output += (" " + value) * (LOOP_REPEATS - 1)
                else:
                    output += "."
                rows.append({"instruction": phrasing.format(animal=animal), "output": output})

    rng.shuffle(rows)
    for index, row in enumerate(rows):
        if index % 3 == 0:
            row["instruction"] = LONG_PREAMBLE + str(row["instruction"])

    for row, label in zip(rows, split_labels(len(rows), rng), strict=True):
        row["split"] = label
    return rows


PRODUCTS = [
    "phone",
    "blender",
    "lamp",
    "jacket",
    "chair",
    "kettle",
    "backpack",
    "camera",
    "printer",
    "mattress",
]
SENTIMENT_PHRASES = {
    "positive": [
        "works great",
        "is excellent",
        "exceeded my expectations",
        "is a joy to use",
        "feels very solid",
    ],
    "negative": [
        "broke after a week",
        "is terrible",
        "stopped working",
        "feels cheap and flimsy",
        "was a waste of money",
    ],
    "neutral": [
        "is okay",
        "does the job",
        "is about average",
        "works as described",
        "is neither good nor bad",
    ],
}
OPENERS = ["", "Honestly,", "Overall", "After a month", "In short,", "To be fair,"]
TAILS = [
    "",
    " and the box was plain",
    " but shipping took a while",
    " and the color matches the photo",
    " for the price",
]


def review_rows() -> list[dict[str, object]]:
    """Return 300 short product reviews with a positive/negative/neutral sentiment label."""
    rng = random.Random(SEED + 1)
    sentiments = sorted(SENTIMENT_PHRASES)
    rows = []
    for index in range(300):
        sentiment = sentiments[index % len(sentiments)]
        opener = rng.choice(OPENERS)
        product = rng.choice(PRODUCTS)
        phrase = rng.choice(SENTIMENT_PHRASES[sentiment])
        tail = rng.choice(TAILS)
        subject = f"{opener} the {product}" if opener else f"The {product}"
        rows.append({"review": f"{subject} {phrase}{tail}.", "sentiment": sentiment})

    rng.shuffle(rows)
    for row, label in zip(rows, split_labels(len(rows), rng), strict=True):
        row["split"] = label
    return rows


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def build_datasets() -> None:
    write_csv(DATA_DIR / "instructions.csv", instruction_rows(looping_targets=False))
    write_csv(DATA_DIR / "instructions_looping.csv", instruction_rows(looping_targets=True))
    write_csv(DATA_DIR / "reviews.csv", review_rows())


# --------------------------------------------------------------------------------------------
# Run definitions
# --------------------------------------------------------------------------------------------

LLM_CONFIG = """\
# {comment}
model_type: llm
base_model: {base_model}
input_features:
  - name: instruction
    type: text
output_features:
  - name: output
    type: text
prompt:
  template: {prompt_template}
adapter:
  type: lora
  r: 8
  alpha: 16
generation:
  max_new_tokens: {max_new_tokens}
trainer:
  type: finetune
  epochs: {epochs}
  batch_size: 2
  eval_batch_size: 4
  learning_rate: {learning_rate}
preprocessing:
  global_max_sequence_length: {global_max_sequence_length}
  split:
    type: fixed
    column: split
backend:
  type: local
"""

ECD_CONFIG = """\
# {comment}
model_type: ecd
input_features:
  - name: review
    type: text
    encoder:
      type: parallel_cnn
    preprocessing:
      max_sequence_length: 40
output_features:
  - name: sentiment
    type: category
trainer:
  epochs: 6
  batch_size: 32
  learning_rate: 0.001
preprocessing:
  split:
    type: fixed
    column: split
backend:
  type: local
"""


@dataclass(frozen=True)
class SampleRun:
    name: str
    ludwig_version: str
    dataset: str
    config: str


def llm_config(comment: str, global_max_sequence_length: int, epochs: int, learning_rate: float) -> str:
    return LLM_CONFIG.format(
        comment=comment,
        base_model=MODEL_DIR,
        # json.dumps gives a double-quoted string with \n escapes, which is also valid YAML.
        prompt_template=json.dumps(PROMPT_TEMPLATE),
        max_new_tokens=48,
        epochs=epochs,
        learning_rate=learning_rate,
        global_max_sequence_length=global_max_sequence_length,
    )


RUNS = [
    SampleRun(
        name="llm_truncated",
        ludwig_version="0.11.0",
        dataset="instructions.csv",
        config=llm_config(
            "global_max_sequence_length 32 is shorter than the long-preamble rows: their targets are cut.",
            global_max_sequence_length=32,
            epochs=10,
            learning_rate=0.01,
        ),
    ),
    SampleRun(
        name="llm_fits",
        ludwig_version="0.11.0",
        dataset="instructions.csv",
        config=llm_config(
            "The same fine-tune as llm_truncated with a sequence length that fits every row.",
            global_max_sequence_length=128,
            epochs=10,
            learning_rate=0.01,
        ),
    ),
    SampleRun(
        name="ecd_text_classifier",
        ludwig_version="0.11.0",
        dataset="reviews.csv",
        config=ECD_CONFIG.format(
            comment="Text to category with a parallel_cnn encoder; 40 tokens fit every review."
        ),
    ),
    SampleRun(
        name="llm_v091_nopad",
        ludwig_version="0.9.1",
        dataset="instructions.csv",
        config=llm_config(
            "Ludwig 0.9.1 with a Llama tokenizer that has no pad token: targets end with <unk>, not </s>.",
            global_max_sequence_length=128,
            epochs=10,
            learning_rate=0.01,
        ),
    ),
    SampleRun(
        name="llm_looping_targets",
        ludwig_version="0.11.0",
        dataset="instructions_looping.csv",
        config=llm_config(
            "The training targets repeat their last word, so the model learns the loop from the data.",
            global_max_sequence_length=128,
            epochs=10,
            learning_rate=0.01,
        ),
    ),
]


# --------------------------------------------------------------------------------------------
# Running Ludwig
# --------------------------------------------------------------------------------------------


def offline_environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        {
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1",
            "NLTK_DATA": str(NLTK_DATA_DIR),
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONHASHSEED": "0",
        }
    )
    return environment


def run_logged(argv: list[str], log_path: Path) -> dict[str, object]:
    """Run `argv` with stdout and stderr in `log_path`; return wall seconds, peak RSS and exit code."""
    start = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env=offline_environment(), cwd=REPO_DIR
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "argv": argv,
        "returncode": process.returncode,
        "wall_seconds": round(time.monotonic() - start, 1),
        "user_cpu_seconds": round(usage.ru_utime, 1),
        "max_rss_mb": round(usage.ru_maxrss / 1024),  # ru_maxrss is in KiB on Linux.
    }


def drop_large_files(run_dir: Path) -> list[str]:
    """Delete training_checkpoints/ and files over MAX_FILE_BYTES; return 'path size' lines."""
    dropped = []
    for path in sorted(run_dir.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(run_dir)
        size = path.stat().st_size
        if "training_checkpoints" in relative.parts or size > MAX_FILE_BYTES:
            dropped.append(f"{relative} {size}")
            path.unlink()

    for checkpoint_dir in run_dir.rglob("training_checkpoints"):
        shutil.rmtree(checkpoint_dir)
    return dropped


def make_run(run: SampleRun) -> dict[str, object]:
    venv_bin = VENVS[run.ludwig_version] / "bin"
    run_dir = SAMPLE_RUNS_DIR / run.name
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)

    config_path = run_dir / "config.yaml"
    config_path.write_text(run.config, encoding="utf-8")
    dataset_path = DATA_DIR / run.dataset

    print(f"[{run.name}] ludwig {run.ludwig_version} train", flush=True)
    train = run_logged(
        [
            str(venv_bin / "ludwig"),
            "train",
            "--config",
            str(config_path),
            "--dataset",
            str(dataset_path),
            "--output_directory",
            str(run_dir / "results"),
            "--skip_save_processed_input",
        ],
        run_dir / "train.log",
    )
    times = {"ludwig_version": run.ludwig_version, "train": train}
    if train["returncode"] != 0:
        raise RuntimeError(f"ludwig train failed for {run.name}: see {run_dir / 'train.log'}")

    print(f"[{run.name}] ludwig {run.ludwig_version} predict --split test", flush=True)
    predict = run_logged(
        [
            str(venv_bin / "ludwig"),
            "predict",
            "--model_path",
            str(run_dir / "results" / "experiment_run" / "model"),
            "--dataset",
            str(dataset_path),
            "--split",
            "test",
            "--output_directory",
            str(run_dir / "predict_test"),
        ],
        run_dir / "predict.log",
    )
    times["predict"] = predict
    if predict["returncode"] != 0:
        raise RuntimeError(f"ludwig predict failed for {run.name}: see {run_dir / 'predict.log'}")

    dropped = drop_large_files(run_dir)
    header = f"Files deleted after the run: training_checkpoints/ and any file over {MAX_FILE_BYTES} bytes.\n"
    (run_dir / "DROPPED_FILES.txt").write_text(
        header + "".join(line + "\n" for line in dropped), encoding="utf-8"
    )
    (run_dir / "run_times.json").write_text(json.dumps(times, indent=2) + "\n", encoding="utf-8")
    return times


def remove_dataset_caches() -> None:
    """Delete the cache and lock files Ludwig writes beside a dataset."""
    for pattern in ("*.hdf5", "*.meta.json", "*.split.parquet", ".lock_preprocessing"):
        for path in DATA_DIR.glob(pattern):
            path.unlink()


def build_model() -> None:
    if MODEL_DIR.exists():
        shutil.rmtree(MODEL_DIR)
    python = VENVS[MODEL_BUILDER_VERSION] / "bin" / "python"
    subprocess.run(
        [
            str(python),
            str(SAMPLE_RUNS_DIR / "build_tiny_llama.py"),
            "--prompt-template",
            PROMPT_TEMPLATE,
            str(MODEL_DIR),
            str(DATA_DIR / "instructions.csv"),
            str(DATA_DIR / "instructions_looping.csv"),
        ],
        check=True,
        env=offline_environment(),
    )


def check_venvs(runs: list[SampleRun]) -> None:
    versions = {run.ludwig_version for run in runs} | {MODEL_BUILDER_VERSION}
    for version in sorted(versions):
        ludwig = VENVS[version] / "bin" / "ludwig"
        if not ludwig.exists():
            raise SystemExit(f"{ludwig} not found: run envs/install_ludwig.sh {version} {VENVS[version]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help="run names to make (default: all)")
    parser.add_argument(
        "--keep-model", action="store_true", help="reuse the existing datasets and tiny Llama"
    )
    args = parser.parse_args()

    known = {run.name: run for run in RUNS}
    unknown = [name for name in args.runs if name not in known]
    if unknown:
        parser.error(f"unknown run name(s) {unknown}; choose from {sorted(known)}")
    selected = [known[name] for name in args.runs] if args.runs else RUNS
    check_venvs(selected)

    start = time.monotonic()
    if not args.keep_model:
        build_datasets()
        build_model()

    for run in selected:
        make_run(run)
        remove_dataset_caches()

    # Record the symptoms each run shows in measurements.json.
    check_python = VENVS["0.11.0"] / "bin" / "python"
    check_script = SAMPLE_RUNS_DIR / "check_sample_runs.py"
    subprocess.run(
        [str(check_python), str(check_script), *[run.name for run in selected]],
        check=True,
        env=offline_environment(),
        stdout=subprocess.DEVNULL,
    )

    print(f"done in {time.monotonic() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
