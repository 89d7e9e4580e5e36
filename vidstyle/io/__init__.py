"""vidstyle.io: reading and writing video files, image sequences and stills.

Public API (imported on first use, so the CLI's start and ``import vidstyle.io.atomic`` stay cheap)::

    from vidstyle.io import open_source, open_sink, parse_position, make_test_clip
"""

import os as _os

# OpenCV reads/writes EXR only when this is set before its first use.
_os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")

_LAZY = {
    "Frame": "vidstyle.io.frame",
    "VideoInfo": "vidstyle.io.frame",
    "open_source": "vidstyle.io.reader",
    "FrameSource": "vidstyle.io.reader",
    "open_sink": "vidstyle.io.writer",
    "FrameSink": "vidstyle.io.writer",
    "parse_position": "vidstyle.io.timecode",
    "parse_range": "vidstyle.io.timecode",
    "Position": "vidstyle.io.timecode",
    "make_test_clip": "vidstyle.io.synthetic",
    "make_test_image": "vidstyle.io.synthetic",
    "make_test_sequence": "vidstyle.io.synthetic",
}

__all__ = list(_LAZY)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vidstyle.io' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
