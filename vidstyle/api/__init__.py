"""The Python API: render jobs (:mod:`.job`) configured by frozen dataclasses (:mod:`.config`),
and the frame API for embedding (:mod:`.frames`, :mod:`.video`; :mod:`.switching` switches
styles frame by frame, for live mode).

The names are resolved on first use (``vidstyle.api.RenderConfig`` imports no torch; the job and
the stylizers do).
"""

from __future__ import annotations

import importlib

__all__ = ["Cancelled", "Controls", "Progress", "RenderConfig", "RenderJob", "RenderStats", "Runtime",
           "Stylizer", "VideoStylizer", "VidstyleError"]

_WHERE = {
    "Cancelled": "vidstyle.errors",
    "Controls": "vidstyle.api.config",
    "RenderConfig": "vidstyle.api.config",
    "Runtime": "vidstyle.api.config",
    "Progress": "vidstyle.api.stats",
    "RenderStats": "vidstyle.api.stats",
    "RenderJob": "vidstyle.api.job",
    "Stylizer": "vidstyle.api.frames",
    "VideoStylizer": "vidstyle.api.video",
    "VidstyleError": "vidstyle.errors",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
