"""Read frames from a video file, an image sequence or a single image.

``open_source(path, start=None, end=None, *, fps=None)`` returns a :class:`FrameSource`:

* ``source.info`` - a :class:`~vidstyle.io.frame.VideoInfo` (known right after opening);
* ``for frame in source`` - yields :class:`~vidstyle.io.frame.Frame` objects one at a time
  (streaming, bounded memory). Iterating again restarts from the beginning of the range;
* problems met while decoding (truncated / corrupt data): the reader stops at the damage, yields
  what decoded and logs a warning to ``vidstyle.io.reader`` (once per source, prefixed by
  ``label`` when given; :mod:`vidstyle.io.diagnostics`) instead of raising mid-stream;
* ``close()`` / ``with open_source(...) as src:``.

Pixels: RGB ``uint8`` (``rgb24``) for ordinary 8-bit sources, ``uint16`` (``rgb48le``, values
scaled to the full 0..65535 range) for sources with more than 8 bits per component (10-bit
ProRes, 16-bit PNG, ...), and RGBA (4 channels) when the source has alpha. EXR images give
``float32`` (scene-linear, not clipped; decoded by FFmpeg's EXR codec through PyAV since OpenCV
wheels often lack OpenEXR). Other images are decoded by OpenCV.

Rotation: the display-matrix rotation of a video is **reported, not applied**: frames keep the
coded (stored) orientation and ``info.rotation`` holds the angle in degrees, counter-clockwise,
exactly as the display matrix says (``-90`` for a typical portrait phone clip, like ffprobe's
side-data ``rotation``). The writer stores the same display matrix in its output, so players show
the result upright while the style network sees the stored pixels.

Ranges: see :mod:`vidstyle.io.timecode` (start inclusive, end exclusive; frame numbers are
0-based indexes in the source, times are seconds from the first frame of the source). Video is
decoded and skipped up to ``start``; when ``start`` is a time more than ``SEEK_THRESHOLD_S``
seconds in, the reader first seeks to the keyframe before it (then ``Frame.index`` is derived
from the timestamp and the frame rate, which is exact for constant-frame-rate files).
``info.start_time`` / ``info.end_time`` are the times (same timeline as ``Frame.time``) of the
first selected frame and of the range end (or the stream end), for the writer's audio trimming.
At open ``start_time`` is computed from the range (and the frame rate, for frame numbers); when
the first selected frame is decoded it is refined to that frame's exact time.

Image sequences: a folder of images (natural sort order), or a pattern ``shot_%04d.png`` /
``shot_####.png`` (first number found on disk). ``fps`` defaults to 24; ``pts`` is the index in
the sequence with ``time_base = 1/fps``.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Iterator

from vidstyle.errors import InputError
from vidstyle.io import _util
from vidstyle.io._exr import read_exr
from vidstyle.io.diagnostics import Diagnostics
from vidstyle.io._util import IMAGE_EXTS, has_pattern, natural_key, one_line, pattern_regex
from vidstyle.io.frame import Frame, VideoInfo
from vidstyle.io.limits import check_image_file, check_pixels
from vidstyle.io.timecode import Position, parse_range

import av
import cv2
import numpy as np

__all__ = ["FrameSource", "VideoSource", "SequenceSource", "ImageSource", "open_source"]

DEFAULT_SEQUENCE_FPS = Fraction(24)
SEEK_THRESHOLD_S = 5.0  # seek (instead of decode-and-skip) when a time start is further than this

assert _util  # keep the import (side effect: EXR env var)


# --------------------------------------------------------------------------- base class


class FrameSource:
    """Iterable of :class:`Frame` with ``info``, ``close()`` and ``with`` support; ``diagnostics``
    logs its warnings (held back until :func:`open_source` has opened it)."""

    info: VideoInfo

    def __init__(self, info: VideoInfo, start: Position | None, end: Position | None) -> None:
        self.info = info
        self.start = start
        self.end = end
        self.diagnostics = Diagnostics("reader")
        self.diagnostics.hold()
        self._closed = False

    # selection -----------------------------------------------------------------------
    def _before_start(self, index: int, rel: Fraction | None) -> bool:
        s = self.start
        if s is None:
            return False
        if s.is_frame:
            return index < s.frame
        return rel is not None and rel < s.seconds

    def _past_end(self, index: int, rel: Fraction | None) -> bool:
        e = self.end
        if e is None:
            return False
        if e.is_frame:
            return index >= e.frame
        return rel is not None and rel >= e.seconds

    def _warn(self, message: str) -> None:
        self.diagnostics.warn(message)

    # protocol -----------------------------------------------------------------------
    def __iter__(self) -> Iterator[Frame]:
        if self._closed:
            raise InputError(f"{self.info.path}: source is closed")
        return self._frames()

    def _frames(self) -> Iterator[Frame]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        i = self.info
        return f"<{type(self).__name__} {i.path!r} {i.width}x{i.height} {i.kind}>"


# --------------------------------------------------------------------------- video


def _output_format(fmt) -> tuple[str, str, bool]:
    """(ndarray format, dtype name, has_alpha) for a decoder pixel format."""
    if fmt is None:
        return "rgb24", "uint8", False
    comps = list(fmt.components)
    alpha = any(getattr(c, "is_alpha", False) for c in comps)
    if getattr(fmt, "has_palette", False) or fmt.name == "pal8":
        alpha = False  # GIF-style palettes: treat as RGB
    deep = max((c.bits for c in comps), default=8) > 8
    if deep:
        return ("rgba64le" if alpha else "rgb48le"), "uint16", alpha
    return ("rgba" if alpha else "rgb24"), "uint8", alpha


def _stream_duration(container, stream) -> float | None:
    """Best guess of the video stream's duration in seconds (from its first frame)."""
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    end = None
    tag = (stream.metadata or {}).get("DURATION") or (stream.metadata or {}).get("duration")
    if tag:
        try:
            parts = tag.split(":")
            secs = 0.0
            for p in parts:
                secs = secs * 60 + float(p)
            end = secs
        except ValueError:
            pass
    if end is None and container.duration is not None:
        end = container.duration / av.time_base
    if end is None:
        return None
    # Matroska/WebM as FFmpeg writes them store the *end* time here, not the length: a stream
    # starting at 100 s says 100.8 s. Counted from the first frame it would be a false end at
    # 200.8 s (and a false "truncated" warning). A value below the start is a true length.
    start = float(stream.start_time * stream.time_base) if stream.start_time is not None and stream.time_base else 0.0
    if "matroska" in (container.format.name or "") and 0 < start < end:
        return end - start
    return end


