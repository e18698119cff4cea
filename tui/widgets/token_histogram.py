"""A terminal histogram of merged token lengths with the sequence limit drawn on it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

# Eighth blocks, so that a bar's top is drawn to 1/8 of a row.
BLOCKS = " ▁▂▃▄▅▆▇█"
LIMIT_MARK = "│"
FIT_STYLE = "green"
CUT_STYLE = "red"
LIMIT_STYLE = "bold yellow"


def bin_counts(values: Sequence[int], low: int, high: int, bins: int) -> list[int]:
    """Count ``values`` in ``bins`` equal-width bins over [low, high]."""
    counts = [0] * bins
    span = max(high - low + 1, 1)
    for value in values:
        index = min((value - low) * bins // span, bins - 1)
        counts[max(index, 0)] += 1
    return counts


def histogram_text(values: Sequence[int], limit: int, width: int, height: int) -> Text:
    """Draw ``values`` as ``height`` rows of bars over ``width`` columns, the limit as a vertical line.

    Bars of lengths above the limit (rows that the limit cuts) are red, the others green. The
    x axis spans from the shortest row to the longer of the longest row and the limit.
    """
    width = max(width, 10)
    height = max(height, 2)
    text = Text(no_wrap=True)
    if not values:
        text.append("no rows")
        return text

    low = min(min(values), limit)
    high = max(max(values), limit)
    span = high - low + 1
    bins = min(width, span)
    counts = bin_counts(values, low, high, bins)
    tallest = max(counts) or 1
    limit_bin = min((limit - low) * bins // span, bins - 1)

    # Each bin's upper edge decides its colour: a bin that reaches past the limit contains cut rows.
    cut = [low + (index + 1) * span // bins - 1 > limit for index in range(bins)]
    eighths = [round(count * height * 8 / tallest) for count in counts]
    for row in range(height, 0, -1):
        floor = (row - 1) * 8
        for index in range(bins):
            filled = min(max(eighths[index] - floor, 0), 8)
            if index == limit_bin and filled == 0:
                text.append(LIMIT_MARK, style=LIMIT_STYLE)
            else:
                text.append(BLOCKS[filled], style=CUT_STYLE if cut[index] else FIT_STYLE)
        text.append("\n")

    axis = [" "] * bins
    axis[limit_bin] = "▲"
    text.append("".join(axis) + "\n", style=LIMIT_STYLE)
    left, right = str(low), str(high)
    middle = f"limit {limit}"
    gap = max(bins - len(left) - len(right) - len(middle), 2)
    text.append(f"{left}{' ' * (gap // 2)}{middle}{' ' * (gap - gap // 2)}{right}")
    text.append(f"\ntokens per merged row; {tallest} rows in the tallest bar", style="dim")
    return text
