"""Colour transforms on ``[B,3,H,W]`` float tensors: BT.709 Y'PbPr and the sRGB transfer curve.

Shared by the net's post-processing (strength, colour preservation, style mixes), mattes (luma)
and the file encodings (scene-linear EXR in, sRGB for the net).
"""

from __future__ import annotations

import torch

__all__ = ["KR", "KG", "KB", "rgb_to_yuv", "yuv_to_rgb", "chroma_offsets", "srgb_to_linear", "linear_to_srgb"]

# BT.709 luma weights; U, V are the scaled B'-Y' and R'-Y' differences (analogue Y'PbPr scale).
KR, KG, KB = 0.2126, 0.7152, 0.0722
_U_SCALE = 0.5 / (1.0 - KB)  # Pb = (B' - Y') * _U_SCALE
_V_SCALE = 0.5 / (1.0 - KR)  # Pr = (R' - Y') * _V_SCALE


def rgb_to_yuv(x: torch.Tensor) -> torch.Tensor:
    """``[B,3,H,W]`` R'G'B' → Y'PbPr (BT.709): Y in [0,1], U, V in [-0.5, 0.5]."""
    r, g, b = x.unbind(1)
    y = KR * r + KG * g + KB * b
    return torch.stack([y, (b - y) * _U_SCALE, (r - y) * _V_SCALE], 1)


def chroma_offsets(u: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Offsets such that R = Y + oR, G = Y + oG, B = Y + oB for the given chroma."""
    o_r = v / _V_SCALE
    o_b = u / _U_SCALE
    o_g = -(KR * o_r + KB * o_b) / KG
    return o_r, o_g, o_b


def yuv_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_yuv` (no clamping)."""
    y, u, v = x.unbind(1)
    o_r, o_g, o_b = chroma_offsets(u, v)
    return torch.stack([y + o_r, y + o_g, y + o_b], 1)


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    """IEC 61966-2-1 sRGB decoding (odd extension below 0, so negatives round-trip)."""
    a = x.abs()
    y = torch.where(a <= 0.04045, a / 12.92, ((a + 0.055) / 1.055) ** 2.4)
    return torch.copysign(y, x)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    """IEC 61966-2-1 sRGB encoding (odd extension below 0; values above 1 follow the curve)."""
    a = x.abs()
    y = torch.where(a <= 0.0031308, a * 12.92, 1.055 * a.clamp_min(1e-12) ** (1 / 2.4) - 0.055)
    return torch.copysign(y, x)
