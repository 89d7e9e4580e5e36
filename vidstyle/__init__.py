"""vidstyle: video style transfer with temporal consistency.

The Python API (see ``docs/python-api.md``): ``RenderConfig`` + ``RenderJob`` render a file,
``Stylizer`` and ``VideoStylizer`` stylize frames a program supplies. The names are looked up on
first use, so ``import vidstyle`` stays light (no torch until a job or a stylizer is made).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Cancelled", "Controls", "Progress", "RenderConfig", "RenderJob", "RenderStats", "Runtime",
           "Stylizer", "VideoStylizer", "VidstyleError"]


def __getattr__(name: str):
    if name == "VidstyleError":
        from .errors import VidstyleError  # noqa: PLC0415

        return VidstyleError
    if name in __all__:
        from . import api  # noqa: PLC0415

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
