"""OpenCV DIS optical flow (Kroeger et al. 2016) behind vidstyle's flow-estimator interface.

``DISFlow()(img1, img2)`` takes two ``[B, 3, H, W]`` float RGB batches in [0, 1] and returns the
flow from img1 to img2, ``[B, 2, H, W]`` float32 in pixels, backward-warping convention
(``backward_warp(img2, flow) ≈ img1``; this is also OpenCV's ``calc(I0, I1)`` convention).

DIS runs on grayscale ``uint8`` on the CPU, one pair at a time. With ``max_side`` set, frames whose
long side exceeds it are downscaled (``cv2.INTER_AREA``) first and the flow is upsampled and
rescaled. The default is full resolution: :class:`~vidstyle.consistency.temporal.TemporalConsistency`
downsizes frames itself (it computes its masks at the flow resolution too) and the E_warp metric
wants the accurate flow.

Presets trade accuracy for time: ``medium`` has about half the endpoint error of ``fast`` at
roughly three times its cost, and downscaling to a 320-pixel long side roughly doubles the error
of either. Temporal consistency uses ``medium`` with fewer gradient-descent iterations and a
wider patch stride (``DIS_GD_ITERATIONS`` and ``DIS_PATCH_STRIDE`` in
:mod:`vidstyle.consistency.temporal`), on frames it shrinks itself to a 640-pixel long side for the
flow that warps and 320 pixels for its masks; ``vidstyle eval`` uses plain ``medium`` at full
resolution.
"""

from __future__ import annotations

import weakref

import cv2
import numpy as np
import torch

from .warp import resize_flow

__all__ = ["DISFlow", "to_gray_u8", "DEFAULT_PRESET", "DEFAULT_MAX_SIDE"]

_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}

DEFAULT_PRESET = "medium"
#: Smallest side given to OpenCV's DIS, which refuses images under 12 px a side.
MIN_SIDE = 16
DEFAULT_MAX_SIDE: int | None = None  # callers (temporal consistency) downscale themselves


def to_gray_u8(img: torch.Tensor | np.ndarray) -> list[np.ndarray]:
    """``[B,3,H,W]``/``[3,H,W]`` float tensor in [0,1], or ``HxWx3`` uint8 RGB array → list of
    ``HxW`` uint8 grayscale images (BT.601 luma)."""
    if isinstance(img, np.ndarray):
        if img.ndim == 2:
            return [np.ascontiguousarray(img.astype(np.uint8, copy=False))]
        return [cv2.cvtColor(np.ascontiguousarray(img[..., :3].astype(np.uint8, copy=False)), cv2.COLOR_RGB2GRAY)]
    t = img.detach()
    if t.dim() == 3:
        t = t.unsqueeze(0)
    t = t.float()
    if t.shape[1] >= 3:
        w = torch.tensor([0.299 * 255.0, 0.587 * 255.0, 0.114 * 255.0], dtype=t.dtype, device=t.device)
        y = torch.einsum("bchw,c->bhw", t[:, :3], w)  # much faster on CPU than (t * w).sum(1)
    else:
        y = t[:, 0] * 255.0
    y = y.add_(0.5).clamp_(0, 255).to(torch.uint8).cpu().numpy()
    return [np.ascontiguousarray(g) for g in y]


