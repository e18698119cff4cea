"""Findings that describe a missing, empty, truncated or malformed file of a run."""

from __future__ import annotations

import os
from pathlib import Path

from ..findings import Evidence, Finding, Severity

# Finding ids emitted for file problems; checks and the app match on these strings.
FILE_MISSING = "file.missing"
FILE_EMPTY = "file.empty"
FILE_TRUNCATED = "file.truncated"
FILE_MALFORMED = "file.malformed"
FILE_UNREADABLE = "file.unreadable"
FILE_CORRUPT = "file.corrupt"
RUN_STOPPED = "run.stopped"


def display_name(path: Path, base: Path | None) -> str:
    """Return ``path`` relative to ``base`` in POSIX form (``../x`` for a sibling folder of the run)."""
    if base is None:
        return path.as_posix()
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, base)).as_posix()


def missing_file(source: str, severity: Severity, why: str, action: str) -> Finding:
    """Build a ``file.missing`` finding for ``source`` (a path relative to the run)."""
    return Finding(
        id=FILE_MISSING,
        severity=severity,
        title=f"{source} is missing",
        explanation=why,
        evidence=[
            Evidence(source=source, field="(folder)" if source.endswith("/") else "(file)", value="absent")
        ],
        action=action,
    )


def empty_file(source: str, severity: Severity) -> Finding:
    """Build a ``file.empty`` finding: the file exists but contains no data."""
    return Finding(
        id=FILE_EMPTY,
        severity=severity,
        title=f"{source} is empty",
        explanation=f"{source} has no content, so nothing in it could be read.",
        evidence=[Evidence(source=source, field="(file)", value=0, note="bytes of content")],
        action=f"Copy {source} again from the machine that trained the run, or rerun training.",
    )


def unreadable_file(source: str, severity: Severity, error: OSError) -> Finding:
    """Build a ``file.unreadable`` finding for an OS error such as a permission problem."""
    return Finding(
        id=FILE_UNREADABLE,
        severity=severity,
        title=f"{source} could not be read",
        explanation=f"Reading {source} failed: {error.strerror or error}.",
        evidence=[Evidence(source=source, field="(file)", value=type(error).__name__)],
        action=f"Check the permissions of {source} and that the disk is readable.",
    )


def damaged_file(
    finding_id: str, source: str, severity: Severity, where: str, detail: str, action: str
) -> Finding:
    """Build a ``file.truncated``, ``file.malformed`` or ``file.corrupt`` finding.

    ``where`` names the position: a line and column, a byte offset, a field or a column.
    """
    kind = {FILE_TRUNCATED: "is truncated", FILE_CORRUPT: "is corrupt"}.get(finding_id, "is malformed")
    return Finding(
        id=finding_id,
        severity=severity,
        title=f"{source} {kind} ({where})",
        explanation=f"{source}: {detail}",
        evidence=[Evidence(source=source, field=where, value=detail)],
        action=action,
    )
