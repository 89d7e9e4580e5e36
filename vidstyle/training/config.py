"""What defines a training run: loss weights, the run's settings, where its checkpoint lives.

Plain Python (no PyTorch), so ``vidstyle train --help`` shows the defaults without loading the
trainer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .run_config import RunConfig, at_least, check_crop, not_negative

__all__ = ["LossWeights", "TrainConfig", "checkpoint_path"]


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms (perceptual terms are relative errors, images in [0,1])."""

    content: float = 1.0
    style: float = 5.0
    tv: float = 1e-3
    temporal: float = 20.0
    feature_temporal: float = 0.5
    noise: float = 50.0
    shift: float = 0.0  # shift equivariance (``losses.shift_equivariance_loss``); 0: off


@dataclass(frozen=True, kw_only=True)
class TrainConfig(RunConfig):
    """Everything that defines a training run (saved in checkpoints and the sidecar): the painting
    ``style_image`` (read with its long side at ``style_size`` px) learnt by an ``arch`` net (see
    :data:`vidstyle.models.arch.ARCH_CHOICES`); ``init``: a style (name or .safetensors) whose
    weights the net starts from; ``style_title``/``style_license``/``style_source`` are copied
    into the sidecar. The shared fields: :class:`~vidstyle.training.run_config.RunConfig`."""

    style_image: str
    arch: str = "full"
    style_size: int = 512
    content_layer: str = "relu2_2"
    noise_std: float = 0.02
    weights: LossWeights = field(default_factory=LossWeights)
    style_title: str | None = None
    style_license: str | None = None
    style_source: str | None = None

    def check(self) -> None:
        check_crop(self.size, self.arch)
        super().check()
        at_least("--style-size", self.style_size, 16)
        not_negative("noise_std", self.noise_std)


def checkpoint_path(out: str | Path) -> Path:
    """Where the resumable checkpoint of ``out`` lives."""
    return Path(str(out) + ".ckpt.pt")
