"""Encode frames into a video file with PyAV, timing and audio kept (see :mod:`vidstyle.io.writer`).

The file is written under a hidden temporary name beside the output and renamed on ``close()``,
so a crash never leaves a half-written output.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from fractions import Fraction

from vidstyle.errors import OutputError
from vidstyle.io._util import one_line
from vidstyle.io.audio import AudioMuxer, plan_audio
from vidstyle.io.codecs import EncoderSettings, encoder_settings
from vidstyle.io.frame import Frame, VideoInfo
from vidstyle.io.outpath import hidden_name, physical_folder
from vidstyle.io.remux import part_packets
from vidstyle.io.sink import (MKSTEMP_CHARS, FrameSink, av_message, default_mode, oserror_message,
                              prepare_folder, to_uint)

import av
import numpy as np

__all__ = ["VideoSink", "stale_partials", "DEFAULT_FPS"]

DEFAULT_FPS = Fraction(24)

_DEPTH = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}  # anything else: float (32)


def _partial_affixes(path: str) -> tuple[str, str]:
    """Prefix and suffix of a video output's temporary file, ``.NAME.<random>.partial.EXT``, the
    stem shortened when the whole would not fit ``NAME_MAX`` (see :func:`hidden_name`)."""
    base, ext = os.path.splitext(os.path.basename(path))
    suffix = f".partial{ext}"
    prefix = hidden_name(base, ".", folder=physical_folder(path), reserve=MKSTEMP_CHARS + len(suffix.encode()))
    return prefix, suffix


def stale_partials(path: str, keep: str | None = None) -> list[str]:
    """Temporary files of earlier video outputs to ``path`` (runs that were killed), except ``keep``.
    Only this output's: ``.a.<random>.partial.mp4``, never ``.a.b.<random>.partial.mp4`` (of
    ``a.b.mp4``). Callers hold the output's lock (:mod:`vidstyle.io.lock`), so none is live."""
    prefix, suffix = _partial_affixes(path)
    folder = physical_folder(path)
    own = re.compile(re.escape(prefix) + "[a-z0-9_]{%d}" % MKSTEMP_CHARS + re.escape(suffix) + "$")
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = [os.path.join(folder, n) for n in names if own.match(n)]
    return [f for f in found if keep is None or os.path.abspath(f) != os.path.abspath(keep)]


