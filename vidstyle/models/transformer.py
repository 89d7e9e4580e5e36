"""Feed-forward style transform net (Johnson et al. 2016 family).

Built from small named parts like torchvision's RAFT: ``ConvLayer`` (reflection pad + conv),
``ResidualBlock``, ``ConvNormAct`` (optionally after a nearest upsample: no checkerboard),
assembled by ``TransformerNet``. One class covers the full net (32/64/128 channels, 5 residual
blocks, Johnson et al.), light real-time variants (e.g. 16/32/64, 3 blocks) and the pixel-folding
``fast`` arch (every layer at half resolution or below, ESPCN-style pixel shuffle at the output).

Shapes: input ``[B, 3, H, W]`` RGB in [0, 1]; output ``[B, 3, H, W]`` RGB, nominally in [0, 1]
(unclamped; callers clamp for display). H and W must be multiples of the net's ``stride`` (4 for
the shipped archs); the pipeline's stylizers pad other sizes.
"""

from __future__ import annotations

import torch
from torch import nn

from .arch import ARCH_CHOICES, ARCHS, UPSAMPLE_MODES, Arch, resolve_arch

__all__ = ["ARCH_CHOICES", "ARCHS", "UPSAMPLE_MODES", "Arch", "resolve_arch", "TransformerNet"]


class ConvLayer(nn.Module):
    """Reflection (or, with ``replicate``, edge) padding followed by a convolution (keeps borders
    artefact-free)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, replicate: bool = False) -> None:
        super().__init__()
        self.pad = nn.ReplicationPad2d(kernel // 2) if replicate else nn.ReflectionPad2d(kernel // 2)
        self.conv = nn.Conv2d(cin, cout, kernel, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pad(x))


class ConvNormAct(nn.Module):
    """ConvLayer + instance norm (affine) + ReLU, optionally after an ``upsample``-times upsampling
    (``mode`` ``"nearest"``, or ``"bilinear"``: then the conv pads by replication)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, upsample: int = 1,
                 mode: str = "nearest") -> None:
        super().__init__()
        self.upsample, self.mode = upsample, mode
        self.conv = ConvLayer(cin, cout, kernel, stride, replicate=upsample > 1 and mode == "bilinear")
        self.norm = nn.InstanceNorm2d(cout, affine=True)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.upsample > 1 and self.mode == "bilinear":
            x = nn.functional.interpolate(x, scale_factor=self.upsample, mode="bilinear", align_corners=False)
        elif self.upsample > 1:
            x = nn.functional.interpolate(x, scale_factor=self.upsample, mode="nearest")
        return self.act(self.norm(self.conv(x)))


class ResidualBlock(nn.Module):
    """Two 3x3 conv + instance-norm layers with an identity shortcut."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3)
        self.norm1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, 3)
        self.norm2 = nn.InstanceNorm2d(channels, affine=True)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self.norm1(self.conv1(x)))
        return x + self.norm2(self.conv2(y))


class TransformerNet(nn.Module):
    """Encoder (a conv layer, then one stride-2 conv per further level) → residual blocks →
    upsampling decoder (with ``arch.unshuffle`` > 1: pixel-unshuffle before, pixel-shuffle after)."""

    stride = 4  # of the plain archs; instances carry their arch's (``arch.stride``)

    def __init__(self, arch: str | Arch | dict = "full") -> None:
        super().__init__()
        self.arch = resolve_arch(arch)
        c = self.arch.channels
        u, k = self.arch.unshuffle, self.arch.edge_kernel
        self.stride = self.arch.stride
        self.encoder = nn.Sequential(
            ConvNormAct(3 * u * u, c[0], k, 1),
            *[ConvNormAct(c[i], c[i + 1], 3, 2) for i in range(len(c) - 1)],
        )
        self.residuals = nn.Sequential(*[ResidualBlock(c[-1]) for _ in range(self.arch.blocks)])
        self.decoder = nn.Sequential(
            *[ConvNormAct(c[i], c[i - 1], 3, 1, upsample=2, mode=self.arch.upsample) for i in range(len(c) - 1, 0, -1)],
            ConvLayer(c[0], 3 * u * u, k, 1),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Encoder + residual blocks: ``[B,3,H,W]`` -> ``[B,C3,H/s,W/s]``, ``s = stride`` (used by
        the feature temporal loss)."""
        if self.arch.unshuffle > 1:
            x = nn.functional.pixel_unshuffle(x, self.arch.unshuffle)
        return self.residuals(self.encoder(x))

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """Upsampling decoder: ``[B,C3,H/s,W/s]`` -> ``[B,3,H,W]``."""
        y = self.decoder(h)
        if self.arch.unshuffle > 1:
            y = nn.functional.pixel_shuffle(y, self.arch.unshuffle)
        return y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Stylize ``x`` ``[B,3,H,W]`` in [0,1]; returns ``[B,3,H,W]`` (unclamped)."""
        return self.decode(self.encode(x))


def num_params(model: nn.Module) -> int:
    """Number of parameters of ``model``."""
    return sum(p.numel() for p in model.parameters())
