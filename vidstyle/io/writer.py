"""Write frames to a video file or an image sequence, safely.

``open_sink(path, info, *, codec=None, crf=None, audio_source=None, overwrite=False,
prores_profile=None, encoder_options=None) -> FrameSink``

This module picks the sink for a path; the parts live beside it: the codec policy in
:mod:`~vidstyle.io.codecs`, :mod:`~vidstyle.io.video_sink` with :mod:`~vidstyle.io.audio` and
:mod:`~vidstyle.io.remux`, and :mod:`~vidstyle.io.image_sinks`. Their public names are re-exported
here.

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

import os

from vidstyle.errors import InputError, OutputError
from vidstyle.io._util import has_pattern, pattern_regex
from vidstyle.io.codecs import (CONTAINERS, IMAGE_CODECS, PRORES_PROFILES, SEQUENCE_DEFAULT_EXT, SEQUENCE_EXTS,
                                canonical_codec)
from vidstyle.io.codecs import prores_profile as _check_prores_profile
from vidstyle.io.frame import VideoInfo
from vidstyle.io.image_sinks import ImageSink, SequenceSink, encode_image, stale_sequence_folders
from vidstyle.io.outpath import VIDEO_EXTS, check_output_path
from vidstyle.io.sink import FrameSink, prepare_folder
from vidstyle.io.video_sink import DEFAULT_FPS, VideoSink, stale_partials

import av

__all__ = ["FrameSink", "VideoSink", "SequenceSink", "ImageSink", "open_sink", "stale_partials",
           "stale_sequence_folders", "encode_image", "PRORES_PROFILES", "DEFAULT_FPS"]

assert set(CONTAINERS) == set(VIDEO_EXTS)


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
    want = canonical_codec(codec)
    crf = _check_crf(crf)
    is_dir = path.endswith(("/", os.sep)) or os.path.isdir(path)
    ext = os.path.splitext(path)[1].lower()
    if has_pattern(path) and not is_dir and ext == "":
        raise OutputError(f"{path}: an image pattern needs an extension (e.g. out_%04d.png)")
    if is_dir or has_pattern(path) or (want in IMAGE_CODECS and ext == ""):
        return _open_sequence(path, info, want=want, codec=codec, is_dir=is_dir, ext=ext, overwrite=overwrite,
                              audio_source=audio_source, encoder_options=encoder_options)
    if want in IMAGE_CODECS:
        raise OutputError(f"{path}: {codec} writes image sequences: give a pattern like "
                          f"out_%04d{SEQUENCE_DEFAULT_EXT[want]} or a folder")
    if ext in SEQUENCE_EXTS:
        if info.kind == "image":
            created = prepare_folder(os.path.dirname(os.path.abspath(path)))
            return ImageSink(path, info, codec=SEQUENCE_EXTS[ext], overwrite=overwrite,
                             encoder_options=encoder_options, created_dirs=created)
        raise OutputError(f"{path}: for an image sequence give a pattern like out_%04d{ext} or a folder")
    return _open_video(path, info, want=want, codec=codec, ext=ext, crf=crf, audio_source=audio_source,
                       overwrite=overwrite, prores_profile=prores_profile, encoder_options=encoder_options)


def _check_crf(crf) -> int | None:
    """``crf`` as an int in 0-63 (None stays None)."""
    if crf is None:
        return None
    try:
        crf = int(crf)
    except (TypeError, ValueError):
        raise OutputError(f"bad CRF {crf!r}") from None
    if not 0 <= crf <= 63:
        raise OutputError(f"bad CRF {crf} (use 0-51 for h264/h265, 0-63 for vp9)")
    return crf


def _open_sequence(path: str, info: VideoInfo, *, want: str | None, codec: str | None, is_dir: bool, ext: str,
                   overwrite: bool, audio_source: str | None, encoder_options: dict | None) -> SequenceSink:
    """An image-sequence output: a folder (``%06d`` names inside) or a pattern."""
    if is_dir or ext == "":
        seq_codec = want or "png"
        if seq_codec not in SEQUENCE_DEFAULT_EXT:
            raise OutputError(f"{path}: a folder output needs an image codec (png, exr, tiff, jpeg)")
        folder = path.rstrip("/" + os.sep) or path
        pattern = os.path.join(folder, "%06d" + SEQUENCE_DEFAULT_EXT[seq_codec])
    else:
        if ext not in SEQUENCE_EXTS:
            raise OutputError(f"{path}: image sequences must be .png, .exr, .tif or .jpg")
        seq_codec = SEQUENCE_EXTS[ext]
        if want is not None and want != seq_codec:
            raise OutputError(f"{path}: codec {codec} does not match the {ext} extension")
        pattern = path
        try:
            pattern_regex(pattern)
        except ValueError as exc:
            raise OutputError(f"{path}: {exc}") from None
    folder = os.path.dirname(os.path.abspath(pattern))
    created = prepare_folder(folder)
    return SequenceSink(pattern, info, codec=seq_codec, overwrite=overwrite,
                        audio_source=audio_source, encoder_options=encoder_options,
                        created_dirs=created)


def _open_video(path: str, info: VideoInfo, *, want: str | None, codec: str | None, ext: str, crf: int | None,
                audio_source: str | None, overwrite: bool, prores_profile, encoder_options: dict | None) -> VideoSink:
    """A video-file output, once the container takes the codec and FFmpeg has its encoder."""
    if ext not in CONTAINERS:
        raise OutputError(f"{path}: unsupported output type {ext or '(no extension)'} "
                          f"(use {', '.join(CONTAINERS)} or an image pattern)")
    muxer, default_codec, allowed = CONTAINERS[ext]
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
        _check_prores_profile(prores_profile, info.has_alpha)  # validate early
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
