"""An exact re-formulation of a transform net's last layer that runs faster on CPUs.

The Johnson et al. net ends in a 9x9 convolution with three output channels at full resolution.
A convolution with so few outputs keeps a CPU's SIMD lanes mostly idle: in ONNX Runtime on this
project's 2-core CPU that one layer took ~28% of the light net's time for ~12% of its
multiply-adds. :class:`FoldedConv` computes the same layer as a ``10 x 10`` stride-2 convolution
with twelve outputs (one per output channel and 2x2 pixel phase) followed by a ``pixel_shuffle``:
~23% more multiply-adds that vectorise four times better. Outputs agree to float rounding (tests
check ~1e-5). Measured in ONNX Runtime, 640x360, 2 threads: light net ~216 -> ~174 ms per frame,
full ~700 -> ~590 ms.

Also tried and left out, because they were not faster there: folding the first (``3 -> c1``)
convolution the same way, and turning the decoder's nearest-upsample + 3x3 convolutions into
sub-pixel convolutions (the extra ``DepthToSpace``/``Transpose`` passes over 64-channel tensors cost
what the convolutions saved).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from .transformer import ConvLayer, TransformerNet


class FoldedConv(nn.Module):
    """``ConvLayer`` (reflection pad ``k//2`` + ``k x k`` stride-1 conv) computed as one
    ``(k+1) x (k+1)`` stride-2 conv with ``4 * Cout`` outputs and a ``pixel_shuffle``: output phase
    ``(a, b)`` is the original kernel shifted by ``(a, b)`` inside the larger window.

    Input ``[B,Cin,H,W]``, H and W even; output ``[B,Cout,H,W]``, equal to ``layer(x)``.
    """

    def __init__(self, layer: ConvLayer) -> None:
        super().__init__()
        conv = layer.conv
        if conv.stride != (1, 1) or conv.dilation != (1, 1) or conv.groups != 1:
            raise ValueError("FoldedConv folds stride-1, undilated, ungrouped convolutions")
        self.pad = layer.pad
        w = conv.weight.detach()
        cout, cin, k, _ = w.shape
        wf = w.new_zeros(cout, 2, 2, cin, k + 1, k + 1)  # (o, a, b, c, a + dy, b + dx)
        for a in range(2):
            for b in range(2):
                wf[:, a, b, :, a : a + k, b : b + k] = w
        self.conv = nn.Conv2d(cin, 4 * cout, k + 1, stride=2)
        with torch.no_grad():
            self.conv.weight.copy_(wf.reshape(4 * cout, cin, k + 1, k + 1))
            bias = conv.bias.detach() if conv.bias is not None else w.new_zeros(cout)
            self.conv.bias.copy_(bias.repeat_interleave(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.conv(self.pad(x)), 2)


def fold_for_cpu(net: TransformerNet) -> TransformerNet:
    """A copy of ``net`` with the same outputs (up to float rounding) whose last convolution runs
    as a :class:`FoldedConv` when it works at full resolution (plain archs; the ``fast`` arch's
    last conv already has 12 outputs at half resolution and gains nothing). The ONNX export uses it."""
    out = copy.deepcopy(net).eval()
    if net.arch.unshuffle == 1:
        out.decoder[-1] = FoldedConv(out.decoder[-1])
    return out