class DISFlow:
    """Dense Inverse Search flow estimator (OpenCV), batch-aware.

    ``preset``: ``"ultrafast"``, ``"fast"`` or ``"medium"``. ``max_side``: estimate at a
    resolution whose long side is at most this many pixels (``None``/0: full resolution).
    ``gd_iterations``: gradient-descent iterations of the patch search per scale instead of the
    preset's (medium: 25; temporal consistency uses 8, see
    :data:`vidstyle.consistency.temporal.DIS_GD_ITERATIONS`). ``patch_stride``: pixels between
    the patches searched instead of the preset's (medium: 3; temporal consistency uses 4, see
    :data:`vidstyle.consistency.temporal.DIS_PATCH_STRIDE`).
    """

    name = "dis"

    def __init__(self, preset: str = DEFAULT_PRESET, max_side: int | None = DEFAULT_MAX_SIDE,
                 gd_iterations: int | None = None, patch_stride: int | None = None) -> None:
        if preset not in _PRESETS:
            raise ValueError(f"unknown DIS preset {preset!r}; choose one of {', '.join(_PRESETS)}")
        self.preset = preset
        self.max_side = int(max_side) if max_side else None
        self._dis = cv2.DISOpticalFlow_create(_PRESETS[preset])
        if gd_iterations is not None:
            self._dis.setGradientDescentIterations(int(gd_iterations))
        self.gd_iterations = self._dis.getGradientDescentIterations()
        if patch_stride is not None:
            if not 1 <= int(patch_stride) <= self._dis.getPatchSize():
                raise ValueError(f"DIS patch stride must be within 1..{self._dis.getPatchSize()} (the patch size)")
            self._dis.setPatchStride(int(patch_stride))
        self.patch_stride = self._dis.getPatchStride()
        self._finest = self._dis.getFinestScale()
        self._grays: list[tuple[weakref.ref, list[np.ndarray]]] = []  # newest first, see _gray
        self.name = f"dis-{preset}"

    def __repr__(self) -> str:
        return (f"DISFlow(preset={self.preset!r}, max_side={self.max_side}, "
                f"gd_iterations={self.gd_iterations}, patch_stride={self.patch_stride})")

    def work_size(self, height: int, width: int) -> tuple[int, int]:
        """The ``(h, w)`` at which flow is estimated for ``H x W`` frames."""
        if not self.max_side or max(height, width) <= self.max_side:
            return height, width
        s = self.max_side / max(height, width)
        return max(8, int(round(height * s))), max(8, int(round(width * s)))

    def calc_gray(self, g1: np.ndarray, g2: np.ndarray) -> np.ndarray:
        """Flow ``g1 → g2`` for two same-size uint8 grayscale images: ``h x w x 2`` float32.

        OpenCV's DIS refuses images under :data:`MIN_SIDE` pixels a side; smaller ones are
        edge-padded to that size and the flow is cropped back."""
        # OpenCV lowers the finest scale for an image too small for it and keeps it lowered for
        # every later call (so a tiny pair would change every later flow); set it back so one
        # estimator gives the same flow whatever it saw before
        self._dis.setFinestScale(self._finest)
        h, w = g1.shape[:2]
        ph, pw = max(0, MIN_SIDE - h), max(0, MIN_SIDE - w)
        if ph or pw:
            g1 = cv2.copyMakeBorder(g1, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
            g2 = cv2.copyMakeBorder(g2, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
            return np.ascontiguousarray(self._dis.calc(g1, g2, None)[:h, :w])
        return self._dis.calc(g1, g2, None)

    def _gray(self, img: torch.Tensor, size: tuple[int, int]) -> list[np.ndarray]:
        """The ``h x w`` uint8 grayscale images DIS sees of a ``[B, 3, H, W]`` batch (``size``:
        ``(h, w)``), remembered for the last four frames: streaming callers pass each frame twice
        (the newer frame of one pair is the older of the next, and forward-backward checks take
        both directions of a pair). Remembered per tensor object, so a frame must not be changed
        in place between calls (the consistency step keeps its frames unchanged)."""
        for ref, grays in self._grays:
            if ref() is img:
                return grays
        grays = to_gray_u8(img)
        if grays[0].shape != size:
            grays = [cv2.resize(g, (size[1], size[0]), interpolation=cv2.INTER_AREA) for g in grays]
        self._grays = [(weakref.ref(img), grays), *self._grays[:3]]
        return grays

    @torch.inference_mode()
    def __call__(self, img1: torch.Tensor, img2: torch.Tensor) -> torch.Tensor:
        if img1.shape != img2.shape:
            raise ValueError(f"frames differ in shape: {tuple(img1.shape)} vs {tuple(img2.shape)}")
        if img1.dim() == 3:
            img1, img2 = img1.unsqueeze(0), img2.unsqueeze(0)
        H, W = img1.shape[-2:]
        h, w = self.work_size(H, W)
        flows = [torch.from_numpy(self.calc_gray(g1, g2)).permute(2, 0, 1)
                 for g1, g2 in zip(self._gray(img1, (h, w)), self._gray(img2, (h, w)))]
        flow = torch.stack(flows, 0)
        if (h, w) != (H, W):
            flow = resize_flow(flow, (H, W))
        return flow.to(img1.device)
