"""What a Ray worker runs: render one segment into a part file, or scan a stretch for scene cuts.

Plain functions (the driver wraps them with ``ray.remote``), so they also run, and are tested,
in-process. A segment goes through the same core as ``vidstyle stylize``
(:class:`~vidstyle.api.job.RenderJob`: engine, threads, consistency, the streaming runner);
only its output differs: a part file in the output's own codec and container, holding the
source's own (unshifted) timestamps, as the parts of a resumable run do, so that
:meth:`~vidstyle.io.writer.VideoSink.remux` joins them without re-encoding. The warm-up frames
before the segment are stylized (they rebuild the temporal state) and dropped by time, not by
count, so variable-frame-rate sources lose or repeat no frame at a join.

Errors a worker meets (input it cannot open, a part it cannot write) come back as one line that
names the node, since on a cluster the driver's files are not necessarily the worker's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from dataclasses import dataclass
from fractions import Fraction

from ..errors import OutputError, VidstyleError
from ..io.frame import Frame
from ..io.writer import FrameSink, VideoSink, open_sink

__all__ = ["SegmentWork", "node_name", "render_segment", "scan_cuts"]

REPORT_SECONDS = 0.5  # how often a worker reports its frame count to the driver's counter


@dataclass(frozen=True)
class SegmentWork:
    """One segment as a worker renders it: decode ``start``..``end`` (reader range texts, the
    warm-up included), keep frames from ``keep`` on (seconds from the source's first frame for
    video, a frame index for sequences; None: all) and write them to files named after ``part``
    (``seg_00003.mkv`` → ``seg_00003_000.mkv``, ...). ``first``: the segment's first frame,
    relative to the render's range (where the part grid lies)."""

    index: int
    start: str | None
    end: str | None
    keep: float | int | None
    part: str
    first: int = 0


def node_name() -> str:
    """This process's node address (for error messages), or ``local`` outside Ray."""
    try:
        import ray

        return ray.util.get_node_ip_address()
    except Exception:  # noqa: BLE001 - only a label
        return "local"


def _on_node(exc: VidstyleError) -> VidstyleError:
    return type(exc)(f"on node {node_name()}: {exc}")


def render_segment(config, work: SegmentWork, counter=None) -> dict:
    """Render ``work`` with ``config`` (a :class:`~vidstyle.api.config.RenderConfig` whose paths
    are absolute). Returns the part ``files`` (names in the part's folder), ``frames`` kept, the
    ``warmup`` frames stylized and dropped, the timing of the ``first`` frame kept, and seconds
    until the first frame came out (``setup_s``: net load, engine, opening the files) and in all.
    ``counter``: a Ray actor handle with ``report(index, frames)`` for the driver's progress."""
    t0 = time.perf_counter()
    job = _PartJob(dataclasses.replace(config, start=work.start, end=work.end, resume=False, overwrite=False),
                   work, counter)
    try:
        stats = job.run()
    except VidstyleError as exc:
        if job.empty:  # the range held no frame to keep (a frame count that was an estimate)
            return {"index": work.index, "files": [], "frames": 0, "first": None, "setup_s": 0.0,
                    "seconds": time.perf_counter() - t0}
        raise _on_node(exc) from None
    assert job.sink is not None
    job.sink.report(final=True)
    return {"index": work.index, "files": job.sink.files, "frames": job.sink.kept,
            "first": job.sink.first, "warmup": stats.stylized - job.sink.kept,
            "setup_s": job.sink.started - t0, "seconds": time.perf_counter() - t0}


def scan_cuts(path: str, start: str | None, end: str | None, origin: float | int, fps: float,
              hard: float = 0.5) -> list[int]:
    """Scene cuts in ``start``..``end`` of ``path``: frame numbers relative to ``origin`` (the
    render range's first frame: its time in seconds for video, its index for sequences) of the
    frames that start a new shot. Only hard cuts (colour-histogram distance ``>= hard``, which the
    consistency step's detector always takes for a cut, whatever its running baselines) count, so a
    chunk can be scanned on its own. ``start`` should be one frame before the chunk."""
    from ..consistency.scenecut import SceneCutDetector
    from ..io.reader import open_source

    det = SceneCutDetector(hard=hard)
    cuts: list[int] = []
    prev = None
    try:
        with open_source(path, start=start, end=end) as source:
            video = source.info.kind == "video"
            src0 = source.info.source_start
            for f in source:
                feat = det.features(f.image)
                if prev is not None and det.distances(prev, feat)[0] >= hard:
                    if video:
                        t = (f.time if f.time is not None else 0.0) - src0
                        cuts.append(round((t - float(origin)) * fps))
                    else:
                        cuts.append(f.index - int(origin))
                prev = feat
    except VidstyleError as exc:
        raise _on_node(exc) from None
    return cuts


