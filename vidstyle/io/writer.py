"""Write frames to a video file or an image sequence, safely.

``open_sink(path, info, *, codec=None, crf=None, audio_source=None, overwrite=False,
prores_profile=None, encoder_options=None) -> FrameSink``

* ``sink.write(frame)`` encodes one :class:`~vidstyle.io.frame.Frame` (or a bare ``H x W x C``
  array); ``sink.close()`` flushes the encoder, copies the audio and then atomically renames the
  temporary file onto ``path``; ``sink.abort()`` deletes the temporary output and leaves any
  pre-existing ``path`` untouched. ``with open_sink(...) as sink:`` closes on success and aborts on
  any exception (``KeyboardInterrupt`` included).
* Output goes to a hidden temporary file next to ``path`` (``.name.<random>.partial.mp4``; the
  extension is kept so the right muxer is used; a stem too long for ``NAME_MAX`` is shortened,
  see :func:`~vidstyle.io.outpath.hidden_name`): a crash never leaves a half-written ``path``.
* Failures raise :class:`~vidstyle.errors.OutputError` with a one-line message; every problem of
  the path itself (:func:`~vidstyle.io.outpath.check_output_path`: an existing ``path`` without
  ``overwrite``, an unwritable folder, ``..`` through a missing folder, a folder named like a
  video) is detected in ``open_sink``, before any frame. Runs that share an output are kept apart
  by :func:`vidstyle.io.checkpoint.claim_output` (a lock), not here.

Codecs (``codec`` overrides the default for the extension):

=========  ====================================  =====================================
extension  default                               also allowed
=========  ====================================  =====================================
.mp4 .m4v  h264 (libx264, CRF 18)                h265/hevc
.mkv       h264                                  h265, ffv1 (lossless), prores, vp9
.mov       prores (prores_ks, profile HQ)        h264, h265
.avi       mpeg4 (qscale = CRF/6)                h264, ffv1
.webm      vp9 (libvpx-vp9, CRF 32)              -
pattern    png (``out_%04d.png``, a folder)      exr, tiff, jpeg sequences
=========  ====================================  =====================================

Pixel formats: h264/h265 use ``yuv420p`` when width and height are even and ``yuv444p`` when
either is odd (4:2:0 cannot represent an odd size, and the output must keep the exact input
size; High 4:4:4 plays in ffmpeg/VLC/mpv but not in every hardware player). ProRes uses
``yuv422p10le`` (profiles 0-3) or ``yuv444p10le`` / ``yuva444p10le`` (profiles 4444 / 4444 XQ,
alpha kept when the frames have it; the default profile is 4444 for frames with alpha, HQ
otherwise). FFV1 is lossless RGB: ``bgr0``/``bgra`` for 8-bit frames, ``gbrp16le``/``gbrap16le``
for 16-bit frames. 16-bit frames are converted down for 8-bit codecs; float frames are clipped to
``[0, 1]``. RGB->YUV uses the BT.709 matrix (limited range) and tags the stream accordingly, except
in AVI (which cannot carry the tag) where BT.601 is used, as players assume for untagged video.

Timing: the output video stream uses the source's time base and each frame's own ``pts`` (so
variable frame rate stays variable); containers that impose their own time base (Matroska/WebM:
1 ms) round to it. AVI has no timestamps, only a frame rate: there frames are placed on the
``1/fps`` grid. When the source was trimmed (``info.trimmed``) every timestamp, video and audio,
is shifted so the first frame starts at the source's own start (normally 0). A first frame before 0
(an MPEG-TS cut) is shifted to 0, audio alike: MP4/MOV would hide the frames before 0 behind an
edit list.

Audio: each audio stream of ``audio_source`` (normally the input file; it must share the video
source's timeline) is copied packet for packet when the output container accepts its codec, or
transcoded (AAC, Opus for WebM) otherwise; decided when the sink opens, by a trial mux of the
first packets into memory (MP4 lists PCM among its codecs but refuses it when the file is
finished). With a trimmed source only packets that *start* inside
``[info.start_time, info.end_time)`` are kept, so the audio duration matches the video's within one
packet. Image sequences carry no audio.
"""

from __future__ import annotations

import errno
import io
import math
import os
import re
import shutil
import tempfile
from fractions import Fraction

from vidstyle.errors import InputError, OutputError, VidstyleError
from vidstyle.io import _util
from vidstyle.io._exr import encode_exr
from vidstyle.io._util import has_pattern, one_line, pattern_regex
from vidstyle.io.frame import Frame, VideoInfo
from vidstyle.io.outpath import VIDEO_EXTS, check_output_path, hidden_name, physical_folder

import av  # noqa: E402
import cv2  # noqa: E402  (after _util set OPENCV_IO_ENABLE_OPENEXR)
import numpy as np  # noqa: E402

__all__ = ["FrameSink", "VideoSink", "SequenceSink", "open_sink", "stale_partials", "stale_sequence_folders",
           "PRORES_PROFILES"]

assert _util

DEFAULT_FPS = Fraction(24)

_CODEC_ALIASES = {
    "h264": "libx264", "avc": "libx264", "x264": "libx264", "libx264": "libx264",
    "h265": "libx265", "hevc": "libx265", "x265": "libx265", "libx265": "libx265",
    "prores": "prores_ks", "prores_ks": "prores_ks",
    "ffv1": "ffv1",
    "vp9": "libvpx-vp9", "libvpx-vp9": "libvpx-vp9",
    "mpeg4": "mpeg4",
    "png": "png", "exr": "exr", "tiff": "tiff", "tif": "tiff", "jpeg": "jpeg", "jpg": "jpeg",
}

# extension -> (muxer, default codec, allowed codecs)
_CONTAINERS = {
    ".mp4": ("mp4", "libx264", {"libx264", "libx265"}),
    ".m4v": ("mp4", "libx264", {"libx264", "libx265"}),
    ".mkv": ("matroska", "libx264", {"libx264", "libx265", "ffv1", "prores_ks", "libvpx-vp9"}),
    ".mov": ("mov", "prores_ks", {"prores_ks", "libx264", "libx265"}),
    ".avi": ("avi", "mpeg4", {"mpeg4", "libx264", "ffv1"}),
    ".webm": ("webm", "libvpx-vp9", {"libvpx-vp9"}),
}
assert set(_CONTAINERS) == set(VIDEO_EXTS)

