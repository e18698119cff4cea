"""Following a run that is still training: poll its files and report each new finding once."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .checks import run_checks
from .findings import Finding
from .loader import JSON_FILES, load_run
from .readers.jsonfile import read_json_object
from .run import Run
from .scalars import ScalarFollower

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 2.0


@dataclass
class WatchEvent:
    """A finding that appeared, or got more severe, at one poll; ``step`` is the last logged step."""

    finding: Finding
    step: int | None


@dataclass
class RunWatcher:
    """Loads a run once, then on each ``poll`` reads only what was appended and re-runs the checks."""

    path: Path
    root: Path
    verify_crc: bool = True
    run: Run = field(init=False)
    follower: ScalarFollower = field(init=False)
    _seen: dict[tuple[str, str], int] = field(init=False, default_factory=dict)
    _json_mtimes: dict[str, float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.follower = ScalarFollower(self.verify_crc)
        self.run = load_run(self.path, self.root, verify_crc=self.verify_crc, follower=self.follower)
        self._json_mtimes = self._current_json_mtimes()

    def poll(self, now: float | None = None, first: bool = False) -> list[WatchEvent]:
        """Read new data and return findings that are new or more severe since the last poll.

        ``first`` marks the poll right after loading, which reads nothing new but reports every
        finding the run already has.
        """
        changed = first
        if not first:
            update = self.follower.poll(self.run, now)
            self.run.file_findings.extend(update.findings)
            changed = bool(update.point_count or update.findings)
            changed = self._reload_changed_json() or changed
        if not changed:
            return []

        events = []
        step = self.last_step()
        for finding in run_checks(self.run):
            key = (finding.id, finding.evidence[0].source if finding.evidence else "")
            rank = finding.severity.rank
            if key in self._seen and self._seen[key] >= rank:
                continue
            self._seen[key] = rank
            events.append(WatchEvent(finding, step))
        return events

    def last_step(self) -> int | None:
        steps = [points[-1].step for points in self.run.scalars.get("training", {}).values() if points]
        return max(steps) if steps else None

    def finished(self) -> bool:
        """Return True once Ludwig has written training_statistics.json (it does so when training ends)."""
        return (self.path / JSON_FILES["training_statistics"]).exists()

    def _current_json_mtimes(self) -> dict[str, float]:
        mtimes = {}
        for attribute, relative in JSON_FILES.items():
            try:
                mtimes[attribute] = (self.path / relative).stat().st_mtime
            except OSError:
                continue
        return mtimes

    def _reload_changed_json(self) -> bool:
        current = self._current_json_mtimes()
        changed = False
        for attribute, mtime in current.items():
            if self._json_mtimes.get(attribute) == mtime:
                continue
            read = read_json_object(self.path / JSON_FILES[attribute], JSON_FILES[attribute])
            if read.data is not None:
                setattr(self.run, attribute, read.data)
                changed = True
        self._json_mtimes = current
        return changed


def watch_events(
    watcher: RunWatcher,
    interval: float = DEFAULT_INTERVAL_SECONDS,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[WatchEvent]:
    """Yield findings as they appear until the run finishes or ``timeout`` seconds have passed."""
    started = time.monotonic()
    yield from watcher.poll(first=True)
    while True:
        finished = watcher.finished()
        yield from watcher.poll()
        if finished:
            return
        if timeout is not None and time.monotonic() - started >= timeout:
            return
        sleep(interval)


def format_event(event: WatchEvent) -> str:
    """Return one line for a new finding: the step, the severity, the id and the title."""
    where = f"step {event.step}" if event.step is not None else "no steps yet"
    finding = event.finding
    return f"[{where}] {finding.severity.value.upper()} {finding.id}: {finding.title}"
