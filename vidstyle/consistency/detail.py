"""Detail restoration after temporal blending: re-amplify the finest band where blending lowered it.

``restore_detail(out, fresh, detail, max_gain)`` scales the finest band of ``out``
(``x - up(down2(x))``: area average to half size, bilinear back) so that its local RMS amplitude
(8x8 blocks, summed over channels) is at least ``detail`` times that of ``fresh`` (this frame's
stylization): averaging uncorrelated texture over time and resampling both lower it. The gain is
in ``[1, max_gain]`` and 1 wherever ``out`` already has that much detail (e.g. ``out == fresh``).

Shapes: ``out`` and ``fresh`` ``[1, C, H, W]`` float32. On the CPU without gradients the work runs
plane by plane in OpenCV with no full-size temporaries beyond the band itself (faster than the
PyTorch path, which runs everywhere else, and equal to it within float rounding).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ..ops.resample import block_mean, cv2_ok, resize_area, resize_bilinear

__all__ = ["restore_detail"]

BLOCK = 8  # block size of the local amplitude estimate


def _gain(e_out: torch.Tensor | np.ndarray, e_fresh, detail: float, max_gain: float):
    """Per-block gain ``clamp(detail * sqrt(e_fresh / e_out), 1, max_gain)`` (in place where possible)."""
    if isinstance(e_out, np.ndarray):
        g = np.sqrt((e_fresh + 1e-6) / (e_out + 1e-6)) * np.float32(detail)
        return np.clip(g, 1.0, max_gain).astype(np.float32, copy=False)
    return e_fresh.add_(1e-6).div_(e_out.add_(1e-6)).sqrt_().mul_(detail).clamp_(1.0, max_gain)


def _restore_torch(out: torch.Tensor, fresh: torch.Tensor, detail: float, max_gain: float) -> torch.Tensor:
    size = out.shape[-2:]
    half = ((size[0] + 1) // 2, (size[1] + 1) // 2)

    def low(x):
        return resize_bilinear(resize_area(x, half), size)

    def block_energy(hi):  # BLOCK x BLOCK mean of the squared band, summed over channels
        sq = hi * hi
        e = sq[:, 0:1]
        for ch in range(1, sq.shape[1]):
            e = e + sq[:, ch : ch + 1]
        return block_mean(e, BLOCK)

    lo_o = low(out)
    gain = _gain(block_energy(out - lo_o), block_energy(fresh - low(fresh)), detail, max_gain)
    return torch.lerp(lo_o, out, resize_bilinear(gain, size))  # lo + gain * (out - lo)


def _restore_cv2(out: torch.Tensor, fresh: torch.Tensor, detail: float, max_gain: float) -> torch.Tensor:
    o, f = out[0].contiguous().numpy(), fresh[0].contiguous().numpy()
    c, h, w = o.shape
    half = ((w + 1) // 2, (h + 1) // 2)
    lo, hi = np.empty_like(o), np.empty_like(o)
    e_o, e_f = np.zeros((h, w), np.float32), np.zeros((h, w), np.float32)
    tmp = np.empty((h, w), np.float32)
    for ch in range(c):
        cv2.resize(cv2.resize(o[ch], half, interpolation=cv2.INTER_AREA), (w, h), dst=lo[ch], interpolation=cv2.INTER_LINEAR)
        cv2.subtract(o[ch], lo[ch], dst=hi[ch])
        cv2.accumulateSquare(hi[ch], e_o)
        cv2.resize(cv2.resize(f[ch], half, interpolation=cv2.INTER_AREA), (w, h), dst=tmp, interpolation=cv2.INTER_LINEAR)
        cv2.subtract(f[ch], tmp, dst=tmp)
        cv2.accumulateSquare(tmp, e_f)
    blocks = (w // BLOCK, h // BLOCK)
    gain = _gain(cv2.resize(e_o, blocks, interpolation=cv2.INTER_AREA),
                 cv2.resize(e_f, blocks, interpolation=cv2.INTER_AREA), detail, max_gain)
    g = cv2.resize(gain, (w, h), interpolation=cv2.INTER_LINEAR)
    res = hi  # lo + gain * hi, written over the band
    for ch in range(c):
        cv2.multiply(hi[ch], g, dst=res[ch])
        cv2.add(res[ch], lo[ch], dst=res[ch])
    return torch.from_numpy(res).unsqueeze(0)


def restore_detail(out: torch.Tensor, fresh: torch.Tensor, detail: float = 0.9, max_gain: float = 1.6) -> torch.Tensor:
    """``out`` with its finest band raised to at least ``detail`` x ``fresh``'s local amplitude
    (gain at most ``max_gain``); see the module docstring. Returns a new tensor."""
    h, w = out.shape[-2:]
    if cv2_ok(out, fresh) and h % BLOCK == 0 and w % BLOCK == 0:
        return _restore_cv2(out, fresh, detail, max_gain)
    return _restore_torch(out, fresh, detail, max_gain)