# image-sequence extension -> codec
_SEQUENCE_EXTS = {".png": "png", ".exr": "exr", ".tif": "tiff", ".tiff": "tiff", ".jpg": "jpeg",
                  ".jpeg": "jpeg"}
_SEQUENCE_DEFAULT_EXT = {"png": ".png", "exr": ".exr", "tiff": ".tif", "jpeg": ".jpg"}

PRORES_PROFILES = {"proxy": 0, "lt": 1, "standard": 2, "hq": 3, "4444": 4, "4444xq": 5}

_DEFAULT_CRF = {"libx264": 18, "libx265": 20, "libvpx-vp9": 32, "mpeg4": 18}


def _canonical_codec(codec: str | None) -> str | None:
    if codec is None:
        return None
    name = str(codec).strip().lower()
    if name not in _CODEC_ALIASES:
        known = ", ".join(sorted({"h264", "h265", "hevc", "prores", "ffv1", "vp9", "mpeg4", "png",
                                   "exr", "tiff", "jpeg"}))
        raise OutputError(f"unknown codec {codec!r} (known: {known})")
    return _CODEC_ALIASES[name]


def _prores_profile(value, has_alpha: bool) -> int:
    if value is None:
        return 4 if has_alpha else 3
    if isinstance(value, str):
        key = value.strip().lower().replace(" ", "")
        if key in PRORES_PROFILES:
            return PRORES_PROFILES[key]
        try:
            value = int(key)
        except ValueError:
            raise OutputError(f"unknown ProRes profile {value!r} "
                              f"(use 0-5 or {', '.join(PRORES_PROFILES)})") from None
    if value == 4444:
        return 4
    if isinstance(value, int) and 0 <= value <= 5:
        return value
    raise OutputError(f"unknown ProRes profile {value!r} (use 0-5 or {', '.join(PRORES_PROFILES)})")


# --------------------------------------------------------------------------- path safety


def _prepare_folder(folder: str) -> list[str]:
    """Make sure ``folder`` exists and is writable; returns the folders we created."""
    folder = folder or "."
    created: list[str] = []
    probe = folder
    missing = []
    while probe and not os.path.exists(probe):
        missing.append(probe)
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if probe and os.path.exists(probe) and not os.path.isdir(probe):
        raise OutputError(f"cannot write into {folder}: {probe} is a file, not a folder")
    for d in reversed(missing):
        try:
            os.mkdir(d)
            created.append(d)
        except FileExistsError:
            if not os.path.isdir(d):
                raise OutputError(f"cannot write into {folder}: {d} is not a folder") from None
        except OSError as exc:
            _remove_dirs(created)
            raise OutputError(f"cannot create folder {d}: {exc.strerror or one_line(exc)}") from None
    if not os.path.isdir(folder):
        raise OutputError(f"cannot write into {folder}: not a folder")
    return created


def _remove_dirs(created: list[str]) -> None:
    for d in reversed(created):
        try:
            os.rmdir(d)
        except OSError:
            pass


def _oserror_message(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    return exc.strerror or one_line(exc)


def _av_message(exc: Exception) -> str:
    """An FFmpeg error in a few words: the errno's meaning when it has one (a full disk)."""
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT):
        return "no space left on the device" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "permission denied"
    return one_line(exc)


# --------------------------------------------------------------------------- pixel helpers


def _as_frame(frame, count: int) -> Frame:
    if isinstance(frame, Frame):
        return frame
    if isinstance(frame, np.ndarray):
        return Frame(image=frame, index=count)
    raise OutputError(f"write() expects a Frame or a numpy array, got {type(frame).__name__}")


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] not in (3, 4):
        shape = getattr(image, "shape", None)
        raise OutputError(f"frame must be an H x W x 3 (RGB) or x 4 (RGBA) array, got shape {shape}")
    if image.dtype not in (np.uint8, np.uint16, np.float32, np.float16, np.float64):
        raise OutputError(f"unsupported frame dtype {image.dtype} (use uint8, uint16 or float32)")
    return image


