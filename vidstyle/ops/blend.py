"""Blends of ``[B,3,H,W]`` float images that keep contrast and saturation.

A linear blend of unrelated images averages towards grey (two uncorrelated images at 0.5 keep
~71 % of their std); these blends restore the interpolated spread per Y'UV channel. Used by the
strength control (content → stylized) and by style mixes that blend several nets' outputs.
"""

from __future__ import annotations

import torch

from .color import rgb_to_yuv, yuv_to_rgb

__all__ = ["linear_blend", "stats_blend", "blend_strength"]


def linear_blend(content: torch.Tensor, stylized: torch.Tensor, strength: float) -> torch.Tensor:
    """The plain RGB blend (kept for comparison; fades towards grey in between)."""
    return torch.lerp(content, stylized, float(strength))


def stats_blend(images: list[torch.Tensor], weights: list[float], *, space: str = "yuv",
                eps: float = 1e-4) -> torch.Tensor:
    """Weighted blend of ``[B,3,H,W]`` images that keeps contrast and saturation (unclamped).

    The linear blend ``Σ wᵢ·xᵢ`` keeps the mean, but its deviation from the mean shrinks when the
    images are unrelated. Here each image's deviation is rescaled, per channel of ``space``
    (``"yuv"``: Y'UV BT.709, so luma std → contrast and U/V std → saturation; ``"rgb"``: per RGB
    channel), to the weighted std ``Σ wᵢ·σᵢ``. Written as ``mix + correction`` so that when the
    images agree (gain 1) the result is the linear blend exactly.
    """
    if space not in ("yuv", "rgb"):
        raise ValueError(f"unknown blend space {space!r}")
    dtype = images[0].dtype
    xs = [x.float() for x in images]
    ws = [float(w) for w in weights]
    if len(xs) == 2 and abs(ws[0] + ws[1] - 1.0) < 1e-9:
        mix = torch.lerp(xs[0], xs[1], ws[1])  # exact when the two agree
    else:
        mix = sum(w * x for w, x in zip(ws, xs))
    if len(xs) == 1:
        return mix.to(dtype)
    to = rgb_to_yuv if space == "yuv" else (lambda t: t)
    back = yuv_to_rgb if space == "yuv" else (lambda t: t)
    dims = (-2, -1)
    mix_c = to(mix)
    mean = mix_c.mean(dims, keepdim=True)
    std_mix = mix_c.std(dims, keepdim=True, unbiased=False)
    target = sum(w * to(x).std(dims, keepdim=True, unbiased=False) for w, x in zip(ws, xs))
    # std(mix) <= target always (triangle inequality), so gain >= 1; cap it for near-flat frames.
    gain = (target / std_mix.clamp_min(eps)).clamp(1.0, 4.0)
    return (mix + back((gain - 1.0) * (mix_c - mean))).to(dtype)


def blend_strength(content: torch.Tensor, stylized: torch.Tensor, strength: float, eps: float = 1e-4,
                   space: str = "yuv") -> torch.Tensor:
    """Contrast-preserving blend from ``content`` (0) to ``stylized`` (1); see :mod:`vidstyle.pipeline.controls`.

    ``space="yuv"`` (default) interpolates the std of luma and of each chroma channel (keeps both
    contrast and saturation); ``"rgb"`` does it per RGB channel (keeps contrast, less saturation).
    """
    s = float(strength)
    if s <= 0.0:
        return content
    if s >= 1.0:
        return stylized
    out = stats_blend([content, stylized], [1.0 - s, s], space=space, eps=eps)
    return out.clamp_(0.0, 1.0)
