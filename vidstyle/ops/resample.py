"""CPU fast paths for per-frame resampling: OpenCV on each channel plane of a ``[1, C, H, W]`` tensor.

On a CPU, ``cv2.remap``/``cv2.resize`` on the planes of a contiguous NCHW float32 tensor are
several times faster than ``F.grid_sample``/``F.interpolate`` and need no layout change. They
apply only where nothing needs gradients: :func:`cv2_ok` says when.

* :func:`resize_area` averages pixel areas (``F.interpolate(mode="area")`` for integer factors).
* :func:`resize_bilinear` equals ``F.interpolate(mode="bilinear", align_corners=False)``
  (``antialias=False``) to float rounding.
* :func:`block_mean`, :func:`box_blur` and :func:`erode` equal ``F.avg_pool2d`` (``ceil_mode``),
  a replicate-padded stride-1 ``F.avg_pool2d`` and ``-F.max_pool2d(-x)`` (stride 1, "same"
  size) to float rounding; single-threaded PyTorch runs these pooling kernels slowly.
* :func:`remap_planes` samples ``img(p + flow(p))`` like ``grid_sample(align_corners=True,
  padding_mode="border")``, except that OpenCV quantises sample positions to 1/32 pixel (an error
  below 1/64 px): fine for display-bound blending, not used for metrics or training.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["cv2_ok", "resize_area", "resize_bilinear", "remap_planes", "block_mean", "box_blur", "erode"]

_INTERP = {"bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC, "nearest": cv2.INTER_NEAREST}


def cv2_ok(*tensors: torch.Tensor) -> bool:
    """True when every tensor is a CPU float32 batch of one that needs no gradient."""
    return all(
        t.device.type == "cpu" and t.dtype == torch.float32 and t.dim() == 4 and t.shape[0] == 1
        and not (t.requires_grad and torch.is_grad_enabled())
        for t in tensors
    )


def _planes(x: torch.Tensor) -> np.ndarray:
    """``[1, C, H, W]`` tensor → contiguous ``C x H x W`` float32 array (a view when possible)."""
    return x[0].detach().contiguous().numpy()


def _resize(x: torch.Tensor, size: tuple[int, int], cv_interp: int, **torch_mode) -> torch.Tensor:
    """``cv2.resize`` on each plane when :func:`cv2_ok`, else ``F.interpolate(**torch_mode)``."""
    H, W = int(size[0]), int(size[1])
    if tuple(x.shape[-2:]) == (H, W):
        return x
    if not cv2_ok(x):
        return F.interpolate(x, size=(H, W), **torch_mode)
    src = _planes(x)
    out = np.empty((src.shape[0], H, W), np.float32)
    for c in range(src.shape[0]):
        cv2.resize(src[c], (W, H), dst=out[c], interpolation=cv_interp)
    return torch.from_numpy(out).unsqueeze(0)


def resize_bilinear(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``[B, C, h, w]`` → ``[B, C, H, W]``, bilinear with half-pixel centres (``size=(H, W)``)."""
    return _resize(x, size, cv2.INTER_LINEAR, mode="bilinear", align_corners=False)


def resize_area(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``[B, C, h, w]`` → ``[B, C, H, W]`` by pixel-area averaging, for downscaling. Exactly
    ``F.interpolate(mode="area")`` for integer factors; OpenCV's ``INTER_AREA`` (fractional pixel
    weights) otherwise, where ``"area"`` uses whole-pixel adaptive pooling windows."""
    return _resize(x, size, cv2.INTER_AREA, mode="area")


def remap_planes(img: torch.Tensor, flow: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """``out(p) = img(p + flow(p))`` with edge pixels repeated outside the frame.

    ``img``: ``[1, C, H, W]`` and ``flow``: ``[1, 2, H, W]``, both accepted by :func:`cv2_ok`.
    ``mode``: ``"bilinear"``, ``"bicubic"`` or ``"nearest"``.
    """
    if mode not in _INTERP:
        raise ValueError(f"mode must be one of {', '.join(_INTERP)}, not {mode!r}")
    f = _planes(flow)
    h, w = f.shape[-2:]
    mx = f[0] + np.arange(w, dtype=np.float32)[None, :]
    my = f[1] + np.arange(h, dtype=np.float32)[:, None]
    m1, m2 = cv2.convertMaps(mx, my, cv2.CV_16SC2)  # convert once, reuse for every plane
    src = _planes(img)
    out = np.empty_like(src)
    for c in range(src.shape[0]):
        cv2.remap(src[c], m1, m2, _INTERP[mode], dst=out[c], borderMode=cv2.BORDER_REPLICATE)
    return torch.from_numpy(out).unsqueeze(0)


def _per_plane(x: torch.Tensor, fn) -> torch.Tensor:
    src = _planes(x)
    return torch.from_numpy(np.stack([fn(src[c]) for c in range(src.shape[0])])).unsqueeze(0)


def block_mean(x: torch.Tensor, block: int) -> torch.Tensor:
    """Mean over ``block x block`` blocks: ``F.avg_pool2d(x, block, ceil_mode=True)`` (a last,
    partial block averages the pixels it has)."""
    h, w = x.shape[-2:]
    if cv2_ok(x) and h % block == 0 and w % block == 0:
        return resize_area(x, (h // block, w // block))  # exact block means for an integer factor
    return F.avg_pool2d(x, block, ceil_mode=True)


def box_blur(x: torch.Tensor, r: int) -> torch.Tensor:
    """Mean over the ``(2r+1)²`` window around each pixel, edge pixels repeated outside the frame."""
    if r <= 0:
        return x
    if not cv2_ok(x):
        return F.avg_pool2d(F.pad(x, (r, r, r, r), mode="replicate"), 2 * r + 1, stride=1)
    k = (2 * r + 1, 2 * r + 1)
    return _per_plane(x, lambda p: cv2.blur(p, k, borderType=cv2.BORDER_REPLICATE))


def erode(x: torch.Tensor, r: int) -> torch.Tensor:
    """Minimum over the ``(2r+1)²`` window around each pixel (pixels outside the frame ignored)."""
    if r <= 0:
        return x
    if not cv2_ok(x):
        return -F.max_pool2d(-x, 2 * r + 1, stride=1, padding=r)
    kernel = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    return _per_plane(x, lambda p: cv2.erode(p, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=float("inf")))