def _to_uint(image: np.ndarray, bits: int) -> np.ndarray:
    """Convert to uint8 (bits=8) or uint16 (bits=16), scaling / clipping as needed."""
    if bits == 8:
        if image.dtype == np.uint8:
            return image
        if image.dtype == np.uint16:
            return ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
        return (np.clip(np.nan_to_num(image.astype(np.float32)), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if image.dtype == np.uint16:
        return image
    if image.dtype == np.uint8:
        return image.astype(np.uint16) * 257
    return (np.clip(np.nan_to_num(image.astype(np.float32)), 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16)


# --------------------------------------------------------------------------- base class


def _default_mode(path: str) -> None:
    """Give a finished file the permissions a plainly created one would have (mkstemp uses 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(path, 0o666 & ~umask)
    except OSError:
        pass


class FrameSink:
    """Common protocol: ``write``, ``close``, ``abort``, context manager, ``warnings``."""

    def __init__(self, path: str, info: VideoInfo, overwrite: bool) -> None:
        self.path = path
        self.info = info
        self.overwrite = overwrite
        self.warnings: list[str] = []
        self.frames_written = 0
        self._done = False  # closed or aborted
        self._created_dirs: list[str] = []

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def write(self, frame: Frame | np.ndarray) -> None:
        if self._done:
            raise OutputError(f"{self.path}: output already closed or aborted")
        frame = _as_frame(frame, self.frames_written)
        _check_image(frame.image)
        try:
            self._write(frame)
        except VidstyleError:
            self.abort()
            raise
        except OSError as exc:
            self.abort()
            raise OutputError(f"{self.path}: write failed ({_oserror_message(exc)})") from None
        except (av.error.FFmpegError, cv2.error, ValueError, TypeError) as exc:
            self.abort()
            raise OutputError(f"{self.path}: encoding failed ({_av_message(exc)})") from None
        self.frames_written += 1

    def close(self) -> None:
        """Finish the output and move it into place. Raises OutputError (and cleans up) on failure."""
        if self._done:
            return
        try:
            if self.frames_written == 0:
                raise OutputError(f"{self.path}: no frames were written")
            self._finish()
        except BaseException as exc:
            self.abort()
            if isinstance(exc, VidstyleError) or not isinstance(exc, Exception):
                raise
            if isinstance(exc, OSError):
                raise OutputError(f"{self.path}: finishing failed ({_oserror_message(exc)})") from None
            raise OutputError(f"{self.path}: finishing failed ({one_line(exc)})") from None
        self._done = True

    def abort(self) -> None:
        """Drop everything written so far; a pre-existing ``path`` stays as it was."""
        if self._done:
            return
        self._done = True
        try:
            self._discard()
        finally:
            _remove_dirs(self._created_dirs)

    # subclass hooks
    def _write(self, frame: Frame) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _finish(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _discard(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def closed(self) -> bool:
        return self._done

    def __enter__(self) -> "FrameSink":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:  # never leave temporary files behind
        try:
            if not self._done:
                self.abort()
        except Exception:  # noqa: BLE001
            pass


# --------------------------------------------------------------------------- video


def _part_dts(path: str, shift: int, last_dts: int | None) -> list[int] | None:
    """Decoding times for the video packets of the part ``path`` (in its time base, after ``shift``
    ticks are subtracted), strictly increasing, each at most its packet's presentation time and
    above ``last_dts`` (the previous part's last). The part's own are kept when they qualify;
    Matroska stores none (and ``last_dts + 1`` overtakes a B-frame's time when frames are a tick
    or two apart), so they are derived as muxers do: the i-th decoding time is the (i - d)-th
    smallest presentation time, d the part's reordering depth, the first d placed one tick apart
    below the smallest. None when a packet has no presentation time or two share one."""
    with av.open(path, mode="r") as part:
        src = part.streams.video[0]
        stamps = [(p.pts, p.dts) for p in part.demux(src) if p.size]
    if any(p is None for p, _ in stamps):
        return None
    pts = [p - shift for p, _ in stamps]
    own = [None if d is None else d - shift for _, d in stamps]
    floor = last_dts if last_dts is not None else -math.inf
    if all(d is not None for d in own) and all(d <= p for d, p in zip(own, pts)) \
            and all(b > a for a, b in zip([floor, *own], own)):
        return own
    order = sorted(pts)
    if any(b <= a for a, b in zip(order, order[1:])):
        return None
    rank = {p: i for i, p in enumerate(order)}
    depth = max(0, max(i - rank[p] for i, p in enumerate(pts)))
    dts = [order[i - depth] if i >= depth else order[0] - (depth - i) for i in range(len(pts))]
    if dts and dts[0] <= floor:  # squeezed against the previous part: shift up where there is room
        dts = [max(d, floor + 1 + i) for i, d in enumerate(dts)]
        if any(d > p for d, p in zip(dts, pts)):
            return None
    return dts


def _plan_audio(source: str, muxer: str, supported) -> dict[int, bool]:
    """For each audio stream of ``source``: can its packets be copied into ``muxer`` (else they
    are transcoded)? Decided before the first frame: a muxer's codec list is not enough (MP4 lists
    PCM but refuses it when the file is finished), so a codec it lists gets a trial mux of its
    first packets into memory."""
    try:
        ac = av.open(source, mode="r")
    except FileNotFoundError:
        raise InputError(f"{source}: no such file (audio source)") from None
    except (av.error.FFmpegError, OSError) as exc:
        raise InputError(f"{source}: cannot read audio ({one_line(exc)})") from None
    plan = {}
    with ac:
        for s in ac.streams.audio:
            name = s.codec_context.name
            copy = name in supported and not (muxer == "webm" and name not in ("opus", "vorbis"))
            if muxer == "avi" and name not in ("mp3", "aac", "pcm_s16le", "ac3"):
                copy = False
            plan[s.index] = copy
        for index in [i for i, copy in plan.items() if copy]:
            plan[index] = _trial_mux(source, index, muxer)
    return plan


def _trial_mux(source: str, index: int, muxer: str, packets: int = 4) -> bool:
    """Does ``muxer`` take (header, packets, trailer) the first packets of stream ``index``?"""
    try:
        with av.open(source, mode="r") as src:
            stream = src.streams[index]
            with av.open(io.BytesIO(), mode="w", format=muxer) as out:
                dst = out.add_stream_from_template(stream)
                n = 0
                for p in src.demux(stream):
                    if p.size == 0 or (p.pts is None and p.dts is None):
                        continue
                    p.stream = dst
                    out.mux(p)
                    n += 1
                    if n >= packets:
                        break
        return True
    except (av.error.FFmpegError, ValueError, TypeError):
        return False


class _AudioTrack:
    def __init__(self, in_stream, out_stream, copy: bool) -> None:
        self.in_stream = in_stream
        self.out_stream = out_stream
        self.copy = copy
        self.decoder = in_stream.codec_context if not copy else None
        self.done = False


_MKSTEMP_CHARS = 8  # tempfile.mkstemp's random part: 8 of [a-z0-9_]


def _partial_affixes(path: str) -> tuple[str, str]:
    """Prefix and suffix of a video output's temporary file, ``.NAME.<random>.partial.EXT``, the
    stem shortened when the whole would not fit ``NAME_MAX`` (see :func:`hidden_name`)."""
    base, ext = os.path.splitext(os.path.basename(path))
    suffix = f".partial{ext}"
    prefix = hidden_name(base, ".", folder=physical_folder(path), reserve=_MKSTEMP_CHARS + len(suffix.encode()))
    return prefix, suffix


def _sequence_tmp_prefix(template: str, folder: str) -> str:
    """Prefix of an image sequence's temporary folder (``.out_%04d.png.vidstyle-partial-<random>``,
    ``%`` spelt ``_``), so a later run of the same output recognises one a killed run left."""
    return hidden_name(template.replace("%", "_"), ".vidstyle-partial-", folder=folder, reserve=_MKSTEMP_CHARS)


def stale_sequence_folders(output: str) -> list[str]:
    """Temporary folders that killed runs writing the image sequence ``output`` (a pattern or a
    folder: any image type) left; callers hold the output's lock."""
    if output.endswith(("/", os.sep)) or os.path.isdir(output):
        folder = os.path.realpath(output)
        templates = ["%06d" + ext for ext in _SEQUENCE_DEFAULT_EXT.values()]
    elif has_pattern(output):
        folder = physical_folder(output)
        try:
            templates = [pattern_regex(output)[1]]
        except ValueError:
            return []
    else:
        return []
    prefixes = [_sequence_tmp_prefix(t, folder) for t in templates]
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    own = re.compile("|".join(re.escape(p) + "[a-z0-9_]{%d}$" % _MKSTEMP_CHARS for p in prefixes))
    return [os.path.join(folder, n) for n in names if own.match(n) and os.path.isdir(os.path.join(folder, n))]


def stale_partials(path: str, keep: str | None = None) -> list[str]:
    """Temporary files of earlier video outputs to ``path`` (runs that were killed), except ``keep``.
    Only this output's: ``.a.<random>.partial.mp4``, never ``.a.b.<random>.partial.mp4`` (of
    ``a.b.mp4``). Callers hold the output's lock (:mod:`vidstyle.io.lock`), so none is live."""
    prefix, suffix = _partial_affixes(path)
    folder = physical_folder(path)
    own = re.compile(re.escape(prefix) + "[a-z0-9_]{%d}" % _MKSTEMP_CHARS + re.escape(suffix) + "$")
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = [os.path.join(folder, n) for n in names if own.match(n)]
    return [f for f in found if keep is None or os.path.abspath(f) != os.path.abspath(keep)]


class VideoSink(FrameSink):
    """Encode to a video file with PyAV (see the module docstring for codecs and timing)."""

    def __init__(self, path: str, info: VideoInfo, *, muxer: str, codec: str, crf: int | None,
                 audio_source: str | None, overwrite: bool, prores_profile, encoder_options,
                 container_options: dict | None = None, shift: Fraction | None = None) -> None:
        """``shift``: seconds subtracted from every timestamp, fixed (the parts of a resumable
        output share one); None: worked out from the first frame (module docstring)."""
        super().__init__(path, info, overwrite)
        self._fixed_shift = shift
        self._container = None
        self._audio_container = None
        self.tmp_path = None
        self.muxer = muxer
        self.codec = codec
        self.crf = crf
        self.audio_source = audio_source
        self.prores_profile = prores_profile
        self.encoder_options = dict(encoder_options or {})
        folder = physical_folder(path)
        self._final = os.path.join(folder, os.path.basename(path))  # where the kernel puts ``path``
        self._created_dirs = _prepare_folder(folder)
        prefix, suffix = _partial_affixes(path)
        try:
            fd, self.tmp_path = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
            os.close(fd)
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write into {folder}: {_oserror_message(exc)}") from None
        try:
            self._container = av.open(self.tmp_path, mode="w", format=muxer, options=dict(container_options or {}))
        except (av.error.FFmpegError, OSError) as exc:
            self.abort()
            raise OutputError(f"{path}: cannot create output ({one_line(exc)})") from None
        self._stream = None
        self._audio_tracks: list[_AudioTrack] = []
        self._audio_iter = None
        self._audio_pending = None
        self._last_pts = None
        self._shift = Fraction(0)  # seconds subtracted from every timestamp
        self._trim_start = False
        self._win_start = None
        self._win_end = None
        self._width = self._height = None
        self._bits = 8
        self._alpha_out = False
        self._src_fmt = "rgb24"
        self._video_tb = None
        self._enc_fmt = None
        self._remuxing = False
        self._audio_copy: dict[int, bool] = {}  # audio stream index -> copied (else transcoded)
        if audio_source:
            try:
                self._audio_copy = _plan_audio(audio_source, muxer, self._container.supported_codecs)
            except BaseException:
                self.abort()
                raise

    # setup ---------------------------------------------------------------------------
    def _setup(self, frame: Frame) -> None:
        image = frame.image
        h, w, c = image.shape
        info = self.info
        alpha_in = c == 4
        deep_in = image.dtype != np.uint8
        codec = self.codec
        fps = info.fps if info.fps else DEFAULT_FPS
        fps = Fraction(fps).limit_denominator(1_000_000)

        opts = {}
        if codec in ("libx264", "libx265"):
            pix = "yuv420p" if (w % 2 == 0 and h % 2 == 0) else "yuv444p"
            if w % 2 or h % 2:
                self._warn(f"odd frame size {w}x{h}: encoded as {pix} (4:4:4) to keep the exact size")
            crf = self.crf if self.crf is not None else _DEFAULT_CRF[codec]
            opts["crf"] = str(crf)
            if codec == "libx265":
                opts["x265-params"] = "log-level=error"
            bits = 8
            alpha = False
        elif codec == "prores_ks":
            profile = _prores_profile(self.prores_profile, alpha_in)
            opts["profile"] = str(profile)
            if profile >= 4:
                alpha = alpha_in
                pix = "yuva444p10le" if alpha else "yuv444p10le"
            else:
                alpha = False
                pix = "yuv422p10le"
            if alpha:
                opts.setdefault("alpha_bits", "16")
            bits = 16
        elif codec == "ffv1":
            alpha = alpha_in
            if deep_in:
                pix, bits = ("gbrap16le" if alpha else "gbrp16le"), 16
            else:
                pix, bits = ("bgra" if alpha else "bgr0"), 8
            opts.update({"level": "3", "slicecrc": "1"})
        elif codec == "libvpx-vp9":
            alpha = False
            pix, bits = "yuv420p", 8
            crf = self.crf if self.crf is not None else _DEFAULT_CRF[codec]
            opts.update({"crf": str(crf), "b": "0", "deadline": "good", "cpu-used": "4",
                         "row-mt": "1"})
        elif codec == "mpeg4":
            alpha = False
            pix, bits = "yuv420p", 8
        else:  # pragma: no cover - filtered earlier
            raise OutputError(f"codec {codec} cannot write video files")
        if alpha_in and not alpha:
            self._warn(f"{codec} ({pix}) has no alpha: the alpha channel is dropped")
        if image.dtype in (np.float32, np.float16, np.float64):
            self._warn("float frames are clipped to [0, 1] for video output")
        elif image.dtype == np.uint16 and bits == 8:
            self._warn(f"16-bit frames are converted to 8 bits for {codec}")
        opts.update({str(k): str(v) for k, v in self.encoder_options.items()})

        # time base: the source's (frames keep their pts); AVI: the 1/fps grid
        tb = info.time_base or frame.time_base or (1 / fps)
        if self.muxer == "avi":
            tb = 1 / fps
        tb = Fraction(tb)
        try:
            stream = self._container.add_stream(codec, rate=fps)
            stream.width, stream.height = w, h
            stream.pix_fmt = pix
            stream.time_base = tb
            cc = stream.codec_context
            cc.time_base = tb
            cc.framerate = fps
            stream.thread_type = "AUTO"
            if codec == "mpeg4":  # qscale 1..31, mapped from the CRF scale (18 -> 3)
                crf = self.crf if self.crf is not None else _DEFAULT_CRF[codec]
                cc.qscale = max(1, min(31, int(round(crf / 6))))
            self._yuv = pix.startswith("yuv")
            self._colorspace = "ITU601" if self.muxer == "avi" else "ITU709"
            if self._yuv and self.muxer != "avi":
                cc.colorspace = 1  # bt709
                cc.color_primaries = 1
                cc.color_trc = 1
                cc.color_range = 1  # limited (MPEG)
            stream.options = opts
            if info.rotation:
                stream.set_display_rotation(int(info.rotation))
        except (av.error.FFmpegError, ValueError, TypeError, AttributeError) as exc:
            raise OutputError(f"{self.path}: cannot set up the {codec} encoder ({one_line(exc)})") from None
        self._stream = stream
        self._video_tb = tb
        self._enc_fmt = pix
        self._width, self._height = w, h
        self._bits = bits
        self._alpha_out = alpha
        if bits == 16:
            self._src_fmt = "rgba64le" if alpha else "rgb48le"
        else:
            self._src_fmt = "rgba" if alpha else "rgb24"
        self._fps = fps
        self._setup_window(frame)
        self._setup_audio()

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
        try:
            ac = av.open(self.audio_source, mode="r")
        except FileNotFoundError:
            raise InputError(f"{self.audio_source}: no such file (audio source)") from None
        except (av.error.FFmpegError, OSError) as exc:
            raise InputError(f"{self.audio_source}: cannot read audio ({one_line(exc)})") from None
        self._audio_container = ac
        for s in ac.streams.audio:
            name = s.codec_context.name
            copy = self._audio_copy.get(s.index, False)
            try:
                if copy:
                    out = self._container.add_stream_from_template(s)
                else:
                    target = "libopus" if self.muxer == "webm" else "aac"
                    rate = s.codec_context.sample_rate or 48000
                    if target == "libopus" and rate not in (8000, 12000, 16000, 24000, 48000):
                        rate = 48000
                    out = self._container.add_stream(target, rate=rate)
                    layout = s.codec_context.layout
                    if layout is not None and layout.nb_channels in (1, 2):  # "2 channels" (no order) is refused
                        out.codec_context.layout = "mono" if layout.nb_channels == 1 else "stereo"
                    out.codec_context.time_base = Fraction(1, rate)
                    out.time_base = Fraction(1, rate)
                    if target == "aac":
                        out.codec_context.bit_rate = 96000 * max(1, (layout.nb_channels if layout else 2))
                    self._warn(f"audio stream {s.index} ({name}) transcoded to {target}: "
                               f"{self.muxer} cannot hold {name}")
            except (av.error.FFmpegError, ValueError, TypeError) as exc:
                self._warn(f"audio stream {s.index} ({name}) skipped ({one_line(exc)})")
                continue
            self._audio_tracks.append(_AudioTrack(s, out, copy))
        if self._audio_tracks:
            if self._trim_start and self._win_start > 5.0:
                try:  # skip most of the audio before the range (we still filter exactly below)
                    ac.seek(int((self._win_start - 2.0) * av.time_base), backward=True)
                except av.error.FFmpegError:
                    pass
            self._audio_iter = ac.demux(*[t.in_stream for t in self._audio_tracks])
        else:
            ac.close()
            self._audio_container = None

    # audio pumping -----------------------------------------------------------------
    def _next_audio_packet(self):
        if self._audio_pending is not None:
            p, self._audio_pending = self._audio_pending, None
            return p
        if self._audio_iter is None:
            return None
        while True:
            try:
                p = next(self._audio_iter)
            except StopIteration:
                self._audio_iter = None
                return None
            except av.error.FFmpegError as exc:
                self._warn(f"audio source damaged ({one_line(exc)}): audio stops there")
                self._audio_iter = None
                return None
            if p.size == 0 or (p.pts is None and p.dts is None):
                continue
            return p

    def _pump_audio(self, until: float | None) -> None:
        """Mux audio packets whose (output-timeline) start is before ``until`` (None: all)."""
        if not self._audio_tracks:
            return
        by_index = {t.in_stream.index: t for t in self._audio_tracks}
        shift = float(self._shift)
        while True:
            p = self._next_audio_packet()
            if p is None:
                return
            track = by_index.get(p.stream.index)
            if track is None:
                continue
            tb = p.time_base or track.in_stream.time_base
            ts = p.pts if p.pts is not None else p.dts
            t0 = float(ts * tb)
            if until is not None and t0 - shift >= until:
                self._audio_pending = p
                return
            if self._trim_start and t0 < self._win_start - 1e-6:
                continue
            if self._win_end is not None and self.info.trimmed and t0 >= self._win_end - 1e-6:
                track.done = True  # past the range
                if all(t.done for t in self._audio_tracks):
                    self._audio_iter = None
                    return
                continue
            if track.done:
                continue
            self._mux_audio(track, p, tb)

    def _mux_audio(self, track: _AudioTrack, p, tb) -> None:
        shift_ts = int(round(self._shift / Fraction(tb))) if self._shift else 0
        if track.copy:
            ts = p.pts if p.pts is not None else p.dts
            if self._shift < 0 and ts - shift_ts < 0:  # before the first frame, moved to 0
                return
            if shift_ts:
                if p.pts is not None:
                    p.pts -= shift_ts
                if p.dts is not None:
                    p.dts -= shift_ts
            p.stream = track.out_stream
            self._container.mux(p)
            return
        try:
            frames = track.decoder.decode(p)
        except av.error.FFmpegError as exc:
            self._warn(f"audio decoding failed ({one_line(exc)}): audio stops there")
            track.done = True
            return
        self._encode_audio(track, frames)

    def _encode_audio(self, track: _AudioTrack, frames) -> None:
        enc = track.out_stream
        rate = enc.codec_context.sample_rate
        for f in frames:
            if f.pts is not None and f.time_base:
                t = Fraction(f.pts) * Fraction(f.time_base) - self._shift
                f.pts = int(round(t * rate))
                f.time_base = Fraction(1, rate)
                if f.pts < 0:
                    continue
            for pkt in enc.encode(f):
                self._container.mux(pkt)

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
        image = frame.image
        h, w, c = image.shape
        if (w, h) != (self._width, self._height):
            raise OutputError(f"{self.path}: frame {frame.index} is {w}x{h}, "
                              f"the video is {self._width}x{self._height}")
        image = _to_uint(image, self._bits)
        if c == 4 and not self._alpha_out:
            image = image[:, :, :3]
        elif c == 3 and self._alpha_out:
            opaque = np.full((h, w, 1), 255 if self._bits == 8 else 65535, dtype=image.dtype)
            image = np.concatenate([image, opaque], axis=2)
        image = np.ascontiguousarray(image)
        vf = av.VideoFrame.from_ndarray(image, format=self._src_fmt)
        if self._yuv:
            vf = vf.reformat(format=self._enc_fmt, dst_colorspace=self._colorspace,
                             dst_color_range="MPEG")
        vf.pts = self._pts_for(frame)
        vf.time_base = self._video_tb
        self._last_pts = vf.pts
        for pkt in self._stream.encode(vf):
            self._mux_video(pkt)

    def _mux_video(self, pkt) -> None:
        self._container.mux(pkt)
        if self._audio_tracks and pkt.dts is not None:
            self._pump_audio(float(pkt.dts * self._video_tb) + 0.25)

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
                    src = part.streams.video[0]
                    if self._stream is None:
                        self._stream = self._container.add_stream_from_template(src)
                        self._stream.time_base = src.time_base
                        if self.info.rotation:
                            self._stream.set_display_rotation(int(self.info.rotation))
                        self._video_tb = Fraction(src.time_base)
                        self._setup_window(first)
                        self._setup_audio()
                    shift = int(round((self._shift - offset) / self._video_tb))
                    dts = _part_dts(name, shift, last_dts)
                    if dts is None:
                        raise OutputError(f"{self.path}: part {n} has frames without timestamps or with "
                                          "equal ones (closer than its time base)")
                    k = 0
                    for pkt in part.demux(src):
                        if pkt.size == 0:
                            continue
                        if Fraction(pkt.time_base) != self._video_tb:
                            raise OutputError(f"{self.path}: part {n} has another time base")
                        if k >= len(dts):
                            raise OutputError(f"{self.path}: part {n} changed while joining")
                        pkt.pts = pkt.pts - shift
                        pkt.dts = last_dts = dts[k]
                        k += 1
                        pkt.stream = self._stream
                        self._mux_video(pkt)
                        count += 1
        except av.error.FFmpegError as exc:
            raise OutputError(f"{self.path}: joining the saved parts failed ({_av_message(exc)})") from None
        self.frames_written = count
        return count

    def _finish(self) -> None:
        try:
            for pkt in ([] if self._remuxing else self._stream.encode(None)):
                self._mux_video(pkt)
            self._pump_audio(None)
            for t in self._audio_tracks:
                if not t.copy:
                    try:
                        self._encode_audio(t, t.decoder.decode(None))
                    except av.error.FFmpegError:
                        pass
                    for pkt in t.out_stream.encode(None):
                        self._container.mux(pkt)
            self._container.close()
        except av.error.FFmpegError as exc:
            raise OutputError(f"{self.path}: finishing the file failed ({_av_message(exc)})") from None
        finally:
            self._close_audio()
        if os.path.exists(self.path) and not self.overwrite:
            raise OutputError(f"{self.path}: appeared while writing; not overwritten (use overwrite)")
        _default_mode(self.tmp_path)
        os.replace(self.tmp_path, self._final)

    def _close_audio(self) -> None:
        if self._audio_container is not None:
            try:
                self._audio_container.close()
            except Exception:  # noqa: BLE001
                pass
            self._audio_container = None

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


# --------------------------------------------------------------------------- image sequences


def encode_image(image: np.ndarray, codec: str, options: dict, path: str) -> bytes:
    """Encode one ``H x W x C`` frame as the bytes of a png/tiff/jpeg/exr file."""
    c = image.shape[2]
    if codec == "exr":
        if image.dtype == np.uint8:
            data = image.astype(np.float32) / 255.0
        elif image.dtype == np.uint16:
            data = image.astype(np.float32) / 65535.0
        else:
            data = image.astype(np.float32)
        return encode_exr(data, half=bool(options.get("exr_half")),
                          compression=str(options.get("exr_compression", "zip16")))
    if codec == "jpeg":
        data = _to_uint(image, 8)
        if c == 4:
            data = data[:, :, :3]
        params = [cv2.IMWRITE_JPEG_QUALITY, int(options.get("quality", 95))]
        ext = ".jpg"
    else:  # png / tiff
        data = image if image.dtype in (np.uint8, np.uint16) else _to_uint(image, 16)
        params = ([cv2.IMWRITE_PNG_COMPRESSION, int(options.get("compression", 3))]
                  if codec == "png" else [])
        ext = ".png" if codec == "png" else ".tif"
    if data.shape[2] == 4:
        data = data[:, :, [2, 1, 0, 3]]
    else:
        data = data[:, :, ::-1]
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(data), params)
    if not ok:
        raise OutputError(f"{path}: cannot encode {codec} image")
    return buf.tobytes()


class SequenceSink(FrameSink):
    """Numbered image files (``out_%04d.png``; a folder gets ``%06d.png``), numbered from 0.

    PNG/TIFF follow the frame dtype (8 or 16 bits; float frames become 16-bit), JPEG is 8-bit RGB,
    EXR is float32 (``encoder_options={"exr_half": True}`` for half floats; integer frames are
    scaled to 0..1; encoded by FFmpeg's EXR codec, zip16 compression). Files are written into a hidden temporary folder and moved into place by
    ``close()``; with ``overwrite`` older files matching the pattern are removed.
    """

    def __init__(self, pattern: str, info: VideoInfo, *, codec: str, overwrite: bool,
                 audio_source: str | None, encoder_options, created_dirs: list[str],
                 first_number: int = 0) -> None:
        super().__init__(pattern, info, overwrite)
        self.tmp_dir = None
        self.first_number = int(first_number)  # the number of the first frame written
        self._created_dirs = created_dirs
        self.codec = codec
        self.options = dict(encoder_options or {})
        self.folder = os.path.dirname(os.path.abspath(pattern))
        self.regex, self.template = pattern_regex(pattern)
        self.written: list[str] = []
        if audio_source:
            self._warn("image sequences carry no audio: audio not copied")
        existing = self._existing()
        if existing and not overwrite:
            self.abort()
            raise OutputError(f"{pattern}: {len(existing)} matching file(s) already exist "
                              "(use --overwrite to replace them)")
        try:
            self.tmp_dir = tempfile.mkdtemp(prefix=_sequence_tmp_prefix(self.template, self.folder), dir=self.folder)
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot write into {self.folder}: {_oserror_message(exc)}") from None
        self._shape = None

    def _existing(self) -> list[str]:
        try:
            return [n for n in os.listdir(self.folder) if self.regex.match(n)]
        except OSError:
            return []

    def _encode(self, image: np.ndarray) -> bytes:
        return encode_image(image, self.codec, self.options, self.path)

    def _write(self, frame: Frame) -> None:
        image = frame.image
        if self._shape is None:
            self._shape = image.shape
            if image.dtype in (np.float32, np.float16, np.float64) and self.codec in ("png", "tiff"):
                self._warn("float frames are clipped to [0, 1] and saved as 16-bit")
            if image.shape[2] == 4 and self.codec == "jpeg":
                self._warn("JPEG has no alpha: the alpha channel is dropped")
        elif image.shape[:2] != self._shape[:2]:
            raise OutputError(f"{self.path}: frame {frame.index} is {image.shape[1]}x{image.shape[0]}, "
                              f"the sequence is {self._shape[1]}x{self._shape[0]}")
        name = self.template % (self.first_number + self.frames_written)
        with open(os.path.join(self.tmp_dir, name), "wb") as fh:
            fh.write(self._encode(image))
        self.written.append(name)

    def adopt(self, files: list[str]) -> int:
        """Take finished frame files (named by this sink's pattern, e.g. the saved parts of one
        run, see :mod:`vidstyle.io.checkpoint`) instead of encoding frames: they are linked (or
        copied) into this output's temporary folder, and ``close()`` moves them into place; the
        originals stay until the caller removes them. Returns how many."""
        for path in files:
            name = os.path.basename(path)
            if not self.regex.match(name):
                raise OutputError(f"{self.path}: {name} does not match the output pattern")
            dest = os.path.join(self.tmp_dir, name)
            try:
                try:
                    os.link(path, dest)
                except OSError:  # another file system, or no hard links there
                    shutil.copyfile(path, dest)
            except OSError as exc:
                raise OutputError(f"{self.path}: cannot link or copy {name} ({_oserror_message(exc)})") from None
            self.written.append(name)
        self.frames_written += len(files)
        return len(files)

    def _finish(self) -> None:
        existing = set(self._existing())
        if existing and not self.overwrite:
            raise OutputError(f"{self.path}: matching files appeared while writing; not overwritten")
        new = set(self.written)
        for name in self.written:
            os.replace(os.path.join(self.tmp_dir, name), os.path.join(self.folder, name))
        for name in sorted(existing - new):  # stale frames of an older, longer output
            try:
                os.remove(os.path.join(self.folder, name))
            except OSError:
                pass
        shutil.rmtree(self.tmp_dir, ignore_errors=True)

    def _discard(self) -> None:
        if self.tmp_dir:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)


