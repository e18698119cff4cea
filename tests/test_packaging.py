"""The installed package must contain every module of the two source folders."""

from __future__ import annotations

import tomllib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_every_source_package_is_listed() -> None:
    setuptools = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])

    # The editable install finds unlisted folders too, so only this check catches a forgotten one.
    found = set()
    for folder, package in (("diagnostics", "ludwig_doctor.diagnostics"), ("tui", "ludwig_doctor.tui")):
        for init in sorted((PROJECT_ROOT / folder).rglob("__init__.py")):
            relative = init.parent.relative_to(PROJECT_ROOT / folder)
            found.add(".".join([package, *relative.parts]))

    assert found - listed == set()
    assert listed - found == set()
