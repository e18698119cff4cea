"""Follow a training log as it grows, and read epoch and step progress from Ludwig's lines.

Ludwig 0.11.0 prints "Training for 450 step(s), approximately 10 epoch(s).", one
"Running evaluation for step: 45, epoch: 1" line per evaluation, and a tqdm bar
("Training:  37%|...| 167/450 [...loss=5.61]") that redraws itself with carriage returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_PLAN = re.compile(r"Training for (\d+) step\(s\), approximately (\d+) epoch\(s\)")
_EVALUATION = re.compile(r"Running evaluation for step: (\d+), epoch: (\d+)")
_BAR = re.compile(r"Training:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+)[^\r\n]*?(?:loss=([^\]\s,]+))?\]")
# A single read returns at most this much, so a huge log is followed in pieces.
_READ_LIMIT_BYTES = 1 << 20


@dataclass
class Progress:
    """Training progress read from the log so far; None until the log reports a value."""

    step: int | None = None
    total_steps: int | None = None
    epochs_done: int | None = None
    total_epochs: int | None = None
    loss: str | None = None

    def describe(self) -> str:
        if self.step is None and self.epochs_done is None:
            return "preparing (no training step yet)"
        parts = []
        if self.total_epochs is not None:
            current = min((self.epochs_done or 0) + 1, self.total_epochs)
            parts.append(f"epoch {current}/{self.total_epochs}")
        if self.step is not None:
            total = f"/{self.total_steps}" if self.total_steps else ""
            parts.append(f"step {self.step}{total}")
        if self.loss is not None:
            parts.append(f"loss {self.loss}")
        return " · ".join(parts)

    def update(self, text: str) -> None:
        """Advance with the newest values in ``text``."""
        for match in _PLAN.finditer(text):
            self.total_steps, self.total_epochs = int(match.group(1)), int(match.group(2))
        for match in _EVALUATION.finditer(text):
            self.step, self.epochs_done = int(match.group(1)), int(match.group(2))
        bars = list(_BAR.finditer(text))
        if bars:
            last = bars[-1]
            self.step, self.total_steps = int(last.group(1)), int(last.group(2))
            if last.group(3):
                self.loss = last.group(3)


class LogFollower:
    """Read the new part of a log file on each poll and return it as display lines.

    A carriage return redraws a line in a terminal, so only the text after the last one counts.
    A line without its newline yet stays pending until the next poll.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.progress = Progress()
        self._pending = ""

    def poll(self) -> list[str]:
        """Return the complete lines written since the last poll, and update ``progress``."""
        try:
            with open(self.path, "rb") as stream:
                stream.seek(self.offset)
                data = stream.read(_READ_LIMIT_BYTES)
        except FileNotFoundError:
            return []
        if not data:
            return []
        self.offset += len(data)

        text = self._pending + data.decode("utf-8", errors="replace")
        self.progress.update(text)
        *complete, self._pending = text.split("\n")
        return [line.rstrip("\r").rsplit("\r", 1)[-1] for line in complete]

    @property
    def pending_line(self) -> str:
        """The unfinished last line as a terminal shows it, such as the current progress bar."""
        return self._pending.rstrip("\r").rsplit("\r", 1)[-1]