class ImageSink(FrameSink):
    """One still image (png/tiff/jpeg/exr), for a single-image source; written to a temporary
    name beside ``path`` and renamed on ``close()``."""

    def __init__(self, path: str, info: VideoInfo, *, codec: str, overwrite: bool,
                 encoder_options, created_dirs: list[str]) -> None:
        super().__init__(path, info, overwrite)
        self._created_dirs = created_dirs
        self.codec = codec
        self.options = dict(encoder_options or {})
        stem, ext = os.path.splitext(os.path.basename(path))
        folder = physical_folder(path)
        self.tmp = os.path.join(folder, hidden_name(stem, f".partial{ext}", folder=folder))
        if os.path.lexists(path) and not overwrite:
            self.abort()
            raise OutputError(f"{path}: already exists (use --overwrite to replace it)")

    def _write(self, frame: Frame) -> None:
        if self.frames_written:
            raise OutputError(f"{self.path}: a single image output takes one frame; "
                              "give a pattern like out_%04d.png for a sequence")
        with open(self.tmp, "wb") as fh:
            fh.write(encode_image(frame.image, self.codec, self.options, self.path))

    def _finish(self) -> None:
        os.replace(self.tmp, self.path)

    def _discard(self) -> None:
        try:
            os.remove(self.tmp)
        except OSError:
            pass


