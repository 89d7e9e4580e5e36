"""Training loop for a style net: perceptual + temporal losses, checkpoints, exact resume.

Compact like pytorch/examples ``fast_neural_style``: one ``train(cfg)`` call. Each step draws its
randomness from generators seeded by ``(seed, step)``, so a run resumed from a checkpoint follows
exactly the same path as an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ..errors import Cancelled, InputError, OutputError, VidstyleError
from ..io.atomic import atomic_path
from ..models.styles import save_style
from ..models.transformer import TransformerNet
from ..models.vgg import VGGFeatures, load_vgg16_features
from . import losses as L
from .config import TrainConfig, checkpoint_path
from .data import ContentImages, read_rgb, to_tensor
from .motion import MotionConfig, make_motion_pair
from .run_config import check_time_limit

MARGIN = 16  # pixels around each crop so the random motion never samples outside the image


def check_run(out: str | Path, time_limit: float | None = None) -> None:
    """Refuse, with one line, a time limit (seconds) or an output that would otherwise fail only
    once a run is under way (after the content photos, the nets and VGG have loaded). The settings
    themselves were checked when the config was made."""
    check_time_limit(time_limit)
    check_writable(Path(out))


def check_writable(out: Path) -> None:
    """``OutputError`` unless the files ``out.*`` can be created: the nearest existing folder on
    the way to ``out`` must be a writable folder."""
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write {out}: {folder} is not a folder")
    try:  # a real file, not os.access: root passes every permission check on a read-only mount
        with tempfile.TemporaryFile(dir=folder, prefix=".vidstyle-probe-"):
            pass
    except OSError as e:
        raise OutputError(f"cannot write {out}: {folder} is not writable ({e.strerror or e})") from None


def step_generators(seed: int, step: int) -> tuple[np.random.Generator, torch.Generator]:
    """Per-step random generators: same (seed, step) → same crops, motion and noise."""
    return np.random.default_rng([seed, step]), torch.Generator().manual_seed(seed * 1_000_003 + step)


def style_grams(vgg: VGGFeatures, style_img: torch.Tensor) -> dict[str, torch.Tensor]:
    """Gram matrices of the style image at every VGG layer (``[1,C,C]`` each)."""
    with torch.no_grad():
        return {k: L.gram_matrix(v) for k, v in vgg(style_img).items()}


@dataclass
class StepLosses:
    content: float
    style: float
    tv: float
    temporal: float
    feature_temporal: float
    noise: float
    total: float
    shift: float = 0.0


def training_step(
    net: TransformerNet,
    vgg: VGGFeatures,
    grams: dict[str, torch.Tensor],
    batch: torch.Tensor,
    cfg: TrainConfig,
    g: torch.Generator,
) -> tuple[torch.Tensor, StepLosses]:
    """Loss of one step on ``batch`` ``[B,3,S+2m,S+2m]`` (no optimizer work here)."""
    w = cfg.weights
    pair = make_motion_pair(batch, cfg.size, g, MotionConfig())
    dev = next(net.parameters()).device
    prev, cur, flow, mask = (t.to(dev) for t in (pair.prev, pair.cur, pair.flow, pair.mask))
    noise = (torch.randn(prev.shape, generator=g) * cfg.noise_std).to(dev)
    b = prev.shape[0]
    h = net.encode(torch.cat([prev, cur, (prev + noise).clamp(0, 1)]))
    out = net.decode(h)
    out_prev, out_cur, out_noisy = out[:b], out[b : 2 * b], out[2 * b :]
    h_prev, h_cur = h[:b], h[b : 2 * b]
    with torch.no_grad():
        feat_in = vgg(cur, layers=(cfg.content_layer,))[cfg.content_layer]
    feats = vgg(out_cur)
    lc = L.content_loss(feats[cfg.content_layer], feat_in)
    ls = L.style_loss(feats, grams)
    ltv = L.total_variation(out_cur)
    lt = L.output_temporal_loss(out_prev, out_cur, prev, cur, flow, mask)
    lf = L.feature_temporal_loss(h_prev, h_cur, flow, mask)
    ln = L.noise_stability_loss(out_prev, out_noisy)
    total = w.content * lc + w.style * ls + w.tv * ltv + w.temporal * lt + w.feature_temporal * lf + w.noise * ln
    lsh = L.shift_equivariance_loss(net, cur, g) if w.shift > 0 else total.new_zeros(())
    total = total + w.shift * lsh
    parts = StepLosses(
        *(float(v.detach()) for v in (w.content * lc, w.style * ls, w.tv * ltv, w.temporal * lt, w.feature_temporal * lf, w.noise * ln, total,
                                      w.shift * lsh))
    )
    return total, parts


def init_weights(net: TransformerNet, spec: str) -> None:
    """Start ``net`` from the weights of the style ``spec`` (name or .safetensors), which must have
    the same layers (channels, blocks, folding); its upsampling mode may differ, e.g. to retrain a
    shipped ``light`` style as ``light-bilinear``."""
    from ..models.styles import load_style

    src, info = load_style(spec)
    if replace(src.arch, upsample=net.arch.upsample) != net.arch:
        raise InputError(f"--init {spec!r} is a {info.arch_name} net, which does not fit the {net.arch.name} arch")
    net.load_state_dict(src.state_dict())  # copies into net's tensors, on net's device


def _load_style_image(cfg: TrainConfig) -> torch.Tensor:
    if not Path(cfg.style_image).is_file():
        raise InputError(f"style image not found: {cfg.style_image}")
    return to_tensor(read_rgb(cfg.style_image, cfg.style_size))


def save_preview(net: TransformerNet, content_path: str | Path, out_path: str | Path, max_side: int = 384) -> Path:
    """Write ``content | stylized`` side by side as a JPEG."""
    img = read_rgb(content_path, max_side)
    h, w = (img.shape[0] // 4) * 4, (img.shape[1] // 4) * 4
    img = img[:h, :w]
    dev = next(net.parameters()).device
    was_training = net.training
    net.eval()
    with torch.inference_mode():
        y = net(to_tensor(img).to(dev)).clamp(0, 1)[0].permute(1, 2, 0).cpu().numpy()
    net.train(was_training)
    styl = (y * 255 + 0.5).astype(np.uint8)
    both = np.concatenate([img, np.full((h, 8, 3), 255, np.uint8), styl], axis=1)
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(both, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90]):
            raise OSError(f"cannot write {out_path}")
    return out_path


def open_checkpoint(path: Path, resume: bool, device: torch.device) -> dict | None:
    """The checkpoint to continue from when ``resume`` (an error if there is none), else None; a
    fresh run refuses to overwrite an existing checkpoint."""
    if resume:
        if not path.exists():
            raise InputError(f"nothing to resume: no checkpoint at {path}")
        return torch.load(path, map_location=device, weights_only=True)
    if path.exists():
        raise InputError(f"a checkpoint exists at {path}: pass --resume to continue it, or delete it")
    return None


def restore_checkpoint(state: dict, net: nn.Module, opt: torch.optim.Optimizer) -> tuple[int, list]:
    """Load net and optimizer state from ``state``; returns (steps done, loss history)."""
    net.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    return int(state["step"]), json.loads(state["history"])


def save_checkpoint(path: Path, net: nn.Module, opt: torch.optim.Optimizer, step: int, config: dict, history: list) -> None:
    """Atomically write a resumable checkpoint (tensors and JSON strings only: loads with ``weights_only``)."""
    with atomic_path(path) as tmp:
        torch.save(
            {"model": net.state_dict(), "optimizer": opt.state_dict(), "step": step, "config": json.dumps(config),
             "history": json.dumps(history)},
            tmp,
        )


@dataclass
class RunControl:
    """How a caller watches and stops a run: ``quiet`` (no progress bar), ``time_limit`` (seconds:
    the run stops at the first step boundary after it, checkpointed), ``progress(done, parts)``
    after every step (``parts``: its loss terms as floats), ``cancel`` (an event, set from any
    thread: the run saves its checkpoint at the next step boundary and raises ``Cancelled``)."""

    quiet: bool = False
    time_limit: float | None = None
    progress: Callable[[int, dict[str, float]], None] | None = None
    cancel: threading.Event | None = None

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()


def run_steps(
    net: nn.Module,
    opt: torch.optim.Optimizer,
    step_fn: Callable[[int], tuple[torch.Tensor, dict[str, float]]],
    *,
    steps: int,
    start: int,
    history: list,
    ckpt: Path,
    config: dict,
    checkpoint_every: int,
    preview_src: str | Path,
    out: Path,
    what: str,
    total_key: str,
    postfix: Callable[[dict[str, float]], dict[str, str]],
    control: RunControl,
) -> tuple[int, list[dict[str, float]]]:
    """The optimisation loop shared by :func:`train` and distillation.

    For each step from ``start`` to ``steps``: :func:`optimizer_step`, the loss history (every 10th
    step, appended to ``history``), a progress bar (``postfix(parts)``) and ``control.progress``
    and, every ``checkpoint_every`` steps, at the end, when ``control.time_limit`` runs out or on
    ``control.cancel``, a checkpoint plus a preview. Returns (steps done, the last 50 steps' ``parts``).
    """
    net.train()
    deadline = time.time() + control.time_limit if control.time_limit else None
    done, recent = start, []
    bar = tqdm(total=steps, initial=start, disable=control.quiet, unit="step", dynamic_ncols=True)
    try:
        for step in range(start, steps):
            parts = optimizer_step(opt, step_fn, step, what, total_key)
            recent = (recent + [parts])[-50:]
            if step % 10 == 0 or step + 1 == steps:
                history.append({"step": step, **parts})
            bar.update(1)
            bar.set_postfix(**postfix(parts))
            done = step + 1
            if control.progress is not None:
                control.progress(done, parts)
            out_of_time = deadline is not None and time.time() >= deadline
            stop = control.cancelled() and done < steps
            if done % checkpoint_every == 0 or done == steps or out_of_time or stop:
                save_checkpoint(ckpt, net, opt, done, config, history)
                save_preview(net, preview_src, out.with_name(out.name + "_preview.jpg"))
            if stop:
                raise Cancelled(f"cancelled at step {done}/{steps}; resume continues from the checkpoint")
            if out_of_time:
                if done < steps and not control.quiet:
                    tqdm.write(f"time limit reached at step {done}/{steps}; --resume continues from here")
                break
    finally:
        bar.close()
    return done, recent


def optimizer_step(opt: torch.optim.Optimizer, step_fn: Callable[[int], tuple[torch.Tensor, dict[str, float]]],
                   step: int, what: str, total_key: str) -> dict[str, float]:
    """One step: ``step_fn(step) -> (loss, parts)`` (``parts[total_key]`` the total as a float), a
    divergence check, then the optimizer's step; returns ``parts``."""
    loss, parts = step_fn(step)
    if not math.isfinite(parts[total_key]):
        raise VidstyleError(f"{what} diverged at step {step} (loss {parts[total_key]}); try a lower --lr")
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return parts


def train(
    cfg: TrainConfig,
    resume: bool = False,
    quiet: bool = False,
    vgg: VGGFeatures | None = None,
    time_limit: float | None = None,
    progress: Callable[[int, dict[str, float]], None] | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Train (or resume) a style net; writes ``out.safetensors`` + ``out.json`` + ``out_preview.jpg``.

    ``time_limit`` (seconds) ends the run early at a step boundary: the checkpoint, preview and
    weights are written as at the last step, and ``--resume`` can carry on later. ``progress`` and
    ``cancel``: see :class:`RunControl` (a cancelled run writes its checkpoint, not the weights).
    """
    check_run(cfg.out, time_limit)
    dev = torch.device(cfg.device)
    content = ContentImages(cfg.content_dir)
    style_img = _load_style_image(cfg)
    preview_src = cfg.preview_image or str(content.files[0])
    read_rgb(preview_src, 64)  # an unreadable preview image fails now, not at the first checkpoint
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ckpt = checkpoint_path(out)

    torch.manual_seed(cfg.seed)
    net = TransformerNet(cfg.arch).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    start, history = _start_state(cfg, net, opt, ckpt, resume, dev)

    vgg = (vgg or load_vgg16_features()).to(dev)
    grams = style_grams(vgg, style_img.to(dev))
    amp = dev.type == "cuda"

    def step_fn(step: int) -> tuple[torch.Tensor, dict[str, float]]:
        rng, g = step_generators(cfg.seed, step)
        batch = content.sample(cfg.batch_size, cfg.size + 2 * MARGIN, rng)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            loss, parts = training_step(net, vgg, grams, batch, cfg, g)
        return loss, asdict(parts)

    t0 = time.time()
    done, recent = run_steps(
        net, opt, step_fn, steps=cfg.steps, start=start, history=history, ckpt=ckpt, config=cfg.to_dict(),
        checkpoint_every=cfg.checkpoint_every, preview_src=preview_src, out=out, what="training", total_key="total",
        postfix=lambda p: {"c": f"{p['content']:.3g}", "s": f"{p['style']:.3g}", "t": f"{p['temporal']:.3g}",
                           **({"sh": f"{p['shift']:.3g}"} if cfg.weights.shift > 0 else {}), "tot": f"{p['total']:.3g}"},
        control=RunControl(quiet, time_limit, progress, cancel))

    meta = _train_meta(cfg, vgg.source, done, recent or history[-5:], time.time() - t0)
    return save_style(net.cpu(), out, meta)


def _start_state(cfg: TrainConfig, net: TransformerNet, opt: torch.optim.Optimizer, ckpt: Path, resume: bool,
                 dev: torch.device) -> tuple[int, list]:
    """(steps done, loss history) to start from: the checkpoint's when resuming (which must match
    ``cfg`` where it shapes the run), else nothing, with ``net`` optionally from ``cfg.init``."""
    state = open_checkpoint(ckpt, resume, dev)
    if state is None:
        if cfg.init:
            init_weights(net, cfg.init)
        return 0, []
    saved = TrainConfig.from_dict(json.loads(state["config"]))
    if (saved.arch, saved.size, saved.batch_size, saved.seed) != (cfg.arch, cfg.size, cfg.batch_size, cfg.seed):
        raise InputError("--resume needs the same --arch, --size, --batch-size and --seed as the checkpoint")
    return restore_checkpoint(state, net, opt)


def _train_meta(cfg: TrainConfig, vgg_source: str, done: int, rows: list[dict[str, float]], seconds: float) -> dict:
    """The sidecar metadata of a trained style; ``final_losses`` averages ``rows`` (the last steps'
    loss terms; the last logged ones when a run is finalised from a checkpoint without new steps)."""
    final = {k: float(np.mean([r[k] for r in rows])) for k in StepLosses.__dataclass_fields__} if rows else {}
    return {
        "style_image": {"file": Path(cfg.style_image).name, "title": cfg.style_title, "source": cfg.style_source, "license": cfg.style_license},
        "license": "weights: MIT (vidstyle); style image: see style_image.license",
        "training": {
            "steps": done,
            "size": cfg.size,
            "style_size": cfg.style_size,
            "batch_size": cfg.batch_size,
            "lr": cfg.lr,
            "seed": cfg.seed,
            "content_layer": cfg.content_layer,
            "content_dir": Path(cfg.content_dir).name,
            "loss_weights": asdict(cfg.weights),
            **({"init": cfg.init} if cfg.init else {}),
            "temporal_loss": cfg.weights.temporal > 0,
            "vgg": vgg_source,
            "final_losses": final,
            "seconds_this_run": round(seconds, 1),
        },
    }