def _open_container(path: str):
    try:
        return av.open(path, mode="r")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder with no images") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except av.error.InvalidDataError:
        raise InputError(f"{path}: not a readable media file (invalid or truncated data)") from None
    except (av.error.FFmpegError, OSError) as exc:
        raise InputError(f"{path}: cannot open ({one_line(exc)})") from None


def _pick_video_stream(container, path: str):
    for s in container.streams.video:
        disp = getattr(s, "disposition", 0)
        try:
            attached = bool(disp & av.stream.Disposition.attached_pic)
        except (AttributeError, TypeError):
            attached = False
        if not attached:
            return s
    raise InputError(f"{path}: no video stream" + (" (audio only)" if container.streams.audio else ""))


def _stream_fps(stream: av.video.stream.VideoStream) -> Fraction | None:
    """The stream's frame rate (frames per second), None when unknown or not positive."""
    fps = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = Fraction(fps) if fps else None
    if fps is not None and fps <= 0:
        fps = None
    return fps


def _video_info(container: av.container.InputContainer, stream: av.video.stream.VideoStream, path: str,
                fps: Fraction | None, max_pixels: int | None) -> tuple[VideoInfo, str]:
    """What the stream's headers say (size, rate, time base, duration, pixel format), refusing
    frames over ``max_pixels`` before any is decoded; returns (info, decoded frame format)."""
    cc = stream.codec_context
    out_fmt, dtype, alpha = _output_format(cc.format)
    check_pixels(cc.width, cc.height, path, max_pixels)
    info = VideoInfo(
        path=path,
        kind="video",
        width=cc.width,
        height=cc.height,
        fps=fps,
        time_base=Fraction(stream.time_base or Fraction(1, 90000)),
        duration=_stream_duration(container, stream),
        audio_streams=len(container.streams.audio),
        has_alpha=alpha,
        dtype=dtype,
        codec=cc.name,
    )
    info.pix_fmt = cc.format.name if cc.format is not None else None
    return info, out_fmt


