"""Resumable output: a long stylization is saved in parts, so an interrupted run continues.

``ResumableSink(final, fingerprint, part_frames=N, point=None)`` wraps the
:class:`~vidstyle.io.video_sink.VideoSink` of a video file or the
:class:`~vidstyle.io.image_sinks.SequenceSink` of an image sequence. Frames are written in parts of
``N`` frames into a hidden work folder beside the output, ``.NAME.vidstyle-resume/``: complete
files of the output's own codec and container, or folders of the sequence's numbered images, each
moved into place when full. A ``manifest.json`` there records after every part what is saved, the
settings that made it (``fingerprint``) and the timing of the last frames. ``close()`` joins the
parts into the output (video: their packets, no re-encoding, audio copied from the source as
usual; sequences: the files), moves it into place and removes the folder. A run that stops
(Ctrl-C, SIGTERM, a crash, a killed process) keeps the saved parts.

:func:`plan_resume` reads that folder for a new run of the same command: with ``resume`` it
returns a :class:`ResumePoint` (frames saved, where to start decoding again), refusing parts made
with other settings; without it an existing folder is an error, or with ``overwrite`` it is
deleted and the run starts over.

:func:`claim_output` starts every run: it checks the output path, locks the output (one run
per output: two runs would share this folder and mix their frames) and deletes the temporary
files of killed runs. Hidden names too long for the file system are shortened with a digest.

A part is also closed after ``part_seconds`` of wall-clock time (10 minutes), so a slow run (a
4K shot with the full net on a CPU) never risks more than that. Otherwise parts start at fixed
frame numbers (multiples of ``N`` from the output's first frame) and are encoded independently,
so a resumed output gets the same frames and timestamps as the uninterrupted one when every
frame is stylized independently (packet for packet with a deterministic encoder such as FFV1). Temporal consistency carries state from frame to frame: the
resumed run decodes and stylizes ``warmup`` frames before the first unsaved one and drops them,
which brings the carried state close to the uninterrupted run's: the frames after the join
differ from it by a fraction of a grey level on average and the join shows no seam (the
frame-to-frame change there is that of the uninterrupted run). The difference does not vanish
entirely, since the detail restoration keeps small differences of history alive.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import time
from collections import deque
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..errors import OutputError
from .atomic import write_bytes_atomic
from .frame import Frame, VideoInfo
from .lock import OutputLock, lock_output
from .outpath import check_output_path, hidden_name
from .writer import FrameSink, SequenceSink, VideoSink, stale_partials, stale_sequence_folders

__all__ = ["ResumableSink", "ResumePoint", "can_resume", "claim_output", "plan_resume", "work_dir", "PART_FRAMES",
           "WARMUP_FRAMES"]

MANIFEST = "manifest.json"
VERSION = 1
PART_FRAMES = 250  # frames per saved part (x264's default keyframe interval)
PART_SECONDS = 600.0  # ... or fewer: a part is also closed after this much wall-clock time (slow runs)
WARMUP_FRAMES = 60  # frames stylized again before a resumed temporal-consistency run


def work_dir(output: str) -> str:
    """The hidden folder beside ``output`` (a video file, an image pattern or a folder of
    images) that holds its saved parts."""
    folder, name = os.path.split(os.path.abspath(output.rstrip("/" + os.sep) or output))
    return os.path.join(folder, hidden_name(re.sub(r"[%#]", "_", name), ".vidstyle-resume", folder=folder))


def claim_output(output: str, *, overwrite: bool) -> OutputLock:
    """Start a run writing ``output``: check its path (:func:`~vidstyle.io.outpath.check_output_path`,
    before any decoding), lock it (:mod:`vidstyle.io.lock`; raises :class:`OutputError` at once
    when another run is writing it) and delete the temporary files that killed runs of it left
    (under the lock none is live). Call before :func:`plan_resume`; release the returned lock (or
    use it as a context manager) when the run ends."""
    check_output_path(output, overwrite=overwrite)
    lock = lock_output(output)
    for stale in stale_partials(output):
        try:
            os.remove(stale)
        except OSError:
            pass
    for stale in stale_sequence_folders(output):
        shutil.rmtree(stale, ignore_errors=True)
    return lock


def _info_to_json(info: VideoInfo) -> dict:
    out = {}
    for f in dataclasses.fields(info):
        v = getattr(info, f.name)
        out[f.name] = {"fraction": str(v)} if isinstance(v, Fraction) else v
    return out


def _info_from_json(data: dict) -> VideoInfo:
    names = {f.name for f in dataclasses.fields(VideoInfo)}
    kw = {k: (Fraction(v["fraction"]) if isinstance(v, dict) else v) for k, v in data.items() if k in names}
    return VideoInfo(**kw)


def _load(folder: str) -> dict | None:
    path = os.path.join(folder, MANIFEST)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise OutputError(f"{folder}: unreadable checkpoint ({exc}); use --overwrite to start over") from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise OutputError(f"{folder}: checkpoint of another vidstyle version; use --overwrite to start over")
    return data


@dataclass
class ResumePoint:
    """Where a resumed run picks up: ``frames`` saved; decoding restarts ``warmup`` frames before
    the first unsaved one, at ``start`` (the reader's ``start`` text; None: the run's own)."""

    frames: int
    warmup: int
    start: str | None
    manifest: dict

    @property
    def info(self) -> VideoInfo:
        """The source's description as the interrupted run saw it (range, timing, audio window)."""
        return _info_from_json(self.manifest["info"])


