"""Round-trip edits of a Ludwig config: comments, key order and quoting survive a patch.

The edits start from the YAML file the user passed to ``ludwig train --config`` when it still
exists, else from the resolved config that Ludwig stored in ``description.json``.
"""

from __future__ import annotations

import difflib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from ..paths import recorded_config_path, resolve_recorded_path
from ..run import Run
from .keypath import KeyPath, KeyPathError, format_key_path, parse_key_path

USER_CONFIG = "user config"
RESOLVED_CONFIG = "resolved config"

# Long prompt templates must stay on one line; ruamel wraps at 80 columns by default.
_LINE_WIDTH = 4096
_INDENTED_LINE = re.compile(r"^( *)(- )?\S")


class PatchError(Exception):
    """A config cannot be read or an edit cannot be applied; the message names the file or path."""


@dataclass(frozen=True)
class ConfigEdit:
    """One operation on a dotted config path: set ``value``, or delete the key when ``delete``."""

    path: str
    value: Any = None
    delete: bool = False
    # The finding id the edit came from, or "user" for a value the user typed.
    source: str = "user"
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        operation = "delete" if self.delete else "set"
        result: dict[str, Any] = {"operation": operation, "path": self.path, "source": self.source}
        if not self.delete:
            result["value"] = self.value
        if self.reason:
            result["reason"] = self.reason
        return result


@dataclass(frozen=True)
class BaseConfig:
    """The YAML text that edits start from, and where it came from."""

    text: str
    # USER_CONFIG or RESOLVED_CONFIG.
    kind: str
    # The user's config file; None when the text was made from description.json.
    path: Path | None
    # Why the user's file was not used, when kind is RESOLVED_CONFIG.
    note: str = ""

    @property
    def label(self) -> str:
        if self.path is not None:
            return str(self.path)
        return "description.json config (resolved by Ludwig)"


def load_base_config(run: Run) -> BaseConfig:
    """Read the user's config file named in the recorded command, else the resolved config.

    Raise PatchError when neither exists.
    """
    note = ""
    recorded = recorded_config_path(run)
    if recorded:
        resolution = resolve_recorded_path(recorded, run, run.path_map)
        if resolution.path is not None and resolution.path.is_file():
            try:
                text = resolution.path.read_text(encoding="utf-8")
                _round_trip_yaml(text).load(text)
            except (OSError, UnicodeDecodeError, YAMLError) as error:
                note = f"the config file {resolution.path} cannot be read: {error}"
            else:
                return BaseConfig(text=text, kind=USER_CONFIG, path=resolution.path)
        else:
            note = f"the config file {recorded} no longer exists"
    else:
        note = "the recorded command names no --config file"

    config = run.config
    if not config:
        raise PatchError(f"{run.path}: no config to patch: {note}, and description.json has no config")
    return BaseConfig(text=dump_yaml(config), kind=RESOLVED_CONFIG, path=None, note=note)


def dump_yaml(data: Any) -> str:
    """Write ``data`` as block-style YAML, keeping the key order."""
    stream = io.StringIO()
    writer = YAML()
    writer.width = _LINE_WIDTH
    writer.indent(mapping=2, sequence=4, offset=2)
    writer.dump(data, stream)
    return stream.getvalue()


def apply_edits(text: str, edits: list[ConfigEdit]) -> str:
    """Apply ``edits`` in order to the YAML ``text`` and return the new text.

    Missing mapping keys on the way are created; a missing list item is an error. Raise
    PatchError for an invalid path, or a path that runs into a scalar or past the end of a list.
    """
    editor = _round_trip_yaml(text)
    try:
        document = editor.load(text)
    except YAMLError as error:
        raise PatchError(f"the config is not valid YAML: {error}") from error
    if document is None:
        document = CommentedMap()
    if not isinstance(document, dict):
        raise PatchError("the config is not a YAML mapping")

    for edit in edits:
        try:
            keys = parse_key_path(edit.path)
        except KeyPathError as error:
            raise PatchError(str(error)) from error
        _apply_one(document, keys, edit)

    stream = io.StringIO()
    editor.dump(document, stream)
    return stream.getvalue()


