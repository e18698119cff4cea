"""The headless core must import and run without textual, torch, transformers or Ludwig."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import ludwig_doctor.diagnostics as diagnostics


def _core_modules() -> list[str]:
    return [
        module.name
        for module in pkgutil.walk_packages(diagnostics.__path__, prefix="ludwig_doctor.diagnostics.")
    ]


def test_core_modules_found() -> None:
    modules = _core_modules()
    assert "ludwig_doctor.diagnostics.cli" in modules
    assert "ludwig_doctor.diagnostics.checks.truncation" in modules


def test_core_never_imports_textual_or_heavy_libraries() -> None:
    script = (
        "import importlib, sys\n"
        f"for name in {_core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "heavy = sorted(m for m in ('textual', 'torch', 'transformers', 'ludwig') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == ""


def test_check_command_does_not_load_textual(real_runs) -> None:
    script = (
        "import sys\n"
        "from ludwig_doctor.tui.main import main\n"
        f"code = main(['check', {str(real_runs / 'viktor1223__intro_2_slurm')!r}])\n"
        "print('textual' in sys.modules, file=sys.stderr)\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert completed.stderr.strip().splitlines()[-1] == "False"
