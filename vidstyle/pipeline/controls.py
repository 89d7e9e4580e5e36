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

import numpy as np
import torch
import torch.nn.functional as F

# BT.709 luma weights; U, V are the scaled B'-Y' and R'-Y' differences (analogue Y'PbPr scale).
KR, KG, KB = 0.2126, 0.7152, 0.0722
_U_SCALE = 0.5 / (1.0 - KB)  # Pb = (B' - Y') * _U_SCALE
_V_SCALE = 0.5 / (1.0 - KR)  # Pr = (R' - Y') * _V_SCALE


def rgb_to_yuv(x: torch.Tensor) -> torch.Tensor:
    """``[B,3,H,W]`` R'G'B' → Y'PbPr (BT.709): Y in [0,1], U, V in [-0.5, 0.5]."""
    r, g, b = x.unbind(1)
    y = KR * r + KG * g + KB * b
    return torch.stack([y, (b - y) * _U_SCALE, (r - y) * _V_SCALE], 1)


def _uv_offsets(u: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Offsets such that R = Y + oR, G = Y + oG, B = Y + oB for the given chroma."""
    o_r = v / _V_SCALE
    o_b = u / _U_SCALE
    o_g = -(KR * o_r + KB * o_b) / KG
    return o_r, o_g, o_b


def yuv_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_yuv` (no clamping)."""
    y, u, v = x.unbind(1)
    o_r, o_g, o_b = _uv_offsets(u, v)
    return torch.stack([y + o_r, y + o_g, y + o_b], 1)


def preserve_colors(content: torch.Tensor, stylized: torch.Tensor) -> torch.Tensor:
    """Stylized luma with the content's chroma, kept exactly (luma is limited to the in-gamut range).

    For fixed chroma every RGB channel is ``Y + offset``; the Y range that keeps all three in
    [0,1] always contains the content's own Y, so clamping Y to it never empties the range.
    """
    yuv_c = rgb_to_yuv(content)
    y_s = rgb_to_yuv(stylized)[:, 0]
    u, v = yuv_c[:, 1], yuv_c[:, 2]
    offs = torch.stack(_uv_offsets(u, v), 1)  # [B,3,H,W]
    lo = (-offs).amax(1)
    hi = (1.0 - offs).amin(1)
    y = torch.maximum(torch.minimum(y_s, hi), lo)
    return (y.unsqueeze(1) + offs).clamp_(0.0, 1.0)  # clamp only removes float dust


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
    """Contrast-preserving blend from ``content`` (0) to ``stylized`` (1); see the module docstring.

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


def gaussian_kernel1d(sigma: float, device=None, dtype=torch.float32) -> torch.Tensor:
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


def matte_to_tensor(img: np.ndarray, device: torch.device | str = "cpu", *, channel: str = "auto") -> torch.Tensor:
    """A decoded matte frame → ``[1,1,H,W]`` float in [0,1] (see :func:`vidstyle.pipeline.mattes.matte_plane`)."""
    from .mattes import matte_plane  # noqa: PLC0415 - mattes imports this module

    return torch.from_numpy(matte_plane(img, channel))[None, None].to(device)


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
