"""Keep freed memory in the process for the next frame instead of handing it back to the kernel.

A streaming run allocates and frees the same few-megabyte buffers every frame (decoded frames,
tensors of the net's input and output, flows, warps, the blend and its detail band, the output
frame). glibc's malloc serves blocks above its mmap threshold with fresh pages and gives the top
of a heap back to the kernel once more than its trim threshold lies free there; both thresholds
start small (128 KiB), so each frame pays a page fault (and the kernel zeroing a page) for every
page of those buffers again. Raising the two thresholds lets the next frame reuse the same pages. What is kept stays bounded (a heap top of at most
:data:`TRIM_THRESHOLD` per malloc arena), so memory stays flat with clip length; what is computed
does not change.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["keep_freed_memory", "MMAP_THRESHOLD", "TRIM_THRESHOLD"]

#: Blocks below this come from malloc's heaps, not from fresh mmap pages: a 1080p float RGB frame
#: (25 MB) is below it; 32 MiB is the largest value glibc takes on 64-bit systems.
MMAP_THRESHOLD = 32 << 20
#: Free memory at a heap's top kept for reuse (bytes), above the buffers a 640x360 to 1080p frame
#: churns through.
TRIM_THRESHOLD = 128 << 20

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_applied = False


def keep_freed_memory() -> bool:
    """Raise glibc malloc's mmap and trim thresholds for this process (once); True when the
    allocator took them, False where there is no glibc ``mallopt`` (macOS, Windows, musl)."""
    global _applied
    if _applied:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _applied = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    return _applied
