"""Decoding the common scalar event layout of many TFRecord payloads at once with NumPy.

TensorBoard and torch writers serialize a scalar as an ``Event`` with ``wall_time`` (field 1,
a double), ``step`` (field 2, a varint, left out when 0) and ``summary`` (field 5). The summary
contains one ``Summary.Value`` with ``tag`` (field 1) and ``simple_value`` (field 2, a float).
Protobuf writes fields in number order, so these bytes have a fixed shape:

    09 <8 bytes>  [10 <varint step>]  2A <varint>  0A <varint>  0A <varint n> <n tag bytes>  15 <4 bytes>

Each record is checked against that shape in full, every length included. A record that differs
in any way (the file_version event, TF2 tensor scalars, several values, extra fields) is left
for the protobuf parser, so this path never guesses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_WALL_TIME_KEY = 0x09  # field 1, fixed64
_STEP_KEY = 0x10  # field 2, varint
_SUMMARY_KEY = 0x2A  # field 5, length-delimited
_VALUE_KEY = 0x0A  # Summary field 1 (value), length-delimited
_TAG_KEY = 0x0A  # Summary.Value field 1 (tag), length-delimited
_SIMPLE_VALUE_KEY = 0x15  # Summary.Value field 2, fixed32
_MAX_VARINT_BYTES = 10


@dataclass
class SimpleScalars:
    """Scalars decoded from the records that have the common layout.

    Arrays are indexed by record (all records passed in); only entries where ``matched`` is
    true hold data.
    """

    matched: np.ndarray
    steps: np.ndarray
    values: np.ndarray
    wall_times: np.ndarray
    tag_ids: np.ndarray
    tags: list[str]

    def by_tag(self) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Return tag -> (record indexes, steps, values, wall times), in file order."""
        records = np.flatnonzero(self.matched)
        if len(records) == 0:
            return {}
        ids = self.tag_ids[records]
        order = np.argsort(ids, kind="stable")
        boundaries = np.flatnonzero(np.diff(ids[order])) + 1
        grouped: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        for group in np.split(records[order], boundaries):
            tag = self.tags[int(self.tag_ids[group[0]])]
            grouped[tag] = (
                group,
                self.steps[group],
                self.values[group].astype(np.float64),
                self.wall_times[group],
            )
        return grouped


def decode_simple_scalars(buffer: bytes, starts: np.ndarray, lengths: np.ndarray) -> SimpleScalars:
    """Decode every payload ``buffer[start:start + length]`` that has the common scalar layout."""
    data = np.frombuffer(buffer, dtype=np.uint8)
    count = len(starts)
    if count == 0 or len(data) == 0:
        empty = np.zeros(count, dtype=bool)
        return SimpleScalars(
            empty,
            np.zeros(count, np.int64),
            np.zeros(count, np.float32),
            np.zeros(count),
            np.zeros(count, np.int64),
            [],
        )
    last = len(data) - 1
    ends = starts + lengths

    def byte_at(positions: np.ndarray) -> np.ndarray:
        # Positions past the buffer are clipped; the length checks reject those records anyway.
        values: np.ndarray = data[np.minimum(positions, last)]
        return values

    matched = (lengths >= 9) & (byte_at(starts) == _WALL_TIME_KEY)
    wall_times = _read_fixed(data, np.minimum(starts + 1, last - 8), 8).view("<f8").ravel()

    position = starts + 9
    has_step = byte_at(position) == _STEP_KEY
    step_values, step_size, step_ok = _read_varints(data, position + 1, last)
    matched &= ~has_step | step_ok
    steps = np.where(has_step, step_values.view(np.int64), 0)
    position = np.where(has_step, position + 1 + step_size, position)

    matched &= byte_at(position) == _SUMMARY_KEY
    summary_size, size_bytes, size_ok = _read_varints(data, position + 1, last)
    summary_start = position + 1 + size_bytes
    matched &= size_ok & (summary_start + summary_size.astype(np.int64) == ends)

    matched &= byte_at(summary_start) == _VALUE_KEY
    value_size, size_bytes, size_ok = _read_varints(data, summary_start + 1, last)
    value_start = summary_start + 1 + size_bytes
    matched &= size_ok & (value_start + value_size.astype(np.int64) == ends)

    matched &= byte_at(value_start) == _TAG_KEY
    tag_size, size_bytes, size_ok = _read_varints(data, value_start + 1, last)
    tag_start = value_start + 1 + size_bytes
    tag_lengths = tag_size.astype(np.int64)
    float_key = tag_start + tag_lengths
    matched &= size_ok & (float_key + 5 == ends) & (byte_at(float_key) == _SIMPLE_VALUE_KEY)

    values = _read_fixed(data, np.minimum(float_key + 1, last - 4), 4).view("<f4").ravel()
    tag_ids, tags = _tag_ids(data, tag_start, tag_lengths, matched)
    return SimpleScalars(matched, steps, values, wall_times, tag_ids, tags)


def _read_fixed(data: np.ndarray, positions: np.ndarray, size: int) -> np.ndarray:
    columns: np.ndarray = np.empty((len(positions), size), dtype=np.uint8)
    for byte in range(size):
        columns[:, byte] = data[positions + byte]
    return columns


def _read_varints(
    data: np.ndarray, positions: np.ndarray, last: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (values as uint64, encoded sizes, complete) for the varints at ``positions``."""
    values = np.zeros(len(positions), dtype=np.uint64)
    sizes = np.zeros(len(positions), dtype=np.int64)
    continuing = np.ones(len(positions), dtype=bool)
    for index in range(_MAX_VARINT_BYTES):
        raw = data[np.minimum(positions + index, last)].astype(np.uint64)
        payload = (raw & np.uint64(0x7F)) << np.uint64(7 * index)
        values |= np.where(continuing, payload, np.uint64(0))
        sizes += continuing
        continuing &= (raw & np.uint64(0x80)) != 0
        if not continuing.any():
            break
    return values, sizes, ~continuing


def _tag_ids(
    data: np.ndarray, tag_starts: np.ndarray, tag_lengths: np.ndarray, matched: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Number the distinct tag strings of the matched records; unmatch tags that are not UTF-8."""
    tag_ids = np.zeros(len(tag_starts), dtype=np.int64)
    tags: list[str] = []
    candidates = np.flatnonzero(matched)
    for length in np.unique(tag_lengths[candidates]).tolist():
        members = candidates[tag_lengths[candidates] == length]
        if length == 0:
            rows = np.zeros((len(members), 1), dtype=np.uint8)
        else:
            rows = _read_fixed(data, tag_starts[members], length)
        keys = np.ascontiguousarray(rows).view(f"V{rows.shape[1]}").ravel()
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        tag_ids[members] = len(tags) + inverse
        for key, index in enumerate(first.tolist()):
            raw = bytes(rows[index]) if length else b""
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError:
                # The protobuf parser rejects such a record; let it report the damage.
                matched[members[inverse == key]] = False
                name = ""
            tags.append(name)
    return tag_ids, tags