class VideoSink(FrameSink):
    """Encode to a video file with PyAV (see :mod:`vidstyle.io.writer` for codecs and timing)."""

    def __init__(self, path: str, info: VideoInfo, *, muxer: str, codec: str, crf: int | None,
                 audio_source: str | None, overwrite: bool, prores_profile, encoder_options,
                 container_options: dict | None = None, shift: Fraction | None = None) -> None:
        """``shift``: seconds subtracted from every timestamp, fixed (the parts of a resumable
        output share one); None: worked out from the first frame (module docstring)."""
        super().__init__(path, info, overwrite)
        self._fixed_shift = shift
        self._container = None
        self._audio: AudioMuxer | None = None
        self.tmp_path = None
        self.muxer = muxer
        self.codec = codec
        self.crf = crf
        self.audio_source = audio_source
        self.prores_profile = prores_profile
        self.encoder_options = dict(encoder_options or {})
        self._stream = None
        self._last_pts = None
        self._shift = Fraction(0)  # seconds subtracted from every timestamp
        self._trim_start = False
        self._win_start = None
        self._win_end = None
        self._width = self._height = None
        self._settings: EncoderSettings | None = None
        self._src_fmt = "rgb24"
        self._video_tb = None
        self._remuxing = False
        self._audio_copy: dict[int, bool] = {}  # audio stream index -> copied (else transcoded)
        self._open(path, container_options)

    def _open(self, path: str, container_options: dict | None) -> None:
        """Create the temporary file and its container, and plan the audio (copy or transcode)."""
        folder = physical_folder(path)
        self._final = os.path.join(folder, os.path.basename(path))  # where the kernel puts ``path``
        self._created_dirs = prepare_folder(folder)
        prefix, suffix = _partial_affixes(path)
        try:
            fd, self.tmp_path = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
            os.close(fd)
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write into {folder}: {oserror_message(exc)}") from None
        try:
            self._container = av.open(self.tmp_path, mode="w", format=self.muxer,
                                      options=dict(container_options or {}))
        except (av.error.FFmpegError, OSError) as exc:
            self.abort()
            raise OutputError(f"{path}: cannot create output ({one_line(exc)})") from None
        if self.audio_source:
            try:
                self._audio_copy = plan_audio(self.audio_source, self.muxer, self._container.supported_codecs)
            except BaseException:
                self.abort()
                raise

    # setup ---------------------------------------------------------------------------
    def _setup(self, frame: Frame) -> None:
        """Add the video stream for the first ``frame`` (its size, depth and alpha choose the
        encoder settings, :func:`~vidstyle.io.codecs.encoder_settings`), then timing and audio."""
        image = frame.image
        h, w, c = image.shape
        fps = Fraction(self.info.fps if self.info.fps else DEFAULT_FPS).limit_denominator(1_000_000)
        settings = encoder_settings(self.codec, w, h, depth=_DEPTH.get(image.dtype, 32), alpha=c == 4,
                                    container=self.muxer, crf=self.crf, prores=self.prores_profile,
                                    encoder_options=self.encoder_options)
        for message in settings.warnings:
            self._warn(message)
        # time base: the source's (frames keep their pts); AVI: the 1/fps grid
        tb = self.info.time_base or frame.time_base or (1 / fps)
        if self.muxer == "avi":
            tb = 1 / fps
        tb = Fraction(tb)
        try:
            self._stream = self._add_video_stream(settings, w, h, fps, tb)
        except (av.error.FFmpegError, ValueError, TypeError, AttributeError) as exc:
            raise OutputError(f"{self.path}: cannot set up the {settings.codec} encoder ({one_line(exc)})") from None
        self._settings = settings
        self._video_tb = tb
        self._width, self._height = w, h
        if settings.bits == 16:
            self._src_fmt = "rgba64le" if settings.alpha else "rgb48le"
        else:
            self._src_fmt = "rgba" if settings.alpha else "rgb24"
        self._fps = fps
        self._setup_window(frame)
        self._setup_audio()

    def _add_video_stream(self, settings: EncoderSettings, w: int, h: int, fps: Fraction, tb: Fraction):
        """The output's video stream, configured from ``settings`` (size in pixels, rate in fps,
        time base in seconds)."""
        stream = self._container.add_stream(settings.codec, rate=fps)
        stream.width, stream.height = w, h
        stream.pix_fmt = settings.pix_fmt
        stream.time_base = tb
        cc = stream.codec_context
        cc.time_base = tb
        cc.framerate = fps
        stream.thread_type = "AUTO"
        if settings.qscale is not None:
            cc.qscale = settings.qscale
        if settings.tag_bt709:
            cc.colorspace = 1  # bt709
            cc.color_primaries = 1
            cc.color_trc = 1
            cc.color_range = 1  # limited (MPEG)
        stream.options = dict(settings.options)
        if self.info.rotation:
            stream.set_display_rotation(int(self.info.rotation))
        return stream

    def _setup_window(self, frame: Frame) -> None:
        """The shift of every timestamp: for a trimmed source, the one that moves ``frame`` (the
        first) back to the source's start, plus the audio window; and for a first frame before 0
        (MPEG-TS cuts, raw edit-listed files), the one that moves it to 0: MP4/MOV would hide the
        frames before 0 behind an edit list and players would never show them."""
        info = self.info
        if self._fixed_shift is not None:
            self._shift = Fraction(self._fixed_shift)
            return
        first_t = Fraction(frame.time).limit_denominator(10**9) if frame.time is not None else None
        if frame.pts is not None and frame.time_base:
            first_t = Fraction(frame.pts) * Fraction(frame.time_base)
        if info.trimmed:
            if first_t is None:
                first_t = Fraction(info.start_time).limit_denominator(10**9)
            source_start = Fraction(info.source_start).limit_denominator(10**9)
            self._shift = max(Fraction(0), first_t - source_start)
            self._trim_start = first_t > source_start
            self._win_start = float(first_t)
            self._win_end = info.end_time
        if first_t is not None and first_t - self._shift < 0:
            self._shift = first_t

    def _setup_audio(self) -> None:
        if not self.audio_source:
            return
        window = (self._win_start, self._win_end) if self._win_start is not None else None
        audio = AudioMuxer(self._container, self.muxer, shift=self._shift, window=window,
                           trim_start=self._trim_start, warn=self._warn)
        self._audio = audio
        audio.open(self.audio_source, self._audio_copy)
        if not audio.tracks:
            self._audio = None

    # writing -------------------------------------------------------------------------
    def _pts_for(self, frame: Frame) -> int:
        tb = self._video_tb
        if frame.pts is not None and frame.time_base:
            t = Fraction(frame.pts) * Fraction(frame.time_base)
        elif frame.time is not None:
            t = Fraction(frame.time).limit_denominator(10**9)
        else:
            t = None
        if t is None:
            pts = 0 if self._last_pts is None else self._last_pts + max(1, round(1 / (self._fps * tb)))
        else:
            pts = math.floor((t - self._shift) / tb + Fraction(1, 2))
        if self._last_pts is not None and pts <= self._last_pts:
            self._warn(f"non-increasing timestamp at frame {frame.index}: moved after the previous one")
            pts = self._last_pts + 1
        return pts

    def _write(self, frame: Frame) -> None:
        if self._stream is None:
            self._setup(frame)
        settings = self._settings
        image = frame.image
        h, w, c = image.shape
        if (w, h) != (self._width, self._height):
            raise OutputError(f"{self.path}: frame {frame.index} is {w}x{h}, "
                              f"the video is {self._width}x{self._height}")
        image = to_uint(image, settings.bits)
        if c == 4 and not settings.alpha:
            image = image[:, :, :3]
        elif c == 3 and settings.alpha:
            opaque = np.full((h, w, 1), 255 if settings.bits == 8 else 65535, dtype=image.dtype)
            image = np.concatenate([image, opaque], axis=2)
        image = np.ascontiguousarray(image)
        vf = av.VideoFrame.from_ndarray(image, format=self._src_fmt)
        if settings.yuv:
            vf = vf.reformat(format=settings.pix_fmt, dst_colorspace=settings.colorspace,
                             dst_color_range="MPEG")
        vf.pts = self._pts_for(frame)
        vf.time_base = self._video_tb
        self._last_pts = vf.pts
        for pkt in self._stream.encode(vf):
            self._mux_video(pkt)

    def _mux_video(self, pkt) -> None:
        self._container.mux(pkt)
        if self._audio is not None and pkt.dts is not None:
            self._audio.pump(float(pkt.dts * self._video_tb) + 0.25)

    def remux(self, files: list[str], first: Frame, offset: Fraction = Fraction(0)) -> int:
        """Fill this output with the video packets of ``files`` instead of encoding frames.

        ``files``: earlier outputs of this sink's codec and muxer, in order, whose frames carry the
        source's own (unshifted) timestamps: the parts of one run (see
        :mod:`vidstyle.io.checkpoint`) less ``offset`` seconds. ``first``: the first frame's timing
        (pts, time base), for the shift. Audio is added from ``audio_source`` as when encoding.
        Returns the number of video packets; ``close()`` then finishes the file.
        """
        if self._stream is not None or self.frames_written:
            raise OutputError(f"{self.path}: remux needs a fresh output")
        self._remuxing = True
        last_dts = None
        count = 0
        try:
            for n, name in enumerate(files):
                with av.open(name, mode="r") as part:
                    if self._stream is None:
                        self._setup_remux(part.streams.video[0], first)
                    shift = int(round((self._shift - offset) / self._video_tb))
                    for pkt in part_packets(part, name, n, time_base=self._video_tb, shift=shift,
                                            last_dts=last_dts, output=self.path):
                        last_dts = pkt.dts
                        pkt.stream = self._stream
                        self._mux_video(pkt)
                        count += 1
        except av.error.FFmpegError as exc:
            raise OutputError(f"{self.path}: joining the saved parts failed ({av_message(exc)})") from None
        self.frames_written = count
        return count

    def _setup_remux(self, src, first: Frame) -> None:
        """The video stream copied from the first part's ``src``, then timing and audio."""
        self._stream = self._container.add_stream_from_template(src)
        self._stream.time_base = src.time_base
        if self.info.rotation:
            self._stream.set_display_rotation(int(self.info.rotation))
        self._video_tb = Fraction(src.time_base)
        self._setup_window(first)
        self._setup_audio()

    def _finish(self) -> None:
        try:
            for pkt in ([] if self._remuxing else self._stream.encode(None)):
                self._mux_video(pkt)
            if self._audio is not None:
                self._audio.finish()
            self._container.close()
        except av.error.FFmpegError as exc:
            raise OutputError(f"{self.path}: finishing the file failed ({av_message(exc)})") from None
        finally:
            self._close_audio()
        if os.path.exists(self.path) and not self.overwrite:
            raise OutputError(f"{self.path}: appeared while writing; not overwritten (use overwrite)")
        default_mode(self.tmp_path)
        os.replace(self.tmp_path, self._final)

    def _close_audio(self) -> None:
        if self._audio is not None:
            self._audio.close()

    def _discard(self) -> None:
        try:
            if self._container is not None:
                self._container.close()
        except Exception:  # noqa: BLE001 - the file is deleted anyway
            pass
        self._close_audio()
        if self.tmp_path:
            try:
                os.remove(self.tmp_path)
            except FileNotFoundError:
                pass