class VideoSource(FrameSource):
    """Frames of the first video stream of a media file, decoded with PyAV."""

    def __init__(self, path: str, start_text: str | None, end_text: str | None,
                 max_pixels: int | None = None) -> None:
        self.path = path
        container = _open_container(path)
        try:
            stream = _pick_video_stream(container, path)
            stream.thread_type = "AUTO"
            fps = _stream_fps(stream)
            start, end = parse_range(start_text, end_text, fps)
            info, out_fmt = _video_info(container, stream, path, fps, max_pixels)
            duration = info.duration  # the stream's, seconds; info.duration becomes the range's
            info.trimmed = start is not None or end is not None
            super().__init__(info, start, end)
            self._out_fmt = out_fmt
            self._container = container
            self._fresh = True
            self._peeked: list = []

            # total frame count of the stream (before trimming), when the container knows it
            total = stream.frames if stream.frames and stream.frames > 0 else None
            if total is None and duration and fps:
                total = int(round(duration * fps))
            self._total = total

            seek_to = None
            if start is not None and not start.is_frame and float(start.seconds) > SEEK_THRESHOLD_S:
                seek_to = start.seconds
            self._seek_to = seek_to
            self._read_first(container, stream, seek_to)
            self._stream_end = (
                float(self._origin) + duration if duration is not None else None
            )  # seconds, on the source timeline
            self._fill_range_info(fps)
            self._check_start_in_stream(start, fps, duration)
        except BaseException:
            container.close()
            raise

    def _read_first(self, container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                    seek_to: Fraction | None) -> None:
        """Decode the first frame now (unless the range starts with a seek): it validates the
        stream and gives the rotation, the real size and the source's first timestamp (seconds,
        the origin of range times); sets ``_peeked``, ``_gen``, ``_origin`` and those fields of ``info``."""
        info = self.info
        tb = Fraction(info.time_base)
        origin = None
        if stream.start_time is not None:
            origin = Fraction(stream.start_time) * tb
        first = None
        if seek_to is None:
            gen = self._decode(container, stream)
            try:
                first = next(gen)
            except StopIteration:
                first = None
            if first is None:
                found = self.diagnostics.found
                detail = f" ({found[0]})" if found else ""
                raise InputError(f"{self.path}: no decodable video frames{detail}")
            self._peeked = [first]
            self._gen = gen
            if first.pts is not None:
                origin = Fraction(first.pts) * tb
        else:
            self._gen = None
        self._origin = origin or Fraction(0)
        info.source_start = float(self._origin)
        info.start_time = float(self._origin)
        if first is not None:
            info.rotation = int(round(first.rotation or 0))
            info.width, info.height = first.width, first.height
        else:
            info.rotation = self._probe_rotation(self.path)

    def _check_start_in_stream(self, start: Position | None, fps: Fraction | None, duration: float | None) -> None:
        """``InputError`` when ``--start`` lies at or past the end of the stream (``duration`` seconds)."""
        if (
            start is not None
            and self._stream_end is not None
            and start.to_seconds(fps) is not None
            and float(self._origin + start.to_seconds(fps)) >= self._stream_end
        ):
            raise InputError(
                f"{self.path}: --start {start.text} is past the end of the video ({duration:.3f}s)"
            )

    def _probe_rotation(self, path: str) -> int:
        try:
            with av.open(path) as c:
                s = _pick_video_stream(c, path)
                for f in c.decode(s):
                    return int(round(f.rotation or 0))
        except Exception:  # noqa: BLE001 - purely informative
            pass
        return 0

    def _fill_range_info(self, fps: Fraction | None) -> None:
        info, start, end, total = self.info, self.start, self.end, self._total
        origin = self._origin
        # times (source timeline)
        if start is not None:
            s = start.to_seconds(fps)
            if s is not None:
                info.start_time = float(origin + s)
        if end is not None:
            e = end.to_seconds(fps)
            if e is not None:
                info.end_time = float(origin + e)
        if info.end_time is None and self._stream_end is not None:
            info.end_time = self._stream_end
        elif info.end_time is not None and self._stream_end is not None:
            info.end_time = min(info.end_time, self._stream_end)
        # frame count (exact for frame ranges with a known total, estimated for time ranges)
        if start is None and end is None:
            info.frame_count = total
        else:
            first = start.to_frame(fps) if start is not None else 0
            last = end.to_frame(fps) if end is not None else total
            if last is not None and total is not None:
                last = min(last, total)
            info.frame_count = max(0, last - first) if (first is not None and last is not None) else None
        if info.end_time is not None:
            info.duration = max(0.0, info.end_time - info.start_time)

    # decoding ------------------------------------------------------------------------
    def _decode(self, container, stream) -> Iterator:
        """Yield av.VideoFrames, stopping (with a warning) at damaged data."""
        try:
            for packet in container.demux(stream):
                if packet.is_corrupt:
                    self._warn(f"corrupt packet at {self._t(packet.pts, stream)}: stopped there")
                    break
                try:
                    frames = packet.decode()
                except av.error.FFmpegError as exc:
                    self._warn(f"decoding failed at {self._t(packet.pts, stream)} ({one_line(exc)}): "
                               "stopped there, the file is damaged or truncated")
                    break
                yield from frames
            else:
                return
        except av.error.FFmpegError as exc:
            self._warn(f"reading failed ({one_line(exc)}): stopped there, the file is damaged or truncated")
        # after an error: drain what the decoder still holds
        try:
            yield from stream.codec_context.decode(None)
        except av.error.FFmpegError:
            pass

    @staticmethod
    def _t(pts, stream) -> str:
        if pts is None or not stream.time_base:
            return "an unknown time"
        return f"{float(pts * stream.time_base):.3f}s"

    def _raw_frames(self):
        """(container, stream, av frame iterator) for one pass, honouring the seek."""
        if self._fresh:
            self._fresh = False
            container = self._container
            stream = _pick_video_stream(container, self.path)
            if self._gen is not None:
                peeked = self._peeked
                self._peeked = []

                def it():
                    yield from peeked
                    yield from self._gen

                return container, stream, it()
        else:
            if self._container is not None:
                self._container.close()
            container = _open_container(self.path)
            self._container = container
            stream = _pick_video_stream(container, self.path)
            stream.thread_type = "AUTO"
        if self._seek_to is not None:
            target = self._origin + self._seek_to
            try:
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
            except av.error.FFmpegError as exc:
                self._warn(f"seek failed ({one_line(exc)}): decoding from the beginning")
                container.close()
                container = _open_container(self.path)
                self._container = container
                stream = _pick_video_stream(container, self.path)
                stream.thread_type = "AUTO"
        return container, stream, self._decode(container, stream)

    def _frames(self) -> Iterator[Frame]:
        container, stream, raw = self._raw_frames()
        tb = Fraction(stream.time_base)
        fps = self.info.fps
        seeking = self._seek_to is not None
        index = -1
        last_pts = None
        first_time = None
        n_out = 0
        last_end = None
        fmt = self._out_fmt
        step = max(1, int(round(1 / (fps * tb)))) if fps else 1  # one frame, in ticks
        for vf in raw:
            pts = vf.pts
            if pts is None:  # rare: no timestamp; extrapolate by one frame (one tick would squeeze
                # the frames together, and a container with a coarser time base merges them)
                pts = (last_pts + step) if last_pts is not None else 0
            if seeking and fps:
                rel = Fraction(pts) * tb - self._origin
                index = int(round(rel * fps))
            else:
                index += 1
            rel = Fraction(pts) * tb - self._origin
            if seeking and first_time is None and rel > self._seek_to + (1 / fps if fps else 0):
                # the seek overshot: restart without seeking
                self._warn("seek landed past the start: decoded from the beginning instead")
                self._seek_to = None
                self._fresh = False
                yield from self._frames()
                return
            first_time = rel if first_time is None else first_time
            if self._before_start(index, rel):
                last_pts = pts
                continue
            if self._past_end(index, rel):
                break
            try:
                if vf.color_range:
                    image = vf.to_ndarray(format=fmt, src_color_range=vf.color_range)
                else:
                    image = vf.to_ndarray(format=fmt)
            except (av.error.FFmpegError, ValueError) as exc:
                self._warn(f"cannot convert frame {index} ({one_line(exc)}): stopped there")
                break
            if image.ndim == 2:
                image = np.repeat(image[:, :, None], 3, axis=2)
            time = float(Fraction(pts) * tb)
            last_pts = pts
            if n_out == 0 and self.info.trimmed:
                # refine the estimate made at open to the exact first selected frame
                self.info.start_time = time
                if self.info.end_time is not None:
                    self.info.duration = max(0.0, self.info.end_time - time)
            n_out += 1
            dur = vf.duration if getattr(vf, "duration", None) else None
            last_end = time + (float(dur * tb) if dur else (1 / float(fps) if fps else 0.0))
            yield Frame(image=image, index=index, pts=int(pts), time_base=tb, time=time,
                        meta={"key_frame": bool(vf.key_frame)})
        self._check_short(n_out, last_end)

    def _check_short(self, n_out: int, last_end: float | None) -> None:
        """Warn when the stream ended well before its advertised end (silent truncation)."""
        if n_out == 0:
            self._warn("no frames in the selected range")
            return
        if any("stopped there" in w for w in self.diagnostics.found):
            return
        if self.end is not None and self.info.end_time is not None:
            expected = self.info.end_time
        else:
            expected = self._stream_end
        fps = float(self.info.fps) if self.info.fps else 24.0
        if expected is not None and last_end is not None:
            tolerance = max(0.5, 3.0 / fps)
            if last_end + tolerance < expected:
                self._warn(
                    f"video ended at {last_end:.3f}s but the file says {expected:.3f}s: "
                    "it is probably truncated"
                )

    def close(self) -> None:
        super().close()
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - closing must not raise
                pass
            self._container = None


