"""Distillation: teach a smaller (faster) net to reproduce a trained style net.

A trained style (the *teacher*, e.g. a light or full net) stylizes random content crops; the
*student* (e.g. the ``tiny`` arch) learns to match it. No VGG and no style image are needed, so a
step costs a teacher forward plus a student forward/backward (about 10x cheaper than a perceptual
training step on CPU), and the student inherits the teacher's style and temporal stability.

The teacher may instead be the arbitrary-style model for one style image (``style_image``): the
same loop then *bakes* that image into a transform net, which runs far faster than the arbitrary
model and on every engine (ONNX Runtime, OpenVINO, int8); the sidecar names the image by file name
and sha256 digest.

Loss per step, images in [0,1] ``[B,3,H,W]``:

* ``pixel``: L1 between student and teacher outputs;
* ``gradient``: L1 between their horizontal and vertical finite differences (keeps the brush
  texture sharp; plain L1 alone gives a blurry student);
* noise stability: the student sees each crop plus Gaussian noise (``noise_std``) and must still
  give the teacher's output for the clean crop (robust to sensor noise and compression, as the
  noise-stability loss of training asks), at no extra cost.

Checkpoints and ``resume`` work like :func:`vidstyle.training.trainer.train` (same per-step
seeding, so a resumed run follows the uninterrupted one exactly).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ..models.styles import load_style, save_style
from ..models.transformer import TransformerNet
from .data import ContentImages, read_rgb
from .distill_config import DistillConfig, check_teacher
from .trainer import RunControl, check_run, checkpoint_path, open_checkpoint, restore_checkpoint, run_steps, step_generators


def _grad_xy(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return y[..., :, 1:] - y[..., :, :-1], y[..., 1:, :] - y[..., :-1, :]


def distill_loss(student: torch.Tensor, target: torch.Tensor, gradient_weight: float = 1.0) -> torch.Tensor:
    """L1 on pixels plus ``gradient_weight`` x L1 on finite differences; ``[B,3,H,W]`` each."""
    loss = F.l1_loss(student, target)
    if gradient_weight:
        (sx, sy), (tx, ty) = _grad_xy(student), _grad_xy(target)
        loss = loss + gradient_weight * 0.5 * (F.l1_loss(sx, tx) + F.l1_loss(sy, ty))
    return loss


def distill_step(student: TransformerNet, teacher: nn.Module, batch: torch.Tensor, cfg: DistillConfig,
                 g: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
    """One step's loss for content crops ``batch`` ``[B,3,H,W]`` (teacher frozen): the student sees
    the crops plus Gaussian noise and must give the teacher's output for the clean crops."""
    with torch.no_grad():
        target = teacher(batch).clamp(0, 1)
    noisy = batch
    if cfg.noise_std:
        noisy = (batch + torch.randn(batch.shape, generator=g).to(batch.device) * cfg.noise_std).clamp(0, 1)
    loss = distill_loss(student(noisy), target, cfg.gradient_weight)
    return loss, {"loss": loss.item()}


def learning_rate(cfg: DistillConfig, step: int) -> float:
    """Cosine decay from ``cfg.lr`` to 5% of it over the run (the student ends on fine texture)."""
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / cfg.steps))))


def distill(cfg: DistillConfig, resume: bool = False, quiet: bool = False, time_limit: float | None = None,
            progress: Callable[[int, dict[str, float]], None] | None = None,
            cancel: threading.Event | None = None) -> Path:
    """Distil ``cfg.teacher`` into a ``cfg.arch`` net; writes ``out.safetensors`` + ``.json`` +
    ``_preview.jpg`` and keeps a checkpoint (``out.ckpt.pt``) for ``resume``.

    ``time_limit`` (seconds) ends the run early at a step boundary, checkpointed; ``progress`` and
    ``cancel``: see :class:`~vidstyle.training.trainer.RunControl`.
    """
    check_run(cfg.out, time_limit)
    dev = torch.device(cfg.device)
    teacher, tmeta, source = load_teacher(cfg, dev)
    teacher.requires_grad_(False)
    content = ContentImages(cfg.content_dir)
    preview_src = cfg.preview_image or str(content.files[0])
    read_rgb(preview_src, 64)  # an unreadable preview image fails now, not at the first checkpoint
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ckpt = checkpoint_path(out)

    torch.manual_seed(cfg.seed)
    student = TransformerNet(cfg.arch).to(dev)
    init_meta = _init_student(student, cfg, dev)
    opt = torch.optim.Adam(student.parameters(), lr=cfg.lr)
    start, history = _start_state(cfg, student, opt, ckpt, resume, dev)

    def step_fn(step: int) -> tuple[torch.Tensor, dict[str, float]]:
        rng, g = step_generators(cfg.seed, step)
        batch = content.sample(cfg.batch_size, cfg.size, rng).to(dev)
        for group in opt.param_groups:
            group["lr"] = learning_rate(cfg, step)
        return distill_step(student, teacher, batch, cfg, g)

    t0 = time.time()
    done, recent = run_steps(
        student, opt, step_fn, steps=cfg.steps, start=start, history=history, ckpt=ckpt, config=cfg.to_dict(),
        checkpoint_every=cfg.checkpoint_every, preview_src=preview_src, out=out, what="distillation",
        total_key="loss", postfix=lambda p: {"loss": f"{p['loss']:.4f}"},
        control=RunControl(quiet, time_limit, progress, cancel))

    meta = _distill_meta(cfg, tmeta, source, init_meta, done, recent or history[-5:], time.time() - t0)
    return save_style(student.cpu(), out, meta)


