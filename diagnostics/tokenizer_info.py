"""What the doctor can tell about a run's tokenizer without importing transformers.

The tokenizer family decides which Ludwig pad/EOS regressions apply. It comes from the local
``tokenizer_config.json`` when ``base_model`` is a folder that can be found, else from the model
name (``meta-llama/Llama-2-7b-hf``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Tokenizer classes for which Ludwig 0.9.3 and later set pad = eos when the pad token is missing
# (ludwig-ai/ludwig PR #3897 restored GPT2, Llama and CodeLlama; PR #3899 added CodeGen and GPTNeoX).
PAD_EQUALS_EOS_CLASSES = ("GPT2", "Llama", "CodeLlama", "CodeGen", "GPTNeoX")

# Model names whose tokenizers are Llama tokenizers (SentencePiece, <unk>=0, <s>=1, </s>=2, no pad).
_LLAMA_NAME = re.compile(
    r"llama-?2|codellama|mistral|mixtral|zephyr|vicuna|alpaca|open_llama|tinyllama", re.I
)
_LLAMA3_NAME = re.compile(r"llama-?3", re.I)
_GEMMA_NAME = re.compile(r"gemma", re.I)


@dataclass(frozen=True)
class TokenizerInfo:
    """The tokenizer facts that the version advisories need."""

    family: str  # "llama", "llama3", "gemma", "gpt2", "other" or "unknown"
    tokenizer_class: str | None = None
    pad_token: str | None = None
    eos_token: str | None = None
    unk_token: str | None = None
    # Where the facts came from: the tokenizer_config.json path, or "model name".
    source: str = ""


def read_tokenizer_info(base_model: str | None, local_folder: Path | None) -> TokenizerInfo:
    """Describe the tokenizer from ``local_folder`` when it has a tokenizer_config.json, else from the name."""
    if local_folder is not None:
        config_path = local_folder / "tokenizer_config.json"
        if config_path.is_file():
            return _info_from_config(config_path)

    return TokenizerInfo(family=family_from_name(base_model), source="model name")


def family_from_name(name: str | None) -> str:
    """Guess the tokenizer family from a Hugging Face model id or folder name."""
    if not name:
        return "unknown"
    if _LLAMA3_NAME.search(name):
        return "llama3"
    if _LLAMA_NAME.search(name):
        return "llama"
    if _GEMMA_NAME.search(name):
        return "gemma"
    if "gpt2" in name.lower():
        return "gpt2"
    return "unknown"


def _info_from_config(config_path: Path) -> TokenizerInfo:
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return TokenizerInfo(family=family_from_name(config_path.parent.name), source=str(config_path))

    tokenizer_class = config.get("tokenizer_class")
    tokenizer_class = tokenizer_class if isinstance(tokenizer_class, str) else None

    return TokenizerInfo(
        family=_family_from_class(tokenizer_class, config_path.parent.name),
        tokenizer_class=tokenizer_class,
        pad_token=_token_text(config.get("pad_token")),
        eos_token=_token_text(config.get("eos_token")),
        unk_token=_token_text(config.get("unk_token")),
        source=str(config_path),
    )


def _family_from_class(tokenizer_class: str | None, folder_name: str) -> str:
    if tokenizer_class is None:
        return family_from_name(folder_name)
    if tokenizer_class.startswith(("LlamaTokenizer", "CodeLlamaTokenizer")):
        return "llama"
    if tokenizer_class.startswith("GemmaTokenizer"):
        return "gemma"
    if tokenizer_class.startswith("GPT2Tokenizer"):
        return "gpt2"
    name_family = family_from_name(folder_name)
    return name_family if name_family != "unknown" else "other"


def _token_text(value: Any) -> str | None:
    """Read a special token that tokenizer_config.json stores as a string or as an AddedToken dict."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        content: str = value["content"]
        return content
    return None
