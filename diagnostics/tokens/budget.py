"""Per-row token budgets: how Ludwig's limits cut each merged LLM row, and the statistics.

Ludwig (``llm_utils.generate_merged_ids``, 0.9 and 0.11) joins the input ids and the target
ids, appends the EOS token to the target and cuts the result to the global limit, which is
``preprocessing.global_max_sequence_length`` capped at the model's context window, or the window
itself when the config sets none. Before that, preprocessing cuts each feature to its own
``max_sequence_length`` when the config sets one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    IntArray = npt.NDArray[np.int32]

# Mutually exclusive outcomes of the global limit for one row, in the order reports list them.
FITS = "fits"
STOP_TOKEN = "stop_token"  # only the appended EOS is cut
PART_OF_TARGET = "part_of_target"  # some target tokens and the EOS are cut
WHOLE_TARGET = "whole_target"  # the input fills the limit exactly, no target token is left
INPUT = "input"  # the input itself is longer than the limit, so it is cut too
CUT_KINDS = (STOP_TOKEN, PART_OF_TARGET, WHOLE_TARGET, INPUT)
CUT_DESCRIPTIONS = {
    STOP_TOKEN: "only the stop token is cut",
    PART_OF_TARGET: "part of the target and its stop token are cut",
    WHOLE_TARGET: "the whole target is cut",
    INPUT: "the input is cut, and the whole target with it",
}
# Cut kinds that leave a row without a single target token, so a batch of such rows has no loss terms.
NO_TARGET_KINDS = (WHOLE_TARGET, INPUT)


@dataclass(frozen=True)
class LengthStats:
    """Token-count statistics of one column; ``p99_linear`` is pandas' quantile(0.99), as Ludwig records it."""

    count: int
    min: int
    median: float
    p90: float
    p99: float
    max: int
    p99_linear: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "min": self.min,
            "median": self.median,
            "p90": self.p90,
            "p99": self.p99,
            "max": self.max,
        }


def length_stats(values: IntArray) -> LengthStats | None:
    """Return the statistics of ``values``, or None when there are none.

    p90 and p99 are nearest-rank percentiles (a length that some row has), so a limit set to p99
    fits at least 99% of rows.
    """
    import numpy as np

    if len(values) == 0:
        return None
    return LengthStats(
        count=int(len(values)),
        min=int(values.min()),
        median=float(np.median(values)),
        p90=float(np.percentile(values, 90, method="inverted_cdf")),
        p99=float(np.percentile(values, 99, method="inverted_cdf")),
        max=int(values.max()),
        p99_linear=float(np.percentile(values, 99)),
    )


@dataclass
class Limits:
    """The limits in effect: the global one after the context-window cap, and each feature's own."""

    global_limit: int
    configured_global: int | None
    context_window: int | None
    input_limit: int | None
    output_limit: int | None


def effective_global_limit(configured: int | None, context_window: int | None) -> int | None:
    """Apply Ludwig's rule: the configured limit capped at the context window, else the window."""
    if configured is None:
        return context_window
    if context_window is not None and configured > context_window:
        return context_window
    return configured


@dataclass
class RowBudgets:
    """Per-row lengths after the feature limits, and how the global limit cuts each row."""

    input: IntArray  # prompt + input, special tokens included, after the input feature's limit
    target: IntArray  # target, special tokens included, after the output feature's limit
    merged: IntArray  # input + target + 1 (the appended EOS), before the global limit
    kept_target: IntArray  # target tokens left after the global limit, the EOS included
    kind: npt.NDArray[np.int8]  # index into (FITS, *CUT_KINDS)

    def count(self, kind: str, mask: npt.NDArray[np.bool_] | None = None) -> int:
        import numpy as np

        code = (FITS, *CUT_KINDS).index(kind)
        selected = self.kind == code
        return int(np.count_nonzero(selected if mask is None else selected & mask))


def row_budgets(input_raw: IntArray, target_raw: IntArray, limits: Limits) -> RowBudgets:
    """Apply the feature limits, then the global limit, to every row."""
    import numpy as np

    inputs = input_raw if limits.input_limit is None else np.minimum(input_raw, limits.input_limit)
    targets = target_raw if limits.output_limit is None else np.minimum(target_raw, limits.output_limit)
    merged = inputs + targets + 1
    limit = limits.global_limit
    kept = np.clip(limit - inputs, 0, targets + 1)

    kind = np.zeros(len(merged), dtype=np.int8)  # FITS
    kind[kept == targets] = 1  # STOP_TOKEN
    kind[(kept > 0) & (kept < targets)] = 2  # PART_OF_TARGET
    kind[(kept == 0) & (inputs == limit)] = 3  # WHOLE_TARGET
    kind[inputs > limit] = 4  # INPUT
    return RowBudgets(input=inputs, target=targets, merged=merged, kept_target=kept, kind=kind)


@dataclass
class CutCounts:
    """How many rows of one group (all rows, or one split) each cut kind hits."""

    rows: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def target_cut(self) -> int:
        """Rows that lose at least one target token or the stop token."""
        return sum(self.counts.get(kind, 0) for kind in CUT_KINDS)

    @property
    def no_target(self) -> int:
        """Rows left with no target token at all."""
        return sum(self.counts.get(kind, 0) for kind in NO_TARGET_KINDS)

    def share(self, count: int) -> float:
        return count / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "target_cut": self.target_cut,
            "target_cut_share": round(self.share(self.target_cut), 6),
            **{kind: self.counts.get(kind, 0) for kind in CUT_KINDS},
        }


def cut_counts(budgets: RowBudgets, mask: npt.NDArray[np.bool_] | None = None) -> CutCounts:
    import numpy as np

    rows = len(budgets.kind) if mask is None else int(np.count_nonzero(mask))
    return CutCounts(rows=rows, counts={kind: budgets.count(kind, mask) for kind in (FITS, *CUT_KINDS)})


def expected_empty_batches(rows: int, empty_rows: int, batch_size: int, epochs: int) -> float:
    """Estimate the training steps whose batch holds only rows with no target token.

    Rows are shuffled each epoch, so a batch of ``b`` rows is all empty with probability
    C(empty, b) / C(rows, b). The last, smaller batch of an epoch is counted like the others.
    """
    import math

    if rows <= 0 or batch_size <= 0 or empty_rows < batch_size:
        return 0.0
    probability = math.comb(empty_rows, batch_size) / math.comb(rows, batch_size)
    steps = math.ceil(rows / batch_size) * epochs
    return steps * probability