# --------------------------------------------------------------------------- images


def _read_image(path: str, max_pixels: int | None = None) -> np.ndarray:
    """Read one image file as RGB/RGBA (uint8, uint16 or float32), refused above the pixel
    limit (:mod:`vidstyle.io.limits`) before decoding. Raises InputError."""
    check_image_file(path, max_pixels)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({one_line(exc)})") from None
    img = None
    if path.lower().endswith(".exr") and data.size:
        try:
            return read_exr(path)
        except (av.error.FFmpegError, StopIteration, IndexError, ValueError) as exc:
            raise InputError(f"{path}: not a readable EXR image ({one_line(exc)})") from None
    if data.size:
        try:
            img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
        except cv2.error:
            img = None
    if img is None:
        raise InputError(f"{path}: not a readable image")
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    elif img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    elif img.shape[2] == 2:  # gray + alpha
        img = np.concatenate([np.repeat(img[:, :, :1], 3, axis=2), img[:, :, 1:]], axis=2)
    elif img.shape[2] == 3:
        img = img[:, :, ::-1]
    elif img.shape[2] == 4:
        img = img[:, :, [2, 1, 0, 3]]
    else:
        raise InputError(f"{path}: unsupported image with {img.shape[2]} channels")
    if img.dtype == np.uint8 or img.dtype == np.uint16 or img.dtype == np.float32:
        pass
    elif img.dtype in (np.float16, np.float64):
        img = img.astype(np.float32)
    elif img.dtype == np.int8:
        img = (img.astype(np.int16) + 128).astype(np.uint8)
    elif img.dtype == np.int16:
        img = (img.astype(np.int32) + 32768).astype(np.uint16)
    else:
        raise InputError(f"{path}: unsupported image sample type {img.dtype}")
    return np.ascontiguousarray(img)


