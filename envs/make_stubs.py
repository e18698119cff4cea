"""Write import stand-ins for torchvision, torchaudio and torchtext into a Python's site-packages.

Usage: python envs/make_stubs.py VENV_PYTHON

Ludwig imports these three packages at module level, even for text and LLM models, and reads
attributes from them at import time (for example `torchvision.models.AlexNet_Weights` inside
class bodies, `torchaudio.__version__`). PyPI only has CUDA builds of torchvision and torchaudio,
which fail to import beside the CPU torch, and torchtext has no wheel for torch 2.13. The
stand-ins let `import ludwig` succeed. Every attribute access returns a placeholder, and calling
a placeholder raises ImportError, so image and audio features fail with a clear message.

No dist-info is written, so `importlib.metadata` and transformers' `is_torchvision_available()`
still report the packages as missing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Modules that Ludwig 0.9.1 and 0.11.0 import. Only Ludwig 0.9.1 imports the torchtext ones.
STUB_MODULES = [
    "torchvision",
    "torchvision.transforms",
    "torchvision.transforms.functional",
    "torchvision.io",
    "torchvision.models",
    "torchvision.models._api",
    "torchaudio",
    "torchaudio.functional",
    "torchaudio.transforms",
    "torchaudio.backend",
    "torchtext",
    "torchtext.transforms",
    "torchtext.utils",
    "torchtext.data",
    "torchtext.data.utils",
]

MARKER = "ludwig-doctor import stand-in"

STUB_SOURCE = '''"""{marker} for {module}: importable, but image and audio features do not work."""

__version__ = "0.0.0"


class _Placeholder:
    """Stands in for any attribute. Calling it raises ImportError."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attribute):
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)
        return _Placeholder(self._name + "." + attribute)

    def __call__(self, *args, **kwargs):
        raise ImportError(
            self._name + " cannot be called: {module} is an import stand-in, "
            "so image/audio features are unavailable in this environment."
        )

    def __getitem__(self, key):
        return _Placeholder(self._name + "[" + repr(key) + "]")

    def __iter__(self):
        return iter(())

    def __mro_entries__(self, bases):
        # Lets class bodies subclass a placeholder, for example `class W(WeightsEnum)`.
        return (object,)

    def __repr__(self):
        return "<stand-in " + self._name + ">"


def __getattr__(attribute):
    if attribute.startswith("__") and attribute.endswith("__"):
        raise AttributeError(attribute)
    return _Placeholder("{module}." + attribute)
'''


def site_packages_of(python: str) -> Path:
    """Return the purelib site-packages folder of the given interpreter."""
    output = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(output.stdout.strip())


def write_stub(site_packages: Path, module: str) -> Path:
    """Write `module` as a package (`<path>/__init__.py`) and return the file written."""
    package_dir = site_packages.joinpath(*module.split("."))
    init_file = package_dir / "__init__.py"

    if init_file.exists() and MARKER not in init_file.read_text(errors="replace"):
        raise SystemExit(
            f"{init_file} exists and is not a stand-in: a real {module} is installed. "
            "Uninstall it first or use a fresh venv."
        )

    package_dir.mkdir(parents=True, exist_ok=True)
    init_file.write_text(STUB_SOURCE.format(marker=MARKER, module=module))
    return init_file


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} VENV_PYTHON", file=sys.stderr)
        return 2

    python = argv[1]
    site_packages = site_packages_of(python)
    for module in STUB_MODULES:
        write_stub(site_packages, module)
    print(f"wrote {len(STUB_MODULES)} import stand-ins into {site_packages}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
