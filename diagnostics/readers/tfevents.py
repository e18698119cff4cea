"""Reading scalars from TensorBoard event files without TensorFlow, keeping what precedes damage.

An event file is a sequence of TFRecord frames: a little-endian uint64 length, the masked
CRC-32C of those 8 bytes, the payload (a serialized ``tensorboard.Event``), and the masked
CRC-32C of the payload.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from google.protobuf.message import DecodeError
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, types_pb2

from ..findings import Finding, Severity
from ..run import ScalarPoint
from .crc32c import masked_crc32c_batch
from .problems import FILE_CORRUPT, FILE_TRUNCATED, damaged_file, unreadable_file

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
_FRAME_OVERHEAD = _HEADER.size + _FOOTER.size

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


@dataclass(frozen=True)
class _Frame:
    offset: int
    payload_start: int
    length: int
    header_crc: int
    payload_crc: int


@dataclass
class EventFileRead:
    """Scalars read from one event file: tag -> points in file order, plus findings."""

    scalars: dict[str, list[ScalarPoint]] = field(default_factory=dict)
    events: int = 0
    findings: list[Finding] = field(default_factory=list)


def read_event_file(
    path: Path, source: str, verify_crc: bool = True, severity: Severity = Severity.INFO
) -> EventFileRead:
    """Read every scalar in one ``events.out.tfevents.*`` file.

    ``verify_crc`` checks both CRCs of every record (default on). The check costs about as
    much as parsing; turn it off only for very large files read repeatedly. Records after the
    first damaged or truncated one are dropped, and a finding gives its byte offset.
    """
    result = EventFileRead()
    try:
        buffer = path.read_bytes()
    except OSError as error:
        result.findings.append(unreadable_file(source, severity, error))
        return result

    frames, end_problem = _split_frames(buffer)
    if verify_crc:
        frames, crc_problem = _check_crcs(buffer, frames)
        end_problem = crc_problem or end_problem

    parse_problem = _collect_scalars(buffer, frames, result)
    problem = parse_problem or end_problem
    if problem is not None:
        finding_id, offset, detail = problem
        result.findings.append(_damage_finding(finding_id, source, severity, offset, detail, result.events))
    return result


def _split_frames(buffer: bytes) -> tuple[list[_Frame], tuple[str, int, str] | None]:
    frames: list[_Frame] = []
    offset = 0
    size = len(buffer)
    while offset < size:
        if size - offset < _HEADER.size:
            return frames, (FILE_TRUNCATED, offset, "the file ends inside a record header")
        length, header_crc = _HEADER.unpack_from(buffer, offset)
        if length == 0 and buffer.count(b"\0", offset) == size - offset:
            # Writers always set wall_time, so no real event is 0 bytes long. A zero-filled tail
            # is space the file system had allocated when the writer stopped before flushing
            # (seen in a real Ludwig 0.10.0 training log).
            detail = f"the last {size - offset} bytes are all zero (the writer stopped before flushing them)"
            return frames, (FILE_TRUNCATED, offset, detail)
        payload_start = offset + _HEADER.size
        if payload_start + length + _FOOTER.size > size:
            return frames, (
                FILE_TRUNCATED,
                offset,
                f"a record of {length} bytes runs past the end of the file",
            )
        (payload_crc,) = _FOOTER.unpack_from(buffer, payload_start + length)
        frames.append(_Frame(offset, payload_start, length, header_crc, payload_crc))
        offset = payload_start + length + _FOOTER.size
    return frames, None


def _check_crcs(buffer: bytes, frames: list[_Frame]) -> tuple[list[_Frame], tuple[str, int, str] | None]:
    header_crcs = masked_crc32c_batch(buffer, [frame.offset for frame in frames], [8] * len(frames))
    payload_crcs = masked_crc32c_batch(
        buffer, [frame.payload_start for frame in frames], [frame.length for frame in frames]
    )
    for index, frame in enumerate(frames):
        if header_crcs[index] != frame.header_crc:
            return frames[:index], (FILE_CORRUPT, frame.offset, "the CRC of a record length does not match")
        if payload_crcs[index] != frame.payload_crc:
            return frames[:index], (FILE_CORRUPT, frame.offset, "the CRC of a record's data does not match")
    return frames, None


def _collect_scalars(
    buffer: bytes, frames: list[_Frame], result: EventFileRead
) -> tuple[str, int, str] | None:
    view = memoryview(buffer)
    for frame in frames:
        try:
            event = event_pb2.Event.FromString(view[frame.payload_start : frame.payload_start + frame.length])
        except DecodeError:
            return FILE_CORRUPT, frame.offset, "a record is not a valid TensorBoard event"
        result.events += 1
        if not event.HasField("summary"):
            continue
        for value in event.summary.value:
            number = _scalar_value(value)
            if number is not None:
                point = ScalarPoint(step=int(event.step), value=number, wall_time=float(event.wall_time))
                result.scalars.setdefault(value.tag, []).append(point)
    return None


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


def _damage_finding(
    finding_id: str, source: str, severity: Severity, offset: int, detail: str, kept_events: int
) -> Finding:
    where = f"byte offset {offset}"
    text = f"{detail} at {where}; the {kept_events} events before it were kept and the rest ignored."
    action = "Plots and checks use the events before the damage; copy the file again to see the rest."
    logger.info("%s: %s", source, text)
    return damaged_file(finding_id, source, severity, where, text, action)
