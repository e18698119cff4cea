"""Validate a patched config with Ludwig's own schema, in the environment that will train it.

The check runs as a subprocess of the Ludwig interpreter, because the doctor never imports Ludwig.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

VALID = "valid"
INVALID = "invalid"
NOT_VALIDATED = "not validated"

# Importing Ludwig loads torch, which takes several seconds on a cold cache.
VALIDATION_TIMEOUT_SECONDS = 180
_RESULT_MARKER = "LUDWIG_DOCTOR_VALIDATION "

# Runs inside the Ludwig environment. ModelConfig.from_dict upgrades the config to the installed
# version, merges the defaults and runs the JSON schema check (Ludwig 0.8 and later). Older
# versions only have ludwig.schema.validate_config.
_VALIDATION_SCRIPT = """
import json, sys
marker = sys.argv[2]
def report(status, message="", version=None):
    print(marker + json.dumps({"status": status, "message": message, "ludwig_version": version}), flush=True)
try:
    import yaml
    import ludwig
except Exception as error:
    report("not validated", f"Ludwig cannot be imported: {type(error).__name__}: {error}")
    sys.exit(0)
version = getattr(ludwig, "__version__", None)
with open(sys.argv[1], encoding="utf-8") as stream:
    config = yaml.safe_load(stream)
try:
    from ludwig.schema.model_types.base import ModelConfig
except ImportError:
    try:
        from ludwig.schema import validate_config
    except ImportError:
        report("not validated", "this Ludwig version has no schema validation", version)
        sys.exit(0)
    check = validate_config
else:
    check = ModelConfig.from_dict
try:
    check(config)
except Exception as error:
    report("invalid", f"{type(error).__name__}: {error}", version)
else:
    report("valid", "", version)
"""


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of a schema check: VALID, INVALID or NOT_VALIDATED, with Ludwig's message."""

    status: str
    message: str = ""
    ludwig_version: str | None = None
    python: str | None = None

    @property
    def is_invalid(self) -> bool:
        return self.status == INVALID

    def describe(self) -> str:
        if self.status == VALID:
            return f"valid for Ludwig {self.ludwig_version} ({self.python})"
        if self.status == INVALID:
            return f"rejected by Ludwig {self.ludwig_version}'s schema: {self.message}"
        return f"not validated: {self.message}"


def validate_config_text(
    text: str, python: str | None, timeout: float = VALIDATION_TIMEOUT_SECONDS
) -> ValidationResult:
    """Check the YAML ``text`` with the Ludwig installed for ``python`` (default: this interpreter)."""
    interpreter = python or sys.executable
    if not Path(interpreter).exists():
        return ValidationResult(
            NOT_VALIDATED, f"the Ludwig interpreter {interpreter} does not exist", python=interpreter
        )

    with tempfile.TemporaryDirectory(prefix="ludwig-doctor-") as folder:
        config_path = Path(folder) / "config.yaml"
        config_path.write_text(text, encoding="utf-8")
        try:
            completed = subprocess.run(
                [interpreter, "-c", _VALIDATION_SCRIPT, str(config_path), _RESULT_MARKER],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return ValidationResult(
                NOT_VALIDATED, f"the schema check timed out after {timeout:.0f} s", python=interpreter
            )
        except OSError as error:
            return ValidationResult(NOT_VALIDATED, f"cannot run {interpreter}: {error}", python=interpreter)

    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(_RESULT_MARKER):
            payload = json.loads(line[len(_RESULT_MARKER) :])
            return ValidationResult(
                status=payload["status"],
                message=payload["message"],
                ludwig_version=payload["ludwig_version"],
                python=interpreter,
            )
    tail = (completed.stderr.strip().splitlines() or ["no output"])[-1]
    return ValidationResult(
        NOT_VALIDATED,
        f"the schema check exited with status {completed.returncode}: {tail}",
        python=interpreter,
    )
