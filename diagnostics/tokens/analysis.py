"""Run the token analysis for a run or for a config and a data file, with the cache."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .budget import (
    CUT_KINDS,
    FITS,
    CutCounts,
    LengthStats,
    Limits,
    RowBudgets,
    cut_counts,
    effective_global_limit,
    length_stats,
    row_budgets,
)
from .cache import cache_key, load_cached, store
from .dataset import SPLIT_NAMES, DatasetError, file_checksum, read_dataset, require_columns, split_column
from .spec import AnalysisSpec
from .template import RENDER_RULES, render_inputs, template_without_fields
from .tokenizer import LoadedTokenizer, TokenizerSource

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from ..run import Run

# Characters of an example row's input and target kept for reports.
PREVIEW_CHARS = 90
# Example rows per cut kind.
EXAMPLES_PER_KIND = 2


@dataclass(frozen=True)
class Example:
    """One row of the dataset with its token counts and what the limit does to it."""

    row: int  # 0-based position among the dataset's rows
    split: str | None
    input_tokens: int
    target_tokens: int
    merged_tokens: int
    kept_target_tokens: int
    kind: str
    input_preview: str | None
    target_preview: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class TokenAnalysis:
    """Measured token counts of every row, with the limits of the config they were measured for."""

    spec: AnalysisSpec
    tokenizer: TokenizerSource
    dataset: Path
    # The method that found the dataset: "as given", "as recorded", "relative to the run", ...
    dataset_how: str
    rows_read: int
    rows_dropped: int
    split_note: str
    split: npt.NDArray[np.int8]
    input_raw: npt.NDArray[np.int32]
    target_raw: npt.NDArray[np.int32]
    template_tokens: int | None
    limits: Limits
    previews: dict[int, tuple[str, str]] = field(default_factory=dict)
    from_cache: bool = False
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return len(self.input_raw)

    def budgets(self, limits: Limits | None = None) -> RowBudgets:
        return row_budgets(self.input_raw, self.target_raw, limits or self.limits)

    def stats(self) -> dict[str, LengthStats | None]:
        """Statistics of the raw input and target counts and of the merged rows after the feature limits."""
        budgets = self.budgets()
        return {
            self.spec.input.name: length_stats(self.input_raw),
            self.spec.output.name: length_stats(self.target_raw),
            "merged": length_stats(budgets.merged),
        }

    def cuts(self) -> dict[str, CutCounts]:
        """Cut counts for all rows and for each split whose rows are known."""
        budgets = self.budgets()
        result = {"all": cut_counts(budgets)}
        for code, name in enumerate(SPLIT_NAMES):
            mask = self.split == code
            if mask.any():
                result[name] = cut_counts(budgets, mask)
        return result

    def examples(self) -> list[Example]:
        """Pick a few rows of each cut kind, or the longest row when nothing is cut."""
        import numpy as np

        budgets = self.budgets()
        rows: list[int] = []
        for code in range(1, len(CUT_KINDS) + 1):
            rows.extend(int(row) for row in np.flatnonzero(budgets.kind == code)[:EXAMPLES_PER_KIND])
        if not rows and self.rows:
            rows.append(int(np.argmax(budgets.merged)))
        return [self._example(row, budgets) for row in rows]

    def _example(self, row: int, budgets: RowBudgets) -> Example:
        split_code = int(self.split[row])
        preview = self.previews.get(row)
        return Example(
            row=row,
            split=SPLIT_NAMES[split_code] if 0 <= split_code < len(SPLIT_NAMES) else None,
            input_tokens=int(budgets.input[row]),
            target_tokens=int(budgets.target[row]),
            merged_tokens=int(budgets.merged[row]),
            kept_target_tokens=int(budgets.kept_target[row]),
            kind=(FITS, *CUT_KINDS)[int(budgets.kind[row])],
            input_preview=preview[0] if preview else None,
            target_preview=preview[1] if preview else None,
        )


def analyze(
    spec: AnalysisSpec,
    source: TokenizerSource,
    dataset: Path,
    dataset_how: str = "as given",
    use_cache: bool = True,
) -> TokenAnalysis:
    """Measure every row of ``dataset`` with the tokenizer in ``source``; raise TokenAnalysisError subclasses."""
    started = time.perf_counter()
    key = cache_key(_key_parts(spec, source, dataset))
    cached = load_cached(key) if use_cache else None
    limits = _limits(spec, source)

    if cached is not None:
        extra = cached["extra"]
        analysis = TokenAnalysis(
            spec=spec,
            tokenizer=source,
            dataset=dataset,
            dataset_how=dataset_how,
            rows_read=int(extra["rows_read"]),
            rows_dropped=int(extra["rows_dropped"]),
            split_note=str(extra["split_note"]),
            split=cached["split"],
            input_raw=cached["input"],
            target_raw=cached["target"],
            template_tokens=extra.get("template_tokens"),
            limits=limits,
            previews={int(row): (texts[0], texts[1]) for row, texts in extra["previews"].items()},
            from_cache=True,
        )
    else:
        analysis = _measure(spec, source, dataset, dataset_how, limits)
        if use_cache:
            store(
                key,
                {"split": analysis.split, "input": analysis.input_raw, "target": analysis.target_raw},
                {
                    "rows_read": analysis.rows_read,
                    "rows_dropped": analysis.rows_dropped,
                    "split_note": analysis.split_note,
                    "template_tokens": analysis.template_tokens,
                    "previews": {str(row): list(texts) for row, texts in analysis.previews.items()},
                },
            )
    analysis.seconds = time.perf_counter() - started
    return analysis


def _key_parts(spec: AnalysisSpec, source: TokenizerSource, dataset: Path) -> dict[str, Any]:
    def feature(options: Any) -> list[Any]:
        return [options.column, options.lowercase, options.missing_value_strategy, options.fill_value]

    return {
        "dataset": file_checksum(dataset),
        "tokenizer": source.content_hash(),
        "template": spec.prompt.template,
        "task": spec.prompt.task,
        # The rendering rules stand for the Ludwig version: 0.8 to 0.11 render prompts the same way,
        # so a pre-flight check (no version) and the run it becomes share one cache entry.
        "rules": RENDER_RULES,
        "input": feature(spec.input),
        "output": feature(spec.output),
        "split": spec.split,
    }


def _limits(spec: AnalysisSpec, source: TokenizerSource) -> Limits:
    context_window = source.context_window()
    global_limit = effective_global_limit(spec.global_max_sequence_length, context_window)
    return Limits(
        # Without a config limit or a model config, Ludwig falls back to a 2048-token window.
        global_limit=global_limit if global_limit is not None else 2048,
        configured_global=spec.global_max_sequence_length,
        context_window=context_window,
        input_limit=spec.input.max_sequence_length,
        output_limit=spec.output.max_sequence_length,
    )


def _measure(
    spec: AnalysisSpec, source: TokenizerSource, dataset: Path, how: str, limits: Limits
) -> TokenAnalysis:
    import numpy as np

    frame = read_dataset(dataset)
    require_columns(frame, [spec.input.column, spec.output.column], dataset)
    rows_read = len(frame)
    split, split_note = split_column(frame, spec.split)

    # Ludwig renders the prompt before it handles missing values, so a missing input renders as "nan".
    inputs = render_inputs(frame, spec.input.column, spec.prompt)
    targets, kept = _targets(frame, spec)
    if not kept.all():
        inputs = [text for text, keep in zip(inputs, kept, strict=True) if keep]
        split = split[kept]
    if not inputs:
        raise DatasetError(f"{dataset}: every row lacks a value in the target column {spec.output.column}")
    if spec.input.lowercase:
        inputs = [text.lower() for text in inputs]
    if spec.output.lowercase:
        targets = [text.lower() for text in targets]

    tokenizer = LoadedTokenizer(source)
    input_raw = tokenizer.lengths(inputs)
    target_raw = tokenizer.lengths(targets)
    template = spec.prompt.effective_template
    template_tokens = tokenizer.count(template_without_fields(template)) if template else None

    analysis = TokenAnalysis(
        spec=spec,
        tokenizer=source,
        dataset=dataset,
        dataset_how=how,
        rows_read=rows_read,
        rows_dropped=int(np.count_nonzero(~kept)),
        split_note=split_note,
        split=split,
        input_raw=input_raw,
        target_raw=target_raw,
        template_tokens=template_tokens,
        limits=limits,
    )
    analysis.previews = _previews(analysis, inputs, targets)
    return analysis


def _targets(frame: pd.DataFrame, spec: AnalysisSpec) -> tuple[list[str], npt.NDArray[np.bool_]]:
    """Return the target texts and which rows stay; a missing target drops its row unless a fill is configured."""
    import numpy as np

    column = frame[spec.output.column]
    missing = column.isna().to_numpy()
    if spec.output.missing_value_strategy == "drop_row":
        kept = ~missing
        return [str(value) for value in column[kept].tolist()], kept
    filled = column.where(~missing, spec.output.fill_value)
    return [str(value) for value in filled.tolist()], np.ones(len(frame), dtype=bool)


def _previews(analysis: TokenAnalysis, inputs: list[str], targets: list[str]) -> dict[int, tuple[str, str]]:
    """Keep the text of the example rows and of the five longest rows, for reports and the cache."""
    import numpy as np

    rows = {example.row for example in analysis.examples()}
    rows.update(int(row) for row in np.argsort(analysis.budgets().merged)[-5:])
    return {row: (inputs[row][:PREVIEW_CHARS], targets[row][:PREVIEW_CHARS]) for row in sorted(rows)}


def analyze_run(
    run: Run,
    dataset: Path | None = None,
    allow_download: bool = False,
    use_cache: bool = True,
) -> TokenAnalysis:
    """Measure the dataset that ``run`` trained on, with its own tokenizer and config.

    ``dataset`` replaces the recorded dataset path, for a file that moved.
    """
    from .locate import locate_run_dataset, locate_run_tokenizer
    from .spec import spec_from_config

    spec = spec_from_config(run.config, run.ludwig_version_text)
    source = locate_run_tokenizer(run, spec, allow_download)
    if dataset is not None:
        path, how = dataset, "as given"
    else:
        path, how = locate_run_dataset(run)
    return analyze(spec, source, path, how, use_cache)
