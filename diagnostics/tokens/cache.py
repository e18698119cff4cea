"""Cache of per-row token counts in the user's cache folder, never beside a run or a dataset.

One ``.npz`` file per key under ``$XDG_CACHE_HOME/ludwig-doctor/tokens/`` (default
``~/.cache``). The key hashes the dataset's bytes, the tokenizer files' contents, the prompt,
the feature columns and options, and the rendering rules, so any change recomputes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy.typing as npt

logger = logging.getLogger(__name__)

# Bumped when the cached arrays change meaning.
CACHE_FORMAT = 1


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "ludwig-doctor" / "tokens"


def cache_key(parts: dict[str, Any]) -> str:
    text = json.dumps({"format": CACHE_FORMAT, **parts}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def load_cached(key: str) -> dict[str, Any] | None:
    """Return the cached arrays and the JSON ``extra`` dict for ``key``, or None."""
    import numpy as np

    path = cache_dir() / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            result: dict[str, Any] = {name: archive[name] for name in archive.files if name != "extra"}
            result["extra"] = json.loads(str(archive["extra"]))
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as error:
        logger.warning("ignoring unreadable token cache %s: %s", path, error)
        return None
    return result


def store(key: str, arrays: dict[str, npt.NDArray[Any]], extra: dict[str, Any]) -> Path | None:
    """Write the arrays atomically; a cache that cannot be written is logged and skipped."""
    import numpy as np

    folder = cache_dir()
    target = folder / f"{key}.npz"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".npz.tmp")
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, extra=np.array(json.dumps(extra)), **arrays)  # type: ignore[arg-type]
        os.replace(temporary, target)
    except OSError as error:
        logger.warning("cannot write the token cache in %s: %s", folder, error)
        return None
    return target