class SequenceSource(FrameSource):
    """Frames from numbered image files (a folder or a ``%04d`` / ``####`` pattern)."""

    def __init__(self, files: list[str], numbers: list[int] | None, path: str,
                 start_text: str | None, end_text: str | None, fps: Fraction | None,
                 kind: str = "sequence", max_pixels: int | None = None) -> None:
        fps = Fraction(fps) if fps else DEFAULT_SEQUENCE_FPS
        start, end = parse_range(start_text, end_text, fps)
        self._max_pixels = max_pixels
        first_img = _read_image(files[0], max_pixels)
        h, w, c = first_img.shape
        info = VideoInfo(
            path=path,
            kind=kind,
            width=w,
            height=h,
            fps=fps if kind == "sequence" else None,
            time_base=(1 / fps) if kind == "sequence" else None,
            has_alpha=c == 4,
            dtype=str(first_img.dtype),
            codec=os.path.splitext(files[0])[1].lower().lstrip("."),
        )
        info.pix_fmt = None
        info.trimmed = start is not None or end is not None
        info.source_start = 0.0
        super().__init__(info, start, end)
        self.files = files
        self.numbers = numbers
        self._fps = fps
        self._first = first_img
        # the range, as indexes into files
        n = len(files)
        i0 = start.to_frame(fps) if start is not None else 0
        i1 = end.to_frame(fps) if end is not None else n
        i1 = min(i1, n)
        if i0 >= n:
            raise InputError(f"{path}: --start {start.text} is past the last image ({n} images)")
        if i1 <= i0:
            raise InputError(f"{path}: the range selects no images")
        self._i0, self._i1 = i0, i1
        info.frame_count = i1 - i0
        if kind == "sequence":
            info.start_time = float(i0 / fps)
            info.end_time = float(i1 / fps)
            info.duration = float((i1 - i0) / fps)
        else:
            info.start_time = 0.0
            info.end_time = None
        if numbers is not None and len(numbers) > 1:
            gaps = [b for a, b in zip(numbers, numbers[1:]) if b != a + 1]
            if gaps:
                self._warn(f"sequence has gaps (e.g. before number {gaps[0]}): frames are taken "
                           "in order, without holes")

    def _frames(self) -> Iterator[Frame]:
        tb = 1 / self._fps if self.info.kind == "sequence" else None
        ref = self._first
        for i in range(self._i0, self._i1):
            path = self.files[i]
            if i == 0 and self._first is not None:
                img = self._first
            else:
                try:
                    img = _read_image(path, self._max_pixels)
                except InputError as exc:
                    self._warn(f"{exc}: stopped there")
                    return
                if img.shape != ref.shape or img.dtype != ref.dtype:
                    self._warn(
                        f"{path}: {img.shape[1]}x{img.shape[0]}x{img.shape[2]} {img.dtype} differs "
                        f"from the first image ({ref.shape[1]}x{ref.shape[0]}x{ref.shape[2]} "
                        f"{ref.dtype}): stopped there"
                    )
                    return
            meta = {"path": path}
            if self.numbers is not None:
                meta["number"] = self.numbers[i]
            if self.info.kind == "sequence":
                yield Frame(image=img, index=i, pts=i, time_base=tb, time=float(i * tb), meta=meta)
            else:
                yield Frame(image=img, index=i, meta=meta)

    def close(self) -> None:
        super().close()
        self._first = None


