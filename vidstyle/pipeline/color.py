"""Colour encodings between decoded frames and the nets, and matte compositing.

The style nets were trained on display-referred sRGB images, so every frame is shown to them as
sRGB-encoded values in [0,1]. Scene-linear sources (OpenEXR) are encoded to sRGB first (values are
clipped to [0,1] for the net; the inverse is applied on the way out), and the output is written in
the encoding its file type expects:

* ``--colorspace auto`` (default): EXR files are scene-linear, everything else is sRGB;
* ``--colorspace linear``: the input *and* image-file outputs (EXR/PNG/TIFF) are scene-linear
  (e.g. linear 16-bit TIFF plates); video files are always written sRGB-encoded;
* ``--colorspace srgb``: the input and image-file outputs are sRGB-encoded (e.g. EXRs that hold
  display-referred values).

Mattes are composited here too, in the *output's* encoding and against the *original* frame
values (unclipped), so where the matte is 0 the output is the input, bit for bit: float EXR values
outside [0,1] included. Alpha (a 4th channel) is copied from the source frame unchanged.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from ..ops.color import linear_to_srgb, srgb_to_linear
from ..ops.tensors import DTYPE_SCALE, quantize_into

COLORSPACES = ("auto", "srgb", "linear")
#: Pixels per band of :meth:`FrameCodec.to_image` (a 1080p frame is one band).
BAND_PIXELS = 1 << 22
_LINEAR_EXTS = (".exr",)
_IMAGE_EXTS = (".exr", ".png", ".tif", ".tiff", ".jpg", ".jpeg")


def _convert(t: torch.Tensor, src: str, dst: str) -> torch.Tensor:
    if src == dst:
        return t
    return srgb_to_linear(t) if dst == "linear" else linear_to_srgb(t)


def image_encoding(path: str | None, dtype, choice: str = "auto", *, is_output: bool = False,
                   codec: str | None = None) -> str:
    """``"srgb"`` or ``"linear"`` for a file (see the module docstring)."""
    if choice not in COLORSPACES:
        raise ValueError(f"unknown colorspace {choice!r}; use {', '.join(COLORSPACES)}")
    p = os.fspath(path or "").lower().rstrip("/" + os.sep)
    ext = os.path.splitext(p)[1]
    if codec and codec.lower() in ("exr", "png", "tiff", "tif", "jpeg", "jpg"):
        ext = "." + codec.lower()
    if is_output and ext not in _IMAGE_EXTS:
        return "srgb"  # video files (and folders of PNGs) are display-referred
    if choice != "auto":
        return choice
    if is_output:
        return "linear" if ext in _LINEAR_EXTS else "srgb"
    if ext in _LINEAR_EXTS or np.dtype(dtype).kind == "f":
        return "linear"
    return "srgb"


def raw_tensor(img: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """``H x W x C`` → contiguous ``[1,C,H,W]`` float32 (integers scaled to [0,1], floats as they
    are). Converted and laid out planar in one copy, instead of the several that permute + float +
    divide + a later ``contiguous`` make."""
    t = torch.from_numpy(np.ascontiguousarray(img)).to(device, non_blocking=True)
    if img.dtype == np.uint16:
        t = t.to(torch.int32)
    chw = t.permute(2, 0, 1).unsqueeze(0)
    out = torch.empty(chw.shape, dtype=torch.float32, device=t.device).copy_(chw)
    scale = DTYPE_SCALE.get(img.dtype)
    return out.div_(scale) if scale else out


class FrameCodec:
    """Frames ↔ sRGB tensors for the net, in the input/output encodings; matte compositing.

    ``in_space``/``out_space``: ``"srgb"`` or ``"linear"``; ``out_dtype``: the output frames'
    dtype (``None``: the source frame's; float32 when the output is linear and the source is not).
    """

    def __init__(self, in_space: str = "srgb", out_space: str = "srgb") -> None:
        for s in (in_space, out_space):
            if s not in ("srgb", "linear"):
                raise ValueError(f"bad encoding {s!r}")
        self.in_space, self.out_space = in_space, out_space

    @classmethod
    def for_paths(cls, input_path, input_dtype, output_path, choice: str = "auto",
                  codec: str | None = None) -> "FrameCodec":
        """The codec for ``stylize INPUT -o OUTPUT [--codec] [--colorspace choice]``."""
        return cls(image_encoding(input_path, input_dtype, choice),
                   image_encoding(output_path, np.float32, choice, is_output=True, codec=codec))

    @property
    def is_plain(self) -> bool:
        return self.in_space == "srgb" and self.out_space == "srgb"

    def to_tensor(self, img: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
        """Frame → ``[1,3,H,W]`` sRGB-encoded in [0,1] for the net (alpha dropped)."""
        t = raw_tensor(img[..., :3], device)
        if self.in_space == "linear":
            t = linear_to_srgb(t.clamp(0.0, 1.0))
        if img.dtype.kind == "u" and self.in_space == "srgb":
            return t  # integer frames are within [0, 1] already
        return t.clamp(0.0, 1.0)

    def out_dtype(self, like: np.ndarray) -> np.dtype:
        if self.out_space == "linear" and like.dtype.kind != "f":
            return np.dtype(np.float32)
        return like.dtype

    def to_image(self, t: torch.Tensor, like: np.ndarray, matte: torch.Tensor | None = None) -> np.ndarray:
        """sRGB ``[1,3,H,W]`` result → output frame (output encoding and dtype; ``like``'s alpha).

        With ``matte`` (``[1,1,H,W]`` in [0,1]) the result is composited over the original frame
        ``like`` in the output encoding: ``orig + (result - orig)·m``. Large frames are converted
        in bands of rows (:data:`BAND_PIXELS`), so the float temporaries stay small beside a
        frame of many megapixels.
        """
        if t.dim() == 3:
            t = t.unsqueeze(0)
        dtype = self.out_dtype(like)
        scale = DTYPE_SCALE.get(dtype)
        h, w = t.shape[-2:]
        alpha = like.ndim == 3 and like.shape[2] == 4
        arr = np.empty((h, w, 4 if alpha else 3), dtype)
        rows = max(1, BAND_PIXELS // max(1, w))
        for r0 in range(0, h, rows):
            r1 = min(h, r0 + rows)
            y = t[..., r0:r1, :].float()
            if matte is not None or self.out_space != "srgb" or not scale:  # else the rounding clamps
                y = _convert(y.clamp(0.0, 1.0), "srgb", self.out_space)
            if matte is not None:
                orig = _convert(raw_tensor(like[r0:r1, :, :3], y.device), self.in_space, self.out_space)
                full = matte.dim() >= 2 and matte.shape[-2] == h  # else a scalar or broadcast weight
                m = (matte[..., r0:r1, :] if full else matte).to(y.device, torch.float32)
                y = orig + (y - orig) * m
            if scale:
                quantize_into(arr[r0:r1, :, :3], y[0], scale)
            else:
                arr[r0:r1, :, :3] = y[0].permute(1, 2, 0).cpu().numpy()
        if alpha:
            a = like[..., 3]
            if a.dtype != dtype:
                a = np.clip(a.astype(np.float32) / DTYPE_SCALE.get(a.dtype, 1.0), 0, 1)
                a = (a * scale + 0.5).astype(dtype) if scale else a.astype(dtype)
            arr[..., 3] = a
        return arr
