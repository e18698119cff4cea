"""Text and JSON forms of a token analysis, for `ludwig-doctor tokens`."""

from __future__ import annotations

import json
from typing import Any

from ..findings import json_safe
from .analysis import TokenAnalysis
from .budget import CUT_DESCRIPTIONS, CUT_KINDS, LengthStats
from .suggest import Suggestion

SCHEMA_VERSION = 1


def analysis_dict(analysis: TokenAnalysis, suggestion: Suggestion, name: str | None = None) -> dict[str, Any]:
    """Return the analysis as a JSON-ready dict; every count is over the rows after missing targets are dropped."""
    limits = analysis.limits
    stats = analysis.stats()
    return {
        "name": name,
        "dataset": str(analysis.dataset),
        "dataset_found": analysis.dataset_how,
        "tokenizer": {
            "base_model": analysis.tokenizer.name,
            "folder": str(analysis.tokenizer.folder),
            "found": analysis.tokenizer.how,
        },
        "ludwig_version": analysis.spec.ludwig_version,
        "rows_read": analysis.rows_read,
        "rows_dropped": analysis.rows_dropped,
        "rows": analysis.rows,
        "split": analysis.split_note,
        "from_cache": analysis.from_cache,
        "seconds": round(analysis.seconds, 3),
        "prompt_template_tokens": analysis.template_tokens,
        "limits": {
            "global_max_sequence_length": limits.configured_global,
            "context_window": limits.context_window,
            "effective_global_limit": limits.global_limit,
            analysis.spec.input.name: limits.input_limit,
            analysis.spec.output.name: limits.output_limit,
        },
        "lengths": {name: value.to_dict() if value else None for name, value in stats.items()},
        "cuts": {group: counts.to_dict() for group, counts in analysis.cuts().items()},
        "examples": [example.to_dict() for example in analysis.examples()],
        "suggestion": {
            "share": suggestion.share,
            "needed": suggestion.needed,
            "global_max_sequence_length": suggestion.global_limit,
            "capped_at_context_window": suggestion.capped,
            "patches": [patch.to_dict() for patch in suggestion.patches],
        },
    }


def render_json(items: list[dict[str, Any]]) -> str:
    return json.dumps({"schema_version": SCHEMA_VERSION, "analyses": json_safe(items)}, indent=2) + "\n"


def _stats_row(name: str, stats: LengthStats | None) -> str:
    if stats is None:
        return f"  {name:<16} no rows"
    return f"  {name:<16} {stats.min:>7} {stats.median:>7g} {stats.p90:>7g} {stats.p99:>7g} {stats.max:>7}"


def render_text(analysis: TokenAnalysis, suggestion: Suggestion, name: str | None = None) -> str:
    """Return the human-readable report: sources, length table, cuts, examples and patches."""
    limits = analysis.limits
    lines = [f"== {name}" if name else f"== {analysis.dataset}"]
    lines.append(f"dataset: {analysis.dataset} ({analysis.dataset_how}); {analysis.rows} rows")
    if analysis.rows_dropped:
        lines[-1] += f", {analysis.rows_dropped} of {analysis.rows_read} dropped for a missing target"
    lines.append(
        f"tokenizer: {analysis.tokenizer.name} ({analysis.tokenizer.how}: {analysis.tokenizer.folder})"
    )
    lines.append(f"split: {analysis.split_note}")
    window = f", context window {limits.context_window}" if limits.context_window else ""
    lines.append(
        f"limit: {limits.global_limit} tokens (global_max_sequence_length {limits.configured_global}{window})"
    )
    if analysis.from_cache:
        lines.append(f"(token counts from the cache, {analysis.seconds:.3f} s)")

    lines.append("")
    lines.append(f"  {'tokens':<16} {'min':>7} {'median':>7} {'p90':>7} {'p99':>7} {'max':>7}")
    for column, stats in analysis.stats().items():
        lines.append(_stats_row(column, stats))

    lines.append("")
    for group, counts in analysis.cuts().items():
        lines.append(
            f"{group}: {counts.target_cut} of {counts.rows} rows ({counts.share(counts.target_cut):.1%}) lose target tokens"
        )
        for kind in CUT_KINDS:
            count = counts.counts.get(kind, 0)
            if count:
                lines.append(f"  {count:>7} ({counts.share(count):.1%}) {CUT_DESCRIPTIONS[kind]}")

    examples = [example for example in analysis.examples() if example.kind != "fits"]
    if examples:
        lines.append("")
        lines.append("examples:")
    for example in examples:
        where = f"row {example.row + 1}" + (f" ({example.split})" if example.split else "")
        lines.append(
            f"  {where}: {example.input_tokens} + {example.target_tokens} + 1 = {example.merged_tokens} tokens, "
            f"{example.kept_target_tokens} target tokens kept: {CUT_DESCRIPTIONS[example.kind]}"
        )
        if example.input_preview is not None:
            lines.append(f"    {example.input_preview!r} -> {example.target_preview!r}")

    lines.append("")
    if suggestion.patches:
        share = "every row" if suggestion.share == "all" else "99% of rows"
        lines.append(f"suggested patch (fits {share}):")
        lines.extend(
            f"  {patch.path}: {json.dumps(patch.value)}  # {patch.reason}" for patch in suggestion.patches
        )
    else:
        lines.append(f"no patch: the limit fits the chosen share of rows ({suggestion.needed} tokens needed)")
    return "\n".join(lines) + "\n"
