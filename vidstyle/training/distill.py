"""Distillation: teach a smaller (faster) net to reproduce a trained style net.

A trained style (the *teacher*, e.g. a light or full net) stylizes random content crops; the
*student* (e.g. the ``tiny`` arch) learns to match it. No VGG and no style image are needed, so a
step costs a teacher forward plus a student forward/backward (about 10x cheaper than a perceptual
training step on CPU), and the student inherits the teacher's style and temporal stability.

With ``style_image`` instead of a teacher, the same loop *bakes* that image into a transform net,
which runs far faster than the arbitrary-style model and on every engine (ONNX Runtime, OpenVINO,
int8): by default with the per-style training objective against the image, from the nearest
installed style (:mod:`vidstyle.training.bake`); ``objective="distill"`` copies the
arbitrary-style model instead. The sidecar names the image by file name and sha256 digest.

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

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ..models.arbitrary import read_style_image
from ..models.styles import load_style, save_style
from ..models.transformer import TransformerNet
from . import bake as B
from .config import LossWeights, TrainConfig
from .data import ContentImages, read_rgb, to_tensor
from .distill_config import NEAREST, DistillConfig, check_teacher
from .schedule import WARMUP_STEPS, Schedule
from .trainer import (RunControl, check_run, checkpoint_path, open_checkpoint, restore_checkpoint, run_steps,
                      step_generators)


STYLE_SIZE = TrainConfig.style_size
"""Long side (pixels) of the style image for the perceptual objective, as in ``vidstyle train``."""


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


def distill(cfg: DistillConfig, resume: bool = False, quiet: bool = False, time_limit: float | None = None,
            progress: Callable[[int, dict[str, float]], None] | None = None,
            cancel: threading.Event | None = None) -> Path:
    """Distil ``cfg.teacher`` into a ``cfg.arch`` net, or bake ``cfg.style_image`` into one; writes
    ``out.safetensors`` + ``.json`` + ``_preview.jpg`` and keeps a checkpoint (``out.ckpt.pt``) for
    ``resume``.

    ``time_limit`` (seconds) ends the run early at a step boundary, checkpointed; the learning
    rate decays over whichever of ``cfg.steps`` and ``time_limit`` runs out first. ``progress``
    and ``cancel``: see :class:`~vidstyle.training.trainer.RunControl`.
    """
    check_run(cfg.out, time_limit)
    dev = torch.device(cfg.device)
    content = ContentImages(cfg.content_dir)
    step_fn, source, tmeta, grams = _objective(cfg, content, dev)
    preview_src = cfg.preview_image or str(content.files[0])
    read_rgb(preview_src, 64)  # an unreadable preview image fails now, not at the first checkpoint
    out = Path(cfg.out)
    ckpt = checkpoint_path(out)

    torch.manual_seed(cfg.seed)
    student = TransformerNet(cfg.arch).to(dev)
    init, chosen = B.resolve_init(cfg.init, grams, student)  # "nearest" becomes a style name, "none" None
    init_meta = _init_student(student, init, cfg.arch, dev, chosen)
    opt = torch.optim.Adam(student.parameters(), lr=cfg.lr)
    run_config = {**cfg.to_dict(), "init": init}
    start, history, start_progress = _start_state(run_config, student, opt, ckpt, resume, dev)
    schedule = Schedule(cfg.lr, cfg.steps, time_limit, start_progress, warmup=WARMUP_STEPS if init else 0)
    out.parent.mkdir(parents=True, exist_ok=True)

    def one_step(step: int) -> tuple[torch.Tensor, dict[str, float]]:
        for group in opt.param_groups:
            group["lr"] = schedule.lr(step)
        run_config["progress"] = schedule.last_progress  # saved with each checkpoint, for --resume
        return step_fn(student, step)

    t0 = time.time()
    done, recent = run_steps(
        student, opt, one_step, steps=cfg.steps, start=start, history=history, ckpt=ckpt, config=run_config,
        checkpoint_every=cfg.checkpoint_every, preview_src=preview_src, out=out,
        what="baking" if cfg.style_image else "distillation", total_key="loss",
        postfix=lambda p: {"loss": f"{p['loss']:.4f}"}, control=RunControl(quiet, time_limit, progress, cancel))

    meta = _distill_meta(cfg, tmeta, source, init_meta, done, recent or history[-5:], time.time() - t0)
    return save_style(student.cpu(), out, meta)


def _objective(cfg: DistillConfig, content: ContentImages, dev: torch.device):
    """``(step_fn(net, step), distilled_from record, metadata inherited, style image Grams or None)``
    for ``cfg``'s objective. Bad input (teacher, style image) fails here, before VGG loads."""
    if not cfg.style_image:
        teacher, tmeta, source = load_teacher(cfg, dev)
        return _distill_step_fn(cfg, content, teacher.requires_grad_(False), dev), source, tmeta, None
    read_style_image(cfg.style_image)  # unreadable, tiny or blank: one line, before any model loads
    image = B.image_record(cfg.style_image)
    tmeta = {"style_image": image,
             "license": "weights: MIT (vidstyle); style image: under its owner's terms (not recorded)"}
    vgg = B.load_vgg().to(dev) if cfg.objective == "perceptual" or cfg.init == NEAREST else None
    grams = B.style_image_grams(cfg.style_image, vgg) if vgg is not None else None
    if cfg.objective == "perceptual":
        source = {"model": "none: trained on the style image itself", "style_image": image}
        style_img = to_tensor(read_rgb(cfg.style_image, STYLE_SIZE))
        return B.perceptual_step_fn(cfg, content, vgg, style_img, dev), source, tmeta, grams
    teacher, _, source = _style_image_teacher(cfg.style_image, dev)
    return _distill_step_fn(cfg, content, teacher.requires_grad_(False), dev), source, tmeta, grams


