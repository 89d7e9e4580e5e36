"""Random transform nets for tests (imported by test modules; pytest puts tests/ on sys.path)."""

from __future__ import annotations

import torch
from torch import nn

from vidstyle.models.transformer import TransformerNet


def random_net(arch="light", seed: int = 0, weight=(0.5, 2.0), bias=(-0.5, 0.5)) -> TransformerNet:
    """A seeded random ``TransformerNet`` (eval mode) whose instance norms have non-trivial affine
    parameters (uniform in ``weight`` and ``bias``), so per-tile or per-backend differences show."""
    torch.manual_seed(seed)
    net = TransformerNet(arch).eval()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.InstanceNorm2d):
                m.weight.uniform_(*weight)
                m.bias.uniform_(*bias)
    return net


#: A tiny arch for engine tests (export, compile and quantize in well under a second).
TINY = {"channels": [4, 8, 8], "blocks": 1}


def tiny_net(seed: int = 0, arch=TINY) -> TransformerNet:
    """A seeded random net of ``arch`` (default :data:`TINY`) with moderate instance-norm affines."""
    return random_net(arch, seed, weight=(0.5, 1.5), bias=(-0.2, 0.2))
