"""CRC-32C (Castagnoli) checksums as TFRecord framing uses them, in plain Python and NumPy.

No compiled crc32c package is a dependency, so this module computes the checksum itself. The
byte-at-a-time loop measured about 10 MB/s on a 2-core VM, slow for large event files. The batch
function runs the same table lookup over many records at once with NumPy arrays, one byte
column at a time (about 60 MB/s on the same VM for 90-byte records, the size of a scalar event).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Reversed form of the Castagnoli polynomial 0x1EDC6F41.
_POLYNOMIAL = 0x82F63B78
# TFRecord stores a "masked" CRC: rotated right by 15 bits plus this constant.
_MASK_DELTA = 0xA282EAD8
_UINT32 = 0xFFFFFFFF
# Records up to this many bytes go through the batch path; longer ones use the loop. This
# bounds the temporary byte matrix at (records in a chunk) x (this length).
_BATCH_MAX_RECORD = 4096
_BATCH_CHUNK = 4096


def _make_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLYNOMIAL if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _make_table()
_TABLE_ARRAY = np.array(_TABLE, dtype=np.uint32)


def crc32c(data: bytes | memoryview) -> int:
    """Compute the CRC-32C of ``data`` one byte at a time with a 256-entry table."""
    crc = _UINT32
    table = _TABLE
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _UINT32


def mask(crc: int) -> int:
    """Apply TFRecord's CRC masking to a raw CRC-32C value."""
    return ((((crc >> 15) | (crc << 17)) & _UINT32) + _MASK_DELTA) & _UINT32


def masked_crc32c(data: bytes | memoryview) -> int:
    """Compute the masked CRC-32C that TFRecord stores after the length and after the data."""
    return mask(crc32c(data))


def masked_crc32c_batch(buffer: bytes, offsets: Sequence[int], lengths: Sequence[int]) -> list[int]:
    """Compute the masked CRC-32C of ``buffer[offset:offset + length]`` for each pair."""
    result = [0] * len(offsets)
    short = [i for i, length in enumerate(lengths) if length <= _BATCH_MAX_RECORD]
    for i, length in enumerate(lengths):
        if length > _BATCH_MAX_RECORD:
            result[i] = masked_crc32c(memoryview(buffer)[offsets[i] : offsets[i] + length])

    # Sorting by length keeps each chunk's matrix narrow when record sizes vary.
    short.sort(key=lambda i: lengths[i])
    data = np.frombuffer(buffer, dtype=np.uint8)
    for start in range(0, len(short), _BATCH_CHUNK):
        indexes = short[start : start + _BATCH_CHUNK]
        crcs = _crc_chunk(data, [offsets[i] for i in indexes], [lengths[i] for i in indexes])
        for i, crc in zip(indexes, crcs, strict=True):
            result[i] = mask(int(crc))
    return result


def _crc_chunk(data: np.ndarray, offsets: list[int], lengths: list[int]) -> np.ndarray:
    starts = np.array(offsets, dtype=np.int64)
    sizes = np.array(lengths, dtype=np.int64)
    width = int(sizes.max()) if len(sizes) else 0
    crc = np.full(len(starts), _UINT32, dtype=np.uint32)
    if width == 0:
        return crc ^ np.uint32(_UINT32)

    # Row r contains record r's bytes. Positions past its length are clipped, then ignored.
    positions = starts[:, None] + np.arange(width, dtype=np.int64)[None, :]
    matrix = data[np.minimum(positions, len(data) - 1)]
    for column in range(width):
        active = sizes > column
        updated = _TABLE_ARRAY[(crc ^ matrix[:, column]) & 0xFF] ^ (crc >> np.uint32(8))
        crc = np.where(active, updated, crc)
    return crc ^ np.uint32(_UINT32)
