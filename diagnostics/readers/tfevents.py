"""Reading scalars from TensorBoard event files without TensorFlow, keeping what precedes damage.

An event file is a sequence of TFRecord frames: a little-endian uint64 length, the masked
CRC-32C of those 8 bytes, the payload (a serialized ``tensorboard.Event``), and the masked
CRC-32C of the payload.

Speed: the frames are found with one Python loop, the CRCs and the common scalar event layout
are decoded with NumPy over all records at once (see ``tfevents_fast``), and only other records
go through the protobuf classes. ``bench/bench_tfevents.py`` compares this with TensorBoard's
``EventAccumulator``.

``EventFileTail`` reads a file that is still being written: it remembers the offset of the
first record it has not read and reads only the bytes appended after it.
"""

from __future__ import annotations

import logging
import os
import struct
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from google.protobuf.message import DecodeError
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, types_pb2

from ..findings import Finding, Severity
from ..run import ScalarPoint
from .crc32c import masked_crc32c, masked_crc32c_array
from .problems import FILE_CORRUPT, FILE_TRUNCATED, damaged_file, unreadable_file
from .tfevents_fast import decode_simple_scalars

logger = logging.getLogger(__name__)

_LENGTH = struct.Struct("<Q")
_HEADER_SIZE = 12  # uint64 length + uint32 masked CRC of the length
_FRAME_OVERHEAD = 16  # the header plus the uint32 masked CRC of the payload

# A partial record at the end of a file that changed less than this many seconds ago is taken
# to be a record the writer is still flushing, not damage. TensorBoard writers flush every
# few seconds (torch's SummaryWriter: every 120 s at most, with ``flush_secs``).
STILL_WRITING_SECONDS = 180.0
# Bytes read and decoded at a time.
READ_CHUNK_BYTES = 4 * 2**20

# NumPy types for the tensor dtypes a scalar summary can carry. TF2 summaries (Ludwig 0.3.x)
# store each scalar as a rank-0 DT_FLOAT tensor in ``tensor_content``.
_NUMPY_DTYPES: dict[int, str] = {
    types_pb2.DT_FLOAT: "<f4",
    types_pb2.DT_DOUBLE: "<f8",
    types_pb2.DT_HALF: "<f2",
    types_pb2.DT_INT32: "<i4",
    types_pb2.DT_INT64: "<i8",
    types_pb2.DT_INT16: "<i2",
    types_pb2.DT_INT8: "<i1",
    types_pb2.DT_UINT8: "<u1",
    types_pb2.DT_BOOL: "?",
}


@dataclass
class EventFileRead:
    """Scalars read from one event file (or from the bytes appended since the last read).

    ``scalars`` maps tag -> points in file order; ``events`` counts the records decoded.
    """

    scalars: dict[str, list[ScalarPoint]] = field(default_factory=dict)
    events: int = 0
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class _Problem:
    finding_id: str
    offset: int
    detail: str


class EventFileTail:
    """Incremental reader of one event file: each ``read_new`` call returns only new scalars.

    A partial record at the end is not an error while the file may still grow: the tail stays
    at that record's offset and reads it once the rest has arrived. It is reported as
    truncation by ``finish`` (the caller knows that the file is complete) or by ``read_new``
    once the file has not changed for ``stall_seconds``. A record with a bad CRC or an invalid
    event is reported at once, and nothing after it is read.
    """

    def __init__(
        self,
        path: Path,
        source: str,
        verify_crc: bool = True,
        severity: Severity = Severity.INFO,
        stall_seconds: float = STILL_WRITING_SECONDS,
    ) -> None:
        self.path = path
        self.source = source
        self.verify_crc = verify_crc
        self.severity = severity
        self.stall_seconds = stall_seconds
        # Byte offset of the first record that has not been read.
        self.offset = 0
        self.events = 0
        # Bytes after ``offset`` that do not yet form a complete record.
        self.pending_bytes = 0
        # Set once damage has been reported; the tail then reads nothing more.
        self.stopped = False
        self._pending_problem: _Problem | None = None

    def read_new(self, now: float | None = None) -> EventFileRead:
        """Read the records appended since the last call and return their scalars."""
        result = EventFileRead()
        if self.stopped:
            return result
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                problem = self._read_chunks(handle, result)
                modified = os.fstat(handle.fileno()).st_mtime
        except OSError as error:
            result.findings.append(unreadable_file(self.source, self.severity, error))
            self.stopped = True
            return result

        if problem is not None and problem.finding_id == FILE_CORRUPT:
            self._report(problem, result)
            return result

        self._pending_problem = problem
        current = time.time() if now is None else now
        if problem is not None and current - modified >= self.stall_seconds:
            self._report(problem, result)
        return result

    def _read_chunks(self, handle: BinaryIO, result: EventFileRead) -> _Problem | None:
        # Reading in chunks bounds the memory for the file's bytes and the per-record arrays; a
        # record cut by a chunk boundary is read again with the next chunk.
        pending = b""
        while True:
            chunk = handle.read(READ_CHUNK_BYTES)
            buffer = pending + chunk if pending else chunk
            events_before = result.events
            consumed, problem = _read_records(buffer, self.offset, self.verify_crc, result)
            self.offset += consumed
            self.events += result.events - events_before
            pending = buffer[consumed:]
            self.pending_bytes = len(pending)
            at_end = len(chunk) < READ_CHUNK_BYTES
            if at_end or (problem is not None and problem.finding_id == FILE_CORRUPT):
                return problem

    def finish(self) -> list[Finding]:
        """Report a partial record left at the end; call it when the file will not grow any more."""
        if self.stopped or self._pending_problem is None:
            return []
        result = EventFileRead()
        self._report(self._pending_problem, result)
        return result.findings

    def _report(self, problem: _Problem, result: EventFileRead) -> None:
        self.stopped = True
        result.findings.append(_damage_finding(problem, self.source, self.severity, self.events))


