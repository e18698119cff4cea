"""Find a run's tokenizer on this machine and load it without network access.

The base model is either a local folder or a Hugging Face hub id. A hub id is looked up in the
hub cache (``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``~/.cache/huggingface/hub``) without
importing huggingface_hub. Downloading happens only when the caller passes ``allow_download``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..paths import looks_like_hub_id
from .errors import TokenAnalysisError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

logger = logging.getLogger(__name__)

# Files that decide how text becomes token ids; their content goes into the cache key.
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "tokenizer.model",
    "vocab.json",
    "merges.txt",
    "vocab.txt",
    "spiece.model",
)
# Tokenizers without a real limit store a huge model_max_length (int(1e30) in transformers).
_NO_LIMIT = 10**12
# Strings per encode_batch call: large enough for the Rust thread pool, small enough to keep
# only one batch of Encoding objects alive at a time.
BATCH_SIZE = 16_384
# Ludwig's get_context_len default when the model config names no window (llm_utils, 0.9 and 0.11).
DEFAULT_CONTEXT_LENGTH = 2048


class TokenizerUnavailable(TokenAnalysisError):
    """The tokenizer cannot be loaded offline; the message names the model and how to get it."""


@dataclass(frozen=True)
class TokenizerSource:
    """The location of a tokenizer's files on this machine and how it was found."""

    name: str  # base_model as written in the config
    folder: Path
    how: str  # "local folder" or "Hugging Face cache" or "downloaded"

    def files(self) -> list[Path]:
        return [self.folder / name for name in TOKENIZER_FILES if (self.folder / name).is_file()]

    def content_hash(self) -> str:
        """Hash the tokenizer files' names and contents (SHA-256, hex)."""
        digest = hashlib.sha256()
        for path in self.files():
            digest.update(path.name.encode())
            digest.update(_file_sha256(path).encode())
        return digest.hexdigest()

    def context_window(self) -> int | None:
        """Read the model's context length from config.json the way Ludwig's get_context_len does."""
        import json

        try:
            config = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        if not isinstance(config, dict):
            return None
        for key in ("max_sequence_length", "max_position_embeddings", "n_positions"):
            value = config.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return DEFAULT_CONTEXT_LENGTH


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hub_cache_dir() -> Path:
    """Return the Hugging Face hub cache folder, following the hub's environment variables."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    return Path("~/.cache/huggingface/hub").expanduser()


def cached_snapshot(repo_id: str) -> Path | None:
    """Return the cached snapshot folder of ``repo_id`` that ``refs/main`` names, if it has a tokenizer."""
    repo_dir = hub_cache_dir() / ("models--" + repo_id.replace("/", "--"))
    candidates: list[Path] = []
    try:
        revision = (repo_dir / "refs" / "main").read_text(encoding="utf-8").strip()
        candidates.append(repo_dir / "snapshots" / revision)
    except OSError:
        pass
    snapshots = repo_dir / "snapshots"
    if snapshots.is_dir():
        candidates.extend(sorted(snapshots.iterdir(), key=lambda path: path.stat().st_mtime, reverse=True))
    for folder in candidates:
        if any((folder / name).is_file() for name in ("tokenizer.json", "tokenizer.model", "vocab.json")):
            return folder
    return None


def locate_tokenizer(
    base_model: str, local_folder: Path | None = None, allow_download: bool = False
) -> TokenizerSource:
    """Find the tokenizer files of ``base_model``.

    ``local_folder`` is the base model's folder when the caller already resolved a recorded
    path. Raises TokenizerUnavailable with what to do when nothing is found offline.
    """
    if local_folder is None:
        candidate = Path(base_model).expanduser()
        if candidate.is_dir():
            local_folder = candidate
    if local_folder is not None:
        return TokenizerSource(name=base_model, folder=local_folder, how="local folder")

    if looks_like_hub_id(base_model):
        snapshot = cached_snapshot(base_model)
        if snapshot is not None:
            return TokenizerSource(name=base_model, folder=snapshot, how="Hugging Face cache")
        if allow_download:
            return TokenizerSource(name=base_model, folder=_download(base_model), how="downloaded")
        raise TokenizerUnavailable(
            f"the tokenizer of {base_model} is not in the Hugging Face cache ({hub_cache_dir()}). "
            f"Download it once with `huggingface-cli download {base_model} --include 'tokenizer*' "
            "'special_tokens_map.json' config.json`, or rerun with --download"
        )
    raise TokenizerUnavailable(
        f"base_model {base_model} is not a folder on this machine and not a Hugging Face hub id. "
        "Copy the model folder here and name it with --path-map OLD=NEW"
    )


def _download(repo_id: str) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as error:
        raise TokenizerUnavailable(f"downloading {repo_id} needs huggingface_hub: {error}") from error
    patterns = [*TOKENIZER_FILES, "config.json"]
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns))
    except Exception as error:  # noqa: BLE001 - the hub raises many error types; all mean "not available"
        raise TokenizerUnavailable(f"downloading the tokenizer of {repo_id} failed: {error}") from error


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' warnings (PyTorch missing, tokenizer class notes) while loading."""
    if "transformers" not in sys.modules and "TRANSFORMERS_VERBOSITY" not in os.environ:
        # transformers logs "PyTorch was not found" while it is imported; the variable is read then.
        os.environ["TRANSFORMERS_VERBOSITY"] = "error"
        try:
            import transformers
        finally:
            del os.environ["TRANSFORMERS_VERBOSITY"]
    import transformers

    previous = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity(logging.ERROR)
    try:
        yield
    finally:
        transformers.logging.set_verbosity(previous)


