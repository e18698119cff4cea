"""Build a tiny, randomly initialised Llama model and its tokenizer for offline Ludwig runs.

Usage: python sample_runs/build_tiny_llama.py [--prompt-template TEMPLATE] OUT_DIR CSV [CSV ...]

Run it with transformers 4.x (the Ludwig 0.9.1 venv has 4.57.6). A folder saved by transformers
5.x records `"tokenizer_class": "TokenizersBackend"`, which 4.x cannot load, while a 4.x folder
loads in both.

The tokenizer is a byte-level BPE trained on every text cell of the given CSV files except the
`split` column. It also trains on each row rendered with the prompt template, so the template's
markers become a few tokens rather than one token per character. It is wrapped as `LlamaTokenizerFast` with `<unk>`=0, `<s>`=1 and
`</s>`=2, and on purpose has no pad token and no "[PAD]" in its vocabulary, like the Llama-2
and Mistral tokenizers: this is what makes Ludwig 0.9.0 to 0.9.2 pad with "[PAD]", which
resolves to `<unk>`.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, LlamaTokenizerFast

SEED = 1234
VOCAB_SIZE = 1024
SPECIAL_TOKENS = ["<unk>", "<s>", "</s>"]


def read_texts(csv_paths: list[Path], prompt_template: str | None) -> list[str]:
    """Return every non-empty cell of the CSV files except `split`, plus each row's rendered prompt."""
    texts = []
    for path in csv_paths:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                texts.extend(value for key, value in row.items() if key != "split" and value)
                if prompt_template:
                    texts.append(prompt_template.format(**row))
    return texts


def train_tokenizer(texts: list[str]) -> LlamaTokenizerFast:
    """Train a byte-level BPE on `texts` and wrap it as a Llama fast tokenizer without a pad token."""
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(texts, trainer=trainer)

    tokenizer = LlamaTokenizerFast(
        tokenizer_object=bpe,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        add_bos_token=True,
        add_eos_token=False,
    )

    ids = [tokenizer.convert_tokens_to_ids(token) for token in SPECIAL_TOKENS]
    if ids != [0, 1, 2]:
        raise RuntimeError(f"special token ids are {ids}, expected [0, 1, 2] for {SPECIAL_TOKENS}")
    if tokenizer.pad_token is not None or "[PAD]" in tokenizer.get_vocab():
        raise RuntimeError("the tokenizer must have no pad token and no '[PAD]' entry")
    return tokenizer


def build_model(tokenizer: LlamaTokenizerFast) -> LlamaForCausalLM:
    """Return a seeded, randomly initialised two-layer Llama sized for CPU training."""
    torch.manual_seed(SEED)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        # Ludwig 0.11.0 caps prompts at context length - generation.max_new_tokens - 8
        # (models/llm.py), so a small value leaves little room for the input.
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=None,
    )
    return LlamaForCausalLM(config)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--prompt-template", help="Python format string over the CSV columns, e.g. the Ludwig prompt"
    )
    parser.add_argument("out_dir", type=Path, help="folder to save the model and tokenizer in")
    parser.add_argument("csv_paths", type=Path, nargs="+", help="CSV files whose text trains the tokenizer")
    args = parser.parse_args()
    out_dir = args.out_dir

    tokenizer = train_tokenizer(read_texts(args.csv_paths, args.prompt_template))
    model = build_model(tokenizer)

    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out_dir)
    model.save_pretrained(out_dir, safe_serialization=True)

    summary = {
        "transformers_version": transformers.__version__,
        "vocab_size": len(tokenizer),
        "parameters": sum(parameter.numel() for parameter in model.parameters()),
        "special_tokens": {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL_TOKENS},
        "pad_token": tokenizer.pad_token,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
