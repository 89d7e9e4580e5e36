"""Synthetic media for tests and demos (no external files needed).

``make_test_clip(path, ...)`` writes a short textured moving pattern (gradient + moving shapes +
fixed noise texture) with a sine-wave audio track, using PyAV. ``make_test_image`` and
``make_test_sequence`` write still images / numbered image files with OpenCV.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction

from vidstyle.io import _util
from vidstyle.io._exr import encode_exr

import av
import cv2
import numpy as np

__all__ = ["SyntheticClip", "make_test_clip", "make_test_frame", "make_test_image",
           "make_test_sequence"]

assert _util


@dataclass
class SyntheticClip:
    """What :func:`make_test_clip` wrote (``frame_times``: seconds of every video frame)."""

    path: str
    width: int
    height: int
    fps: Fraction
    time_base: Fraction
    frame_pts: list[int] = field(default_factory=list)
    frame_times: list[float] = field(default_factory=list)
    audio_codec: str | None = None
    audio_duration: float = 0.0
    pix_fmt: str = "yuv420p"

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        return self.path


def make_test_frame(width: int, height: int, t: float = 0.0, *, seed: int = 0,
                    dtype=np.uint8, alpha: bool = False) -> np.ndarray:
    """One RGB(A) picture of the pattern at time ``t`` (seconds).

    ``dtype``: uint8, uint16 (full 16-bit range, with fine detail in the low bits) or float32.
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    w1, h1 = max(width - 1, 1), max(height - 1, 1)
    r = (x / w1 + 0.25 * t) % 1.0
    g = (y / h1 + 0.15 * np.sin(2 * np.pi * (x / w1 + 0.5 * t))) % 1.0
    b = 0.5 + 0.5 * np.sin(2 * np.pi * (x + y) / (0.3 * (w1 + h1)) - 4.0 * t)
    img = np.stack([r, g, b], axis=2)
    # moving shapes: a disc and a square
    cx, cy = (0.2 + 0.6 * ((0.3 * t) % 1.0)) * w1, (0.5 + 0.3 * np.sin(2 * np.pi * 0.5 * t)) * h1
    rad = 0.18 * min(width, height)
    disc = (x - cx) ** 2 + (y - cy) ** 2 < rad ** 2
    img[disc] = (1.0, 0.9, 0.1)
    sx, sy = (0.8 - 0.6 * ((0.2 * t) % 1.0)) * w1, 0.3 * h1
    half = 0.12 * min(width, height)
    square = (np.abs(x - sx) < half) & (np.abs(y - sy) < half)
    img[square] = (0.1, 0.2, 0.9)
    # fixed fine texture (gives the encoder and the style net something to chew on)
    img += rng.normal(0.0, 0.03, size=(height, width, 1)).astype(np.float32)
    img = np.clip(img, 0.0, 1.0)
    if alpha:
        a = np.clip(0.25 + 0.75 * (x / w1), 0.0, 1.0)[:, :, None]
        img = np.concatenate([img, a], axis=2)
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return (img * 255.0 + 0.5).astype(np.uint8)
    if dtype == np.uint16:
        out = (img * 65535.0 + 0.5).astype(np.uint16)
        return out ^ rng.integers(0, 256, size=out.shape, dtype=np.uint16)  # busy low bits
    return img.astype(dtype)


_DEFAULT_PIX = {"libx264": "yuv420p", "h264": "yuv420p", "libx265": "yuv420p", "mpeg4": "yuv420p",
                "prores_ks": "yuv422p10le", "ffv1": "bgr0", "libvpx-vp9": "yuv420p", "png": "rgb24"}


