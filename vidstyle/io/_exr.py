"""OpenEXR images through FFmpeg's EXR codec (private).

The opencv-python(-headless) wheels are often built without OpenEXR (``cv2.imread`` then fails
whatever ``OPENCV_IO_ENABLE_OPENEXR`` says), so EXR goes through PyAV, which always has it.
Values are kept exactly (scene-linear, negative and >1 values included); half-float files are read
plane by plane because swscale would clip them.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np


def read_exr(path: str) -> np.ndarray:
    """``H x W x 3|4`` float32 RGB(A). Raises av/OS errors (the caller wraps them)."""
    with av.open(path, mode="r") as c:
        stream = c.streams.video[0]
        frame = next(iter(c.decode(stream)))
    name = frame.format.name
    if name.startswith("gray"):
        order = [0, 0, 0]
    elif name.startswith("gbrap"):
        order = [2, 0, 1, 3]  # planes are G, B, R, A
    elif name.startswith("gbrp"):
        order = [2, 0, 1]
    else:  # unexpected layout: let swscale convert
        return frame.to_ndarray(format="gbrpf32le").astype(np.float32)
    if "f16" in name:
        dtype = np.float16
    elif "f32" in name:
        dtype = np.float32
    else:  # integer EXR variants (rare): normalise
        return frame.to_ndarray(format="gbrpf32le").astype(np.float32)
    h, w = frame.height, frame.width
    item = np.dtype(dtype).itemsize
    planes = []
    for plane in frame.planes:
        buf = np.frombuffer(memoryview(plane), dtype=dtype)
        planes.append(buf.reshape(-1, plane.line_size // item)[:h, :w])
    return np.ascontiguousarray(np.stack([planes[i] for i in order], axis=2).astype(np.float32))


def encode_exr(image: np.ndarray, *, half: bool = False, compression: str = "zip16") -> bytes:
    """Encode an ``H x W x 3|4`` float image as one EXR file (bytes)."""
    h, w, c = image.shape
    fmt = "gbrapf32le" if c == 4 else "gbrpf32le"
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image, dtype=np.float32), format=fmt)
    frame.pts = 0
    cc = av.CodecContext.create("exr", "w")
    cc.width, cc.height, cc.pix_fmt = w, h, fmt
    cc.time_base = Fraction(1, 25)
    cc.options = {"format": "half" if half else "float", "compression": compression}
    packets = list(cc.encode(frame)) + list(cc.encode(None))
    return b"".join(bytes(p) for p in packets)
