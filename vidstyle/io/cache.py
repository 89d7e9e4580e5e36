"""vidstyle's cache folder: exported nets, int8 copies, converted VGG weights.

``$VIDSTYLE_CACHE`` if set, else ``$XDG_CACHE_HOME/vidstyle``, else ``~/.cache/vidstyle``. Every
cache user calls :func:`cache_dir`, so one variable moves (or isolates, in tests) all of them.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir(sub: str | None = None) -> Path:
    """The cache folder, or its subfolder ``sub`` (not created: writers create it on first use)."""
    base = os.environ.get("VIDSTYLE_CACHE")
    if base:
        root = Path(base).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "vidstyle"
    return root / sub if sub else root