# --------------------------------------------------------------------------- entry point


def open_sink(
    path: str,
    info: VideoInfo,
    *,
    codec: str | None = None,
    crf: int | None = None,
    audio_source: str | None = None,
    overwrite: bool = False,
    prores_profile: int | str | None = None,
    encoder_options: dict | None = None,
) -> FrameSink:
    """Open an output for frames described by ``info`` (normally ``source.info``).

    ``path``: a video file (codec from the extension, see the module docstring), an image-sequence
    pattern (``out_%04d.png`` / ``out_####.exr``) or a folder (``out/`` or an existing folder:
    ``%06d.png`` inside). ``codec``: h264, h265/hevc, prores, ffv1, vp9, mpeg4, png, exr, tiff,
    jpeg. ``crf``: quality for h264/h265/vp9 (qscale for mpeg4). ``audio_source``: file whose audio
    streams are copied (trimmed to ``info.start_time``..``info.end_time`` when ``info.trimmed``).
    ``encoder_options``: extra encoder options (e.g. ``{"preset": "veryfast"}``).
    Raises :class:`~vidstyle.errors.OutputError` for an existing output (without ``overwrite``),
    an unwritable folder or an unsupported codec/container combination.
    """
    if not path:
        raise OutputError("no output path given")
    if not isinstance(info, VideoInfo):
        raise OutputError("open_sink needs the VideoInfo of the source")
    path = os.fspath(path)
    check_output_path(path, overwrite=overwrite)
    want = _canonical_codec(codec)
    if crf is not None:
        try:
            crf = int(crf)
        except (TypeError, ValueError):
            raise OutputError(f"bad CRF {crf!r}") from None
        if not 0 <= crf <= 63:
            raise OutputError(f"bad CRF {crf} (use 0-51 for h264/h265, 0-63 for vp9)")

    # --- image sequences
    is_dir = path.endswith(("/", os.sep)) or os.path.isdir(path)
    ext = os.path.splitext(path)[1].lower()
    if has_pattern(path) and not is_dir and ext == "":
        raise OutputError(f"{path}: an image pattern needs an extension (e.g. out_%04d.png)")
    if is_dir or has_pattern(path) or (want in ("png", "exr", "tiff", "jpeg") and ext == ""):
        if is_dir or ext == "":
            seq_codec = want or "png"
            if seq_codec not in _SEQUENCE_DEFAULT_EXT:
                raise OutputError(f"{path}: a folder output needs an image codec (png, exr, tiff, jpeg)")
            folder = path.rstrip("/" + os.sep) or path
            pattern = os.path.join(folder, "%06d" + _SEQUENCE_DEFAULT_EXT[seq_codec])
        else:
            if ext not in _SEQUENCE_EXTS:
                raise OutputError(f"{path}: image sequences must be .png, .exr, .tif or .jpg")
            seq_codec = _SEQUENCE_EXTS[ext]
            if want is not None and want != seq_codec:
                raise OutputError(f"{path}: codec {codec} does not match the {ext} extension")
            pattern = path
            try:
                pattern_regex(pattern)
            except ValueError as exc:
                raise OutputError(f"{path}: {exc}") from None
        folder = os.path.dirname(os.path.abspath(pattern))
        created = _prepare_folder(folder)
        return SequenceSink(pattern, info, codec=seq_codec, overwrite=overwrite,
                            audio_source=audio_source, encoder_options=encoder_options,
                            created_dirs=created)

    # --- video files
    if want in ("png", "exr", "tiff", "jpeg"):
        raise OutputError(f"{path}: {codec} writes image sequences: give a pattern like "
                          f"out_%04d{_SEQUENCE_DEFAULT_EXT[want]} or a folder")
    if ext in _SEQUENCE_EXTS:
        if info.kind == "image":
            created = _prepare_folder(os.path.dirname(os.path.abspath(path)))
            return ImageSink(path, info, codec=_SEQUENCE_EXTS[ext], overwrite=overwrite,
                             encoder_options=encoder_options, created_dirs=created)
        raise OutputError(f"{path}: for an image sequence give a pattern like out_%04d{ext} or a folder")
    if ext not in _CONTAINERS:
        raise OutputError(f"{path}: unsupported output type {ext or '(no extension)'} "
                          f"(use {', '.join(_CONTAINERS)} or an image pattern)")
    muxer, default_codec, allowed = _CONTAINERS[ext]
    chosen = want or default_codec
    if chosen not in allowed:
        raise OutputError(f"{path}: codec {codec} cannot be written to {ext} "
                          f"(allowed: {', '.join(sorted(allowed))})")
    try:
        av.Codec(chosen, "w")
    except (av.error.FFmpegError, ValueError):
        raise OutputError(f"encoder {chosen} is not available in this FFmpeg build") from None
    if prores_profile is not None and chosen != "prores_ks":
        raise OutputError("prores_profile only applies to the prores codec")
    if prores_profile is not None:
        _prores_profile(prores_profile, info.has_alpha)  # validate early
    if os.path.isdir(path):
        raise OutputError(f"{path}: is a folder")
    if audio_source:
        audio_source = os.fspath(audio_source)
        if not os.path.isfile(audio_source):
            raise InputError(f"{audio_source}: no such file (audio source)")
    if os.path.lexists(path) and not overwrite:
        raise OutputError(f"{path}: already exists (use --overwrite to replace it)")
    return VideoSink(path, info, muxer=muxer, codec=chosen, crf=crf, audio_source=audio_source,
                     overwrite=overwrite, prores_profile=prores_profile,
                     encoder_options=encoder_options)