class LoadedTokenizer:
    """A transformers tokenizer that returns token counts the way Ludwig's HFTokenizer encodes.

    Ludwig calls ``tokenizer.encode(text, truncation=True)``: special tokens are added (a Llama
    tokenizer's BOS counts) and the result is cut to ``model_max_length`` when the tokenizer has one.
    """

    def __init__(self, source: TokenizerSource) -> None:
        self.source = source
        try:
            with _quiet_transformers():
                from transformers import AutoTokenizer

                self.tokenizer: Any = AutoTokenizer.from_pretrained(str(source.folder), local_files_only=True)
        except (OSError, ValueError, ImportError) as error:
            raise TokenizerUnavailable(
                f"the tokenizer in {source.folder} could not be loaded: {error}"
            ) from error

        limit = getattr(self.tokenizer, "model_max_length", None)
        self.model_max_length: int | None = limit if isinstance(limit, int) and limit < _NO_LIMIT else None
        self.is_fast = bool(getattr(self.tokenizer, "is_fast", False))
        if self.is_fast:
            # This instance is private to the doctor, so its Rust tokenizer may be changed: with
            # padding and truncation off, each encoding has the string's own token count.
            self.backend = self.tokenizer.backend_tokenizer
            self.backend.no_padding()
            self.backend.no_truncation()

    def count(self, text: str) -> int:
        """Count the tokens of one string, special tokens included."""
        return int(self.lengths([text])[0])

    def lengths(self, texts: Sequence[str]) -> npt.NDArray[np.int32]:
        """Count the tokens of each string in batches; only the counts are kept."""
        import numpy as np

        counts = np.empty(len(texts), dtype=np.int32)
        for start in range(0, len(texts), BATCH_SIZE):
            batch = list(texts[start : start + BATCH_SIZE])
            if self.is_fast:
                encodings = self.backend.encode_batch_fast(batch, add_special_tokens=True)
                counts[start : start + len(batch)] = [len(encoding) for encoding in encodings]
            else:
                ids = self.tokenizer(batch, add_special_tokens=True)["input_ids"]
                counts[start : start + len(batch)] = [len(row) for row in ids]
        if self.model_max_length is not None:
            np.minimum(counts, self.model_max_length, out=counts)
        return counts