def load_teacher(cfg: DistillConfig, dev: torch.device) -> tuple[nn.Module, dict, dict]:
    """The teacher net on ``dev``, the sidecar metadata the student inherits from it, and what the
    student's ``distilled_from`` records of it. ``InputError`` unless exactly one of
    ``cfg.teacher`` and ``cfg.style_image`` is given."""
    check_teacher(cfg.teacher, cfg.style_image)
    if cfg.style_image:
        return _style_image_teacher(cfg.style_image, dev)
    net, info = load_style(cfg.teacher, dev)
    return net, info.meta, {"style": info.name, "arch": info.meta.get("arch"), "file": info.weights.name}


def _style_image_teacher(path: str, dev: torch.device) -> tuple[nn.Module, dict, dict]:
    """The arbitrary-style net for the image ``path`` as a teacher. The image is checked (readable,
    large enough, not blank) before the VGG encoder loads, so bad input fails in a moment."""
    from ..models.arbitrary import build_style_net, shipped_decoder_path  # heavy, only for style images

    net = build_style_net([path])
    p = Path(path)
    image = {"file": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
    tmeta = {"style_image": image,
             "license": "weights: MIT (vidstyle); style image: under its owner's terms (not recorded)"}
    source = {"model": "arbitrary", "method": "AdaIN at VGG16 relu3_1", "decoder": shipped_decoder_path().name,
              "style_image": image}
    return net.to(dev).eval(), tmeta, source


def _init_student(student: TransformerNet, cfg: DistillConfig, dev: torch.device) -> dict | None:
    """Copy the weights of ``cfg.init`` (a style of the student's arch) into ``student``; returns
    what the sidecar records of it, or None without ``--init``."""
    if not cfg.init:
        return None
    init_net, iinfo = load_style(cfg.init, dev)
    if init_net.arch != student.arch:
        raise InputError(f"--init {cfg.init!r} is a {iinfo.arch_name} net; the student's --arch is {cfg.arch}")
    student.load_state_dict(init_net.state_dict())
    return {"style": iinfo.name, "file": iinfo.weights.name, "steps": iinfo.meta.get("training", {}).get("steps")}


def _start_state(cfg: DistillConfig, student: TransformerNet, opt: torch.optim.Optimizer, ckpt: Path, resume: bool,
                 dev: torch.device) -> tuple[int, list]:
    """(steps done, loss history) to start from: the checkpoint's when resuming, which must match
    ``cfg`` in everything that shapes the run (the learning-rate schedule spans ``steps``)."""
    state = open_checkpoint(ckpt, resume, dev)
    if state is None:
        return 0, []
    saved = json.loads(state["config"])
    if any(saved.get(k) != getattr(cfg, k) for k in ("teacher", "style_image", "arch", "size", "steps", "batch_size",
                                                      "seed", "lr", "init")):
        raise InputError("--resume needs the same teacher, --arch, --size, --steps, --batch-size, --lr, --seed "
                         "and --init as the checkpoint (the learning-rate schedule spans --steps)")
    return restore_checkpoint(state, student, opt)


def _distill_meta(cfg: DistillConfig, tmeta: dict, source: dict, init_meta: dict | None, done: int,
                  rows: list[dict[str, float]], seconds: float) -> dict:
    """The student's sidecar metadata: the teacher's title, painting and licence (``tmeta``) carry
    over, ``source`` says which teacher it was; ``final_losses`` averages ``rows`` (the last
    steps' losses)."""
    final = {"loss": float(np.mean([r["loss"] for r in rows]))} if rows else {}
    meta = {
        "title": tmeta.get("title"),
        "style_image": tmeta.get("style_image"),
        "license": tmeta.get("license", "weights: MIT (vidstyle)"),
        "distilled_from": source,
        "training": {
            "method": "distillation: L1 + gradient L1 to the teacher's output, student input with noise",
            "steps": done,
            "size": cfg.size,
            "batch_size": cfg.batch_size,
            "lr": cfg.lr,
            "seed": cfg.seed,
            **({"init": init_meta} if init_meta else {}),
            "gradient_weight": cfg.gradient_weight,
            "noise_std": cfg.noise_std,
            "content_dir": Path(cfg.content_dir).name,
            "temporal_loss": bool(tmeta.get("training", {}).get("temporal_loss", False)),
            "teacher_training": tmeta.get("training"),
            "final_losses": final,
            "seconds_this_run": round(seconds, 1),
        },
    }
    return {k: v for k, v in meta.items() if v is not None}
