"""Soft matte edges: a separable Gaussian feather on ``[B,1,H,W]`` float mattes in [0,1]."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["gaussian_kernel1d", "snap_matte", "feather_mask"]


def gaussian_kernel1d(sigma: float, device=None, dtype=torch.float32) -> torch.Tensor:
    """Normalised 1-D Gaussian taps, radius ``round(3·sigma)`` (at least 1); ``sigma`` in pixels."""
    radius = max(1, int(round(3.0 * sigma)))
    x = torch.arange(-radius, radius + 1, device=device, dtype=dtype)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def snap_matte(m: torch.Tensor, tol: float = 1e-5) -> torch.Tensor:
    """Clamp to [0,1] and make values within ``tol`` of 0 or 1 exact (resampling leaves 0.99999994)."""
    m = m.clamp(0.0, 1.0)
    return torch.where(m > 1.0 - tol, torch.ones_like(m), torch.where(m < tol, torch.zeros_like(m), m))


def feather_mask(mask: torch.Tensor, px: float) -> torch.Tensor:
    """Soft edge: separable Gaussian blur of a ``[B,1,H,W]`` matte with sigma ``px`` (0 = no blur).

    Flat regions stay exactly 0 or 1 (see :func:`snap_matte`)."""
    if px <= 0:
        return mask
    k = gaussian_kernel1d(float(px), mask.device, mask.dtype)
    r = k.numel() // 2
    h, w = mask.shape[-2:]
    mode = "reflect" if r < h and r < w else "replicate"
    m = F.pad(mask, (r, r, 0, 0), mode=mode)
    m = F.conv2d(m, k.view(1, 1, 1, -1))
    m = F.pad(m, (0, 0, r, r), mode=mode)
    return snap_matte(F.conv2d(m, k.view(1, 1, -1, 1)))
