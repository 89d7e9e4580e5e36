"""Settings of an arbitrary-style decoder training run, without PyTorch (the CLI reads their
defaults for ``--help``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InputError
from .run_config import RunConfig, at_least

__all__ = ["DEFAULT_HOLDOUT", "STRIDE", "ArbitraryConfig", "ArbitraryLossWeights"]

#: Paintings kept out of training by default: those with fully trained per-style nets shipped, so
#: the arbitrary model can be compared against them on styles it never saw.
DEFAULT_HOLDOUT = ("munch_the_scream", "kandinsky_composition_vii", "hokusai_great_wave", "van_gogh_starry_night")

STRIDE = 4
"""Downsampling of the decoder's input features (relu3_1), so crop sides are multiples of it
(``vidstyle.models.arbitrary.STRIDE``, which needs PyTorch to import)."""


@dataclass(frozen=True)
class ArbitraryLossWeights:
    """Weights of the loss terms (feature terms are relative errors; pixels in 0..1)."""

    content: float = 1.0
    style: float = 2.0
    recon: float = 1.0
    recon_pixel: float = 10.0


@dataclass(frozen=True, kw_only=True)
class ArbitraryConfig(RunConfig):
    """Everything that defines a run (saved in checkpoints and the sidecar): paintings from
    ``style_dir`` (read with their long side at ``style_side`` px) except those whose file stems
    are in ``holdout``, a decoder ``width`` channels wide at full resolution; previews of
    ``preview_image`` in ``preview_style`` (default: a held-out painting); ``init``: a decoder
    ``.safetensors`` a fresh run starts from (new settings, new optimizer). ``steps`` may be 0:
    the run writes the decoder it starts from. Shared fields:
    :class:`~vidstyle.training.run_config.RunConfig`."""

    min_steps = 0

    style_dir: str
    holdout: tuple[str, ...] = DEFAULT_HOLDOUT
    size: int = 128
    style_side: int = 512
    steps: int = 20000
    batch_size: int = 2
    lr: float = 3e-4
    width: int = 32
    checkpoint_every: int = 50
    weights: ArbitraryLossWeights = field(default_factory=ArbitraryLossWeights)
    preview_style: str | None = None

    def check(self) -> None:
        if not isinstance(self.holdout, tuple):  # a list (Python, JSON) or comma-separated text (--holdout)
            names = self.holdout.split(",") if isinstance(self.holdout, str) else self.holdout
            object.__setattr__(self, "holdout", tuple(n.strip() for n in names if n.strip()))
        at_least("--size", self.size, 1)
        if self.size % STRIDE or self.size < 32:
            raise InputError(f"--size must be a multiple of {STRIDE} and at least 32")
        super().check()
        at_least("--width", self.width, 1)
        at_least("--style-side", self.style_side, 16)
