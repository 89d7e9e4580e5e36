"""vidstyle: video style transfer with temporal consistency.

The Python API (see ``docs/python-api.md``): ``RenderConfig`` + ``RenderJob`` render a file,
``Stylizer`` and ``VideoStylizer`` stylize frames a program supplies; ``TrainJob``, ``DistillJob``,
``ArbitraryTrainJob``, ``evaluate`` and ``export`` do what the other commands do. The names are
looked up on first use, so ``import vidstyle`` stays light (no torch until a job or a stylizer is made).
"""

from __future__ import annotations

from . import api as _api

__version__ = "0.1.0"

__all__ = list(_api.__all__)


def __getattr__(name: str):
    if name in __all__:
        return getattr(_api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