def _distill_step_fn(cfg: DistillConfig, content: ContentImages, teacher: nn.Module, dev: torch.device):
    """``step_fn(net, step)`` copying ``teacher``'s outputs on random content crops."""
    def step_fn(student: TransformerNet, step: int) -> tuple[torch.Tensor, dict[str, float]]:
        rng, g = step_generators(cfg.seed, step)
        return distill_step(student, teacher, content.sample(cfg.batch_size, cfg.size, rng).to(dev), cfg, g)

    return step_fn


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
    image = B.image_record(path)
    tmeta = {"style_image": image,
             "license": "weights: MIT (vidstyle); style image: under its owner's terms (not recorded)"}
    source = {"model": "arbitrary", "method": "AdaIN at VGG16 relu3_1", "decoder": shipped_decoder_path().name,
              "style_image": image}
    return net.to(dev).eval(), tmeta, source


def _init_student(student: TransformerNet, init: str | None, arch: str, dev: torch.device,
                  chosen: dict | None = None) -> dict | None:
    """Copy the weights of the style ``init`` (its layers must fit the student's ``arch``; its
    upsampling may differ) into ``student``; returns what the sidecar records of it (``chosen``:
    how it was picked), or ``chosen`` alone without an init."""
    if not init:
        return chosen
    init_net, iinfo = load_style(init, dev)
    if replace(init_net.arch, upsample=student.arch.upsample) != student.arch:
        raise InputError(f"--init {init!r} is a {iinfo.arch_name} net; the student's --arch is {arch}")
    student.load_state_dict(init_net.state_dict())
    return {"style": iinfo.name, "file": iinfo.weights.name, "steps": iinfo.meta.get("training", {}).get("steps"),
            **(chosen or {})}


RESUME_KEYS = ("teacher", "style_image", "objective", "arch", "size", "steps", "batch_size", "seed", "lr", "init")
"""Run settings a checkpoint must share with the run resuming it (they shape the schedule and the loss)."""
LEGACY = {"objective": "distill"}
"""What a checkpoint written before a setting existed ran with."""


def _start_state(config: dict, student: TransformerNet, opt: torch.optim.Optimizer, ckpt: Path, resume: bool,
                 dev: torch.device) -> tuple[int, list, float]:
    """(steps done, loss history, schedule progress) to start from: the checkpoint's when resuming,
    which must match ``config`` (the run's settings, ``init`` resolved) in :data:`RESUME_KEYS`."""
    state = open_checkpoint(ckpt, resume, dev)
    if state is None:
        return 0, [], 0.0
    saved = json.loads(state["config"])
    if any(saved.get(k, LEGACY.get(k)) != config[k] for k in RESUME_KEYS):
        raise InputError("--resume needs the same teacher or --style-image, --objective, --arch, --size, --steps, "
                         "--batch-size, --lr, --seed and --init as the checkpoint")
    step, history = restore_checkpoint(state, student, opt)
    return step, history, float(saved.get("progress", step / config["steps"]))


METHODS = {
    "distill": "distillation: L1 + gradient L1 to the teacher's output, student input with noise",
    "perceptual": "per-style training objective against the style image (vidstyle train's losses and weights)",
}


def _distill_meta(cfg: DistillConfig, tmeta: dict, source: dict, init_meta: dict | None, done: int,
                  rows: list[dict[str, float]], seconds: float) -> dict:
    """The student's sidecar metadata: the teacher's title, painting and licence (``tmeta``) carry
    over, ``source`` says which teacher it was; ``final_losses`` averages ``rows`` (the last
    steps' losses)."""
    perceptual = cfg.objective == "perceptual"
    meta = {
        "title": tmeta.get("title"),
        "style_image": tmeta.get("style_image"),
        "license": tmeta.get("license", "weights: MIT (vidstyle)"),
        "distilled_from": source,
        "training": {
            "objective": cfg.objective,
            "method": METHODS[cfg.objective],
            "steps": done,
            "size": cfg.size,
            "batch_size": cfg.batch_size,
            "lr": cfg.lr,
            "seed": cfg.seed,
            "init": init_meta,
            **({"loss_weights": asdict(LossWeights())} if perceptual else {"gradient_weight": cfg.gradient_weight}),
            "noise_std": cfg.noise_std,
            "content_dir": Path(cfg.content_dir).name,
            "temporal_loss": perceptual or bool(tmeta.get("training", {}).get("temporal_loss", False)),
            "teacher_training": tmeta.get("training"),
            "final_losses": B.mean_parts(rows),
            "seconds_this_run": round(seconds, 1),
        },
    }
    meta["training"] = {k: v for k, v in meta["training"].items() if v is not None}
    return {k: v for k, v in meta.items() if v is not None}
