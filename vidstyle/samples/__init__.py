"""A short real clip for demos (see README.md in this folder)."""

from importlib import resources
from pathlib import Path


def sample_clip_path() -> Path:
    """Path of the bundled 640x360, 75-frame sample clip (``city_pan.mp4``)."""
    return Path(str(resources.files("vidstyle.samples") / "city_pan.mp4"))
