"""vidstyle's cache folder: one place decides where exported nets and converted weights live."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$VIDSTYLE_CACHE``, else ``$XDG_CACHE_HOME/vidstyle``, else ``~/.cache/vidstyle``."""
    base = os.environ.get("VIDSTYLE_CACHE")
    if base:
        return Path(base).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return root / "vidstyle"
