"""Overlapping-tile stylization of large frames in bounded memory, without seams.

A style net's instance norms use per-image statistics, so running tiles independently gives each
tile its own mean/variance (visible tone shifts at tile seams). Here every tile shares one set of
statistics instead:

1. **Statistics pass** (:func:`record_norm_stats`): the net runs once on the whole frame, downscaled
   to at most ``stats_pixels`` pixels (exactly the full frame when it fits), and each
   ``nn.InstanceNorm2d`` records its per-image, per-channel mean and variance.
2. **Tile passes** (:func:`frozen_norms`): each overlapping tile runs with every instance norm
   normalising by those frozen statistics (then its affine weight/bias).
3. **Blending** (:func:`blend_weights`): inside a tile, a ``margin`` along each edge that is interior
   to the frame is dropped (reflection padding there stands in for the real neighbours, which
   disturbs the net within its receptive field), and a raised-cosine ramp of width ``ramp`` blends
   neighbouring tiles. Weights are separable and sum to exactly 1 at every pixel.

With the default margin (the net's receptive-field radius, :func:`receptive_radius`) and
full-frame statistics the tiled output equals the untiled one up to float rounding; with
downscaled statistics it is seamless and differs from the untiled output only by the statistics'
estimate (a slight global tone difference).

Tensors are ``[B,3,H,W]``; H and W must be multiples of the net's ``stride`` (the
:class:`~vidstyle.pipeline.stylizer.Stylizer` pads). Windows start and end on multiples of the
stride so the strided convolutions sample the same grid as an untiled run. Also here: the memory
and 32-bit-index estimates the Stylizer uses to choose tiles and batch chunks.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

#: Largest number of elements one tensor may have on CUDA kernels that use 32-bit indexing
#: (``RuntimeError: input tensor must fit into 32-bit index math``).
MAX_TENSOR_ELEMENTS = 2**31 - 1
#: Activation memory allowed for one net call on CPU (bytes): 3 GiB keeps 1080p frames untiled
#: with the full arch (~2.1 GB) and tiles 4K (light ~5.2 GB, full ~8.5 GB untiled).
CPU_MEMORY_BUDGET = 3 * 2**30
#: Share of the GPU's free memory (plus PyTorch's cached free blocks) one net call may use.
CUDA_MEMORY_FRACTION = 0.6
#: Smallest tile accepted (pixels a side).
MIN_TILE = 32
#: Default blend-ramp width (pixels) for large tiles.
DEFAULT_RAMP = 32

NormStats = dict[nn.Module, tuple[torch.Tensor, torch.Tensor]]
"""``InstanceNorm2d`` module -> (mean, var), each ``[B,C]`` float32."""


# --------------------------------------------------------------------------- sizes and estimates


def parse_tile(spec: int | str | None) -> int | None:
    """``--tile`` value -> ``None`` (auto), ``0`` (off) or a tile size in pixels (>= ``MIN_TILE``).

    Accepts ``None``/``"auto"``, ``0``/``"off"``/``"none"``, or an integer (int or digits).
    Raises ``ValueError`` with a one-line message otherwise.
    """
    if spec is None:
        return None
    if isinstance(spec, str):
        s = spec.strip().lower()
        if s == "auto":
            return None
        if s in ("off", "none", "0"):
            return 0
        try:
            spec = int(s)
        except ValueError:
            raise ValueError(f"tile must be auto, off or a size in pixels (>= {MIN_TILE}), not {spec!r}") from None
    if isinstance(spec, bool) or not isinstance(spec, int):
        raise ValueError(f"tile must be auto, off or a size in pixels, not {spec!r}")
    if spec == 0:
        return 0
    if spec < MIN_TILE:
        raise ValueError(f"tile size must be at least {MIN_TILE} pixels (or auto/off), not {spec}")
    return spec


def net_archs(net: nn.Module) -> list:
    """The ``Arch`` of ``net`` (a ``TransformerNet``) or of each net of a mix; [] if unknown."""
    if hasattr(net, "nets"):  # OutputMix
        return [a for n in net.nets for a in net_archs(n)]
    arch = getattr(net, "arch", None)
    return [arch] if arch is not None and hasattr(arch, "channels") else []


def _max_conv_channels(net: nn.Module) -> int:
    return max((max(m.in_channels, m.out_channels) for m in net.modules() if isinstance(m, nn.Conv2d)), default=64)


def receptive_radius(net: nn.Module) -> int:
    """Pixels an output depends on in each direction, rounded up (the default tile margin).

    ``TransformerNet`` with levels at scales ``u, 2u, .., f`` (``u`` = unshuffle, ``f`` = stride):
    the first and last convs (radius ``k // 2`` at scale ``u``), one 3x3 stride-2 conv and one 3x3
    decoder conv per scale below ``f`` (radius 1 each, at that scale), two 3x3 convs per residual
    block at scale ``f``, plus ``f`` for the nearest upsamplings' offsets. For the light arch
    that is ``18 + 8 * blocks`` (measured: tiled equals untiled to ~4e-6 from a margin of
    ``16 + 8 * blocks`` for 1 to 3 blocks, not below). Bilinear upsampling reads one more coarse
    pixel on each side: ``2 * scale`` more per upsampling. Unknown nets: every conv counted at 1/4
    scale (conservative).
    """
    archs = net_archs(net)
    if archs:
        return max(_arch_radius(a) for a in archs)
    return sum(4 * (m.kernel_size[0] // 2) * m.dilation[0] for m in net.modules() if isinstance(m, nn.Conv2d)) or 64


def _arch_radius(a) -> int:
    u, f = a.unshuffle, a.stride
    scales = [u * 2**i for i in range(len(a.channels) - 1)]
    smooth = 2 * sum(scales) if a.upsample == "bilinear" else 0  # upsamplings from scales 2s to s
    return 2 * (a.edge_kernel // 2) * u + 2 * sum(scales) + 2 * a.blocks * f + f + smooth


def elements_per_pixel(net: nn.Module) -> int:
    """Upper bound on one internal tensor's elements per input pixel (for the 32-bit index limit).

    ``TransformerNet``: level ``i`` (scale ``u * 2**i``) holds tensors of ``c[i]`` channels and,
    in the decoder, ``c[i+1]`` channels upsampled to it before a 3x3 conv; per input pixel that is
    ``max(c[i], c[i+1]) / (u * 2**i)**2`` elements (the light arch: ``c2`` at full resolution).
    """
    archs = net_archs(net)
    if archs:
        return max(_arch_elements(a) for a in archs)
    return _max_conv_channels(net)


def _arch_elements(a) -> int:
    c, u = a.channels, a.unshuffle
    per_level = [-(-max(c[i], c[min(i + 1, len(c) - 1)]) // (u * 2**i) ** 2) for i in range(len(c))]
    return max(*per_level, 3)


def bytes_per_pixel(net: nn.Module, dtype: torch.dtype = torch.float32) -> float:
    """Estimated peak activation memory of one forward pass, bytes per input pixel.

    Fitted to peak RSS on CPU (fp32, batch 1: ~144 floats/px for the light arch 16/32/64,
    ~255 for the full 32/64/128): ``2.5 * (c1 + c2) + 36`` elements per pixel, with margin.
    A mix of nets runs them one after another: the widest counts.
    """
    archs = net_archs(net)
    if archs:
        per_px = max(2.5 * (a.channels[0] + a.channels[1]) + 36 for a in archs)
    else:
        per_px = 4.0 * _max_conv_channels(net) + 36
    return per_px * torch.empty((), dtype=dtype).element_size()


def memory_budget(device: torch.device) -> int:
    """Bytes one net call may use: ``CPU_MEMORY_BUDGET`` on CPU; on CUDA a share of free memory."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        return int(CUDA_MEMORY_FRACTION * (free + cached))
    return CPU_MEMORY_BUDGET


def _round_down(v: int, m: int) -> int:
    return max(m, v // m * m)


def _round_up(v: int, m: int) -> int:
    return -(-v // m) * m


# --------------------------------------------------------------------------- tile layout


@dataclass(frozen=True)
class AxisTiles:
    """Windows along one axis: ``starts[i] .. starts[i] + size`` (all multiples of the stride)."""

    length: int
    size: int
    starts: tuple[int, ...]


def axis_tiles(length: int, tile: int, overlap: int, stride: int = 4) -> AxisTiles:
    """Fewest windows of at most ``tile`` px covering ``length`` px, neighbours overlapping by
    ``>= overlap``; windows are shrunk to the smallest equal size that does it (less work).

    ``length`` must be a multiple of ``stride``; ``tile`` is rounded down to one.
    """
    tile = _round_down(tile, stride)
    if length <= tile:
        return AxisTiles(length, length, (0,))
    if overlap > tile - stride:
        raise ValueError(f"tile overlap {overlap} px leaves no room in a {tile} px tile")
    n = max(2, math.ceil((length - overlap) / (tile - overlap)))
    while n <= length // stride:
        size = _round_up(math.ceil((length + (n - 1) * overlap) / n), stride)
        while size <= min(tile, length):
            span = length - size
            starts = tuple(i * span // (n - 1) // stride * stride for i in range(n - 1)) + (span,)
            if all(b - a <= size - overlap for a, b in zip(starts, starts[1:])):
                return AxisTiles(length, size, starts)
            size += stride
        n += 1
    raise ValueError(f"cannot tile {length} px with {tile} px tiles overlapping by {overlap} px")


def blend_weights(axis: AxisTiles, margin: int, ramp: int, device=None) -> list[torch.Tensor]:
    """Per-window 1-D weights ``[size]`` (float32) that sum to 1 at every position of the axis.

    Each window gets weight 0 on the ``margin`` px along an edge interior to the frame, then a
    raised-cosine rise over ``ramp`` px, then 1; the frame's own edges get full weight.
    """
    ws = []
    pos = torch.arange(axis.size, dtype=torch.float32, device=device)
    last = len(axis.starts) - 1
    for i, s in enumerate(axis.starts):
        w = torch.ones(axis.size, dtype=torch.float32, device=device)
        if i > 0:  # left edge interior
            w = w * _rise(pos - margin, ramp)
        if i < last:  # right edge interior
            w = w * _rise(axis.size - 1 - pos - margin, ramp)
        ws.append(w)
    total = torch.zeros(axis.length, dtype=torch.float32, device=device)
    for s, w in zip(axis.starts, ws):
        total[s:s + axis.size] += w
    if bool((total <= 0).any()):
        raise ValueError("tiles overlap too little for their margin: some pixels get no weight")
    return [w / total[s:s + axis.size] for s, w in zip(axis.starts, ws)]


def _rise(d: torch.Tensor, ramp: int) -> torch.Tensor:
    """0 for ``d < 0``, raised-cosine rise to 1 over ``ramp`` px (``d`` counts from the margin)."""
    if ramp <= 0:
        return (d >= 0).float()
    t = ((d + 0.5) / ramp).clamp(0, 1)
    return torch.where(d < 0, torch.zeros_like(t), 0.5 - 0.5 * torch.cos(math.pi * t))


def default_overlap(net: nn.Module, tile: int) -> tuple[int, int]:
    """(margin, ramp) for tiles of ``tile`` px: the receptive-field margin and a 32 px ramp, both
    shrunk for small tiles so that the overlap ``2 * margin + ramp`` stays within half a tile."""
    ramp = max(4, min(DEFAULT_RAMP, tile // 8))
    margin = min(receptive_radius(net), max(0, (tile // 2 - ramp) // 2))
    return margin, ramp


# --------------------------------------------------------------------------- instance-norm control


def _norms(net: nn.Module) -> list[nn.InstanceNorm2d]:
    return [m for m in net.modules() if isinstance(m, nn.InstanceNorm2d)]


def _normalise(m: nn.InstanceNorm2d, x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """``(x - mean) / sqrt(var + eps) * weight + bias`` with ``[B,C]`` float32 statistics."""
    scale = torch.rsqrt(var + m.eps)
    if m.affine:
        scale = scale * m.weight.float()
        shift = m.bias.float() - mean * scale
    else:
        shift = -mean * scale
    return x.mul(scale[..., None, None].to(x.dtype)).add_(shift[..., None, None].to(x.dtype))


@contextmanager
def _patched(net: nn.Module, make_forward) -> Iterator[None]:
    """Give every ``InstanceNorm2d`` of ``net`` the forward ``make_forward(module)``; restore after."""
    norms = _norms(net)
    try:
        for m in norms:
            m.forward = make_forward(m)  # instance attribute shadows the class's forward
        yield
    finally:
        for m in norms:
            m.__dict__.pop("forward", None)


@torch.inference_mode()
def record_norm_stats(net: nn.Module, x: torch.Tensor) -> tuple[NormStats, torch.Tensor]:
    """Run ``net`` on ``x`` ``[B,3,h,w]`` and record each instance norm's per-image statistics.

    Returns ``(stats, y)``: ``stats`` maps each ``InstanceNorm2d`` to ``(mean, var)`` ``[B,C]``
    float32 (biased variance, as the layer uses); ``y`` is the net's ordinary output for ``x``.
    """
    stats: NormStats = {}

    def make(m):
        def forward(h: torch.Tensor) -> torch.Tensor:
            if m in stats:
                raise ValueError("an InstanceNorm2d runs twice in one forward; tiling cannot freeze it")
            var, mean = torch.var_mean(h, dim=(2, 3), correction=0)
            stats[m] = (mean.float(), var.float())
            return _normalise(m, h, *stats[m])
        return forward

    with _patched(net, make):
        y = net(x)
    return stats, y


@contextmanager
def frozen_norms(net: nn.Module, stats: NormStats) -> Iterator[None]:
    """Within the block, each ``InstanceNorm2d`` of ``net`` normalises with ``stats`` (batch must
    match theirs) instead of its input's own statistics; ``net`` is restored on exit."""
    missing = [m for m in _norms(net) if m not in stats]
    if missing:
        raise ValueError(f"no statistics for {len(missing)} instance norm(s) of the net")

    def make(m):
        mean, var = stats[m]
        return lambda h: _normalise(m, h, mean, var)

    with _patched(net, make):
        yield


# --------------------------------------------------------------------------- tiled forward


def _like(t: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """``t`` made contiguous in ``ref``'s memory format (channels_last or not)."""
    cl = ref.dim() == 4 and ref.is_contiguous(memory_format=torch.channels_last) and not ref.is_contiguous()
    return t.contiguous(memory_format=torch.channels_last if cl else torch.contiguous_format)


def stats_input(x: torch.Tensor, stats_pixels: int | None, stride: int = 4) -> torch.Tensor:
    """``x`` ``[B,3,H,W]`` area-downscaled to at most ``stats_pixels`` pixels (sides multiples of
    ``stride``); ``x`` itself when it fits or ``stats_pixels`` is None."""
    h, w = x.shape[-2:]
    if stats_pixels is None or h * w <= stats_pixels:
        return x
    s = math.sqrt(stats_pixels / (h * w))
    size = (_round_down(int(h * s), stride), _round_down(int(w * s), stride))
    return _like(F.interpolate(x, size=size, mode="area"), x)


@torch.inference_mode()
def stylize_tiled(
    net: nn.Module,
    x: torch.Tensor,
    tile: int | tuple[int, int],
    *,
    margin: int | None = None,
    ramp: int | None = None,
    stats_pixels: int | None = None,
    stats: NormStats | None = None,
) -> torch.Tensor:
    """Run ``net`` on ``x`` ``[B,3,H,W]`` (H, W multiples of ``net.stride``) in overlapping tiles.

    ``tile``: window size in pixels (square, or ``(th, tw)``). ``margin``/``ramp``: see
    :func:`blend_weights`; defaults from :func:`default_overlap`. Statistics come from ``stats`` if
    given, else from a pass over ``x`` downscaled to ``stats_pixels`` (None: the full frame).
    Returns ``[B,3,H,W]`` float32 (unclamped). Peak memory is about one tile's forward pass or the
    statistics pass, whichever is larger, plus the float32 output.
    """
    stride = getattr(net, "stride", 4)
    b, _, h, w = x.shape
    if h % stride or w % stride:
        raise ValueError(f"frame size {w}x{h} must be a multiple of the net's stride {stride}")
    th, tw = (tile, tile) if isinstance(tile, int) else tile
    d_margin, d_ramp = default_overlap(net, min(th, tw))
    margin = d_margin if margin is None else margin
    ramp = d_ramp if ramp is None else ramp
    overlap = 2 * margin + ramp
    ys, xs = axis_tiles(h, th, overlap, stride), axis_tiles(w, tw, overlap, stride)
    if stats is None:
        small = stats_input(x, stats_pixels, stride)
        stats, y_small = record_norm_stats(net, small)
        if small is x and len(ys.starts) == len(xs.starts) == 1:
            return y_small.float()  # one window and full-frame statistics: that pass was the answer
        del y_small
    wy, wx = blend_weights(ys, margin, ramp, x.device), blend_weights(xs, margin, ramp, x.device)
    out = torch.zeros(b, 3, h, w, dtype=torch.float32, device=x.device)
    with frozen_norms(net, stats):
        for y0, wyi in zip(ys.starts, wy):
            for x0, wxj in zip(xs.starts, wx):
                part = _like(x[:, :, y0:y0 + ys.size, x0:x0 + xs.size], x)
                y = net(part)
                out[:, :, y0:y0 + ys.size, x0:x0 + xs.size].addcmul_(y, wyi[:, None] * wxj[None, :])
                del y
    return out
