"""Runs a style net on batches of frames on the chosen device.

CUDA: fp16 weights and activations, channels_last memory format. CPU: fp32 (fp16 is slower
there), channels_last when it is faster for the net (see benchmarks). Odd sizes are reflect-padded
to the net's stride (and frames of a few pixels up to :func:`~vidstyle.ops.tensors.min_side`)
and cropped back, so output size always equals input size.

Memory: a batch is split into chunks so that no tensor inside the net exceeds 2**31 elements (CUDA
kernels index with 32 bits) and, with ``tile="auto"``, so that a chunk's activations fit the
memory budget (CPU: 3 GiB; CUDA: a share of free memory). A frame too large for the budget on
its own is stylized in overlapping tiles that share one set of instance-norm statistics
(:mod:`vidstyle.pipeline.tiling`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..models.fold import fold_for_cpu
from ..models.transformer import TransformerNet
from . import tiling
from ..ops.tensors import min_side, pad_to_multiple


@dataclass(frozen=True)
class RunPlan:
    """How one batch shape runs: frames per net call, and the tile size (0 = untiled)."""

    chunk: int
    tile: int = 0
    stats_pixels: int | None = None


class Stylizer:
    """``Stylizer(net, device)(x [B,3,H,W] in [0,1]) -> [B,3,H,W] in [0,1]`` (float32, on ``device``).

    ``tile``: ``"auto"``/None tiles only frames too large for ``memory_budget`` (bytes; default
    :func:`tiling.memory_budget`), ``0``/``"off"`` never tiles, an int forces tiles of that many
    pixels a side.
    """

    def __init__(
        self,
        net: TransformerNet,
        device: torch.device | str = "cpu",
        channels_last: bool | None = None,
        tile: int | str | None = "auto",
        memory_budget: int | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.half = self.device.type == "cuda"
        self.channels_last = self.device.type == "cuda" if channels_last is None else channels_last
        self.tile = tiling.parse_tile(tile)
        self.memory_budget = memory_budget
        net = net.eval().to(self.device)
        if self.device.type == "cpu" and isinstance(net, TransformerNet):
            net = fold_for_cpu(net)  # same outputs; the light net runs ~20-35% faster on CPUs
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # video frames share one size: autotune once
        if self.half:
            net = net.half()
        if self.channels_last:
            net = net.to(memory_format=torch.channels_last)
        self.net = net
        self.stride = getattr(net, "stride", 4)
        self._plans: dict[tuple[int, int, int], RunPlan] = {}

    def plan(self, batch: int, height: int, width: int) -> RunPlan:
        """The chunking/tiling for a padded batch ``[batch,3,height,width]`` (cached per shape, so a
        video keeps one plan even as the CUDA cache fills up)."""
        key = (batch, height, width)
        if key not in self._plans:
            self._plans[key] = self._make_plan(batch, height, width)
        return self._plans[key]

    def _make_plan(self, batch: int, h: int, w: int) -> RunPlan:
        dtype = torch.float16 if self.half else torch.float32
        per_px = tiling.elements_per_pixel(self.net)
        max_px = tiling.MAX_TENSOR_ELEMENTS // per_px  # per net call, all images of the chunk together

        def fits_32bit(b: int, th: int, tw: int) -> int:  # frames per call for th x tw inputs (+ 9x9 padding)
            return max(0, min(b, max_px // ((th + 8) * (tw + 8))))

        if self.tile == 0:
            return RunPlan(chunk=max(1, fits_32bit(batch, h, w)))
        budget = self.memory_budget or tiling.memory_budget(self.device)
        budget_px = max(tiling.MIN_TILE**2, int(budget / tiling.bytes_per_pixel(self.net, dtype)))
        if self.tile is None:
            chunk = min(fits_32bit(batch, h, w), budget_px // (h * w))
            if chunk >= 1:
                return RunPlan(chunk=chunk)
            side = int(math.sqrt(min(budget_px, max_px)))
            tile = max(tiling.MIN_TILE, side - 8) // self.stride * self.stride
            return RunPlan(chunk=1, tile=tile, stats_pixels=min(budget_px, max_px))
        # Forced tiles: the statistics pass still gets the whole budget (full-frame statistics
        # whenever the frame fits, which makes tiled == untiled for margins >= the receptive field).
        tile = self.tile
        return RunPlan(chunk=max(1, fits_32bit(batch, tile, tile)), tile=tile, stats_pixels=min(budget_px, max_px))

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        if self.half:
            x = x.half()
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True)
        xp, (h, w) = pad_to_multiple(x, self.stride, min_side(self.stride))
        plan = self.plan(*xp.shape[:1], *xp.shape[-2:])
        outs = []
        for part in xp.split(plan.chunk):
            part = self._prepare(part)
            if plan.tile:
                y = tiling.stylize_tiled(self.net, part, plan.tile, stats_pixels=plan.stats_pixels)
            else:
                y = self.net(part)
            outs.append(y[..., :h, :w].float().clamp_(0, 1))
        return (torch.cat(outs) if len(outs) > 1 else outs[0]).contiguous()