def plan_resume(output: str, fingerprint: dict, *, resume: bool, overwrite: bool,
                warmup: int = WARMUP_FRAMES) -> ResumePoint | None:
    """What an earlier, interrupted run of ``output`` left (see the module docstring); None when
    the run starts from the beginning. Raises :class:`OutputError` for parts that cannot be used."""
    folder = work_dir(output)
    if not os.path.isdir(folder):
        return None
    if not resume and overwrite:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    data = _load(folder)
    if data is None:  # only an unfinished first part: nothing to keep
        shutil.rmtree(folder, ignore_errors=True)
        return None
    if not resume:
        raise OutputError(f"{output}: an interrupted run saved {data['frames']} frames in {folder}; "
                          "add --resume to continue it, or --overwrite to start over")
    if data.get("fingerprint") != fingerprint:
        saved = data.get("fingerprint") or {}
        keys = sorted(k for k in set(saved) | set(fingerprint) if saved.get(k) != fingerprint.get(k))
        raise OutputError(f"{output}: the frames saved in {folder} were made with other settings "
                          f"({', '.join(keys)}); use --overwrite instead of --resume to start over")
    frames = int(data["frames"])
    tail = data["tail"]  # [seconds from the source's first frame, source index] of the last saved frames
    w = max(1, min(int(warmup), frames))  # at least one: the reader must yield a frame
    if w == frames:  # decode again from the run's own start
        return ResumePoint(frames, w, None, data)
    if len(tail) < w + 1:
        raise OutputError(f"{folder}: the checkpoint lacks the timing of its last frames; use --overwrite to start over")
    i = len(tail) - w  # tail[i] is the first frame decoded again, tail[i - 1] the one before it
    if data["info"].get("kind") == "video":  # a time between the two frames (the reader seeks)
        start = f"{(float(tail[i - 1][0]) + float(tail[i][0])) / 2:.9f}s"
    else:  # image sequences: the frame number
        start = str(int(tail[i][1]))
    return ResumePoint(frames, w, start, data)


def can_resume(sink: FrameSink) -> bool:
    """Whether ``sink`` can be written in parts: image sequences and video files, except AVI
    (which stores no timestamps, only frame order, so its parts could not keep their place)."""
    return isinstance(sink, SequenceSink) or (isinstance(sink, VideoSink) and sink.muxer != "avi")


def _exact_edits(muxer: str, info: VideoInfo) -> dict:
    """MP4/MOV muxer options for a part: the movie time scale of the stream's, so the edit list
    that places a part's first frame (far from 0) keeps its exact time (by default the movie time
    scale is 1000: a part's frames came back up to 0.7 ms early)."""
    tb = info.time_base
    if muxer not in ("mp4", "mov") or not tb or Fraction(tb).numerator != 1:
        return {}
    return {"movie_timescale": str(Fraction(tb).denominator)}


