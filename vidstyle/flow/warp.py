"""Backward warping with optical flow, and flow resizing.

Convention (used everywhere in vidstyle): a flow is ``[B, 2, H, W]`` float32 in pixels, channel 0
= x (right), channel 1 = y (down), in the *backward-warping* sense: ``flow_1to2`` is defined on the
pixels of image 1 and satisfies ``img1(p) ≈ img2(p + flow_1to2(p))``, hence
``backward_warp(img2, flow_1to2) ≈ img1``. Pixel ``(x, y)`` is the centre of column ``x`` / row
``y`` (0-based), which is ``grid_sample(..., align_corners=True)``'s convention.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..ops.resample import cv2_ok, remap_planes, resize_bilinear

__all__ = ["pixel_grid", "backward_warp", "inside_mask", "resize_flow"]

_GRID_CACHE: dict[tuple, torch.Tensor] = {}


def pixel_grid(height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """``[1, 2, H, W]`` pixel coordinates (x then y). Cached per size/device/dtype."""
    key = (height, width, str(device), dtype)
    grid = _GRID_CACHE.get(key)
    if grid is None:
        ys, xs = torch.meshgrid(
            torch.arange(height, device=device, dtype=dtype),
            torch.arange(width, device=device, dtype=dtype),
            indexing="ij",
        )
        grid = torch.stack((xs, ys), 0).unsqueeze(0)
        if len(_GRID_CACHE) > 16:
            _GRID_CACHE.clear()
        _GRID_CACHE[key] = grid
    return grid


def _check(img: torch.Tensor, flow: torch.Tensor) -> None:
    if img.dim() != 4 or flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"expected img [B,C,H,W] and flow [B,2,H,W], got {tuple(img.shape)} and {tuple(flow.shape)}")
    if img.shape[-2:] != flow.shape[-2:]:
        raise ValueError(f"image {tuple(img.shape[-2:])} and flow {tuple(flow.shape[-2:])} sizes differ")
    if flow.shape[0] not in (1, img.shape[0]) and img.shape[0] != 1:
        raise ValueError(f"batch sizes differ: image {img.shape[0]}, flow {flow.shape[0]}")


def backward_warp(
    img: torch.Tensor,
    flow: torch.Tensor,
    padding: str = "border",
    mode: str = "bilinear",
    return_mask: bool = False,
    approx: bool = False,
):
    """Sample ``img`` at ``p + flow(p)``: ``out(p) = img(p + flow(p))``.

    ``img``: ``[B, C, H, W]`` (any C; flows can be warped too), ``flow``: ``[B, 2, H, W]`` (a batch
    of 1 broadcasts). ``padding``: ``"border"`` (repeat edge pixels) or ``"zeros"``. ``mode``:
    ``"bilinear"``, ``"bicubic"`` or ``"nearest"``. With ``return_mask=True`` also returns
    :func:`inside_mask` (``[B, 1, H, W]`` float, 1 where the sample lies inside the frame).
    ``approx=True`` allows OpenCV's faster remap on CPU (sample positions quantised to 1/32 px;
    see :mod:`vidstyle.ops.resample`): for inference-time blending, not for metrics or training.
    """
    if padding not in ("border", "zeros"):
        raise ValueError(f"padding must be 'border' or 'zeros', not {padding!r}")
    _check(img, flow)
    if approx and padding == "border" and mode != "nearest" and cv2_ok(img, flow):
        out = remap_planes(img, flow, mode)
        return (out, inside_mask(flow)) if return_mask else out
    b = max(img.shape[0], flow.shape[0])
    h, w = img.shape[-2:]
    flow = flow.to(img.dtype) if img.is_floating_point() else flow.float()
    # Normalise to [-1, 1] with align_corners=True: pixel 0 -> -1, pixel W-1 -> +1. Built in
    # grid_sample's [B, H, W, 2] layout at once, from the flow's channels-last view.
    scale = torch.tensor([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)], dtype=flow.dtype, device=flow.device)
    grid = (pixel_grid(h, w, flow.device, flow.dtype) + flow).permute(0, 2, 3, 1).mul_(scale).sub_(1.0)
    if grid.shape[0] != b:
        grid = grid.expand(b, -1, -1, -1)
    src = img if img.shape[0] == b else img.expand(b, -1, -1, -1)
    src_f = src if src.is_floating_point() else src.float()
    out = F.grid_sample(src_f, grid, mode=mode, padding_mode=padding, align_corners=True)
    if return_mask:
        return out, inside_mask(flow)
    return out


def inside_mask(flow: torch.Tensor, margin: float = 0.0) -> torch.Tensor:
    """``[B, 1, H, W]`` float mask: 1 where ``p + flow(p)`` falls inside the frame.

    "Inside" means within ``[-margin, W-1+margin] x [-margin, H-1+margin]`` (pixel centres), so with
    the default ``margin=0`` a sample never mixes in padding.
    """
    h, w = flow.shape[-2:]
    pos = pixel_grid(h, w, flow.device, flow.dtype) + flow
    x, y = pos[:, 0:1], pos[:, 1:2]
    eps = 1e-3 + margin
    ok = (x >= -eps) & (x <= w - 1 + eps) & (y >= -eps) & (y <= h - 1 + eps)
    return ok.to(flow.dtype)


def resize_flow(flow: torch.Tensor, size: tuple[int, int], mode: str = "bilinear") -> torch.Tensor:
    """Resize a ``[B, 2, h, w]`` flow to ``size=(H, W)``, scaling its values to the new pixel units.

    Uses the half-pixel-centre geometry of ``cv2.resize``/``F.interpolate(align_corners=False)``
    (scale ``W/w``, ``H/h``), matching frames that were resized that way before flow estimation.
    """
    h, w = flow.shape[-2:]
    H, W = int(size[0]), int(size[1])
    if (h, w) == (H, W):
        return flow
    if mode == "bilinear":
        out = resize_bilinear(flow, (H, W))  # OpenCV on CPU without gradients, else F.interpolate
    else:
        kw = {"align_corners": False} if mode == "bicubic" else {}
        out = F.interpolate(flow, size=(H, W), mode=mode, **kw)
    return torch.cat((out[:, 0:1] * (W / w), out[:, 1:2] * (H / h)), dim=1)
