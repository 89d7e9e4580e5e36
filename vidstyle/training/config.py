"""What defines a training run: loss weights, the run's settings, where its checkpoint lives.

Plain Python (no PyTorch), so ``vidstyle train --help`` shows the defaults without loading the
trainer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["OBJECTIVES", "LossWeights", "TrainConfig", "checkpoint_path"]

OBJECTIVES = ("perceptual", "distill")
"""What a distillation's student learns from (:mod:`vidstyle.training.bake`): the style image's
perceptual losses, or a teacher net's outputs."""


@dataclass
class LossWeights:
    """Weights of the loss terms (perceptual terms are relative errors, images in [0,1])."""

    content: float = 1.0
    style: float = 5.0
    tv: float = 1e-3
    temporal: float = 20.0
    feature_temporal: float = 0.5
    noise: float = 50.0
    shift: float = 0.0  # shift equivariance (``losses.shift_equivariance_loss``); 0: off


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved in checkpoints and the sidecar)."""

    style_image: str
    content_dir: str
    out: str
    arch: str = "full"
    size: int = 256
    style_size: int = 512
    steps: int = 2000
    batch_size: int = 4
    lr: float = 1e-3
    seed: int = 0
    content_layer: str = "relu2_2"
    checkpoint_every: int = 100
    noise_std: float = 0.02
    weights: LossWeights = field(default_factory=LossWeights)
    preview_image: str | None = None
    device: str = "cpu"
    init: str | None = None  # a style (name or .safetensors) whose weights the net starts from
    # Metadata copied into the sidecar.
    style_title: str | None = None
    style_license: str | None = None
    style_source: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        d["weights"] = LossWeights(**d.get("weights", {}))
        return cls(**d)


def checkpoint_path(out: str | Path) -> Path:
    """Where the resumable checkpoint of ``out`` lives."""
    return Path(str(out) + ".ckpt.pt")
