"""The settings every training run shares (photos, output, crops, schedule, seed, checkpoints)
and their checks, as one frozen base dataclass for :class:`~vidstyle.training.config.TrainConfig`,
:class:`~vidstyle.training.distill_config.DistillConfig` and
:class:`~vidstyle.training.arbitrary_config.ArbitraryConfig`.

A config is checked when it is made, so a bad value is one ``InputError`` line before any photo,
net or VGG loads. Messages name the command-line options, which mirror the fields. Plain Python
(no PyTorch): ``--help`` reads the defaults and ``import vidstyle`` stays light.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, TypeVar

from ..errors import InputError

__all__ = ["MAX_CROP", "RunConfig", "at_least", "check_crop", "check_time_limit", "not_negative"]

MAX_CROP = 2048
"""Largest training crop (px): a batch of these already needs gigabytes of activations."""

C = TypeVar("C", bound="RunConfig")


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """``content_dir``: the training photos; ``out``: the output path without extension (``.safetensors``,
    ``.json``, ``_preview.jpg`` and ``.ckpt.pt`` are written beside it); ``size``: crop side (px);
    ``steps`` of ``batch_size`` crops at learning rate ``lr``; ``seed`` fixes every random draw (so a
    resumed run follows the uninterrupted one); a checkpoint every ``checkpoint_every`` steps;
    ``preview_image``: the photo of the previews (default: the first photo); ``device``: ``cpu``,
    ``cuda``, ``cuda:N`` (the Python API also takes ``auto``); ``init``: weights the net starts from.

    Subclasses give their own defaults, set :attr:`min_steps` and add checks in :meth:`check`.
    """

    min_steps: ClassVar[int] = 1
    """Fewest ``steps`` a run may have (0: a run may only write what ``init`` or a checkpoint holds)."""

    content_dir: str
    out: str
    size: int = 256
    steps: int = 2000
    batch_size: int = 4
    lr: float = 1e-3
    seed: int = 0
    checkpoint_every: int = 100
    preview_image: str | None = None
    device: str = "cpu"
    init: str | None = None

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """``InputError`` for a value that would otherwise fail only once the run is under way."""
        at_least("--steps", self.steps, self.min_steps)
        at_least("--batch-size", self.batch_size, 1)
        at_least("--checkpoint-every", self.checkpoint_every, 1)
        at_least("--seed", self.seed, 0)
        not_negative("--lr", self.lr)  # 0 is allowed: it keeps the weights (a check of --init)
        weights = getattr(self, "weights", None)
        for name, value in (asdict(weights) if weights is not None else {}).items():
            not_negative(f"--{name.replace('_', '-')}-weight", value)

    def to_dict(self) -> dict:
        """JSON-able fields (saved in checkpoints and sidecars)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls: type[C], d: dict) -> C:
        """The config :meth:`to_dict` gave (nested weights and tuples rebuilt)."""
        kw: dict[str, Any] = dict(d)
        for f in dataclasses.fields(cls):
            if f.name not in kw:
                continue
            if f.default_factory is not dataclasses.MISSING and isinstance(kw[f.name], dict):
                kw[f.name] = type(f.default_factory())(**kw[f.name])
            elif isinstance(f.default, tuple):
                kw[f.name] = tuple(kw[f.name])
        return cls(**kw)


def at_least(option: str, value: Any, lo: int) -> None:
    """``InputError`` unless ``value`` is a whole number of at least ``lo``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{option} must be a whole number, not {value!r}")
    if value < lo:
        raise InputError(f"{option} must be at least {lo}, not {value}")


def not_negative(option: str, value: Any) -> None:
    """``InputError`` unless ``value`` is a finite number >= 0."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    if not ok:
        raise InputError(f"{option} must be a number >= 0, not {value}")


def check_crop(size: int, arch: str) -> None:
    """``--size``: a multiple of ``arch``'s stride within 32..:data:`MAX_CROP`; an unknown arch is
    an ``InputError`` too."""
    from ..models.arch import resolve_arch

    try:
        stride = resolve_arch(arch).stride
    except (ValueError, AttributeError) as e:
        raise InputError(f"--arch: {e}") from None
    at_least("--size", size, 1)
    if size % stride or not 32 <= size <= MAX_CROP:
        raise InputError(f"--size must be a multiple of {stride} (the {arch} arch's stride) within 32..{MAX_CROP}")


def check_time_limit(seconds: float | None) -> None:
    """A run's time limit: None (no limit) or a positive number of seconds."""
    if seconds is not None and not (isinstance(seconds, numbers.Real) and math.isfinite(seconds) and seconds > 0):
        raise InputError("--time-limit must be a positive number")
