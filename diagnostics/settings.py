"""User settings: the Ludwig interpreter and path replacements, from the settings file and the environment."""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

# Environment variable that names the Python interpreter of the environment where Ludwig is installed.
LUDWIG_PYTHON_ENV = "LUDWIG_DOCTOR_LUDWIG_PYTHON"


@dataclass
class Settings:
    """Values read from ``settings.toml``; every field may be overridden on the command line."""

    ludwig_python: str | None = None
    path_map: dict[str, str] = field(default_factory=dict)
    source: Path | None = None


class SettingsError(Exception):
    """The settings file exists but cannot be used; the message names the file and the field."""


def settings_path() -> Path:
    """Return where the settings file lives: ``$XDG_CONFIG_HOME/ludwig-doctor/settings.toml``."""
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "ludwig-doctor" / "settings.toml"


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file when it exists, then apply the environment variable."""
    path = path or settings_path()
    settings = Settings()

    if path.is_file():
        settings = _parse_settings_file(path)

    from_environment = os.environ.get(LUDWIG_PYTHON_ENV)
    if from_environment:
        settings.ludwig_python = from_environment

    return settings


def _parse_settings_file(path: Path) -> Settings:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"{path}: cannot read the settings file: {error}. Fix or delete it.") from error

    ludwig_python = data.get("ludwig_python")
    if ludwig_python is not None and not isinstance(ludwig_python, str):
        raise SettingsError(
            f"{path}: field 'ludwig_python' must be a string path to a Python interpreter, "
            f"got {ludwig_python!r}."
        )

    path_map = data.get("path_map", {})
    if not isinstance(path_map, dict) or not all(isinstance(value, str) for value in path_map.values()):
        raise SettingsError(
            f"{path}: field 'path_map' must be a table of old prefix = new prefix strings, got {path_map!r}."
        )

    return Settings(ludwig_python=ludwig_python, path_map=dict(path_map), source=path)
