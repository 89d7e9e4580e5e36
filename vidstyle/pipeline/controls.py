"""Artist controls applied after the net: strength, colour preservation and mattes.

All functions take and return ``[B,3,H,W]`` float tensors in [0,1] (masks ``[B,1,H,W]`` or
``[1,1,H,W]`` in [0,1]); they run on whatever device the tensors are on and never call the net.

Order of operations in :func:`apply_controls` (and :class:`StyleControls`):

1. ``preserve_colors``: luma from the stylized frame, chroma (U, V of BT.709 Y'UV) from the
   content, with luma limited to the range where that chroma stays inside the RGB cube, so the
   content's chroma is kept *exactly* (no clipping shifts it).
2. ``strength``: a *contrast-preserving* blend: the linear blend ``(1-s)·content + s·stylized``
   loses contrast and saturation in between (two unrelated images average towards grey: at
   ``s = 0.5`` the std of two uncorrelated images drops to ~71 %), so the blend's per-image
   deviation from its mean is rescaled, per Y'UV channel (luma → contrast, U/V → saturation), to
   the interpolated std ``(1-s)·σ_content + s·σ_stylized``. The mean is the linear one. ``s = 0`` returns the content
   and ``s = 1`` the stylized frame exactly (see ``benchmarks/strength_blend.py`` for the
   measured progression against the plain linear blend).
3. ``mask``: ``content·(1-m) + result·m``: 0 leaves the content untouched, 1 takes the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..ops.blend import blend_strength
from ..ops.color import chroma_offsets, rgb_to_yuv

def preserve_colors(content: torch.Tensor, stylized: torch.Tensor) -> torch.Tensor:
    """Stylized luma with the content's chroma, kept exactly (luma is limited to the in-gamut range).

    For fixed chroma every RGB channel is ``Y + offset``; the Y range that keeps all three in
    [0,1] always contains the content's own Y, so clamping Y to it never empties the range.
    """
    yuv_c = rgb_to_yuv(content)
    y_s = rgb_to_yuv(stylized)[:, 0]
    u, v = yuv_c[:, 1], yuv_c[:, 2]
    offs = torch.stack(chroma_offsets(u, v), 1)  # [B,3,H,W]
    lo = (-offs).amax(1)
    hi = (1.0 - offs).amin(1)
    y = torch.maximum(torch.minimum(y_s, hi), lo)
    return (y.unsqueeze(1) + offs).clamp_(0.0, 1.0)  # clamp only removes float dust


def apply_mask(content: torch.Tensor, result: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``content·(1-m) + result·m``; the mask is resized (bilinear) to the frame if it differs."""
    if mask is None:
        return result
    m = mask.to(device=result.device, dtype=result.dtype)
    if m.dim() == 3:
        m = m.unsqueeze(1)
    if m.shape[-2:] != result.shape[-2:]:
        m = F.interpolate(m, size=result.shape[-2:], mode="bilinear", align_corners=False)
    m = m.clamp(0.0, 1.0)
    return content + (result - content) * m


def apply_controls(
    content: torch.Tensor,
    stylized: torch.Tensor,
    *,
    strength: float = 1.0,
    preserve: bool = False,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Colour preservation → strength → mask (see the module docstring)."""
    out = stylized
    if preserve:
        out = preserve_colors(content, out)
    out = blend_strength(content, out, strength)
    return apply_mask(content, out, mask)


@dataclass
class StyleControls:
    """Mutable artist controls: ``controls(content, stylized, mask=None) -> output``.

    ``strength`` in [0,1] (0 = the input, 1 = the full style), ``preserve_colors`` keeps the
    content's chroma. Live mode may change the attributes between frames.
    """

    strength: float = 1.0
    preserve_colors: bool = False

    def __post_init__(self) -> None:
        self.strength = check_strength(self.strength)

    @property
    def is_identity(self) -> bool:
        """True when the controls leave the stylized frame as is (no mask given)."""
        return self.strength >= 1.0 and not self.preserve_colors

    def __call__(self, content: torch.Tensor, stylized: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None and self.is_identity:
            return stylized
        s = min(max(float(self.strength), 0.0), 1.0)
        return apply_controls(content, stylized, strength=s, preserve=self.preserve_colors, mask=mask)


def check_strength(value) -> float:
    """``value`` as a float in [0,1], else ``ValueError`` with a one-line message."""
    try:
        s = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"strength must be a number in 0..1, not {value!r}") from None
    if not 0.0 <= s <= 1.0:  # also rejects NaN
        raise ValueError(f"strength must be within 0..1, not {value}")
    return s
