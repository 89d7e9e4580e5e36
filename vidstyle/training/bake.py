"""Baking a style image into a transform net: the image's objective and the net's starting point.

Two objectives (``DistillConfig.objective``):

* ``perceptual`` (the default for a style image): the per-style training objective of
  :func:`vidstyle.training.trainer.training_step` (VGG16 content loss, Gram style loss against the
  image, temporal, noise-stability and TV terms, ``vidstyle train``'s default weights). The
  arbitrary-style model's outputs carry a painting's texture less strongly than a trained style
  does, so a net that copies them inherits that gap; training against the image itself does not.
* ``distill``: copy the arbitrary-style model's outputs (L1 + gradient L1); no VGG backward pass,
  so a step is cheaper, but the result is bounded by that model.

The start (``init``): ``nearest`` picks the installed style of the bake's arch whose painting is
nearest the image by Gram distance (:mod:`vidstyle.training.nearest`), so the minutes of a bake
go to the new painting rather than to learning to draw at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ..models import vgg as V
from ..models.arbitrary import read_style_image
from ..models.transformer import TransformerNet
from . import nearest as N
from .config import LossWeights, TrainConfig
from .data import ContentImages
from .distill_config import NEAREST, NO_INIT
from .trainer import MARGIN, step_generators, style_grams, training_step

__all__ = ["image_record", "load_vgg", "mean_parts", "perceptual_step_fn", "resolve_init", "style_image_grams"]

StepFn = Callable[[TransformerNet, int], tuple[torch.Tensor, dict[str, float]]]


def image_record(path: str | Path) -> dict[str, str]:
    """What a sidecar records of a style image: its file name and sha256 digest."""
    p = Path(path)
    return {"file": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}


def load_vgg() -> V.VGGFeatures:
    """VGG16 for the perceptual objective and the Gram distances (a module-level hook for tests)."""
    return V.load_vgg16_features()


def perceptual_step_fn(cfg, content: ContentImages, vgg: V.VGGFeatures, style_img: torch.Tensor,
                       dev: torch.device) -> StepFn:
    """``step_fn(net, step) -> (loss, parts)`` for the perceptual objective against ``style_img``
    ``[1,3,H,W]``; ``parts["loss"]`` is the total, the other keys the weighted terms."""
    tcfg = TrainConfig(style_image=cfg.style_image, content_dir=cfg.content_dir, out=cfg.out, arch=cfg.arch,
                       size=cfg.size, batch_size=cfg.batch_size, lr=cfg.lr, seed=cfg.seed, noise_std=cfg.noise_std,
                       weights=LossWeights(), device=cfg.device)
    grams = style_grams(vgg, style_img.to(dev))

    def step_fn(net: TransformerNet, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        rng, g = step_generators(cfg.seed, step)
        batch = content.sample(cfg.batch_size, cfg.size + 2 * MARGIN, rng)
        loss, parts = training_step(net, vgg, grams, batch, tcfg, g)
        return loss, {"loss": parts.total, **{k: v for k, v in asdict(parts).items() if k not in ("total", "shift")}}

    return step_fn


def resolve_init(init: str | None, grams: N.Grams | None, student: TransformerNet,
                 exclude: tuple[str, ...] = ()) -> tuple[str | None, dict | None]:
    """The style to start from for ``init`` (``nearest``, ``none``, a style, or None) and what the
    sidecar records of the choice. ``grams``: the style image's, needed for ``nearest``."""
    if not init or init == NO_INIT:
        return None, None
    if init != NEAREST:
        return init, {"chosen": "given (--init)"}
    if grams is None:
        raise InputError("--init nearest needs --style-image")
    name, dist = N.nearest_style(grams, student.arch, exclude)
    if name is None:
        return None, {"chosen": f"nearest: no installed {student.arch.name} style with known painting Grams; random"}
    return name, {"chosen": "nearest installed style by Gram distance (VGG16 relu1_2..relu3_3) of its painting",
                  "distances": {k: round(v, 4) for k, v in sorted(dist.items(), key=lambda kv: kv[1])}}


def style_image_grams(path: str, vgg: nn.Module) -> dict[str, torch.Tensor]:
    """Grams of the style image at ``path`` (checked: readable, not tiny, not blank)."""
    return N.image_grams(vgg, read_style_image(path, N.STYLE_SIDE))


def mean_parts(rows: list[dict[str, float]]) -> dict[str, float]:
    """Per-key means of the loss ``rows`` (keys of the first row)."""
    return {k: float(np.mean([r[k] for r in rows if k in r])) for k in rows[0]} if rows else {}
