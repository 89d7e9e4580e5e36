"""Benchmark inputs: real clips from ../shared/data/video scaled to a fixed size (cached in a temp dir)."""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from vidstyle.io.atomic import atomic_path

REPO = Path(__file__).resolve().parent.parent
SHARED_VIDEO = REPO.parent / "shared" / "data" / "video"


def real_clip(name: str = "city_pan_cc0.mpg", width: int = 640, height: int = 360, frames: int = 120,
              start: int = 0, loop: bool = True) -> Path:
    """``frames`` frames of a shared clip scaled to ``width x height`` as near-lossless H.264 (cached).

    With ``loop`` the clip is played forwards and backwards until ``frames`` is reached (no cut).
    ``name`` ``sample`` (or a clip missing from ../shared/data) is the bundled sample clip.
    """
    src = SHARED_VIDEO / name
    if name == "sample" or not src.exists():
        src = REPO / "vidstyle" / "samples" / "city_pan.mp4"
    out = Path(tempfile.gettempdir()) / f"vidstyle-bench-{src.stem}-{width}x{height}-{start}-{frames}.mp4"
    if out.exists():
        return out
    with av.open(str(src)) as c:
        imgs = [f.to_ndarray(format="rgb24", width=width, height=height) for i, f in enumerate(c.decode(video=0)) if i >= start and i < start + frames]
    seq = list(imgs)
    while loop and len(seq) < frames:
        seq += imgs[::-1] if (len(seq) // len(imgs)) % 2 else imgs
    seq = seq[:frames]
    with atomic_path(out) as tmp, av.open(str(tmp), "w") as c:  # parallel benchmarks never see half a file
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        s.options = {"crf": "12", "preset": "fast"}
        for i, img in enumerate(seq):
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            f.pts, f.time_base = i, Fraction(1, 25)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return out
