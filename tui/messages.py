"""Messages that the scan worker posts to the runs screen, one class per event."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from ..diagnostics.scan import RunEntry, RunReport


class ScanMessage(Message):
    """A message from one scan, whose ``generation`` separates a reload's messages from stale ones."""

    def __init__(self, generation: int) -> None:
        super().__init__()
        self.generation = generation


class RunsFound(ScanMessage):
    """Discovery finished: the run directories in order, and an error per path it could not scan."""

    def __init__(self, generation: int, entries: list[RunEntry], path_errors: dict[Path, str]) -> None:
        super().__init__(generation)
        self.entries = entries
        self.path_errors = path_errors


class RunLoading(ScanMessage):
    """The worker started reading the run at ``index``."""

    def __init__(self, generation: int, index: int) -> None:
        super().__init__(generation)
        self.index = index


class RunChecked(ScanMessage):
    """The run at ``index`` was read and diagnosed."""

    def __init__(self, generation: int, index: int, report: RunReport) -> None:
        super().__init__(generation)
        self.index = index
        self.report = report


class RunFailed(ScanMessage):
    """Reading or checking the run at ``index`` raised an exception. The other runs still load."""

    def __init__(self, generation: int, index: int, error: str) -> None:
        super().__init__(generation)
        self.index = index
        self.error = error
