"""Find a run's tokenizer and dataset on this machine, after the run may have moved."""

from __future__ import annotations

from pathlib import Path

from ..checks.context import local_base_model
from ..paths import recorded_dataset_path, resolve_recorded_path
from ..run import Run
from .dataset import DatasetError
from .spec import AnalysisSpec
from .tokenizer import TokenizerSource, locate_tokenizer


def locate_run_tokenizer(run: Run, spec: AnalysisSpec, allow_download: bool = False) -> TokenizerSource:
    """Return the run's tokenizer files: the base model folder, else the hub cache."""
    return locate_tokenizer(spec.base_model, local_base_model(run), allow_download)


def locate_run_dataset(run: Run) -> tuple[Path, str]:
    """Return the run's dataset and how it was found; raise DatasetError naming every place tried."""
    recorded = recorded_dataset_path(run)
    if recorded is None:
        metadata_source = (run.training_set_metadata or {}).get("dataset_src")
        recorded = metadata_source if isinstance(metadata_source, str) else None
    if recorded is None:
        raise DatasetError(
            "the run records no dataset path (description.json has no dataset or --dataset); "
            "name the file with --dataset PATH"
        )

    resolution = resolve_recorded_path(recorded, run, run.path_map)
    if resolution.path is not None and resolution.path.is_file():
        return resolution.path, resolution.how or "as recorded"
    tried = ", ".join(str(path) for path in resolution.candidates[:4])
    more = f" and {len(resolution.candidates) - 4} more" if len(resolution.candidates) > 4 else ""
    raise DatasetError(
        f"the dataset {recorded} recorded in description.json was not found (tried {tried}{more}); "
        "name the file with --dataset PATH, or map the old folder with --path-map OLD=NEW"
    )
