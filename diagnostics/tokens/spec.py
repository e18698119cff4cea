"""What the token analysis needs from a Ludwig config: features, prompt, limits and split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import TokenAnalysisError
from .template import Prompt


class SpecError(TokenAnalysisError):
    """The config is not an LLM config that the analysis can measure; the message gives the reason."""


@dataclass(frozen=True)
class FeatureSpec:
    """One text feature: its config position, data column and preprocessing options."""

    kind: str  # "input_features" or "output_features"
    index: int
    name: str
    column: str
    lowercase: bool
    max_sequence_length: int | None
    missing_value_strategy: str
    fill_value: str

    @property
    def config_path(self) -> str:
        return f"{self.kind}[{self.index}].preprocessing.max_sequence_length"


@dataclass(frozen=True)
class AnalysisSpec:
    """The parts of an LLM config that decide each row's token counts and limits."""

    base_model: str
    input: FeatureSpec
    output: FeatureSpec
    prompt: Prompt
    global_max_sequence_length: int | None
    split: dict[str, Any]
    ludwig_version: str | None
    enable_gradient_checkpointing: bool


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _feature(config: dict[str, Any], kind: str, index: int, entry: dict[str, Any]) -> FeatureSpec:
    defaults = config.get("defaults", {}).get("text", {}).get("preprocessing", {})
    preprocessing = {**(defaults if isinstance(defaults, dict) else {}), **(entry.get("preprocessing") or {})}
    name = str(entry.get("name"))
    # Ludwig's LLM text features default to lowercase False; output features drop rows with no target.
    default_strategy = "drop_row" if kind == "output_features" else "fill_with_const"
    return FeatureSpec(
        kind=kind,
        index=index,
        name=name,
        column=str(entry.get("column") or name),
        lowercase=preprocessing.get("lowercase") is True,
        max_sequence_length=_int(preprocessing.get("max_sequence_length")),
        missing_value_strategy=str(preprocessing.get("missing_value_strategy") or default_strategy),
        fill_value=str(preprocessing.get("fill_value", "<UNK>")),
    )


def _prompt(config: dict[str, Any], input_entry: dict[str, Any]) -> Prompt:
    # A feature's own prompt section wins over the global one (ludwig/data/preprocessing.py).
    for section in ((input_entry.get("preprocessing") or {}).get("prompt"), config.get("prompt")):
        if isinstance(section, dict) and (
            section.get("template") is not None or section.get("task") is not None
        ):
            template, task = section.get("template"), section.get("task")
            return Prompt(
                template=template if isinstance(template, str) else None,
                task=task if isinstance(task, str) else None,
            )
    return Prompt(template=None, task=None)


def spec_from_config(config: dict[str, Any], ludwig_version: str | None = None) -> AnalysisSpec:
    """Build the analysis spec from a user config or a run's resolved config."""
    if config.get("model_type") != "llm":
        raise SpecError("the token budget applies to LLM configs (model_type: llm)")
    base_model = config.get("base_model")
    if not isinstance(base_model, str) or not base_model:
        raise SpecError("the config has no base_model")

    inputs = [entry for entry in config.get("input_features") or [] if isinstance(entry, dict)]
    outputs = [entry for entry in config.get("output_features") or [] if isinstance(entry, dict)]
    if not inputs or not outputs:
        raise SpecError("the config needs one input and one output feature")
    if inputs[0].get("type", "text") != "text" or outputs[0].get("type", "text") != "text":
        raise SpecError("the token budget measures text input and text output features")

    preprocessing = config.get("preprocessing") or {}
    split = preprocessing.get("split")
    trainer = config.get("trainer") or {}
    return AnalysisSpec(
        base_model=base_model,
        input=_feature(config, "input_features", 0, inputs[0]),
        output=_feature(config, "output_features", 0, outputs[0]),
        prompt=_prompt(config, inputs[0]),
        global_max_sequence_length=_int(preprocessing.get("global_max_sequence_length")),
        split=split if isinstance(split, dict) else {},
        ludwig_version=ludwig_version,
        enable_gradient_checkpointing=trainer.get("enable_gradient_checkpointing") is True,
    )
