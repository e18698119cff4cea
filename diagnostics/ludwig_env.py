"""Locate the Ludwig installation that relaunches and schema checks run through.

The doctor never imports Ludwig: it may live in another environment (a conda env for training,
with the doctor installed by pipx), and importing it costs seconds (torch). Everything that needs
Ludwig runs as a subprocess of that environment's interpreter.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

# The features that work without Ludwig and those that need it, shown by `ludwig-doctor env` and in the app.
FEATURES_WITHOUT_LUDWIG = (
    "discovery and reading of run directories",
    "every diagnosis (version, truncation from recorded lengths, repetition)",
    "the app and `ludwig-doctor check`",
)
FEATURES_NEEDING_LUDWIG = (
    "validating a patched config with Ludwig's own schema",
    "relaunching `ludwig train` with a patched config",
    "comparing token counts with Ludwig's own preprocessing",
)

# Printing the installed version through importlib.metadata does not import torch, so the probe
# takes well under a second even in a CUDA environment.
_PROBE_SCRIPT = "import importlib.metadata as m; print(m.version('ludwig'))"
PROBE_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class LudwigEnvironment:
    """The result of probing one interpreter for Ludwig."""

    python: str
    ludwig_version: str | None
    error: str | None = None

    @property
    def available(self) -> bool:
        return self.ludwig_version is not None


# Probe results by interpreter path. The app probes again on every change to a relaunch plan,
# and each probe starts a Python process. NOTE: a Ludwig installed or removed after the first probe
# is not seen until clear_probe_cache() runs or the process restarts.
_probe_cache: dict[str, LudwigEnvironment] = {}


def probe_ludwig(python: str | None = None) -> LudwigEnvironment:
    """Ask ``python`` (default: this interpreter) which Ludwig version it has installed.

    The result is cached per interpreter path until clear_probe_cache() clears the cache.
    """
    interpreter = python or sys.executable
    cached = _probe_cache.get(interpreter)
    if cached is not None:
        return cached

    environment = _run_probe(python, interpreter)
    _probe_cache[interpreter] = environment
    return environment


def clear_probe_cache() -> None:
    """Forget every cached probe result, so the next probe_ludwig() runs the interpreter again."""
    _probe_cache.clear()


def _run_probe(python: str | None, interpreter: str) -> LudwigEnvironment:
    if python is not None and not Path(python).exists():
        return LudwigEnvironment(
            python=interpreter,
            ludwig_version=None,
            error=(
                f"the Ludwig interpreter {python} does not exist; pass --ludwig-python with the path "
                "to the python of the environment where Ludwig is installed"
            ),
        )

    try:
        completed = subprocess.run(
            [interpreter, "-c", _PROBE_SCRIPT],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
            # In the app the terminal is stdin; a child must never read the user's keys.
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return LudwigEnvironment(
            python=interpreter, ludwig_version=None, error=f"cannot run {interpreter}: {error}"
        )

    if completed.returncode != 0:
        return LudwigEnvironment(
            python=interpreter,
            ludwig_version=None,
            error=f"Ludwig is not installed for {interpreter}",
        )

    return LudwigEnvironment(python=interpreter, ludwig_version=completed.stdout.strip())


def describe_environment(environment: LudwigEnvironment) -> list[str]:
    """Return the lines that `ludwig-doctor env` prints for ``environment``."""
    lines = [f"Ludwig interpreter: {environment.python}"]

    if environment.available:
        lines.append(f"Ludwig version: {environment.ludwig_version}")
    else:
        lines.append(f"Ludwig: not available ({environment.error})")
        lines.append(
            "Set it with --ludwig-python PATH, the LUDWIG_DOCTOR_LUDWIG_PYTHON variable, "
            "or ludwig_python in the settings file."
        )

    lines.append("Works without Ludwig: " + "; ".join(FEATURES_WITHOUT_LUDWIG) + ".")
    status = "available" if environment.available else "unavailable until Ludwig is found"
    lines.append(f"Needs Ludwig ({status}): " + "; ".join(FEATURES_NEEDING_LUDWIG) + ".")
    return lines