class _PartSink(FrameSink):
    """Drops the warm-up frames and writes the rest into part files that start where a
    resumable serial run starts its parts (multiples of ``part_frames`` from the range's first
    frame), so each encoder sees the frames a serial run's encoder sees; reports progress."""

    def __init__(self, open_part, info, work: SegmentWork, part_frames: int, counter) -> None:
        super().__init__(work.part, info, True)
        self.open_part = open_part  # n -> a fresh VideoSink for the segment's n-th file
        self.work = work
        self.part_frames = int(part_frames)
        self.counter = counter
        self.files: list[str] = []
        self.kept = 0
        self.first: dict | None = None
        self.started = time.perf_counter()  # replaced by the first frame's arrival
        self._part: VideoSink | None = None
        self._reported = 0.0

    def _keeps(self, frame: Frame) -> bool:
        keep = self.work.keep
        if keep is None:
            return True
        if isinstance(keep, int):
            return frame.index >= keep
        t = frame.time if frame.time is not None else frame.index / float(self.info.fps or 24)
        return t - self.info.source_start >= keep

    def _write(self, frame: Frame) -> None:
        if self.frames_written == 0:
            self.started = time.perf_counter()
        if not self._keeps(frame):
            return
        if self.first is None:
            self.first = {"pts": frame.pts, "time_base": None if frame.time_base is None else str(frame.time_base),
                          "time": frame.time}
        if self._part is None:
            self._part = self.open_part(len(self.files))
            self._part.diagnostics = self.diagnostics  # the segment's warnings, each said once
        self._part.write(frame)
        self.kept += 1
        if (self.work.first + self.kept) % self.part_frames == 0:
            self._close_part()
        self.report()

    def _close_part(self) -> None:
        part, self._part = self._part, None
        part.close()
        self.files.append(os.path.basename(part.path))

    def report(self, final: bool = False) -> None:
        now = time.monotonic()
        if self.counter is not None and (final or now - self._reported >= REPORT_SECONDS):
            self._reported = now
            self.counter.report.remote(self.work.index, self.kept)

    def _finish(self) -> None:
        if self._part is not None:
            self._close_part()
        if self.kept == 0:
            raise OutputError(f"{self.work.part}: no frames were written")

    def _discard(self) -> None:
        if self._part is not None:
            self._part.abort()
            self._part = None


def _exact_edits(muxer: str, info) -> dict:
    """MP4/MOV parts get the stream's time scale as the movie time scale, as the resumable sink's
    parts do: the edit list placing a part's first frame then keeps its exact time."""
    tb = info.time_base
    if muxer not in ("mp4", "mov") or not tb or Fraction(tb).numerator != 1:
        return {}
    return {"movie_timescale": str(Fraction(tb).denominator)}


def _load_job_class():
    from ..api.job import RenderJob  # torch is loaded with the job, in the worker

    class PartJob(RenderJob):
        """A :class:`RenderJob` whose output is one segment's part (no resume, no audio)."""

        def __init__(self, config, work: SegmentWork, counter) -> None:
            super().__init__(config)
            self.work = work
            self.counter = counter
            self.sink: _PartSink | None = None

        @property
        def empty(self) -> bool:
            return self.sink is not None and self.sink.kept == 0

        def _claim_output(self):
            return contextlib.nullcontext()  # the driver holds the output's lock

        def _plan_resume(self, fp: dict, temporal: bool):
            return None  # a retried segment starts over; the driver keeps finished ones

        def _open_output(self, setup, source, say):
            cfg = self.config
            info = dataclasses.replace(source.info, trimmed=False)  # the source's own timestamps
            stem, ext = os.path.splitext(self.work.part)
            try:
                probe = open_sink(self.work.part, info, codec=cfg.codec, crf=cfg.crf, overwrite=True)
                probe.abort()
            except VidstyleError as exc:
                raise OutputError(f"cannot write the part {self.work.part} ({exc})") from None
            if not isinstance(probe, VideoSink):
                raise OutputError(f"{cfg.output}: parts must be video files")

            def open_part(n: int) -> VideoSink:
                try:
                    return VideoSink(f"{stem}_{n:03d}{ext}", info, muxer=probe.muxer, codec=probe.codec,
                                     crf=probe.crf, audio_source=None, overwrite=True,
                                     prores_profile=probe.prores_profile, encoder_options=probe.encoder_options,
                                     container_options=_exact_edits(probe.muxer, info))
                except VidstyleError as exc:
                    raise OutputError(f"cannot write the part {stem}_{n:03d}{ext} ({exc})") from None

            self.sink = _PartSink(open_part, info, self.work, cfg.checkpoint_every, self.counter)
            return self.sink

    return PartJob


def _PartJob(config, work: SegmentWork, counter):
    return _load_job_class()(config, work, counter)
