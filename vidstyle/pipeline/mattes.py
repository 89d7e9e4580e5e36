"""Mattes (``--mask``): where the style applies, per frame, with a soft edge.

``open_matte(spec, info, feather=3.0)`` returns a :class:`Matte`, a callable
``matte(frame) -> [1,1,H,W] float32 tensor in [0,1]`` (CPU) at the frame's size:

* ``"alpha"``: the input frame's own alpha channel (error if the input has none);
* an image file: a static matte for every frame;
* a video file or an image sequence: frame ``i`` of the matte for frame ``i`` of the input (frames
  are matched by their 0-based index in the source, so a ``--start``/``--end`` range selects the
  same frames of both). It must have at least as many frames as the selected range needs.

Matte values: one channel as is; RGBA: the alpha channel (unless it is constant, then luma); RGB:
BT.709 luma (one channel when R = G = B). A matte of another size is resized (bilinear) with a
warning (logged to ``vidstyle.pipeline``). ``feather`` is the sigma, in output pixels, of a Gaussian blur of the matte (soft edge;
0 = hard edge).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InputError
from ..io.frame import Frame, VideoInfo
from ..ops.color import KB, KG, KR
from ..ops.matte import feather_mask, snap_matte
from ..ops.tensors import DTYPE_SCALE

log = logging.getLogger("vidstyle.pipeline")


def matte_plane(img: np.ndarray, channel: str = "auto") -> np.ndarray:
    """A decoded matte frame → ``H x W`` float32 in [0,1] (see the module docstring)."""
    a = np.asarray(img)
    scale = DTYPE_SCALE.get(a.dtype, 1.0)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 2:
        plane = a.astype(np.float32)
    elif channel == "alpha" or (channel == "auto" and a.shape[2] == 4 and a[..., 3].min() != a[..., 3].max()):
        if a.shape[2] != 4:
            raise InputError("the frame has no alpha channel")
        plane = a[..., 3].astype(np.float32)
    else:
        r, g, b = a[..., 0], a[..., 1], a[..., 2]
        if np.array_equal(r, g) and np.array_equal(g, b):
            plane = r.astype(np.float32)
        else:
            plane = r.astype(np.float32) * KR + g.astype(np.float32) * KG + b.astype(np.float32) * KB
    if scale != 1.0:
        plane = plane / scale
    return np.clip(np.nan_to_num(plane), 0.0, 1.0)


class Matte:
    """Callable ``matte(frame) -> [1,1,H,W]`` tensor; ``close()``; ``description``."""

    def __init__(self, feather: float = 3.0) -> None:
        if not (feather >= 0) or not np.isfinite(feather):
            raise InputError(f"--mask-feather must be >= 0 pixels, not {feather}")
        self.feather = float(feather)
        self.description = "matte"
        self._warned_size = False

    def _prepare(self, plane: np.ndarray, frame: Frame) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(plane, dtype=np.float32))[None, None]
        h, w = frame.height, frame.width
        if t.shape[-2:] != (h, w):
            if not self._warned_size:
                self._warned_size = True
                log.warning("%s is %dx%d, the frames are %dx%d: the matte is resized",
                            self.description, t.shape[-1], t.shape[-2], w, h)
            t = snap_matte(F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False))
        return feather_mask(t, self.feather) if self.feather > 0 else t

    def __call__(self, frame: Frame) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "Matte":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class AlphaMatte(Matte):
    """The input frame's alpha channel."""

    def __init__(self, feather: float = 3.0) -> None:
        super().__init__(feather)
        self.description = "the input's alpha"

    def __call__(self, frame: Frame) -> torch.Tensor:
        img = frame.image
        if img.ndim != 3 or img.shape[2] != 4:
            raise InputError(f"--mask alpha: frame {frame.index} of the input has no alpha channel")
        return self._prepare(matte_plane(img, "alpha"), frame)


class StaticMatte(Matte):
    """One matte image for every frame (prepared once per frame size)."""

    def __init__(self, image: np.ndarray, feather: float = 3.0, description: str = "matte") -> None:
        super().__init__(feather)
        self.description = description
        self.plane = matte_plane(image)
        self._cache: dict[tuple[int, int], torch.Tensor] = {}

    def __call__(self, frame: Frame) -> torch.Tensor:
        key = (frame.height, frame.width)
        if key not in self._cache:
            self._cache[key] = self._prepare(self.plane, frame)
        return self._cache[key]


class SequenceMatte(Matte):
    """Per-frame mattes from a video or an image sequence, matched by source index."""

    def __init__(self, source, feather: float = 3.0, description: str = "matte") -> None:
        super().__init__(feather)
        self.source = source
        self.description = description
        self._it: Iterator[Frame] | None = None
        self._current: Frame | None = None
        self._count = 0

    def __call__(self, frame: Frame) -> torch.Tensor:
        if self._it is None:
            self._it = iter(self.source)
        cur = self._current
        while cur is None or cur.index < frame.index:
            try:
                cur = next(self._it)
            except StopIteration:
                raise InputError(f"{self.description} has only {self._count} frames; the input needs "
                                 f"frame {frame.index} (0-based): give a matte at least as long as "
                                 "the selected range") from None
            self._count += 1
        self._current = cur
        return self._prepare(matte_plane(cur.image), frame)

    def close(self) -> None:
        self.source.close()


def _first_index(info: VideoInfo) -> int:
    if info.fps and info.kind != "image":
        return max(0, round((info.start_time - info.source_start) * float(info.fps)))
    return 0


def open_matte(spec: str, info: VideoInfo, *, feather: float = 3.0) -> Matte:
    """Open ``--mask SPEC`` for an input described by ``info`` (see the module docstring)."""
    if spec == "alpha":
        if not info.has_alpha:
            raise InputError(f"--mask alpha: {info.path} has no alpha channel")
        return AlphaMatte(feather)
    from ..io.reader import open_source

    name = f"matte {os.path.basename(os.fspath(spec).rstrip('/' + os.sep)) or spec}"
    try:
        src = open_source(spec, label=name)  # its decoding problems are logged as the matte's
    except InputError as e:
        raise InputError(f"--mask: {e}") from None
    if src.info.kind == "image":
        try:
            image = next(iter(src)).image
        finally:
            src.close()
        m = StaticMatte(image, feather, name)
    else:
        need = _first_index(info) + info.frame_count if info.frame_count else None
        have = src.info.frame_count
        if need is not None and have is not None and have < need:
            src.close()
            raise InputError(f"{name} has {have} frames, the input range needs {need}: give a "
                             "matte at least as long as the selected range")
        m = SequenceMatte(src, feather, name)
    if (src.info.width, src.info.height) != (info.width, info.height):
        log.warning("%s is %dx%d, the input is %dx%d: the matte is resized",
                    name, src.info.width, src.info.height, info.width, info.height)
        m._warned_size = True
    return m
