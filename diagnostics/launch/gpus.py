"""The GPUs of this machine and their free memory, from NVML or nvidia-smi."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from dataclasses import dataclass

NVIDIA_SMI_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Gpu:
    """One CUDA device as the driver numbers it; memory in MiB."""

    index: int
    name: str
    memory_free_mib: int
    memory_total_mib: int

    def describe(self) -> str:
        return f"GPU {self.index}: {self.name}, {self.memory_free_mib} of {self.memory_total_mib} MiB free"


@dataclass(frozen=True)
class GpuListing:
    """The GPUs found, the tool that listed them, and why none were found."""

    gpus: list[Gpu]
    source: str
    note: str = ""

    def describe(self) -> list[str]:
        if not self.gpus:
            return [f"no GPU found ({self.note}); the run will use the CPU"]
        return [gpu.describe() for gpu in self.gpus]


def list_gpus() -> GpuListing:
    """List the GPUs with pynvml when it is installed, else with ``nvidia-smi --query-gpu``."""
    listing = _list_with_nvml()
    if listing is not None:
        return listing
    return _list_with_nvidia_smi()


def parse_gpu_choice(text: str) -> str:
    """Turn ``--gpus`` into a CUDA_VISIBLE_DEVICES value: ``0,2`` stays, ``cpu`` or ``none`` is empty.

    Raise ValueError for anything else.
    """
    value = text.strip().lower()
    if value in ("cpu", "none", ""):
        return ""
    items = [item.strip() for item in value.split(",")]
    if not all(item.isdigit() for item in items):
        raise ValueError(f"invalid GPU list {text!r}: expected indexes such as 0 or 0,1, or cpu")
    return ",".join(items)


def _list_with_nvml() -> GpuListing | None:
    try:
        import pynvml  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception as error:  # pynvml raises NVMLError subclasses that are created at run time.
        return GpuListing([], "NVML", f"NVML could not start: {error}")
    try:
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = pynvml.nvmlDeviceGetName(handle)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            gpus.append(
                Gpu(
                    index=index,
                    name=name.decode() if isinstance(name, bytes) else str(name),
                    memory_free_mib=int(memory.free) // 2**20,
                    memory_total_mib=int(memory.total) // 2**20,
                )
            )
        return GpuListing(gpus, "NVML", "" if gpus else "NVML reports no device")
    finally:
        pynvml.nvmlShutdown()


def _list_with_nvidia_smi() -> GpuListing:
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return GpuListing([], "nvidia-smi", "pynvml is not installed and nvidia-smi is not on PATH")
    try:
        completed = subprocess.run(
            [
                executable,
                "--query-gpu=index,name,memory.free,memory.total",
                "--format=csv,noheader,nounits",
            ],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return GpuListing([], "nvidia-smi", f"nvidia-smi failed: {error}")
    if completed.returncode != 0:
        message = (completed.stderr or completed.stdout).strip().splitlines()
        return GpuListing([], "nvidia-smi", f"nvidia-smi failed: {message[-1] if message else 'no output'}")
    return GpuListing(parse_nvidia_smi(completed.stdout), "nvidia-smi", "nvidia-smi lists no device")


def parse_nvidia_smi(output: str) -> list[Gpu]:
    """Parse ``index, name, memory.free, memory.total`` rows (MiB, no units, no header)."""
    gpus = []
    for row in csv.reader(io.StringIO(output), skipinitialspace=True):
        if len(row) != 4:
            continue
        try:
            gpus.append(Gpu(int(row[0]), row[1].strip(), int(float(row[2])), int(float(row[3]))))
        except ValueError:
            continue
    return gpus
