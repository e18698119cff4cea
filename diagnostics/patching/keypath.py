"""Dotted config paths such as ``input_features[0].preprocessing.max_sequence_length``."""

from __future__ import annotations

import re

# A key: anything up to the next "." or "["; an index: digits in brackets.
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")

KeyPath = tuple[str | int, ...]


class KeyPathError(ValueError):
    """A dotted path that cannot be parsed; the message shows the path and the expected form."""


def parse_key_path(path: str) -> KeyPath:
    """Split ``a.b[0].c`` into ``("a", "b", 0, "c")``.

    Raise KeyPathError for an empty path, an empty key (``a..b``), a bracket with no
    non-negative integer, or a path that starts with an index.
    """
    text = path.strip()
    if not text:
        raise KeyPathError("empty config path; expected a dotted path such as trainer.learning_rate")

    parts: list[str | int] = []
    position = 0
    while position < len(text):
        if parts and text[position] == ".":
            position += 1
        match = _TOKEN.match(text, position)
        if match is None:
            raise KeyPathError(
                f"invalid config path {path!r} at character {position + 1}; expected keys separated by "
                "dots and list indexes in brackets, for example input_features[0].preprocessing.max_sequence_length"
            )
        key, index = match.groups()
        parts.append(key if key is not None else int(index))
        position = match.end()
        if position < len(text) and text[position] not in ".[":
            raise KeyPathError(f"invalid config path {path!r} at character {position + 1}")
        if position == len(text) - 1 and text[position] == ".":
            raise KeyPathError(f"invalid config path {path!r}: it ends with a dot")

    if isinstance(parts[0], int):
        raise KeyPathError(f"invalid config path {path!r}: it must start with a key, not a list index")
    return tuple(parts)


def format_key_path(parts: KeyPath) -> str:
    """Join ``("a", 0, "b")`` back into ``a[0].b``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text