def read_event_file(
    path: Path,
    source: str,
    verify_crc: bool = True,
    severity: Severity = Severity.INFO,
    final: bool = True,
) -> EventFileRead:
    """Read every scalar in one ``events.out.tfevents.*`` file.

    ``verify_crc`` checks both CRCs of every record (default on); with it off, a damaged record
    is found only when its event does not parse. Records after the first damaged or truncated
    one are dropped, and a finding gives its byte offset. With ``final`` off, a partial record
    at the end of a file modified in the last ``STILL_WRITING_SECONDS`` is not reported,
    because the writer may still be writing it.
    """
    tail = EventFileTail(path, source, verify_crc=verify_crc, severity=severity)
    result = tail.read_new()
    if final:
        result.findings.extend(tail.finish())
    return result


def _read_records(
    buffer: bytes, base_offset: int, verify_crc: bool, result: EventFileRead
) -> tuple[int, _Problem | None]:
    """Decode the complete records in ``buffer`` into ``result``.

    Returns the number of bytes consumed and the problem that stopped the reading, if any.
    Offsets in problems are file offsets (``base_offset`` is the file offset of ``buffer[0]``).
    """
    offsets, lengths, end, problem = _split_frames(buffer, verify_crc)

    if verify_crc and len(offsets):
        bad = _first_bad_crc(buffer, offsets, lengths)
        if bad is not None:
            index, detail = bad
            problem = _Problem(FILE_CORRUPT, int(offsets[index]), detail)
            # Records are contiguous, so the bad record starts where the good ones end.
            end = int(offsets[index])
            offsets, lengths = offsets[:index], lengths[:index]

    kept, parse_problem = _collect_scalars(buffer, offsets, lengths, result)
    if parse_problem is not None:
        problem = parse_problem
        end = int(offsets[kept])

    if problem is not None:
        problem = _Problem(problem.finding_id, problem.offset + base_offset, problem.detail)
    return end, problem


def _split_frames(buffer: bytes, verify_crc: bool) -> tuple[np.ndarray, np.ndarray, int, _Problem | None]:
    """Walk the length headers; return record offsets, payload lengths, the end offset, a problem."""
    offsets = array("q")
    lengths = array("q")
    unpack = _LENGTH.unpack_from
    size = len(buffer)
    offset = 0
    problem: _Problem | None = None
    while offset < size:
        if size - offset < _HEADER_SIZE:
            problem = _Problem(FILE_TRUNCATED, offset, "the file ends inside a record header")
            break
        (length,) = unpack(buffer, offset)
        end = offset + length + _FRAME_OVERHEAD
        if end > size or length == 0:
            problem = _end_problem(buffer, offset, length, verify_crc)
            break
        offsets.append(offset)
        lengths.append(length)
        offset = end
    return np.frombuffer(offsets, dtype=np.int64), np.frombuffer(lengths, dtype=np.int64), offset, problem


def _end_problem(buffer: bytes, offset: int, length: int, verify_crc: bool) -> _Problem:
    size = len(buffer)
    if length == 0 and buffer.count(b"\0", offset) == size - offset:
        # Writers always set wall_time, so no real event is 0 bytes long. A zero-filled tail
        # is space the file system had allocated when the writer stopped before flushing
        # (seen in a real Ludwig 0.10.0 training log).
        detail = f"the last {size - offset} bytes are all zero (the writer stopped before flushing them)"
        return _Problem(FILE_TRUNCATED, offset, detail)
    (stored,) = struct.unpack_from("<I", buffer, offset + 8)
    if verify_crc and masked_crc32c(buffer[offset : offset + 8]) != stored:
        # A damaged length, not a record that is still being written: waiting will not help.
        return _Problem(FILE_CORRUPT, offset, "the CRC of a record length does not match")
    return _Problem(FILE_TRUNCATED, offset, f"a record of {length} bytes runs past the end of the file")


def _first_bad_crc(buffer: bytes, offsets: np.ndarray, lengths: np.ndarray) -> tuple[int, str] | None:
    data = np.frombuffer(buffer, dtype=np.uint8)
    header_crcs = masked_crc32c_array(buffer, offsets, np.full(len(offsets), 8, dtype=np.int64))
    bad_header = header_crcs != _read_uint32(data, offsets + 8)
    payload_crcs = masked_crc32c_array(buffer, offsets + _HEADER_SIZE, lengths)
    bad_payload = payload_crcs != _read_uint32(data, offsets + _HEADER_SIZE + lengths)
    bad = np.flatnonzero(bad_header | bad_payload)
    if len(bad) == 0:
        return None
    index = int(bad[0])
    if bad_header[index]:
        return index, "the CRC of a record length does not match"
    return index, "the CRC of a record's data does not match"


