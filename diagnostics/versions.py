"""Lenient parsing of the version strings that Ludwig and its dependencies record."""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION_PATTERN = re.compile(r"^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(.*)$")


@dataclass(frozen=True, order=True)
class Version:
    """A release number as (major, minor, patch); ``suffix`` keeps the rest (".dev", "+cpu")."""

    major: int
    minor: int
    patch: int
    suffix: str = ""

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}{self.suffix}"

    @property
    def release(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)


def parse_version(text: str) -> Version | None:
    """Parse "0.9", "0.10.4", "0.8.dev" or "2.1.0+cu118"; return None for anything else.

    Ludwig 0.9 records itself as "0.9", not "0.9.0", and development builds as "0.8.dev".
    """
    match = _VERSION_PATTERN.match(text)
    if not match:
        return None
    major, minor, patch, suffix = match.groups()
    return Version(int(major), int(minor or 0), int(patch or 0), suffix.strip())