class ResumableSink(FrameSink):
    """A video or image-sequence output written in saved parts, joined at ``close()`` (module
    docstring). ``work``: the parts' folder (default :func:`work_dir` of ``final.path``; give the
    output as the user named it when that was a folder)."""

    def __init__(self, final: VideoSink | SequenceSink, fingerprint: dict, *, part_frames: int = PART_FRAMES,
                 part_seconds: float = PART_SECONDS, point: ResumePoint | None = None, work: str | None = None,
                 tail: int = WARMUP_FRAMES + 1) -> None:
        super().__init__(final.path, final.info, final.overwrite)
        if part_frames < 1:
            raise OutputError(f"part size must be at least 1 frame, not {part_frames}")
        self.final = final
        self.diagnostics = final.diagnostics  # one output: its parts' warnings are said once
        self.folder = work or work_dir(final.path)  # give the output as the user named it (a folder)
        self.video = isinstance(final, VideoSink)
        self.fingerprint = fingerprint
        self.part_frames = int(part_frames)
        self.part_seconds = float(part_seconds)
        self.ext = os.path.splitext(final.path)[1]
        m = point.manifest if point else {}
        self.parts: list[dict] = list(m.get("parts", []))
        self.saved = int(m.get("frames", 0))
        self.first = m.get("first")  # timing of the output's first frame
        self.tail: deque = deque(m.get("tail", []), maxlen=max(2, tail))
        self._skip = point.warmup if point else 0
        self._part: FrameSink | None = None  # the part being written (a VideoSink or a SequenceSink)
        self._in_part = 0
        if point is not None:
            self._drop_strays()
            if self.video:
                self._drop_stale_outputs()

    @property
    def saved_frames(self) -> int:
        """Frames saved in complete parts (what a resumed run keeps)."""
        return self.saved

    def _drop_strays(self) -> None:
        keep = {MANIFEST, *(p["file"] for p in self.parts)}
        for name in os.listdir(self.folder):
            if name not in keep:
                path = os.path.join(self.folder, name)
                if os.path.isdir(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.remove(path)

    def _drop_stale_outputs(self) -> None:
        """The temporary files of runs of this output that were killed."""
        for p in stale_partials(self.path, keep=self.final.tmp_path):
            try:
                os.remove(p)
            except OSError:
                pass

    def _open_part(self) -> None:
        os.makedirs(self.folder, exist_ok=True)
        f = self.final
        name = f"part_{len(self.parts):05d}"
        if self.video:  # one file; parts keep the source's timestamps (shifted when joined)
            info = dataclasses.replace(self.info, trimmed=False)
            self._part = VideoSink(os.path.join(self.folder, name + self.ext), info, muxer=f.muxer, codec=f.codec,
                                   crf=f.crf, audio_source=None, overwrite=True, prores_profile=f.prores_profile,
                                   encoder_options=f.encoder_options, container_options=_exact_edits(f.muxer, info),
                                   shift=self._lead())
        else:  # a folder of frames numbered as in the output
            os.makedirs(os.path.join(self.folder, name), exist_ok=True)
            self._part = SequenceSink(os.path.join(self.folder, name, f.template), self.info, codec=f.codec,
                                      overwrite=True, audio_source=None, encoder_options=f.options,
                                      created_dirs=[], first_number=self.saved)
        self._part.diagnostics = self.diagnostics
        self._in_part = 0
        self._part_started = time.monotonic()

    def _lead(self) -> Fraction:
        """How far before 0 the output's first frame is (0 when it is not): every part is shifted
        by it, so none has a frame before 0 (which MP4 would hide) and all keep one timeline."""
        first = self.first or {}
        if first.get("pts") is not None and first.get("time_base"):
            t = Fraction(first["pts"]) * Fraction(first["time_base"])
        elif first.get("time") is not None:
            t = Fraction(first["time"]).limit_denominator(10**9)
        else:
            return Fraction(0)
        return min(Fraction(0), t)

    def _close_part(self) -> None:
        part, self._part = self._part, None
        with self._as_output(part):
            part.close()
        self.parts.append({"file": os.path.relpath(part.path, self.folder).split(os.sep)[0], "frames": self._in_part})
        self.saved += self._in_part
        manifest = {
            "version": VERSION, "output": os.path.basename(self.path), "fingerprint": self.fingerprint,
            "frames": self.saved, "part_frames": self.part_frames, "parts": self.parts,
            "first": self.first, "tail": list(self.tail), "info": _info_to_json(self.info),
        }
        write_bytes_atomic(os.path.join(self.folder, MANIFEST), json.dumps(manifest, indent=1).encode("utf-8"))

    @contextlib.contextmanager
    def _as_output(self, part: FrameSink):
        """Report a part's failure (a full disk) as the output's: the part is a detail."""
        try:
            yield
        except OutputError as exc:
            text = str(exc)
            if text.startswith(part.path + ": "):
                text = f"{self.path}: {text[len(part.path) + 2:]}"
            raise OutputError(text) from None

    def _write(self, frame: Frame) -> None:
        if self._skip:  # warm-up frame of a resumed run: stylized again, already saved
            self._skip -= 1
            return
        if self.first is None:
            self.first = {"pts": frame.pts, "time_base": None if frame.time_base is None else str(frame.time_base),
                          "time": frame.time}
        if self._part is None:
            self._open_part()
        with self._as_output(self._part):
            self._part.write(frame)
        self._in_part += 1
        t = frame.time if frame.time is not None else frame.index / float(self.info.fps or 24)
        self.tail.append([t - self.info.source_start, frame.index])
        if self._in_part >= self.part_frames or time.monotonic() - self._part_started >= self.part_seconds:
            self._close_part()

    def _finish(self) -> None:
        if self._part is not None:
            self._close_part()
        if not self.parts:
            raise OutputError(f"{self.path}: no frames were written")
        if self.video:
            first = self.first or {}
            tb = first.get("time_base")
            timing = Frame(np.zeros((1, 1, 3), np.uint8), 0, first.get("pts"), None if tb is None else Fraction(tb),
                           first.get("time"))
            self.final.remux([os.path.join(self.folder, p["file"]) for p in self.parts], timing, offset=self._lead())
        else:
            for p in self.parts:
                d = os.path.join(self.folder, p["file"])
                self.final.adopt([os.path.join(d, n) for n in sorted(os.listdir(d)) if self.final.regex.match(n)])
        self.final.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _discard(self) -> None:
        try:
            if self._part is not None:
                self._part.abort()
                self._part = None
        finally:
            self.final.abort()
            if not self.parts:  # nothing worth resuming
                shutil.rmtree(self.folder, ignore_errors=True)
