"""Runs a style net on batches of frames on the chosen device.

CUDA: fp16 weights and activations, channels_last memory format. CPU: fp32 (fp16 is slower
there), channels_last when it is faster for the net (see benchmarks). Odd sizes are reflect-padded
to the net's stride and cropped back, so output size always equals input size.
"""

from __future__ import annotations

import torch

from ..models.transformer import TransformerNet
from .tensors import pad_to_multiple


class Stylizer:
    """``Stylizer(net, device)(x [B,3,H,W] in [0,1]) -> [B,3,H,W] in [0,1]`` (float32, on ``device``)."""

    def __init__(self, net: TransformerNet, device: torch.device | str = "cpu", channels_last: bool | None = None) -> None:
        self.device = torch.device(device)
        self.half = self.device.type == "cuda"
        self.channels_last = self.device.type == "cuda" if channels_last is None else channels_last
        net = net.eval().to(self.device)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # video frames share one size: autotune once
        if self.half:
            net = net.half()
        if self.channels_last:
            net = net.to(memory_format=torch.channels_last)
        self.net = net
        self.stride = getattr(net, "stride", 4)

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True)
        xp, (h, w) = pad_to_multiple(x, self.stride)
        if self.half:
            xp = xp.half()
        if self.channels_last:
            xp = xp.contiguous(memory_format=torch.channels_last)
        y = self.net(xp)[..., :h, :w]
        return y.float().clamp_(0, 1).contiguous()
