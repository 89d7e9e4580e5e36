"""Conversions between decoded frames (numpy) and the nets' tensors, and stride padding.

Tensors are ``[B,3,H,W]`` float RGB in [0,1]. Frames are ``H x W x C`` arrays (C = 3 or 4) of
dtype uint8, uint16 or float32 (scene-linear EXR is passed through as is, clipped to [0,1]).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

#: Full-scale value of integer frame dtypes (float frames are already in [0,1]).
DTYPE_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def image_to_tensor(img: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """``H x W x C`` array → ``[1,3,H,W]`` float32 in [0,1] on ``device`` (alpha dropped)."""
    rgb = img[..., :3]
    t = torch.from_numpy(np.ascontiguousarray(rgb)).to(device, non_blocking=True)
    t = t.permute(2, 0, 1).unsqueeze(0)
    scale = DTYPE_SCALE.get(rgb.dtype)
    if rgb.dtype == np.uint16:  # torch has limited uint16 support: go through int32
        t = t.to(torch.int32)
    t = t.float()
    return t / scale if scale else t.clamp(0, 1)


def quantize_into(dst: np.ndarray, planes: torch.Tensor, scale: float) -> None:
    """Write ``floor(clamp(planes, 0, 1) * scale + 0.5)`` into ``dst``, an ``h x w x C`` integer
    array (or a view of one); ``planes``: ``[C, h, w]`` float on any device, ``scale``: the dtype's
    full-scale value. Rounded planar and interleaved by OpenCV, which makes fewer passes over the
    frame than rounding a channels-last view of the planes."""
    q = planes.mul(scale).add_(0.5).clamp_(0.5, scale + 0.5)  # the same floats as clamp(x, 0, 1) * scale + 0.5
    q = q.to(torch.uint8 if dst.dtype == np.uint8 else torch.int32).cpu().numpy()
    if dst.dtype == np.uint8 and dst.flags.c_contiguous and 1 < q.shape[0] <= 4:
        if cv2.merge(list(q), dst=dst) is dst:
            return
    dst[...] = q.transpose(1, 2, 0)


def tensor_to_image(t: torch.Tensor, like: np.ndarray) -> np.ndarray:
    """``[1,3,H,W]`` (or ``[3,H,W]``) in [0,1] → array with the dtype (and alpha) of ``like``."""
    if t.dim() == 4:
        t = t[0]
    t = t.detach().float()
    scale = DTYPE_SCALE.get(like.dtype)
    alpha = like.ndim == 3 and like.shape[2] == 4
    arr = np.empty((*t.shape[-2:], 4 if alpha else t.shape[0]), like.dtype)
    if scale:
        quantize_into(arr[..., : t.shape[0]], t, scale)
    else:
        arr[..., : t.shape[0]] = t.clamp(0, 1).permute(1, 2, 0).cpu().numpy()
    if alpha:  # keep the source's alpha untouched
        arr[..., 3] = like[..., 3]
    return arr


def pad_to_multiple(x: torch.Tensor, multiple: int, minimum: int = 0) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad ``[B,C,H,W]`` on the bottom/right to multiples of ``multiple``, and to at least
    ``minimum`` a side (reflected where the frame is large enough, else edge-replicated); returns
    (padded, (H, W))."""
    h, w = x.shape[-2:]
    ph, pw = max((-h) % multiple, minimum - h), max((-w) % multiple, minimum - w)
    if ph > 0 or pw > 0:
        ph, pw = max(ph, 0), max(pw, 0)
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)


def min_side(stride: int) -> int:
    """Smallest frame side a net of ``stride`` takes: its reflection paddings need each level to be
    at least 2 px (the coarsest is ``1/stride`` of the frame), and the first layer's 9x9 kernel
    more than 4. Smaller frames are padded up to this and cropped back."""
    return max(8, 2 * stride)
