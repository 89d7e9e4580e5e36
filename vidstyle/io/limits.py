"""The pixel budget: frames larger than a limit are refused before they are decoded.

A highly compressible PNG of 20000x20000 is about a megabyte on disk but 1.2 GB once decoded and
several times that as float tensors, so the size is read from the file's header (PNG, JPEG, TIFF,
BMP, WebP and EXR here; PyAV's stream size for video) and compared with the limit first. The
limit is :data:`DEFAULT_MAX_PIXELS` (100 megapixels: a 10000x10000 image, far above 8K video),
``$VIDSTYLE_MAX_PIXELS`` or a command's ``--max-pixels``.
"""

from __future__ import annotations

import os
import struct

from ..errors import InputError

DEFAULT_MAX_PIXELS = 100_000_000
ENV = "VIDSTYLE_MAX_PIXELS"
#: Bytes read from the start of a file to find its size (a JPEG's frame header may follow large
#: metadata blocks, which are skipped by seeking).
HEADER_BYTES = 1 << 16

__all__ = ["DEFAULT_MAX_PIXELS", "ENV", "check_image_file", "check_pixels", "image_header_size", "max_pixels"]


def max_pixels(override: int | None = None) -> int:
    """The pixel limit per frame: ``override``, else ``$VIDSTYLE_MAX_PIXELS``, else the default."""
    if override is not None:
        return int(override)
    text = os.environ.get(ENV, "").strip()
    if not text:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(float(text))
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"${ENV} must be a positive number of pixels, not {text!r}")
    return value


def check_pixels(width: int, height: int, what: str, limit: int | None = None) -> None:
    """``InputError`` when a ``width x height`` frame of ``what`` exceeds the pixel limit."""
    limit = max_pixels(limit)
    if int(width) * int(height) > limit:
        raise InputError(f"{what}: {width}x{height} is {width * height / 1e6:.0f} megapixels, above the limit of "
                         f"{limit / 1e6:g} (raise it with --max-pixels or ${ENV})")


def check_image_file(path: str | os.PathLike, limit: int | None = None) -> tuple[int, int] | None:
    """Read ``path``'s size from its header and refuse it above the limit; returns ``(w, h)``, or
    None for a format whose header is not parsed here (the decoder then decides)."""
    size = image_header_size(path)
    if size is not None:
        check_pixels(*size, str(path), limit)
    return size


def image_header_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """``(width, height)`` from an image file's header without decoding it, or None when the
    format is not recognised or the header is unreadable."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head.startswith(b"\xff\xd8"):
                return _jpeg_size(f)
    except OSError:
        return None
    try:
        return _size_from_head(head) or _by_path(path, head)
    except (OSError, struct.error, IndexError, ValueError):
        return None


def _size_from_head(b: bytes) -> tuple[int, int] | None:
    if b.startswith(b"\x89PNG\r\n\x1a\n") and b[12:16] == b"IHDR":
        return struct.unpack(">II", b[16:24])
    if b[:2] == b"BM":
        w, h = struct.unpack("<ii", b[18:26])
        return abs(w), abs(h)
    if b[:4] == b"RIFF" and b[8:12] == b"WEBP":
        kind = b[12:16]
        if kind == b"VP8X":
            return 1 + int.from_bytes(b[24:27], "little"), 1 + int.from_bytes(b[27:30], "little")
        if kind == b"VP8L":
            bits = int.from_bytes(b[21:25], "little")
            return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        if kind == b"VP8 ":
            w, h = struct.unpack("<HH", b[26:30])
            return w & 0x3FFF, h & 0x3FFF
        return None
    return None  # TIFF and EXR keep their size further in: see _by_path


def _jpeg_size(f) -> tuple[int, int] | None:
    """Walk a JPEG's markers up to its frame header (SOF0..SOF15 but DHT, JPG and DAC)."""
    f.seek(2)
    while True:
        byte = f.read(1)
        while byte and byte != b"\xff":
            byte = f.read(1)
        while byte == b"\xff":
            byte = f.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            continue  # no length
        seg = f.read(2)
        if len(seg) < 2:
            return None
        length = struct.unpack(">H", seg)[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            data = f.read(5)
            if len(data) < 5:
                return None
            h, w = struct.unpack(">HH", data[1:5])
            return w, h
        if marker == 0xDA or length < 2:
            return None
        f.seek(length - 2, os.SEEK_CUR)


def _tiff_size(path) -> tuple[int, int] | None:
    with open(path, "rb") as f:
        data = f.read(HEADER_BYTES)
    order = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack(order + "I", data[4:8])
    if ifd + 2 > len(data):
        return None
    (n,) = struct.unpack(order + "H", data[ifd:ifd + 2])
    size: dict[int, int] = {}
    for i in range(n):
        e = ifd + 2 + 12 * i
        if e + 12 > len(data):
            break
        tag, kind = struct.unpack(order + "HH", data[e:e + 4])
        if tag in (256, 257):
            size[tag] = struct.unpack(order + ("H" if kind == 3 else "I"), data[e + 8:e + (10 if kind == 3 else 12)])[0]
    return (size[256], size[257]) if len(size) == 2 else None


def _exr_size(path) -> tuple[int, int] | None:
    with open(path, "rb") as f:
        data = f.read(HEADER_BYTES)
    pos = 8
    while pos < len(data) and data[pos] != 0:
        name_end = data.index(b"\0", pos)
        type_end = data.index(b"\0", name_end + 1)
        (n,) = struct.unpack("<i", data[type_end + 1:type_end + 5])
        value = data[type_end + 5:type_end + 5 + n]
        if data[pos:name_end] == b"dataWindow" and n == 16:
            x0, y0, x1, y1 = struct.unpack("<iiii", value)
            return x1 - x0 + 1, y1 - y0 + 1
        pos = type_end + 5 + n
    return None


def _by_path(path, head: bytes) -> tuple[int, int] | None:
    if head[:4] in (b"II*\0", b"MM\0*"):
        return _tiff_size(path)
    if head[:4] == b"\x76\x2f\x31\x01":
        return _exr_size(path)
    return None
