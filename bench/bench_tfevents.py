"""Benchmark: ludwig-doctor's TensorBoard reader against TensorBoard's EventAccumulator.

Writes one event file of N scalar events (4 tags, like Ludwig's per-step loss, learning rate and
token tags), then reads it in a fresh process per reader and reports wall time and peak RSS:

    .venv/bin/python bench/bench_tfevents.py               # 1,000,000 events
    .venv/bin/python bench/bench_tfevents.py --events 100000

The readers: ``ours`` (read_event_file, CRCs checked), ``ours-no-crc`` (CRCs skipped) and
``accumulator`` (EventAccumulator with size_guidance 0 for scalars, so it keeps every point, and
orphan purging off, then Scalars() for every tag). Each materializes every (step, value) point.
"""

from __future__ import annotations

import argparse
import json
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TAGS = (
    "combined/step_training_loss",
    "output/step_training_loss",
    "combined/step_learning_rate",
    "tokens/tokens",
)
READERS = ("ours", "ours-no-crc", "accumulator")


def write_event_file(directory: Path, events: int) -> Path:
    """Write ``events`` scalar events (plus the file_version event) with TFRecord framing."""
    from tensorboard.compat.proto import event_pb2, summary_pb2

    from ludwig_doctor.diagnostics.readers.crc32c import masked_crc32c_array

    path = directory / "events.out.tfevents.1700000000.bench.1.0"
    payloads = [event_pb2.Event(wall_time=1_700_000_000.0, file_version="brain.Event:2").SerializeToString()]
    rng = np.random.default_rng(0)
    values = rng.random(events).astype(np.float32).tolist()
    for index in range(events):
        step, tag = divmod(index, len(TAGS))
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag=TAGS[tag], simple_value=values[index])]
        )
        event = event_pb2.Event(wall_time=1_700_000_000.0 + step * 0.5, step=step, summary=summary)
        payloads.append(event.SerializeToString())

    headers = b"".join(struct.pack("<Q", len(payload)) for payload in payloads)
    lengths = np.full(len(payloads), 8, dtype=np.int64)
    header_crcs = masked_crc32c_array(headers, np.arange(len(payloads), dtype=np.int64) * 8, lengths)
    joined = b"".join(payloads)
    sizes = np.array([len(payload) for payload in payloads], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    payload_crcs = masked_crc32c_array(joined, starts, sizes)

    with path.open("wb") as handle:
        for index, payload in enumerate(payloads):
            handle.write(headers[index * 8 : index * 8 + 8])
            handle.write(struct.pack("<I", int(header_crcs[index])))
            handle.write(payload)
            handle.write(struct.pack("<I", int(payload_crcs[index])))
    return path


def read_once(reader: str, path: Path) -> dict[str, object]:
    """Read ``path`` with one reader in this process; return time, points per tag and peak RSS."""
    started = time.perf_counter()
    if reader == "accumulator":
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        accumulator = EventAccumulator(str(path), size_guidance={"scalars": 0}, purge_orphaned_data=False)
        accumulator.Reload()
        scalars = {tag: accumulator.Scalars(tag) for tag in accumulator.Tags()["scalars"]}
        counts = {tag: len(points) for tag, points in scalars.items()}
    else:
        from ludwig_doctor.diagnostics.readers.tfevents import read_event_file

        read = read_event_file(path, path.name, verify_crc=reader == "ours")
        if read.findings:
            raise SystemExit(f"the reader reported a problem: {read.findings[0].explanation}")
        counts = {tag: len(points) for tag, points in read.scalars.items()}
    seconds = time.perf_counter() - started
    return {"reader": reader, "seconds": seconds, "peak_rss_mib": _peak_rss_mib(), "counts": counts}


def _peak_rss_mib() -> float:
    # VmHWM is this process's own peak. ru_maxrss is not usable here: Linux keeps the parent's
    # peak across fork and exec, so a child would report the generator's memory.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="scalar events to write (default: 1,000,000)"
    )
    parser.add_argument("--read", choices=READERS, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--write", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.read:
        print(json.dumps(read_once(args.read, args.file)))
        return 0
    if args.write:
        print(write_event_file(args.write, args.events))
        return 0

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        # The file is written by a child process too, so that this process stays small.
        command = [sys.executable, __file__, "--write", folder, "--events", str(args.events)]
        path = Path(subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip())
        print(
            f"wrote {args.events:,} events ({path.stat().st_size:,} bytes) in {time.perf_counter() - started:.1f} s"
        )
        results = {}
        for reader in READERS:
            command = [sys.executable, __file__, "--read", reader, "--file", str(path)]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            results[reader] = json.loads(output.strip().splitlines()[-1])

    counts = {reader: result["counts"] for reader, result in results.items()}
    if len({json.dumps(value, sort_keys=True) for value in counts.values()}) != 1:
        print(f"the readers disagree: {counts}")
        return 1
    print(f"{'reader':<12} {'seconds':>8} {'peak RSS MiB':>13}")
    for reader, result in results.items():
        print(f"{reader:<12} {result['seconds']:>8.2f} {result['peak_rss_mib']:>13.0f}")
    baseline = results["accumulator"]["seconds"]
    print(f"speed-up with CRCs checked: {baseline / results['ours']['seconds']:.1f}x")
    print(f"speed-up without CRCs: {baseline / results['ours-no-crc']['seconds']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
