"""Patches that findings suggest, the conflicts between them, and the edits the user chose."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..findings import Finding, Patch
from .keypath import KeyPathError, format_key_path, parse_key_path
from .yaml_edit import ConfigEdit, PatchError, parse_value

USER_SOURCE = "user"


@dataclass(frozen=True)
class PatchCandidate:
    """One patch of one finding, with a key that stays the same while the findings do."""

    key: str
    finding_id: str
    finding_title: str
    patch: Patch
    # Later findings that suggest the same value for the same path (a repetition cause repeats the
    # truncation patch, for example); they are one candidate, selectable by any of the ids.
    also_from: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return normalize_path(self.patch.path)


@dataclass(frozen=True)
class Conflict:
    """Selected patches that set one path to different values."""

    path: str
    candidates: tuple[PatchCandidate, ...]

    @property
    def values(self) -> list[Any]:
        distinct: list[Any] = []
        for candidate in self.candidates:
            if candidate.patch.value not in distinct:
                distinct.append(candidate.patch.value)
        return distinct

    def describe(self) -> str:
        choices = ", ".join(
            f"{candidate.patch.value!r} from {candidate.finding_id}" for candidate in self.candidates
        )
        return f"{self.path}: {choices}"


class ConflictError(PatchError):
    """Selected patches disagree on a path and the user has not chosen a value."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        listed = "; ".join(conflict.describe() for conflict in conflicts)
        super().__init__(f"patches disagree: {listed}. Choose one value with --set PATH=VALUE")


def normalize_path(path: str) -> str:
    """Write a dotted path in one canonical spelling, so that equal paths compare equal."""
    try:
        return format_key_path(parse_key_path(path))
    except KeyPathError:
        return path.strip()


def collect_candidates(findings: Iterable[Finding]) -> list[PatchCandidate]:
    """List every patch of ``findings`` in order; the key is ``<finding id>#<n>`` (n counts from 1).

    A patch that an earlier finding already suggested with the same value is not listed again; the
    earlier candidate records the later finding in ``also_from``.
    """
    candidates: list[PatchCandidate] = []
    seen: dict[str, int] = {}
    # (normalized path, value as text) -> index in candidates, to merge identical suggestions.
    first_index: dict[tuple[str, str], int] = {}
    for finding in findings:
        for patch in finding.patches:
            seen[finding.id] = seen.get(finding.id, 0) + 1
            identity = (normalize_path(patch.path), repr(patch.value))
            if identity in first_index:
                index = first_index[identity]
                earlier = candidates[index]
                if finding.id != earlier.finding_id and finding.id not in earlier.also_from:
                    candidates[index] = replace(earlier, also_from=(*earlier.also_from, finding.id))
                continue
            key = f"{finding.id}#{seen[finding.id]}"
            first_index[identity] = len(candidates)
            candidates.append(
                PatchCandidate(key=key, finding_id=finding.id, finding_title=finding.title, patch=patch)
            )
    return candidates


def select_candidates(candidates: list[PatchCandidate], requested: Iterable[str]) -> list[PatchCandidate]:
    """Pick candidates by finding id (all of its patches), by key (``id#n``), or ``all``.

    Raise PatchError for a request that matches nothing, listing what is available.
    """
    selected: list[PatchCandidate] = []
    for request in requested:
        if request == "all":
            matches = list(candidates)
        else:
            matches = [c for c in candidates if request in (c.finding_id, c.key, *c.also_from)]
        if not matches:
            available = ", ".join(c.key for c in candidates) or "none"
            raise PatchError(f"no patch matches {request!r}; patches of this run: {available}")
        selected.extend(match for match in matches if match not in selected)
    return selected


def find_conflicts(selected: Iterable[PatchCandidate]) -> list[Conflict]:
    """Group the selected patches by path and return the groups whose values differ."""
    groups: dict[str, list[PatchCandidate]] = {}
    for candidate in selected:
        groups.setdefault(candidate.path, []).append(candidate)
    conflicts = []
    for path, group in groups.items():
        conflict = Conflict(path=path, candidates=tuple(group))
        if len(conflict.values) > 1:
            conflicts.append(conflict)
    return conflicts


def parse_assignment(text: str) -> ConfigEdit:
    """Read ``PATH=VALUE`` typed by the user; VALUE is YAML (``PATH=`` sets null)."""
    path, separator, value = text.partition("=")
    if not separator or not path.strip():
        raise PatchError(f"invalid assignment {text!r}: expected PATH=VALUE, for example trainer.epochs=3")
    try:
        parse_key_path(path)
    except KeyPathError as error:
        raise PatchError(str(error)) from error
    return ConfigEdit(path=normalize_path(path), value=parse_value(value), source=USER_SOURCE)


def build_edits(
    selected: Iterable[PatchCandidate],
    user_edits: Iterable[ConfigEdit] = (),
    choices: Mapping[str, Any] | None = None,
) -> list[ConfigEdit]:
    """Turn the selected patches and the user's own edits into one edit per path.

    A user edit wins over any patch on its path. For conflicting patches, ``choices`` maps the
    path to the value to use; raise ConflictError for a conflict with no choice and no user edit.
    """
    user_edits = list(user_edits)
    user_paths = {normalize_path(edit.path) for edit in user_edits}
    chosen = {normalize_path(path): value for path, value in (choices or {}).items()}
    selected = list(selected)

    unresolved = [
        conflict
        for conflict in find_conflicts(selected)
        if conflict.path not in user_paths and conflict.path not in chosen
    ]
    if unresolved:
        raise ConflictError(unresolved)

    edits: list[ConfigEdit] = []
    done: set[str] = set()
    for candidate in selected:
        path = candidate.path
        if path in user_paths or path in done:
            continue
        done.add(path)
        value = chosen.get(path, candidate.patch.value)
        sources = [c for c in selected if c.path == path and c.patch.value == value] or [candidate]
        edits.append(
            ConfigEdit(
                path=path,
                value=value,
                source=",".join(dict.fromkeys(c.finding_id for c in sources)),
                reason=sources[0].patch.reason,
            )
        )
    edits.extend(user_edits)
    return edits
