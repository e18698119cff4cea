"""Count the rows whose target tokens Ludwig itself cuts, for comparison with ludwig-doctor.

Run it with the Python of a Ludwig environment (it imports ludwig, torch and transformers):

    .venvs/ludwig-0.11.0/bin/python tests/ludwig/count_cut_targets.py --config C --dataset D

It preprocesses the dataset with ``LudwigModel.preprocess`` (in a temporary copy, so that
Ludwig's lock and cache files never land beside the data), then passes each preprocessed row
through Ludwig's own ``generate_merged_ids`` with the limit that ``ludwig.models.llm.LLM`` uses.
It prints one JSON document: per limit and split the rows and the cut kinds, and the sorted
lengths.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path

KINDS = ("fits", "stop_token", "part_of_target", "whole_target", "input")


def classify(input_tokens: int, target_tokens: int, merged_tokens: int) -> str:
    kept = max(0, merged_tokens - input_tokens)
    if kept == target_tokens + 1:
        return "fits"
    if kept == target_tokens:
        return "stop_token"
    if kept > 0:
        return "part_of_target"
    return "whole_target" if input_tokens == merged_tokens else "input"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--dataset", required=True, type=Path)
    parser.add_argument("--base-model", help="replace the config's base_model (for a moved model folder)")
    parser.add_argument(
        "--limit",
        type=int,
        action="append",
        default=[],
        help="also count the cuts for this global_max_sequence_length (repeatable); preprocessing does not "
        "depend on it, so one preprocessing serves every limit",
    )
    args = parser.parse_args()

    import numpy as np
    import torch
    import yaml
    from ludwig.api import LudwigModel
    from ludwig.utils.llm_utils import generate_merged_ids, get_context_len, remove_left_padding
    from ludwig.utils.tokenizers import HFTokenizer
    from transformers import AutoConfig

    config = yaml.safe_load(args.config.read_text(encoding="utf-8"))
    if args.base_model:
        config["base_model"] = args.base_model

    with tempfile.TemporaryDirectory() as folder:
        dataset = Path(folder) / args.dataset.name
        shutil.copyfile(args.dataset, dataset)
        model = LudwigModel(config, logging_level=logging.WARNING)
        preprocessed = model.preprocess(dataset=str(dataset), skip_save_processed_input=True)

    config_obj = model.config_obj
    input_column = config_obj.input_features[0].proc_column
    output_column = config_obj.output_features[0].proc_column
    tokenizer = HFTokenizer(config_obj.base_model).tokenizer
    # The same cap as ludwig.models.llm.LLM.__init__.
    context_length = get_context_len(AutoConfig.from_pretrained(config_obj.base_model))
    configured = config_obj.preprocessing.global_max_sequence_length
    limit = context_length
    if configured:
        limit = min(configured, context_length)

    limits = [limit, *(min(extra, context_length) for extra in args.limit)]
    result: dict[str, object] = {"limit": limit, "limits": {}}
    input_lengths: list[int] = []
    target_lengths: list[int] = []
    splits = {
        "training": preprocessed.training_set,
        "validation": preprocessed.validation_set,
        "test": preprocessed.test_set,
    }
    for name, split in splits.items():
        if split is None or split.size == 0:
            continue
        inputs = np.stack(list(split.dataset[input_column]))
        targets = np.stack(list(split.dataset[output_column]))
        counts = {each: dict.fromkeys(KINDS, 0) for each in limits}
        for row in range(len(inputs)):
            input_ids = torch.from_numpy(inputs[row : row + 1].astype(np.int64))
            target_ids = torch.from_numpy(targets[row : row + 1].astype(np.int64))
            input_tokens = remove_left_padding(input_ids[0], tokenizer).shape[1]
            target_tokens = remove_left_padding(target_ids[0], tokenizer).shape[1]
            input_lengths.append(input_tokens)
            target_lengths.append(target_tokens)
            for each in limits:
                merged, _ = generate_merged_ids(input_ids, target_ids, tokenizer, each)
                counts[each][classify(input_tokens, target_tokens, merged.shape[1])] += 1
        for each in limits:
            result["limits"].setdefault(str(each), {})[name] = {"rows": len(inputs), **counts[each]}  # type: ignore[attr-defined]

    metadata = preprocessed.training_set_metadata
    result["recorded_max_sequence_length"] = {
        feature.name: int(metadata[feature.name]["max_sequence_length"])
        for feature in (*config_obj.input_features, *config_obj.output_features)
    }
    result["input_lengths"] = sorted(input_lengths)
    result["target_lengths"] = sorted(target_lengths)
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