def make_test_clip(
    path: str,
    *,
    width: int = 322,
    height: int = 178,
    frames: int = 24,
    fps: int | float | Fraction = 24,
    audio: bool = True,
    irregular: bool = False,
    codec: str = "libx264",
    pix_fmt: str | None = None,
    audio_codec: str = "aac",
    audio_channels: int = 2,
    sample_rate: int = 48000,
    faststart: bool = False,
    rotation: int = 0,
    seed: int = 0,
) -> SyntheticClip:
    """Write a short test clip to ``path`` (container from the extension).

    ``irregular=True`` gives variable frame timing (time base 1/90000): every third frame comes
    after a 1.5x gap and every seventh after a 2x gap. ``audio``: a 440 Hz sine (plus a quieter
    660 Hz on the second channel) lasting as long as the video, encoded with ``audio_codec``
    (aac, pcm_s16le, libopus, mp3, flac, ...). ``faststart`` moves the MP4 index to the front;
    ``rotation`` writes a display-matrix rotation (degrees, counter-clockwise).
    """
    path = os.fspath(path)
    fps = Fraction(fps).limit_denominator(1_000_000)
    codec = {"h264": "libx264", "h265": "libx265", "hevc": "libx265", "prores": "prores_ks",
             "vp9": "libvpx-vp9"}.get(codec, codec)
    pix = pix_fmt or _DEFAULT_PIX.get(codec, "yuv420p")
    if codec in ("libx264", "libx265") and pix == "yuv420p" and (width % 2 or height % 2):
        pix = "yuv444p"
    tb = Fraction(1, 90000) if irregular else 1 / fps
    pts, duration = _frame_pts(frames, fps, tb, irregular)
    n_samples = int(round(duration * sample_rate))

    options = {"movflags": "+faststart"} if faststart else {}
    out = av.open(path, mode="w", options=options)
    try:
        vs = _add_video_stream(out, codec, fps, width, height, pix, tb, rotation)
        tone = _Tone(out, audio_codec, audio_channels, sample_rate, n_samples) if audio else None
        _write_frames(out, vs, tone, pts, tb, seed)
        if tone is not None:
            tone.pump(duration)
            tone.flush()
    finally:
        out.close()
    return SyntheticClip(
        path=path, width=width, height=height, fps=fps, time_base=tb, frame_pts=pts,
        frame_times=[float(p * tb) for p in pts],
        audio_codec=audio_codec if audio else None,
        audio_duration=(n_samples / sample_rate) if audio else 0.0, pix_fmt=pix,
    )


def _frame_pts(frames: int, fps: Fraction, tb: Fraction, irregular: bool) -> tuple[list[int], float]:
    """Presentation times (ticks of ``tb``) of ``frames`` frames at ``fps``, and the clip's
    duration in seconds; ``irregular``: every third gap 1.5x, every seventh 2x."""
    pts, t = [], Fraction(0)
    step = 1 / fps
    for i in range(frames):
        pts.append(int(round(t / tb)))
        gap = step
        if irregular:
            if (i + 1) % 3 == 0:
                gap = step * Fraction(3, 2)
            if (i + 1) % 7 == 0:
                gap = step * 2
        t += gap
    return pts, float(t)


def _write_frames(out, vs, tone: "_Tone | None", pts: list[int], tb: Fraction, seed: int) -> None:
    """Encode the pattern frame of each time in ``pts`` (ticks of ``tb``) into the stream ``vs``
    (its pixel format decides depth and alpha), the audio ``tone`` kept 0.2 s ahead."""
    pix, width, height = vs.pix_fmt, vs.width, vs.height
    comps = list(av.VideoFormat(pix).components)
    alpha = any(c.is_alpha for c in comps)
    deep = max(c.bits for c in comps) > 8
    src_fmt = ("rgba64le" if alpha else "rgb48le") if deep else ("rgba" if alpha else "rgb24")
    for p in pts:
        t_i = float(p * tb)
        img = make_test_frame(width, height, t_i, seed=seed, dtype=np.uint16 if deep else np.uint8,
                              alpha=alpha)
        vf = av.VideoFrame.from_ndarray(img, format=src_fmt)
        if pix.startswith("yuv"):
            vf = vf.reformat(format=pix, dst_colorspace="ITU709", dst_color_range="MPEG")
        vf.pts = p
        vf.time_base = tb
        for pk in vs.encode(vf):
            out.mux(pk)
        if tone is not None:
            tone.pump(t_i + 0.2)
    for pk in vs.encode(None):
        out.mux(pk)