def read_value(text: str, path: str) -> tuple[bool, Any]:
    """Return ``(True, value)`` for the value at ``path`` in the YAML ``text``, else ``(False, None)``."""
    data = yaml.safe_load(text)
    node: Any = data
    try:
        keys = parse_key_path(path)
    except KeyPathError:
        return False, None
    for key in keys:
        if isinstance(key, int):
            if not isinstance(node, list) or key >= len(node):
                return False, None
            node = node[key]
        else:
            if not isinstance(node, dict) or key not in node:
                return False, None
            node = node[key]
    return True, node


def unified_diff(before: str, after: str, before_name: str, after_name: str) -> str:
    """Return a unified diff of two config texts; empty when they are equal."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=before_name,
        tofile=after_name,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def parse_value(text: str) -> Any:
    """Read a value typed by the user as YAML: ``96`` is an int, ``true`` a bool, ``[a, b]`` a list."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PatchError(f"invalid value {text!r}: {error}") from error


def _apply_one(document: Any, keys: KeyPath, edit: ConfigEdit) -> None:
    node = document
    for depth, key in enumerate(keys[:-1]):
        node = _child(node, key, keys, depth, create=not edit.delete)
        if node is None:
            return

    last = keys[-1]
    where = format_key_path(keys)
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise PatchError(f"{where}: no list item {last} to change")
        if edit.delete:
            del node[last]
        else:
            node[last] = edit.value
        return

    if not isinstance(node, dict):
        raise PatchError(f"{where}: {format_key_path(keys[:-1])} is not a mapping")
    if edit.delete:
        node.pop(last, None)
    else:
        node[last] = edit.value


def _child(node: Any, key: str | int, keys: KeyPath, depth: int, create: bool) -> Any:
    where = format_key_path(keys[: depth + 1])
    if isinstance(key, int):
        if not isinstance(node, list):
            raise PatchError(f"{where}: {format_key_path(keys[:depth])} is not a list")
        if key >= len(node):
            raise PatchError(f"{where}: the list {format_key_path(keys[:depth])} has {len(node)} item(s)")
        return node[key]

    if not isinstance(node, dict):
        raise PatchError(f"{where}: {format_key_path(keys[:depth])} is not a mapping")
    if key not in node or node[key] is None:
        if not create:
            return None
        if isinstance(keys[depth + 1], int):
            raise PatchError(f"{where}: the config has no list {key!r} to index")
        node[key] = CommentedMap()
    return node[key]


def _round_trip_yaml(text: str) -> YAML:
    editor = YAML()
    editor.preserve_quotes = True
    editor.width = _LINE_WIDTH
    mapping, sequence, offset = _detect_indentation(text)
    editor.indent(mapping=mapping, sequence=sequence, offset=offset)
    return editor


def _detect_indentation(text: str) -> tuple[int, int, int]:
    """Guess the mapping indent and the list indent and dash offset that ``text`` uses.

    ruamel.yaml does not record indentation, so a file written with ``  - name: x`` would come back
    as ``- name: x`` without this. The guess comes from the first nested key and the first list item.
    """
    mapping = 0
    offset: int | None = None
    previous_indent: int | None = None
    previous_opens_block = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _INDENTED_LINE.match(line)
        if match is None:
            continue
        indent = len(match.group(1))
        is_item = match.group(2) is not None
        if previous_opens_block and previous_indent is not None and indent > previous_indent:
            step = indent - previous_indent
            if is_item and offset is None:
                offset = step
            elif not is_item and not mapping:
                mapping = step
        previous_indent = indent + (2 if is_item else 0)
        previous_opens_block = stripped.endswith(":")
        if mapping and offset is not None:
            break

    mapping = mapping or 2
    dash_offset = offset if offset is not None else 0
    return mapping, dash_offset + 2, dash_offset
