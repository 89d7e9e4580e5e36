"""Arbitrary-style transfer: any image is a style at run time (AdaIN, Huang & Belongie 2017).

A frozen VGG16 encoder (the original Oxford weights, up to relu3_1, stride 4) maps a frame to
features ``f``; AdaIN replaces their per-channel mean and standard deviation with the style
image's, ``t = IN(f) * std_s + mean_s``; a trained decoder maps ``t`` back to RGB. The decoder is
the only trained part and the only one shipped (fp16 safetensors + JSON sidecar); the encoder is
loaded at run time from the same offline VGG16 source as the perceptual losses.

Why AdaIN at relu3_1: through the same decoder WCT (Li et al. 2017) only moves along the
style/content trade-off (less style loss, more content loss; ``strength`` moves AdaIN along it
too) while costing an eigendecomposition per frame and a whole-frame covariance that tiles cannot
share, and linear style transfer (Li et al. 2019) needs transformation nets trained on far more
styles than a dozen paintings, so AdaIN gives the best balance this data and a CPU can train;
relu3_1 (instead of the paper's relu4_1) with a half-width decoder needs a third of the
multiply-adds per frame and per training step, at the price of smaller-scale texture.

Controls: ``strength`` interpolates in feature space between the content features and the AdaIN
output (0 gives the decoder's reconstruction of the content); several style images mix by
interpolating their statistics with weights that sum to one. The content normalisation is an
``nn.InstanceNorm2d``, so the pipeline's tiling freezes its statistics across tiles like those of
the transform nets. :class:`ArbitraryStyleNet` maps ``[B,3,H,W]`` RGB 0..1 to the same shape and
stands wherever a transform net does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import InputError
from ..io.atomic import atomic_path, write_bytes_atomic
from .vgg import CAFFE_FEATURE_SCALE, IMAGENET_MEAN, IMAGENET_STD, load_oxford_vgg16_state, vgg16_feature_stack

#: VGG16 ``features`` indices of the ReLU outputs the model uses (torchvision layout).
ENCODER_LAYERS = {"relu1_1": 1, "relu2_1": 6, "relu3_1": 11}
BOTTLENECK = "relu3_1"
STRIDE = 4  # two max-pools before relu3_1
MIN_STYLE_SIDE = 64  # pixels; smaller images carry too little texture for stable statistics
MIN_STYLE_STD = 2.0 / 255  # RGB standard deviation below which a style image counts as blank
DEFAULT_STYLE_SIDE = 512  # long side a style image is resized to before its statistics are taken
EPS = 1e-5

#: Where the shipped decoder lives, relative to the shipped weights folder.
SHIPPED_NAME = "arbitrary/adain"


class Encoder(nn.Module):
    """Frozen VGG16 up to relu3_1: ``forward(x [B,3,H,W] RGB 0..1) -> {layer: [B,C,H/s,W/s]}``.

    Activations are multiplied by ``scale`` (the Oxford weights' 0-255 convention brought to
    torchvision's range) so loss weights read the same as in the style-net training.
    """

    def __init__(self, state: dict[str, torch.Tensor] | None = None, scale: float = CAFFE_FEATURE_SCALE) -> None:
        super().__init__()
        last = max(ENCODER_LAYERS.values())
        self.net = vgg16_feature_stack(last)
        for m in self.net:
            if isinstance(m, nn.ReLU):
                m.inplace = False  # the relu1_1/relu2_1 outputs are kept while the stack runs on
        if state is not None:
            self.net.load_state_dict({k: v for k, v in state.items() if int(k.split(".")[0]) <= last})
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.scale = scale
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def random(cls, seed: int = 0) -> "Encoder":
        """Randomly initialised encoder (tests: no VGG weights needed)."""
        torch.manual_seed(seed)
        return cls(None, scale=1.0)

    def forward(self, x: torch.Tensor, layers: Sequence[str] = (BOTTLENECK,)) -> dict[str, torch.Tensor]:
        want = {ENCODER_LAYERS[n]: n for n in layers}
        last = max(want)
        h = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        out: dict[str, torch.Tensor] = {}
        for i, layer in enumerate(self.net):
            h = layer(h)
            if i in want:
                out[want[i]] = h * self.scale
            if i == last:
                break
        return out

    def train(self, mode: bool = True) -> "Encoder":  # always frozen, always in eval mode
        return super().train(False)


def load_encoder() -> Encoder:
    """The frozen encoder with the original VGG16 weights (``VidstyleError`` says what to install)."""
    return Encoder(load_oxford_vgg16_state())


def _conv(cin: int, cout: int, relu: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3)]
    return layers + [nn.ReLU(inplace=True)] if relu else layers


class Upsample2x(nn.Module):
    """Bilinear 2x upsampling: unlike nearest, its output moves smoothly with sub-pixel motion."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


class Decoder(nn.Module):
    """relu3_1 features ``[B,256,H/4,W/4]`` -> RGB ``[B,3,H,W]`` (about 0..1, not clamped).

    The mirror of VGG16 up to relu3_1 (Huang & Belongie's decoder, cut at relu3_1) with
    ``width``, ``2 * width`` and ``4 * width`` channels at full, half and quarter resolution (64
    is the exact mirror; 32 costs a third of its multiply-adds), reflection padding so borders
    carry no zero-padding artefacts.
    """

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        w = width
        self.width = width
        self.net = nn.Sequential(
            *_conv(256, 2 * w), Upsample2x(),
            *_conv(2 * w, 2 * w), *_conv(2 * w, w), Upsample2x(),
            *_conv(w, w), *_conv(w, 3, relu=False),
        )

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        return self.net(feat)


# ----------------------------------------------------------------------------- style statistics


@dataclass
class StyleStats:
    """Per-channel mean and standard deviation ``[C]`` of a style's relu3_1 features."""

    mean: torch.Tensor
    std: torch.Tensor


def feature_stats(feat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image, per-channel (mean, std) ``[B,C]`` of ``feat`` ``[B,C,H,W]``, in float32."""
    var, mean = torch.var_mean(feat.float(), dim=(2, 3), correction=0)
    return mean, (var + EPS).sqrt()


def mix_stats(stats: Sequence[StyleStats], weights: Sequence[float] | None = None) -> StyleStats:
    """Interpolate style statistics with ``weights`` (default equal; normalised to sum to one)."""
    w = normalise_weights(weights, len(stats))
    mean = sum(wi * s.mean for wi, s in zip(w, stats))
    std = sum(wi * s.std for wi, s in zip(w, stats))
    return StyleStats(mean, std)  # type: ignore[arg-type]


def normalise_weights(weights: Sequence[float] | None, n: int) -> list[float]:
    """Mixing weights scaled to sum to one; ``InputError`` for a wrong count, negatives or all zero."""
    if n < 1:
        raise InputError("at least one style image is needed")
    if weights is None:
        return [1.0 / n] * n
    w = [float(v) for v in weights]
    if len(w) != n:
        raise InputError(f"{len(w)} mixing weights for {n} style images")
    if any(not np.isfinite(v) or v < 0 for v in w) or sum(w) <= 0:
        raise InputError("mixing weights must be non-negative numbers with a positive sum")
    total = sum(w)
    return [v / total for v in w]


class AdaIN(nn.Module):
    """``forward(f [B,C,H,W]) -> strength * (IN(f) * std + mean) + (1 - strength) * f``.

    ``mean``/``std`` ``[C]`` are buffers (the style's statistics). The normalisation is an
    ``InstanceNorm2d`` so tiled runs can share one set of content statistics.
    """

    def __init__(self, stats: StyleStats, strength: float = 1.0) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm2d(stats.mean.numel(), affine=False, eps=EPS)
        self.register_buffer("style_mean", stats.mean.detach().float().reshape(-1).clone())
        self.register_buffer("style_std", stats.std.detach().float().reshape(-1).clone())
        self.strength = float(strength)

    def set_style(self, stats: StyleStats) -> None:
        self.style_mean.copy_(stats.mean.reshape(-1))
        self.style_std.copy_(stats.std.reshape(-1))

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        if self.strength == 0:
            return f
        t = self.norm(f) * self.style_std.to(f.dtype)[:, None, None] + self.style_mean.to(f.dtype)[:, None, None]
        return t if self.strength == 1 else f + self.strength * (t - f)


def adain(content: torch.Tensor, style_mean: torch.Tensor, style_std: torch.Tensor) -> torch.Tensor:
    """AdaIN with per-image style statistics ``[B,C]`` (training: one style crop per content crop)."""
    mean, std = feature_stats(content)
    norm = (content - mean[..., None, None].to(content.dtype)) / std[..., None, None].to(content.dtype)
    return norm * style_std[..., None, None].to(content.dtype) + style_mean[..., None, None].to(content.dtype)


# ----------------------------------------------------------------------------- style images


def read_style_image(path: str | Path, max_side: int = DEFAULT_STYLE_SIDE) -> torch.Tensor:
    """A style image as ``[1,3,H,W]`` RGB 0..1, long side at most ``max_side``.

    ``InputError`` (one line) for an unreadable file, one smaller than ``MIN_STYLE_SIDE`` on a side,
    or a blank one (RGB standard deviation under ``MIN_STYLE_STD``): its statistics would be noise.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"style image not found: {path}")
    data = np.fromfile(str(p), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise InputError(f"cannot read style image: {path}")
    h, w = img.shape[:2]
    if min(h, w) < MIN_STYLE_SIDE:
        raise InputError(f"style image {p.name} is {w}x{h}; it needs at least {MIN_STYLE_SIDE} pixels on each side")
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if float(img.reshape(-1, 3).std(axis=0).max()) < MIN_STYLE_STD * 255:
        raise InputError(f"style image {p.name} is blank (no variation to take a style from)")
    if max(h, w) > max_side:
        s = max_side / max(h, w)
        img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).unsqueeze(0).float() / 255.0


@torch.no_grad()
def style_stats(encoder: Encoder, image: torch.Tensor) -> StyleStats:
    """The relu3_1 statistics of a style image ``[1,3,H,W]`` RGB 0..1."""
    dev = encoder.mean.device
    mean, std = feature_stats(encoder(image.to(dev))[BOTTLENECK])
    return StyleStats(mean[0], std[0])


# ----------------------------------------------------------------------------- the runnable net


def pad_to_stride(x: torch.Tensor, stride: int = STRIDE) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad ``x`` ``[B,3,H,W]`` on the bottom/right to multiples of ``stride``, at least
    ``2 * stride`` (the decoder's reflection padding needs two feature pixels a side); returns
    (padded, (H, W)). Frames too small to reflect are edge-replicated."""
    h, w = x.shape[-2:]
    ph, pw = max(-h % stride, 2 * stride - h), max(-w % stride, 2 * stride - w)
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)


class ArbitraryStyleNet(nn.Module):
    """Content ``[B,3,H,W]`` RGB 0..1 -> stylized ``[B,3,H,W]`` (any H, W; clamped to 0..1).

    Holds the frozen encoder, the decoder and the (mixed) style statistics; ``strength`` is the
    feature-space interpolation (0: the decoder's reconstruction of the content).
    """

    stride = STRIDE

    def __init__(self, encoder: Encoder, decoder: Decoder, stats: StyleStats, strength: float = 1.0) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.adain = AdaIN(stats, strength)
        self.eval()

    @property
    def strength(self) -> float:
        return self.adain.strength

    @strength.setter
    def strength(self, value: float) -> None:
        if not 0.0 <= float(value) <= 1.0:
            raise InputError(f"strength must be between 0 and 1, not {value}")
        self.adain.strength = float(value)

    def set_style(self, stats: StyleStats) -> None:
        """Swap the style statistics in place (live style switching: no new net)."""
        self.adain.set_style(stats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xp, (h, w) = pad_to_stride(x, self.stride)
        y = self.decoder(self.adain(self.encoder(xp)[BOTTLENECK]))
        return y[..., :h, :w].clamp(0, 1)


# ----------------------------------------------------------------------------- weights files


def shipped_decoder_path() -> Path:
    """The decoder shipped in the package's weights folder (``weights/arbitrary/adain.safetensors``):
    the installed package's, else the source checkout's this module was imported from."""
    checkout = Path(__file__).resolve().parents[2] / "weights" / (SHIPPED_NAME + ".safetensors")
    try:
        installed = Path(str(resources.files("vidstyle.weights"))) / (SHIPPED_NAME + ".safetensors")
    except (ModuleNotFoundError, TypeError):
        return checkout
    return installed if installed.is_file() or not checkout.is_file() else checkout


def save_decoder(decoder: Decoder, path: str | Path, meta: dict) -> Path:
    """Write ``path.safetensors`` (fp16) and ``path.json`` atomically; returns the weights path."""
    path = Path(path)
    if path.suffix == ".safetensors":
        path = path.with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = path.with_name(path.name + ".safetensors")
    arch = {"kind": "adain-decoder", "bottleneck": BOTTLENECK, "width": decoder.width}
    with atomic_path(weights) as tmp:  # the decoder appears whole or not at all
        save_file({k: v.detach().cpu().half().contiguous() for k, v in decoder.state_dict().items()}, str(tmp),
                  metadata={"arch": json.dumps(arch)})
    sidecar = json.dumps({"name": path.name, **meta, "arch": arch}, indent=2) + "\n"
    write_bytes_atomic(path.with_name(path.name + ".json"), sidecar.encode("utf-8"))
    return weights


def load_decoder(path: str | Path | None = None) -> tuple[Decoder, dict]:
    """A decoder (float32, eval) and its sidecar from ``path`` (default: the shipped one)."""
    weights = Path(path) if path is not None else shipped_decoder_path()
    if not weights.is_file():
        raise InputError(f"arbitrary-style decoder not found: {weights}")
    try:
        state = load_file(str(weights))
        with safe_open(str(weights), framework="pt") as f:
            arch = json.loads((f.metadata() or {}).get("arch") or "{}")
    except Exception as e:  # noqa: BLE001 - safetensors raises several kinds
        raise InputError(f"cannot read decoder weights {weights}: {e}") from None
    if arch.get("kind") != "adain-decoder":
        raise InputError(f"{weights} is not an arbitrary-style decoder")
    decoder = Decoder(int(arch.get("width", 32)))
    try:
        decoder.load_state_dict({k: v.float() for k, v in state.items()})
    except RuntimeError as e:
        raise InputError(f"decoder weights {weights} do not match: {str(e).splitlines()[0]}") from None
    sidecar = weights.with_suffix(".json")
    meta = json.loads(sidecar.read_text()) if sidecar.is_file() else {}
    return decoder.eval(), meta


def build_style_net(
    style_images: Sequence[str | Path],
    weights: Sequence[float] | None = None,
    strength: float = 1.0,
    decoder: str | Path | Decoder | None = None,
    encoder: Encoder | None = None,
    style_side: int = DEFAULT_STYLE_SIDE,
) -> ArbitraryStyleNet:
    """An :class:`ArbitraryStyleNet` for one style image or a weighted mix of several."""
    dec = decoder if isinstance(decoder, Decoder) else load_decoder(decoder)[0]
    images = [read_style_image(p, style_side) for p in style_images]  # bad input fails before VGG loads
    enc = encoder if encoder is not None else load_encoder()
    stats = mix_stats([style_stats(enc, im) for im in images], weights)
    net = ArbitraryStyleNet(enc, dec, stats)
    net.strength = strength
    return net
