"""``RayRenderJob(config).run()``: one render spread over a Ray cluster.

The driver (this process) checks the settings, the input and the output, splits the range into
segments (:mod:`.plan`; with temporal consistency it first scans the frames near the nominal
boundaries for scene cuts, in parallel), runs one Ray task per segment (:mod:`.task`; one GPU each where the cluster has GPUs,
retried ``max_retries`` times when a worker dies), then joins the parts into the output without
re-encoding and copies the audio once (:meth:`~vidstyle.io.writer.VideoSink.remux`, as a resumed
run's join). ``ray.init()`` starts a local Ray when no cluster is given, so the same code runs on a
laptop and on a cluster.

Workers read the input and write their parts by path: the input, the output's folder (or
``work_dir``) must be at the same path on every node (a shared mount), URLs do not work. The work
folder (``.NAME.vidstyle-resume/`` beside the output, as a resumable serial run's, or inside
``work_dir``) holds the parts and ``ray.json``, written after every finished segment with the
plan and the settings' fingerprint; a driver stopped mid-job continues with ``resume=True`` from
the segments already finished.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import threading
import time
from collections.abc import Callable
from fractions import Fraction

from ..api.config import RenderConfig, position_text, style_text
from ..api.stats import Progress, RenderStats
from ..errors import Cancelled, InputError, OutputError, VidstyleError
from ..io.atomic import write_bytes_atomic
from ..io import checkpoint
from ..io.frame import Frame
from .plan import Segment, plan_segments, scan_windows
from .progress import FrameCounter
from .task import SegmentWork, render_segment, scan_cuts

__all__ = ["RayRenderJob", "RAY_MISSING"]

MANIFEST = "ray.json"
VERSION = 1
RAY_MISSING = "rendering on Ray needs the ray package: pip install 'vidstyle[ray]'"

Log = Callable[[str, str], None]


class RayRenderJob:
    """One render of ``config`` on Ray (module docstring). ``address``: ``"auto"`` (a cluster
    started locally with ``ray start``, else a new local Ray) or a cluster address
    (``HOST:6379``, ``ray://HOST:10001``); ignored when Ray is already initialised in this process.
    ``workers``: segments rendered at once (default: the cluster's GPUs, else its nodes);
    ``work_dir``: a shared folder for the parts; ``max_retries``: re-runs of a segment whose
    worker died; ``min_segment``: the shortest segment in frames, worth its fixed cost (worker
    start, net load, warm-up). Video file outputs only (their parts join without re-encoding)."""

    def __init__(self, config: RenderConfig, *, address: str | None = "auto", workers: int | None = None,
                 work_dir: str | None = None, max_retries: int = 3, min_segment: int = 250) -> None:
        if not isinstance(config, RenderConfig):
            raise TypeError(f"RayRenderJob takes a RenderConfig, not {type(config).__name__}")
        if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
            raise InputError(f"workers must be a whole number of at least 1, not {workers!r}")
        if work_dir is not None and "://" in os.fspath(work_dir):
            raise InputError(f"work_dir must be a mounted folder, not a URL: {work_dir}")
        self.config = _absolute(config)
        self.address = address
        self.workers = workers
        self.max_retries = int(max_retries)
        self.min_segment = int(min_segment)
        name = os.path.basename(checkpoint.work_dir(self.config.output))
        self.work_dir = (os.path.join(os.path.abspath(os.fspath(work_dir)), name) if work_dir
                         else checkpoint.work_dir(self.config.output))
        self.saved_frames = 0
        self.segments: list[Segment] = []  # the plan, once made
        self.timings: dict[str, float] = {}
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Stop the run (thread-safe): running segments are cancelled, finished ones kept."""
        self._cancel.set()

    def run(self, progress: Callable[[Progress], None] | None = None, log: Log | None = None) -> RenderStats:
        """Render; returns :class:`~vidstyle.api.stats.RenderStats` (as ``RenderJob.run``).
        Raises ``VidstyleError`` with one line for bad settings, input or output, or a worker's
        failure (naming its node); ``Cancelled`` after :meth:`cancel`."""
        try:
            import ray
        except ImportError:
            raise InputError(RAY_MISSING) from None
        say = log or (lambda level, text: None)
        # one run per output, as for a serial render; the workers write parts, never the output
        with checkpoint.claim_output(self.config.output, overwrite=self.config.overwrite):
            return self._run_claimed(ray, progress, say)

    def _run_claimed(self, ray, progress: Callable[[Progress], None] | None, say: Log) -> RenderStats:
        """Probe, start or reach Ray, and render (see :meth:`run`), with the output claimed."""
        t_start = time.perf_counter()
        src = _probe_input(self.config)
        fp = _fingerprint(self.config)
        final_probe(self.config, src.info)
        manifest = self._load_manifest(fp)
        started_ray = False
        if not ray.is_initialized():
            try:
                ray.init(address=None if self.address in (None, "auto") else self.address,
                         include_dashboard=False, logging_level="WARNING", log_to_driver=False)
            except Exception as exc:  # noqa: BLE001 - connection problems: one line
                raise InputError(f"cannot start or reach Ray at {self.address}: {_one_line(exc)}") from None
            started_ray = True
        try:
            return self._run(ray, src, fp, manifest, progress, say, t_start)
        finally:
            if started_ray:
                ray.shutdown()

    # ------------------------------------------------------------------------------------------
    def _run(self, ray, src: _Range, fp: dict, manifest: dict | None, progress, say: Log,
             t_start: float) -> RenderStats:
        """Plan (or take the saved plan), render the missing segments, join."""
        cfg = self.config
        res = ray.cluster_resources()
        gpus = int(res.get("GPU", 0))
        cpus = max(1, int(res.get("CPU", 1)))
        nodes = max(1, sum(1 for n in ray.nodes() if n.get("Alive")))
        workers = self.workers or (gpus if gpus else nodes)
        task_cpus = 1 if gpus else max(1, cpus // workers)
        if cfg.runtime.threads is None and not gpus:
            cfg = dataclasses.replace(cfg, runtime=dataclasses.replace(cfg.runtime, threads=task_cpus))
        temporal = _temporal(cfg)
        options = {"num_cpus": task_cpus, "num_gpus": 1 if gpus else 0, "max_retries": self.max_retries}

        if manifest is None:
            t0 = time.perf_counter()
            cuts = self._scan(ray, src, workers, options) if temporal else []
            segments = plan_segments(src.frames, workers=workers, part_frames=cfg.checkpoint_every,
                                     warmup=checkpoint.WARMUP_FRAMES if temporal else 0, cuts=cuts,
                                     min_frames=self.min_segment)
            self.timings["plan_s"] = time.perf_counter() - t0
            os.makedirs(self.work_dir, exist_ok=True)
            manifest = {"version": VERSION, "output": os.path.basename(cfg.output), "fingerprint": fp,
                        "segments": [s.to_json() for s in segments], "done": {}}
            self._save(manifest)
        segments = [Segment.from_json(s) for s in manifest["segments"]]
        self.segments = segments
        done: dict[str, dict] = {k: v for k, v in manifest["done"].items()
                                 if all(os.path.isfile(os.path.join(self.work_dir, f)) for f in v["files"])}
        manifest["done"] = done
        resumed = sum(v["frames"] for v in done.values())
        self.saved_frames = resumed
        where = f"{gpus} GPUs" if gpus else f"{cpus} CPUs"
        say("info", f"{cfg.input} → {cfg.output}: {len(segments)} segments on Ray ({nodes} nodes, {where}), "
                    f"{workers} at a time" + (f"; {len(done)} finished earlier ({resumed} frames)" if done else ""))

        stylized, seconds = self._dispatch(ray, cfg, src, segments, manifest, options, workers, resumed, progress)
        self.saved_frames = sum(v["frames"] for v in done.values())
        t1 = time.perf_counter()
        frames = self._join(segments, done, src)
        self.timings["join_s"] = time.perf_counter() - t1
        self.timings["total_s"] = time.perf_counter() - t_start
        if progress is not None:
            progress(Progress(frames, src.frames, (frames - resumed) / seconds if seconds > 0 else 0.0, seconds))
        return RenderStats(output=cfg.output, frames=frames, stylized=stylized, seconds=seconds,
                           resumed_frames=resumed, warnings=[])

    def _dispatch(self, ray, cfg: RenderConfig, src: _Range, segments: list[Segment], manifest: dict,
                  options: dict, workers: int, resumed: int, progress) -> tuple[int, float]:
        """Run the unfinished segments, ``workers`` at a time, recording each finished one in the
        manifest as it returns; returns (frames stylized, seconds)."""
        done = manifest["done"]
        counter = ray.remote(num_cpus=0)(FrameCounter).remote()
        task = ray.remote(render_segment).options(**options)
        todo = [s for s in segments if str(s.index) not in done]
        running: dict = {}
        t0 = time.perf_counter()
        stylized = 0
        try:
            while todo or running:
                while todo and len(running) < workers:
                    seg = todo.pop(0)
                    running[task.remote(cfg, self._work(seg, src), counter)] = seg
                ready, _ = ray.wait(list(running), num_returns=1, timeout=0.25)
                for ref in ready:
                    running.pop(ref)
                    result = _get(ray, ref, self.max_retries)
                    stylized += result["frames"] + result.get("warmup", 0)
                    done[str(result["index"])] = {k: result[k] for k in ("files", "frames", "first")}
                    self._save(manifest)
                    self.saved_frames = sum(v["frames"] for v in done.values())
                    for k in ("setup_s", "seconds"):
                        self.timings.setdefault("segment_" + k, [])
                        self.timings["segment_" + k].append(result[k])
                if self._cancel.is_set():
                    raise Cancelled(saved_frames=self.saved_frames)
                if progress is not None:
                    n = resumed + ray.get(counter.total.remote())
                    dt = time.perf_counter() - t0
                    progress(Progress(n, src.frames, (n - resumed) / dt if dt > 0 else 0.0, dt))
        except BaseException:
            for ref in running:
                ray.cancel(ref, force=True)
            self.saved_frames = sum(v["frames"] for v in done.values())
            raise
        return stylized, time.perf_counter() - t0

    def _work(self, seg: Segment, src: _Range) -> SegmentWork:
        first = seg.start - seg.warmup
        start = src.position(first) if first > 0 else position_text(self.config.start)
        end = src.position(seg.end) if seg.end < src.frames else position_text(self.config.end)
        keep = src.keep(seg.start) if seg.warmup else None
        part = os.path.join(self.work_dir, f"seg_{seg.index:05d}{os.path.splitext(self.config.output)[1]}")
        return SegmentWork(seg.index, start, end, keep, part, seg.start)

    def _scan(self, ray, src: _Range, workers: int, options: dict) -> list[int]:
        """Scene cuts in the windows where one would move a boundary, scanned in parallel."""
        windows = scan_windows(src.frames, workers=workers, part_frames=self.config.checkpoint_every,
                               min_frames=self.min_segment)
        scan = ray.remote(scan_cuts).options(num_cpus=1, max_retries=options["max_retries"])
        refs = []
        for a, b in windows:  # from one frame before: the pair (a - 1, a) counts
            start = src.position(a - 1) if a > 1 else position_text(self.config.start)
            end = src.position(b) if b < src.frames else position_text(self.config.end)
            refs.append(scan.remote(self.config.input, start, end, src.origin, src.fps))
        return sorted({c for ref in refs for c in _get(ray, ref, self.max_retries)})

    def _join(self, segments: list[Segment], done: dict, src: _Range) -> int:
        """The parts, in order, into the output (no re-encoding; audio copied once)."""
        from ..io.writer import open_sink

        cfg = self.config
        parts = [done[str(s.index)] for s in segments if done[str(s.index)]["files"]]
        if not parts:
            raise OutputError(f"{cfg.output}: no frames were rendered")
        first = parts[0]["first"] or {}
        tb = first.get("time_base")
        timing = Frame(_PIXEL, 0, first.get("pts"), None if tb is None else Fraction(tb), first.get("time"))
        sink = open_sink(cfg.output, src.info, codec=cfg.codec, crf=cfg.crf, overwrite=cfg.overwrite,
                         audio_source=cfg.input if src.info.kind == "video" else None)
        try:
            sink.remux([os.path.join(self.work_dir, f) for p in parts for f in p["files"]], timing)
        except BaseException:
            sink.abort()
            raise
        sink.close()
        shutil.rmtree(self.work_dir, ignore_errors=True)
        return sum(p["frames"] for p in parts)

    # manifest ---------------------------------------------------------------------------------
    def _load_manifest(self, fp: dict) -> dict | None:
        cfg, folder = self.config, self.work_dir
        path = os.path.join(folder, MANIFEST)
        if os.path.isfile(os.path.join(folder, checkpoint.MANIFEST)) and not cfg.overwrite:
            raise OutputError(f"{cfg.output}: a run without Ray saved frames in {folder}; continue it without "
                              "--ray (with --resume), or use --overwrite to start over")
        if not os.path.isfile(path):
            if os.path.isdir(folder) and not cfg.resume and cfg.overwrite:
                shutil.rmtree(folder, ignore_errors=True)
            return None
        if not cfg.resume:
            if cfg.overwrite:
                shutil.rmtree(folder, ignore_errors=True)
                return None
            raise OutputError(f"{cfg.output}: an interrupted run left finished segments in {folder}; "
                              "add --resume to continue it, or --overwrite to start over")
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError) as exc:
            raise OutputError(f"{folder}: unreadable ({exc}); use --overwrite to start over") from None
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise OutputError(f"{folder}: saved by another vidstyle version; use --overwrite to start over")
        if data.get("fingerprint") != fp:
            saved = data.get("fingerprint") or {}
            keys = sorted(k for k in set(saved) | set(fp) if saved.get(k) != fp.get(k))
            raise OutputError(f"{cfg.output}: the segments saved in {folder} were made with other settings "
                              f"({', '.join(keys)}); use --overwrite instead of --resume to start over")
        return data

    def _save(self, manifest: dict) -> None:
        write_bytes_atomic(os.path.join(self.work_dir, MANIFEST), json.dumps(manifest, indent=1).encode("utf-8"))


# ----------------------------------------------------------------------------------------------
class _Range:
    """The render's range as the driver measured it: ``frames`` (count), ``origin`` (the first
    frame's seconds from the source's start for video, its index for sequences) and ``fps``;
    ``position(r)`` is the reader's range text for relative frame ``r``: half a frame before it,
    so every frame falls in exactly one segment even when the rate varies."""

    def __init__(self, info, origin: float | int, fps: float, frames: int) -> None:
        self.info = info
        self.origin = origin
        self.fps = fps
        self.frames = frames
        self.video = info.kind == "video"

    def keep(self, r: int) -> float | int:
        return self.origin + (r - 0.5) / self.fps if self.video else int(self.origin) + r

    def position(self, r: int) -> str:
        return f"{self.keep(r):.9f}s" if self.video else str(self.keep(r))


_PIXEL = None  # a stand-in image for the timing frame of the join (set on first use)


def _probe_input(cfg: RenderConfig) -> _Range:
    """Open the input's range, read its first frame's timing and the frame count."""
    global _PIXEL
    import numpy as np

    from ..io.reader import open_source

    _PIXEL = np.zeros((1, 1, 3), np.uint8)
    with open_source(cfg.input, start=position_text(cfg.start), end=position_text(cfg.end)) as source:
        info = source.info
        if info.kind == "image":
            raise InputError(f"{cfg.input}: a single image is not split across workers; render it without Ray")
        first = next(iter(source), None)
        if first is None:
            raise InputError(f"{cfg.input}: no frames in the selected range")
        info = source.info
    fps = float(info.fps or 24)
    if info.kind == "video":
        t = first.time if first.time is not None else 0.0
        origin: float | int = t - info.source_start
    else:
        origin = first.index
    frames = info.frame_count
    if frames is None:
        frames = max(1, math.ceil((info.duration or 0) * fps)) if info.duration else 1
    return _Range(info, origin, fps, int(frames))


def final_probe(cfg: RenderConfig, info) -> None:
    """Check the output now (name, codec, folder, existing file) rather than after the render."""
    from ..io.writer import VideoSink, open_sink

    sink = open_sink(cfg.output, info, codec=cfg.codec, crf=cfg.crf, overwrite=cfg.overwrite)
    sink.abort()
    if not isinstance(sink, VideoSink) or sink.muxer == "avi":
        raise InputError(f"{cfg.output}: rendering on Ray writes video files (mp4, mkv, mov), "
                         "not AVI, images or image sequences")


def _fingerprint(cfg: RenderConfig) -> dict:
    """The settings' fingerprint (the net loaded on the CPU: a bad style fails here, at once)."""
    import torch

    from ..api.fingerprint import fingerprint
    from ..models.mixing import load_styles_mix

    net, _ = load_styles_mix(style_text(cfg.style), torch.device("cpu"), mode=cfg.mix)
    return fingerprint(cfg, net)


def _temporal(cfg: RenderConfig) -> bool:
    c = cfg.consistency
    if isinstance(c, str):
        if c == "off":
            return False
        try:
            return float(c) > 0
        except ValueError:
            return True
    return float(c) > 0


def _absolute(cfg: RenderConfig) -> RenderConfig:
    """Paths made absolute: workers do not share the driver's working folder."""
    def ab(p):
        return None if p is None or p == "alpha" or "://" in p else os.path.abspath(p)

    controls = dataclasses.replace(cfg.controls, mask=ab(cfg.controls.mask))
    style = cfg.style
    if isinstance(style, str) and (os.sep in style or style.endswith(".safetensors")) and os.path.exists(style):
        style = os.path.abspath(style)
    return dataclasses.replace(cfg, input=ab(cfg.input), output=os.path.abspath(cfg.output), style=style,
                               raft_weights=ab(cfg.raft_weights), controls=controls)


def _get(ray, ref, retries: int):
    """A task's result; a worker's VidstyleError comes back as itself (one line)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, VidstyleError):
            raise type(cause)(str(cause)) from None
        raise OutputError(f"a worker failed: {_one_line(cause or exc)}") from None
    except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError):
        raise OutputError(f"a segment's worker died {retries + 1} times; the finished segments are kept "
                          "for --resume") from None


def _one_line(exc: BaseException) -> str:
    lines = [s for s in str(exc).strip().splitlines() if s.strip()]
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}"