def _read_uint32(data: np.ndarray, positions: np.ndarray) -> np.ndarray:
    columns = np.stack([data[positions + byte] for byte in range(4)], axis=1)
    return np.ascontiguousarray(columns).view("<u4").ravel()


def _collect_scalars(
    buffer: bytes, offsets: np.ndarray, lengths: np.ndarray, result: EventFileRead
) -> tuple[int, _Problem | None]:
    """Decode the records' scalars into ``result``; return how many records were kept and a problem."""
    payload_starts = offsets + _HEADER_SIZE
    fast = decode_simple_scalars(buffer, payload_starts, lengths)

    # Records outside the common layout: file_version, TF2 tensors, several values per event.
    parts: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]] = {}
    kept = len(offsets)
    problem: _Problem | None = None
    view = memoryview(buffer)
    slow_points: dict[str, tuple[array[int], array[int], array[float], array[float]]] = {}
    for index in np.flatnonzero(~fast.matched).tolist():
        start = int(payload_starts[index])
        try:
            event = event_pb2.Event.FromString(view[start : start + int(lengths[index])])
        except DecodeError:
            kept = index
            problem = _Problem(FILE_CORRUPT, int(offsets[index]), "a record is not a valid TensorBoard event")
            break
        if not event.HasField("summary"):
            continue
        for value in event.summary.value:
            number = _scalar_value(value)
            if number is None:
                continue
            columns = slow_points.setdefault(value.tag, (array("q"), array("q"), array("d"), array("d")))
            columns[0].append(index)
            columns[1].append(int(event.step))
            columns[2].append(number)
            columns[3].append(float(event.wall_time))

    for tag, (records, steps, values, wall_times) in slow_points.items():
        parts.setdefault(tag, []).append(
            (
                np.frombuffer(records, dtype=np.int64),
                np.frombuffer(steps, dtype=np.int64),
                np.frombuffer(values, dtype=np.float64),
                np.frombuffer(wall_times, dtype=np.float64),
            )
        )
    for tag, series in fast.by_tag().items():
        parts.setdefault(tag, []).append(series)

    result.events += kept
    for tag, pieces in parts.items():
        points = _merge_in_file_order(pieces, kept)
        if points:
            result.scalars.setdefault(tag, []).extend(points)
    return kept, problem


def _merge_in_file_order(
    pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], kept: int
) -> list[ScalarPoint]:
    records = np.concatenate([piece[0] for piece in pieces])
    steps = np.concatenate([piece[1] for piece in pieces])
    values = np.concatenate([piece[2] for piece in pieces])
    wall_times = np.concatenate([piece[3] for piece in pieces])
    if len(pieces) > 1:
        order = np.argsort(records, kind="stable")
        records, steps, values, wall_times = records[order], steps[order], values[order], wall_times[order]
    keep = records < kept
    if not keep.all():
        steps, values, wall_times = steps[keep], values[keep], wall_times[keep]
    return list(map(ScalarPoint, steps.tolist(), values.tolist(), wall_times.tolist()))


def _scalar_value(value: summary_pb2.Summary.Value) -> float | None:
    kind = value.WhichOneof("value")
    if kind == "simple_value":
        return float(value.simple_value)
    if kind == "tensor":
        return tensor_scalar(value.tensor)
    return None


def tensor_scalar(tensor: tensor_pb2.TensorProto) -> float | None:
    """Return the number in a rank-0 numeric TensorProto, or None for any other tensor."""
    if len(tensor.tensor_shape.dim) != 0 or tensor.dtype not in _NUMPY_DTYPES:
        return None
    dtype = np.dtype(_NUMPY_DTYPES[tensor.dtype])
    if tensor.tensor_content:
        if len(tensor.tensor_content) < dtype.itemsize:
            return None
        return float(np.frombuffer(tensor.tensor_content, dtype=dtype, count=1)[0])

    # Without tensor_content the value sits in the typed repeated field for its dtype.
    if tensor.dtype == types_pb2.DT_HALF:
        if tensor.half_val:
            return float(np.array([tensor.half_val[0]], dtype=np.uint16).view(np.float16)[0])
        return None
    for values in (tensor.float_val, tensor.double_val, tensor.int_val, tensor.int64_val, tensor.bool_val):
        if values:
            return float(values[0])
    return None


def _damage_finding(problem: _Problem, source: str, severity: Severity, kept_events: int) -> Finding:
    where = f"byte offset {problem.offset}"
    text = f"{problem.detail} at {where}; the {kept_events} events before it were kept and the rest ignored."
    action = "Plots and checks use the events before the damage; copy the file again to see the rest."
    logger.info("%s: %s", source, text)
    return damaged_file(problem.finding_id, source, severity, where, text, action)
