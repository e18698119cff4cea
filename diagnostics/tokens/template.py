"""Render the prompt template per row the way Ludwig's ``format_input_with_prompt`` does.

The rules were read from ``ludwig/data/prompt.py`` in Ludwig 0.9.1 and 0.11.0, which render
identically: ``str.format`` over the template's fields, each value passed through ``str`` (or
``float`` for a spec with ``f``), ``{__sample__}`` as the JSON dump of the input value without
its outer quotes and ``{__task__}`` as ``prompt.task``. A task without a template uses Ludwig's
zero-shot template. The rendering happens before missing values are filled, so an empty cell
renders as ``nan``.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import TokenAnalysisError

if TYPE_CHECKING:
    import pandas as pd

# Bumped when the rendering below changes, so that cached lengths are recomputed.
RENDER_RULES = "ludwig-0.8-0.11/v1"

SAMPLE = "__sample__"
TASK = "__task__"
CONTEXT = "__context__"

# ludwig/data/prompt.py DEFAULT_ZERO_SHOT_PROMPT_TEMPLATE (0.9.1 and 0.11.0).
DEFAULT_ZERO_SHOT_TEMPLATE = (
    "SAMPLE INPUT: {__sample__}\n\nUSER: Complete the following task: {__task__}\n\nASSISTANT:\n"
)


class TemplateError(TokenAnalysisError):
    """The template cannot be rendered for this dataset; the message names the field."""


@dataclass(frozen=True)
class Prompt:
    """A config's prompt section: the template and the task, either may be None."""

    template: str | None
    task: str | None

    @property
    def active(self) -> bool:
        return self.template is not None or self.task is not None

    @property
    def effective_template(self) -> str | None:
        if self.template is not None:
            return self.template
        return DEFAULT_ZERO_SHOT_TEMPLATE if self.task is not None else None


def template_fields(template: str) -> dict[str, Callable[[Any], Any]]:
    """Return each field of ``template`` with the conversion Ludwig applies to its value."""
    fields: dict[str, Callable[[Any], Any]] = {}
    for _, name, spec, _ in string.Formatter().parse(template):
        if name is None:
            continue
        if not spec:
            fields[name] = str
        elif "f" in spec:
            fields[name] = float
        else:
            raise TemplateError(f"unsupported format spec {spec!r} for field {{{name}}}")
    return fields


def render_inputs(frame: pd.DataFrame, input_column: str, prompt: Prompt) -> list[str]:
    """Return the text that Ludwig tokenizes for the input feature of each row."""
    template = prompt.effective_template
    if template is None:
        return [str(value) for value in frame[input_column].tolist()]

    try:
        fields = template_fields(template)
    except ValueError as error:
        raise TemplateError(f"invalid prompt template: {error}") from error
    if CONTEXT in fields:
        raise TemplateError("few-shot prompts ({__context__}, retrieval) are not reproduced")
    columns = [name for name in fields if name not in (SAMPLE, TASK)]
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise TemplateError(f"the prompt template names {', '.join(missing)}, which the dataset lacks")

    values = {name: frame[name].tolist() for name in columns}
    if SAMPLE in fields:
        values[SAMPLE] = [json.dumps(entry, indent=2).strip('"') for entry in frame[input_column].tolist()]
    rendered: list[str] = []
    for row in range(len(frame)):
        arguments = {
            name: convert(_task(prompt) if name == TASK else values[name][row])
            for name, convert in fields.items()
        }
        rendered.append(template.format(**arguments))
    return rendered


def _task(prompt: Prompt) -> Any:
    return prompt.task


def template_without_fields(template: str) -> str:
    """Remove ``{...}`` fields, as Ludwig does before counting the template's own tokens."""
    return re.sub(r"\{.*?\}", "", template)
