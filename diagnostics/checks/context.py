"""Facts about a run that several checks share: features, metadata entries, the local base model."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..run import Run

logger = logging.getLogger(__name__)

METADATA_FILE = "model/training_set_metadata.json"
DESCRIPTION_FILE = "description.json"
STATISTICS_FILE = "training_statistics.json"
PROGRESS_FILE = "model/training_progress.json"


def features(run: Run, kind: str) -> list[dict[str, Any]]:
    """Return the config's ``input_features`` or ``output_features`` entries that are dicts."""
    value = run.config.get(kind)
    if not isinstance(value, list):
        return []
    return [feature for feature in value if isinstance(feature, dict)]


def feature_metadata(run: Run, feature: dict[str, Any]) -> dict[str, Any] | None:
    """Return the training_set_metadata.json entry for one feature, by its name."""
    metadata = run.training_set_metadata
    name = feature.get("name")
    if not metadata or not isinstance(name, str):
        return None
    entry = metadata.get(name)
    return entry if isinstance(entry, dict) else None


def feature_preprocessing(feature: dict[str, Any]) -> dict[str, Any]:
    """Return a feature's ``preprocessing`` block, or an empty dict."""
    value = feature.get("preprocessing")
    return value if isinstance(value, dict) else {}


def config_section(run: Run, name: str) -> dict[str, Any]:
    """Return a top-level section of the resolved config (``preprocessing``, ``trainer``, ...)."""
    value = run.config.get(name)
    return value if isinstance(value, dict) else {}


def local_base_model(run: Run) -> Path | None:
    """Return the base model's folder on this machine, when ``base_model`` is a path that can be found."""
    base_model = run.base_model
    if not base_model:
        return None

    from ..paths import resolve_recorded_path

    resolution = resolve_recorded_path(base_model, run, run.path_map)
    if resolution.path is not None and resolution.path.is_dir():
        return resolution.path
    return None


def as_int(value: Any) -> int | None:
    """Return ``value`` as an int when it is a whole number (not a bool), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
