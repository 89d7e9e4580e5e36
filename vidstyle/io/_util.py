"""Small helpers shared by the reader and the writer (private)."""

from __future__ import annotations

import os
import re

# OpenCV only reads/writes EXR when this is set before its first EXR call; set it before any
# ``import cv2`` in this package.
os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".exr", ".bmp", ".webp"}

_PRINTF = re.compile(r"%(0?)(\d*)d")
_HASHES = re.compile(r"#+")
_NATURAL = re.compile(r"(\d+)")


def natural_key(name: str):
    """Sort key that orders ``f2`` before ``f10``."""
    return [int(t) if t.isdigit() else t.lower() for t in _NATURAL.split(name)]


def one_line(exc: BaseException) -> str:
    """A short single-line description of an exception (for error messages / warnings)."""
    text = str(exc).strip().replace("\n", " ") or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def has_pattern(path: str) -> bool:
    """Does the file name contain a printf (``%04d``) or hash (``####``) frame-number field?"""
    name = os.path.basename(path)
    return bool(_PRINTF.search(name) or _HASHES.search(name))


def pattern_regex(path: str) -> tuple[re.Pattern, str]:
    """Turn ``shot_%04d.png`` / ``shot_####.png`` into (regex over file names, printf template).

    The regex has one group, the frame number.
    """
    name = os.path.basename(path)
    m = _PRINTF.search(name)
    if m:
        width = int(m.group(2) or 0)
        zero = m.group(1) == "0"
        template = name
    else:
        m = _HASHES.search(name)
        if not m:
            raise ValueError(f"no frame-number field in {name!r}")
        width = len(m.group(0))
        zero = width > 1
        template = name[: m.start()] + f"%0{width}d" + name[m.end():]
    if _PRINTF.search(name[m.end():]) or _HASHES.search(name[m.end():]):
        raise ValueError(f"more than one frame-number field in {name!r}")
    prefix, suffix = re.escape(name[: m.start()]), re.escape(name[m.end():])
    if zero and width > 1:
        digits = rf"(\d{{{width},}})"
    else:
        digits = r"(\d+)"
    return re.compile(f"^{prefix}{digits}{suffix}$"), template
