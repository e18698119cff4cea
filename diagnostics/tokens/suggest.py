"""Suggest the smallest limits that fit the measured rows, as config patches."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..checks.truncation import GRADIENT_CHECKPOINTING_MIN_LENGTH, GROWTH_RATIO, LENGTH_MULTIPLE
from ..findings import Patch
from .spec import FeatureSpec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from .analysis import TokenAnalysis

# "all": every row must fit. "p99": 99% of rows (nearest rank) must fit.
SHARES = ("all", "p99")


@dataclass
class Suggestion:
    """The limits that fit the chosen share of rows, and the patches that set them."""

    share: str
    needed: int  # merged tokens that the chosen share of rows needs, EOS included
    global_limit: int  # needed, rounded up to LENGTH_MULTIPLE and capped at the context window
    capped: bool
    patches: list[Patch] = field(default_factory=list)

    @property
    def changes_anything(self) -> bool:
        return bool(self.patches)


def round_up(length: int) -> int:
    return ((length + LENGTH_MULTIPLE - 1) // LENGTH_MULTIPLE) * LENGTH_MULTIPLE


def _needed(values: npt.NDArray[np.int32], share: str) -> int:
    import numpy as np

    if share == "p99":
        return int(np.percentile(values, 99, method="inverted_cdf"))
    return int(values.max())


def suggest(analysis: TokenAnalysis, share: str = "all") -> Suggestion:
    """Return the smallest limits that fit ``share`` of the rows, with why each one changes."""
    if share not in SHARES:
        raise ValueError(f"share must be one of {', '.join(SHARES)}, not {share!r}")
    limits = analysis.limits
    patches: list[Patch] = []

    # A feature limit binds when it cuts rows that the share must keep; raise it first, because
    # the merged length is measured after the feature limits.
    input_limit = _feature_patch(analysis.spec.input, analysis.input_raw, share, patches)
    output_limit = _feature_patch(analysis.spec.output, analysis.target_raw, share, patches)
    raised = replace(
        limits,
        input_limit=input_limit if input_limit is not None else limits.input_limit,
        output_limit=output_limit if output_limit is not None else limits.output_limit,
    )
    merged = analysis.budgets(raised).merged
    needed = _needed(merged, share)
    suggested = round_up(needed)
    capped = limits.context_window is not None and suggested > limits.context_window
    if capped and limits.context_window is not None:
        suggested = limits.context_window

    what = "every row" if share == "all" else "99% of rows"
    if needed > limits.global_limit:
        reason = f"{what} fit{'s' if share == 'all' else ''} in {needed} tokens (prompt, input, target and stop token)"
        reason += f"; rounded up to a multiple of {LENGTH_MULTIPLE}"
        if capped:
            reason += (
                f", capped at the model's context window of {limits.context_window}, so some rows stay cut"
            )
        patches.insert(
            0, Patch(path="preprocessing.global_max_sequence_length", value=suggested, reason=reason)
        )
        old = limits.global_limit
        grows_a_lot = suggested >= GRADIENT_CHECKPOINTING_MIN_LENGTH and suggested >= GROWTH_RATIO * old
        if grows_a_lot and not analysis.spec.enable_gradient_checkpointing:
            patches.append(
                Patch(
                    path="trainer.enable_gradient_checkpointing",
                    value=True,
                    reason=f"sequences grow from {old} to {suggested} tokens, and activation memory grows with "
                    "them; checkpointing recomputes activations in the backward pass to save that memory",
                )
            )
    return Suggestion(share=share, needed=needed, global_limit=suggested, capped=capped, patches=patches)


def _feature_patch(
    feature: FeatureSpec, raw: npt.NDArray[np.int32], share: str, patches: list[Patch]
) -> int | None:
    if feature.max_sequence_length is None or len(raw) == 0:
        return None
    needed = _needed(raw, share)
    if needed <= feature.max_sequence_length:
        return None
    value = round_up(needed)
    patches.append(
        Patch(
            path=feature.config_path,
            value=value,
            reason=f"'{feature.name}' needs {needed} tokens for {'every row' if share == 'all' else '99% of rows'} "
            f"but max_sequence_length {feature.max_sequence_length} cuts it; rounded up to a multiple of "
            f"{LENGTH_MULTIPLE}",
        )
    )
    return value
