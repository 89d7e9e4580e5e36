"""A contact sheet for choosing a style: one frame of an input as the input itself, the
arbitrary-style net with a style image at a few strengths, and every installed style, as
labelled tiles of one image.

Tiles are small (``size`` px on the long side) so each costs a fraction of a second to a few
seconds on a CPU; the nets run on PyTorch untiled (no export to cache for a one-off picture).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch

from ..errors import InputError
from ..io.atomic import write_bytes_atomic
from ..io.reader import open_source
from ..models.styles import list_styles, load_style
from ..pipeline.device import pick_device
from ..pipeline.stylizer import Stylizer as NetRunner
from .config import StyleSpec
from .style_image import load_style_image_net

__all__ = ["PREVIEW_STRENGTHS", "PreviewSheet", "make_preview_sheet", "read_frame"]

PREVIEW_STRENGTHS = (0.4, 0.7, 1.0)
"""Strengths of the style-image net on the sheet (feature space: 0 is the input's reconstruction)."""
COLUMNS = 4
LABEL_SCALE = 0.4  # OpenCV Hershey font scale; legible on tiles of 160-320 px
MIN_SIZE, MAX_SIZE = 64, 1024


@dataclass
class PreviewSheet:
    """What :func:`make_preview_sheet` wrote: the file, its tile labels (row by row) and grid."""

    path: str
    labels: list[str] = field(default_factory=list)
    columns: int = COLUMNS
    tile_size: tuple[int, int] = (0, 0)  # (width, height) px


def read_frame(path: str, frame: int | None = None, max_pixels: int | None = None) -> np.ndarray:
    """Frame ``frame`` of a video, sequence or image (default: the middle one) as ``H x W x 3``
    uint8 RGB (16-bit and float inputs scaled, alpha dropped)."""
    if frame is None:
        with open_source(path, max_pixels=max_pixels) as src:
            frame = (src.info.frame_count or 1) // 2
    if frame < 0:
        raise InputError(f"--frame must be 0 or more, not {frame}")
    with open_source(path, start=str(frame), end=str(frame + 1), max_pixels=max_pixels) as src:
        picked = next(iter(src), None)
    if picked is None:
        raise InputError(f"{path} has no frame {frame}")
    img = picked.image[..., :3]
    if img.dtype == np.uint16:
        img = (img.astype(np.uint32) * 255 + 32767) // 65535
    elif img.dtype.kind == "f":
        img = np.clip(np.nan_to_num(img), 0.0, 1.0) * 255 + 0.5
    return np.ascontiguousarray(img.astype(np.uint8))


def _fit(img: np.ndarray, size: int) -> np.ndarray:
    """``img`` scaled so its long side is ``size`` px (area-averaged down, bilinear up)."""
    h, w = img.shape[:2]
    s = size / max(h, w)
    dims = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(img, dims, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    """``tile`` (RGB uint8) with ``text`` in white on a dark band at its top."""
    out = tile.copy()
    font = cv2.FONT_HERSHEY_SIMPLEX
    (tw, th), base = cv2.getTextSize(text, font, LABEL_SCALE, 1)
    band = th + base + 6
    out[:band] = (out[:band].astype(np.float32) * 0.35).astype(np.uint8)
    cv2.putText(out, text, (4, th + 3), font, LABEL_SCALE, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def _run(net: torch.nn.Module, x: torch.Tensor, device: torch.device) -> np.ndarray:
    y = NetRunner(net, device, tile="off")(x)
    return (y[0].permute(1, 2, 0).float().cpu().numpy() * 255 + 0.5).clip(0, 255).astype(np.uint8)


def make_preview_sheet(input_path: str, style_image: StyleSpec, output: str, *, frame: int | None = None,
                       size: int = 256, device: str = "auto", overwrite: bool = False,
                       styles: list[str] | None = None, log=None) -> PreviewSheet:
    """Write the contact sheet of ``input_path`` to ``output`` (an image; the format from its name).

    Tiles: the input, the ``style_image`` net at :data:`PREVIEW_STRENGTHS`, then each installed
    style (or those named in ``styles``), ``size`` px on the long side, :data:`COLUMNS` a row.
    ``log(text)`` gets a line per tile. The file is written whole or not at all.
    """
    if not MIN_SIZE <= int(size) <= MAX_SIZE:
        raise InputError(f"--size must be within {MIN_SIZE}..{MAX_SIZE} pixels, not {size}")
    ext = os.path.splitext(str(output))[1].lower()
    if ext not in (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"):
        raise InputError(f"the sheet is an image: give -o a .jpg or .png name, not {output!r}")
    if os.path.exists(output) and not overwrite:
        raise InputError(f"{output} exists; use --overwrite to replace it")
    say = log or (lambda text: None)
    dev = pick_device(device)
    content = _fit(read_frame(input_path, frame), int(size))
    x = torch.from_numpy(content).permute(2, 0, 1)[None].float().div(255).to(dev)

    tiles = [("input", content)]
    net, label = load_style_image_net(style_image, dev)
    for s in PREVIEW_STRENGTHS:
        net.strength = s
        tiles.append((f"style image {s:g}", _run(net, x, dev)))
        say(f"{label} at strength {s:g}")
    names = styles if styles is not None else [info.name for info in list_styles()]
    for name in names:
        style_net, _ = load_style(name, dev)
        tiles.append((os.path.basename(name).removesuffix(".safetensors"), _run(style_net, x, dev)))
        say(name)

    th, tw = content.shape[:2]
    rows = math.ceil(len(tiles) / COLUMNS)
    sheet = np.zeros((rows * th, COLUMNS * tw, 3), np.uint8)
    for i, (text, tile) in enumerate(tiles):
        r, c = divmod(i, COLUMNS)
        sheet[r * th : (r + 1) * th, c * tw : (c + 1) * tw] = _label(tile, text)
    ok, data = cv2.imencode(ext, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    if not ok:
        raise InputError(f"cannot encode the sheet as {ext}")
    write_bytes_atomic(output, data.tobytes())
    return PreviewSheet(str(output), [t for t, _ in tiles], COLUMNS, (tw, th))