class ImageSource(SequenceSource):
    """A single still image: one :class:`Frame` with ``pts=None``."""

    def __init__(self, path: str, start_text, end_text, fps, max_pixels: int | None = None) -> None:
        super().__init__([path], None, path, start_text, end_text, fps, kind="image", max_pixels=max_pixels)
        self.info.frame_count = 1


# --------------------------------------------------------------------------- discovery


def _list_pattern(path: str) -> tuple[list[str], list[int]]:
    folder = os.path.dirname(path) or "."
    try:
        regex, _ = pattern_regex(path)
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from None
    if not os.path.isdir(folder):
        raise InputError(f"{path}: folder {folder!r} does not exist")
    try:
        names = os.listdir(folder)
    except OSError as exc:
        raise InputError(f"{path}: cannot list the folder ({one_line(exc)})") from None
    found = []
    for name in names:
        m = regex.match(name)
        if m:
            found.append((int(m.group(1)), os.path.join(folder, name)))
    if not found:
        raise InputError(f"{path}: no files match this pattern")
    found.sort()
    return [f for _, f in found], [n for n, _ in found]


def _list_folder(path: str) -> list[str]:
    try:
        names = os.listdir(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot list the folder ({one_line(exc)})") from None
    images = [n for n in names if os.path.splitext(n)[1].lower() in IMAGE_EXTS and not n.startswith(".")]
    if not images:
        raise InputError(f"{path}: folder has no images ({', '.join(sorted(IMAGE_EXTS))})")
    exts = {os.path.splitext(n)[1].lower() for n in images}
    if len(exts) > 1:
        # several kinds: keep the most common one (e.g. ignore a stray thumbnail.jpg)
        counts = {e: sum(1 for n in images if os.path.splitext(n)[1].lower() == e) for e in exts}
        keep = max(counts, key=lambda e: (counts[e], e))
        images = [n for n in images if os.path.splitext(n)[1].lower() == keep]
    images.sort(key=natural_key)
    return [os.path.join(path, n) for n in images]


def open_source(
    path: str,
    start: str | None = None,
    end: str | None = None,
    *,
    fps: Fraction | float | int | None = None,
    max_pixels: int | None = None,
    label: str | None = None,
) -> FrameSource:
    """Open a video file, an image sequence (folder or ``%04d`` pattern) or a single image.

    ``start`` / ``end``: see :mod:`vidstyle.io.timecode` (inclusive / exclusive). ``fps`` sets the
    frame rate of image sequences (default 24); it is ignored for video files. ``max_pixels``:
    frames above this many pixels are refused before decoding (default:
    :func:`vidstyle.io.limits.max_pixels`). ``label`` prefixes the source's warnings (``"matte
    m.mp4"``: which file of a job they are about).
    Raises :class:`~vidstyle.errors.InputError` (one-line message) when the input cannot be used.
    """
    source = _open_source(path, start, end, fps, max_pixels)
    source.diagnostics.release(label)
    return source


def _open_source(path: str, start: str | None, end: str | None, fps, max_pixels: int | None) -> FrameSource:
    """:func:`open_source` without the release of the warnings met while opening."""
    if path is None or str(path) == "":
        raise InputError("no input given")
    path = os.fspath(path)
    if fps is not None:
        try:
            fps = Fraction(fps).limit_denominator(1_000_000) if isinstance(fps, float) else Fraction(fps)
        except (TypeError, ValueError):
            raise InputError(f"bad frame rate {fps!r}") from None
        if fps <= 0:
            raise InputError(f"bad frame rate {fps!r}")
    if os.path.isdir(path):
        files = _list_folder(path)
        return SequenceSource(files, None, path, start, end, fps, max_pixels=max_pixels)
    if not os.path.exists(path) and has_pattern(path):
        files, numbers = _list_pattern(path)
        return SequenceSource(files, numbers, path, start, end, fps, max_pixels=max_pixels)
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise InputError(f"{path}: not a regular file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied")
    ext = os.path.splitext(path)[1].lower()
    if ext in IMAGE_EXTS:
        return ImageSource(path, start, end, fps, max_pixels)
    return VideoSource(path, start, end, max_pixels)
