"""Reading a run's TensorBoard logs into ``Run.scalars``, again and again as the files grow."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from .findings import Finding
from .readers.tfevents import EventFileTail
from .run import Run

logger = logging.getLogger(__name__)

TENSORBOARD_SPLITS = ("training", "validation", "test")
EVENT_FILE_PATTERN = "events.out.tfevents.*"


@dataclass
class ScalarUpdate:
    """The result of one poll: new points per split and tag, and findings about damaged files."""

    new_points: dict[str, dict[str, int]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def point_count(self) -> int:
        return sum(sum(tags.values()) for tags in self.new_points.values())


class ScalarFollower:
    """Keeps one ``EventFileTail`` per event file of a run and appends what each poll reads.

    The first poll reads every file in full; later polls read only appended bytes and pick up
    event files created since (a resumed run starts a second file).
    """

    def __init__(self, verify_crc: bool = True) -> None:
        self.verify_crc = verify_crc
        self.tails: dict[Path, EventFileTail] = {}

    def poll(self, run: Run, now: float | None = None) -> ScalarUpdate:
        """Read new records of every event file of ``run`` into ``run.scalars``."""
        update = ScalarUpdate()
        for split in TENSORBOARD_SPLITS:
            directory = run.path / "model" / "logs" / split
            if not directory.is_dir():
                continue
            tags = run.scalars.setdefault(split, {})
            # Event file names start with the creation time in seconds, so name order is write
            # order when a resumed run adds a second file.
            for event_file in sorted(directory.glob(EVENT_FILE_PATTERN)):
                tail = self.tails.get(event_file)
                if tail is None:
                    source = event_file.relative_to(run.path).as_posix()
                    tail = EventFileTail(event_file, source, verify_crc=self.verify_crc)
                    self.tails[event_file] = tail
                read = tail.read_new(now)
                for tag, points in read.scalars.items():
                    tags.setdefault(tag, []).extend(points)
                    counts = update.new_points.setdefault(split, {})
                    counts[tag] = counts.get(tag, 0) + len(points)
                update.findings.extend(read.findings)
        logger.debug("read %d new scalar points from %s", update.point_count, run.path)
        return update