def _add_video_stream(out, codec: str, fps: Fraction, width: int, height: int, pix: str, tb: Fraction,
                      rotation: int):
    """The clip's video stream, with fast settings (short GOP, B-frames) for each test codec."""
    vs = out.add_stream(codec, rate=fps)
    vs.width, vs.height, vs.pix_fmt = width, height, pix
    vs.time_base = tb
    vs.codec_context.time_base = tb
    opts = {}
    if codec == "libx264":
        opts = {"preset": "ultrafast", "crf": "20", "g": "12", "bf": "2"}
    elif codec == "libx265":
        opts = {"preset": "ultrafast", "crf": "24", "x265-params": "log-level=error"}
    elif codec == "libvpx-vp9":
        opts = {"deadline": "realtime", "cpu-used": "8", "crf": "40", "b": "0"}
    elif codec == "prores_ks":
        opts = {"profile": "4" if pix.startswith("yuva") or pix == "yuv444p10le" else "2"}
    vs.options = opts
    if rotation:
        vs.set_display_rotation(int(rotation))
    return vs


class _Tone:
    """The clip's audio: a 440 Hz sine (660 Hz on the second channel), ``n_samples`` long,
    encoded in chunks as the video advances so the streams interleave."""

    CHUNK = 1024

    def __init__(self, out, codec: str, channels: int, sample_rate: int, n_samples: int) -> None:
        self.out = out
        self.channels = channels
        self.rate = sample_rate
        self.n_samples = n_samples
        self.done = 0
        self.stream = out.add_stream(codec, rate=sample_rate)
        self.stream.codec_context.layout = "stereo" if channels == 2 else "mono"
        self.stream.time_base = Fraction(1, sample_rate)
        self.stream.codec_context.time_base = Fraction(1, sample_rate)

    def pump(self, until: float) -> None:
        """Encode the samples before ``until`` seconds."""
        limit = min(self.n_samples, int(until * self.rate))
        while self.done < limit:
            n = min(self.CHUNK, self.n_samples - self.done)
            ts = (self.done + np.arange(n)) / self.rate
            left = 0.3 * np.sin(2 * np.pi * 440.0 * ts)
            chans = [left] if self.channels == 1 else [left, 0.2 * np.sin(2 * np.pi * 660.0 * ts)]
            data = np.stack(chans).astype(np.float32)
            af = av.AudioFrame.from_ndarray(data, format="fltp", layout="stereo" if self.channels == 2 else "mono")
            af.sample_rate = self.rate
            af.pts = self.done
            af.time_base = Fraction(1, self.rate)
            for p in self.stream.encode(af):
                self.out.mux(p)
            self.done += n

    def flush(self) -> None:
        """Drain the encoder."""
        for pk in self.stream.encode(None):
            self.out.mux(pk)


def _imwrite(path: str, image: np.ndarray) -> None:
    ext = os.path.splitext(path)[1].lower()
    if ext == ".exr":
        with open(path, "wb") as fh:
            fh.write(encode_exr(image.astype(np.float32)))
        return
    data = image
    if data.ndim == 3 and data.shape[2] == 3:
        data = data[:, :, ::-1]
    elif data.ndim == 3 and data.shape[2] == 4:
        data = data[:, :, [2, 1, 0, 3]]
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(data))
    if not ok:
        raise OSError(f"cannot encode {path}")
    buf.tofile(path)


def make_test_image(path: str, *, width: int = 322, height: int = 178, t: float = 0.0,
                    dtype=np.uint8, alpha: bool = False, seed: int = 0) -> np.ndarray:
    """Write one pattern image (PNG/TIFF 8 or 16 bit, JPEG, EXR float32); returns the RGB(A) array."""
    path = os.fspath(path)
    if path.lower().endswith(".exr"):
        dtype = np.float32
    img = make_test_frame(width, height, t, seed=seed, dtype=dtype, alpha=alpha)
    _imwrite(path, img)
    return img


def make_test_sequence(pattern: str, *, frames: int = 5, first: int = 1, width: int = 64,
                       height: int = 48, fps: float = 24, dtype=np.uint8, alpha: bool = False,
                       seed: int = 0) -> list[np.ndarray]:
    """Write ``frames`` numbered images (``pattern`` like ``dir/shot_%04d.png``) from ``first``;
    returns the arrays, in order."""
    pattern = os.fspath(pattern)
    out = []
    for i in range(frames):
        path = pattern % (first + i)
        out.append(make_test_image(path, width=width, height=height, t=i / fps, dtype=dtype,
                                   alpha=alpha, seed=seed))
    return out
