"""A Ludwig run directory and the parsed contents of its files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .findings import Finding
from .versions import Version, parse_version


class ScalarPoint(NamedTuple):
    """One TensorBoard scalar: the global step, its value, and the event's wall time.

    A named tuple rather than a dataclass because readers build millions of them, and a tuple
    is several times cheaper to create.
    """

    step: int
    value: float
    wall_time: float


@dataclass
class EvalExamples:
    """One ``model/llm_eval_examples/N.csv`` file: teacher-forced outputs at one evaluation.

    ``index`` is the number in the file name (Ludwig writes 0, 2, 4, ...); rows hold the
    columns ``inputs``, ``targets`` and ``outputs``.
    """

    path: Path
    index: int
    rows: list[dict[str, str]]


@dataclass
class Predictions:
    """Generated text from one ``ludwig predict`` or ``evaluate`` output directory.

    ``responses`` contains one decoded text per row, read from ``column`` in ``source_file``
    (``predictions.parquet``, or a header-less ``<column>.csv``).
    """

    directory: Path
    source_file: Path
    column: str
    responses: list[str]
    # Generated tokens per row, from the ``<feature>_predictions`` token lists when present: the
    # position of the last token that decodes to text (Ludwig pads the lists with empty strings up
    # to ``max_new_tokens``, and special tokens decode to empty strings too).
    generated_token_counts: list[int] | None = None


@dataclass
class Run:
    """A Ludwig output directory and the parsed contents of its files.

    A file that is missing or cannot be parsed leaves its attribute as None (or empty) and
    adds a finding to ``file_findings`` that names the file.
    """

    path: Path
    # The folder the user asked to scan; recorded paths that moved are looked up relative to it.
    root: Path
    description: dict[str, Any] | None = None
    training_statistics: dict[str, Any] | None = None
    model_hyperparameters: dict[str, Any] | None = None
    training_set_metadata: dict[str, Any] | None = None
    training_progress: dict[str, Any] | None = None
    eval_examples: list[EvalExamples] = field(default_factory=list)
    # split ("training", "validation", "test") -> tag -> points in file order
    scalars: dict[str, dict[str, list[ScalarPoint]]] = field(default_factory=dict)
    predictions: list[Predictions] = field(default_factory=list)
    file_findings: list[Finding] = field(default_factory=list)
    # Recorded path prefix -> replacement, given by the user for runs that moved between machines.
    path_map: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The run's path relative to the scanned folder, or its directory name."""
        try:
            relative = self.path.resolve().relative_to(self.root.resolve())
        except ValueError:
            return self.path.name
        text = relative.as_posix()
        return text if text != "." else self.path.name

    @property
    def config(self) -> dict[str, Any]:
        """The resolved config: ``description.json`` ``config``, else the model hyperparameters."""
        if self.description and isinstance(self.description.get("config"), dict):
            config: dict[str, Any] = self.description["config"]
            return config
        if self.model_hyperparameters:
            return self.model_hyperparameters
        return {}

    @property
    def config_source(self) -> str:
        """The file that ``config`` was read from, for evidence."""
        if self.description and isinstance(self.description.get("config"), dict):
            return "description.json"
        return "model/model_hyperparameters.json"

    @property
    def ludwig_version_text(self) -> str | None:
        """The version string as Ludwig recorded it, for example "0.9" or "0.8.dev"."""
        for source in (self.description, self.config, self.model_hyperparameters):
            if source and isinstance(source.get("ludwig_version"), str):
                text: str = source["ludwig_version"]
                return text
        return None

    @property
    def ludwig_version(self) -> Version | None:
        text = self.ludwig_version_text
        return parse_version(text) if text else None

    @property
    def model_type(self) -> str:
        """``llm`` or ``ecd``; runs from before Ludwig 0.8 have no model_type and are ECD."""
        value = self.config.get("model_type")
        return value if isinstance(value, str) else "ecd"

    @property
    def base_model(self) -> str | None:
        value = self.config.get("base_model")
        return value if isinstance(value, str) else None
