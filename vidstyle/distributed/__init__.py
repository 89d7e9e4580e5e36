"""Rendering one video on a Ray cluster: :class:`RayRenderJob` (see :mod:`.driver`).

Small modules with one job each: :mod:`.plan` (where the segments start and end, pure),
:mod:`.task` (what a worker runs), :mod:`.progress` (the frame counter behind the driver's
progress bar) and :mod:`.driver`. Ray itself is an optional dependency (``vidstyle[ray]``),
imported only when a job runs.
"""

from __future__ import annotations

import importlib

__all__ = ["RayRenderJob"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module("vidstyle.distributed.driver"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
