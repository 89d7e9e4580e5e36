"""Rendering on Ray against one process, and a model of a 2-hour 1080p film on 1-64 workers.

Measured on one machine, same run, same clip (a real clip scaled to 640x360 and looped to
``--frames``), the shipped light ``starry_night``, temporal consistency ``default``, H.264:

* one process with ``--threads`` (default 2): the serial ``RenderJob``;
* ``RayRenderJob`` on a local Ray with ``--workers`` (default 2) workers of one thread each;
* the per-segment overheads: a worker's start (process, imports), a segment's set-up (net load,
  engine, opening input and part), its warm-up frames, the scene-cut scan per frame, the join
  (its cost per packet and per part file timed on 1080p H.264 parts, audio packets counted as
  video ones).

From those, the modelled wall time of a 2-hour 24 fps 1080p film (172,800 frames; per-frame
costs scaled by the pixel ratio, 9x) on 1, 4, 16 and 64 workers, with the driver's serial parts
(planning, joining with the audio copy) included; segments are planned by the same planner and
handed to the first free worker, as the driver does. GPU rows take the per-frame time of
``--gpu-ms`` (an assumption, stated in the output) and the measured set-up costs. The speed-up
is against one worker rendering the whole film in one process (no warm-up, no scan).

Writes ``benchmarks/results/ray.json`` (date, CPU model, core count, commit, command, figures).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import heapq
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _clips import real_clip

FILM_FRAMES = 2 * 3600 * 24
AUDIO_PACKETS_PER_FRAME = 48000 / 1024 / 24  # AAC at 48 kHz beside 24 fps video
PIXELS_1080P = 1920 * 1080


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def commit() -> str:
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True,
                                       cwd=Path(__file__).resolve().parent).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _import_render_core() -> float:
    """Run in a fresh worker: what a segment task imports before it can start."""
    t0 = time.perf_counter()
    import vidstyle.api.job  # noqa: F401 - imported to time the import

    return time.perf_counter() - t0


def remux_seconds(part: Path, out: Path) -> float:
    """Wall time of the join's remux of one part file (no audio)."""
    from fractions import Fraction

    import numpy as np

    from vidstyle.io.frame import Frame
    from vidstyle.io.reader import open_source
    from vidstyle.io.writer import open_sink

    with open_source(str(part)) as src:
        info = src.info
    t0 = time.perf_counter()
    sink = open_sink(str(out), info, overwrite=True)
    sink.remux([str(part)], Frame(np.zeros((1, 1, 3), np.uint8), 0, 0, Fraction(1, 25), 0.0))
    sink.close()
    return time.perf_counter() - t0


def model(frames: int, workers: int, t_frame: float, setup: float, start: float, scan_frame: float,
          join_packet: float, join_part: float, warmup: int) -> dict:
    """Modelled wall time (s) of ``frames`` frames on ``workers`` workers (see the docstring)."""
    from vidstyle.distributed.plan import plan_segments, scan_windows

    t0 = time.perf_counter()
    segs = plan_segments(frames, workers=workers, warmup=warmup)
    plan = time.perf_counter() - t0
    scanned = sum(b - a + 1 for a, b in scan_windows(frames, workers=workers))  # each from a frame before
    scan = scan_frame * scanned / workers if warmup else 0.0  # the windows in parallel
    free = [start] * workers  # each worker's first segment waits for its process
    heapq.heapify(free)
    for s in segs:
        t = heapq.heappop(free)
        heapq.heappush(free, t + setup + (s.frames + s.warmup) * t_frame)
    render = max(free)
    parts = math.ceil(frames / 250)
    join = join_packet * (frames + AUDIO_PACKETS_PER_FRAME * frames) + join_part * parts
    total = plan + scan + render + join
    return {"segments": len(segs), "plan_s": plan, "scan_s": scan, "render_s": render, "join_s": join,
            "total_s": total, "join_share": join / total}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2, help="threads of the single process")
    ap.add_argument("--style", default="starry_night")
    ap.add_argument("--consistency", default="default")
    ap.add_argument("--gpu-ms", type=float, default=10.0,
                    help="assumed GPU time per 1080p frame, decode and encode included (ms)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "ray.json"))
    args = ap.parse_args()

    import ray

    import vidstyle
    from vidstyle.distributed.driver import RayRenderJob
    from vidstyle.distributed.task import scan_cuts
    from vidstyle.io import checkpoint

    clip = str(real_clip(width=640, height=360, frames=args.frames))
    tmp = Path(tempfile.mkdtemp(prefix="vidstyle-bench-ray-"))
    cfg = vidstyle.RenderConfig(clip, str(tmp / "serial.mp4"), args.style, consistency=args.consistency,
                                overwrite=True, runtime=vidstyle.Runtime(threads=args.threads))
    print(f"clip {Path(clip).name}: {args.frames} frames 640x360; {args.style}, consistency {args.consistency}")

    t0 = time.perf_counter()
    serial = vidstyle.RenderJob(cfg).run()
    serial_wall = time.perf_counter() - t0
    print(f"one process x {args.threads} threads: {serial_wall:.1f} s ({args.frames / serial_wall:.2f} fps)")

    t0 = time.perf_counter()
    scan_cuts(clip, None, None, 0.0, 25.0)
    scan_frame = (time.perf_counter() - t0) / args.frames

    t0 = time.perf_counter()
    ray.init(num_cpus=args.workers, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    ray_init = time.perf_counter() - t0
    t0 = time.perf_counter()
    imports = ray.get(ray.remote(_import_render_core).remote())
    worker_start = time.perf_counter() - t0
    job = RayRenderJob(dataclasses.replace(cfg, output=str(tmp / "ray.mp4")), workers=args.workers)
    t0 = time.perf_counter()
    job.run()
    ray_wall = time.perf_counter() - t0
    ray.shutdown()
    tm = job.timings
    print(f"Ray {args.workers} workers x 1 thread: {ray_wall:.1f} s ({args.frames / ray_wall:.2f} fps), "
          f"{len(job.segments)} segments; ray.init {ray_init:.1f} s")

    # the join's cost per packet and per part file, on 1080p H.264 parts (crf 12: large packets)
    big, small = real_clip(width=1920, height=1080, frames=250), real_clip(width=1920, height=1080, frames=10)
    t_big, t_small = remux_seconds(big, tmp / "j1.mp4"), remux_seconds(small, tmp / "j2.mp4")
    join_packet = max(0.0, t_big - t_small) / 240
    join_part = t_small

    warm = sum(s.warmup for s in job.segments)
    render_frames = args.frames + warm
    setup = min(tm["segment_setup_s"])  # a segment's own set-up (the net load, engine, files)
    per_frame = (sum(tm["segment_seconds"]) - sum(tm["segment_setup_s"])) / render_frames  # one thread
    scale = PIXELS_1080P / (640 * 360)
    overhead = {
        "worker_start_s": worker_start, "worker_imports_s": imports, "segment_setup_s": tm["segment_setup_s"],
        "warmup_frames": warm, "warmup_s": warm * per_frame, "scan_s_per_frame": scan_frame,
        "plan_and_scan_s": tm.get("plan_s", 0.0), "join_s": tm["join_s"],
        "join_1080p_s_per_packet": join_packet, "join_1080p_s_per_part": join_part,
        "per_frame_1_thread_s": per_frame,
    }
    for k, v in overhead.items():
        print(f"  {k}: {[round(x, 3) for x in v] if isinstance(v, list) else round(v, 4)}")

    rows = []
    warmup = checkpoint.WARMUP_FRAMES if args.consistency != "off" else 0
    for kind, t_frame in (("cpu", per_frame * scale), ("gpu", args.gpu_ms / 1000.0)):
        base = setup + FILM_FRAMES * t_frame  # one process, no warm-up, no scan; its join below
        base += model(FILM_FRAMES, 1, 0.0, 0.0, 0.0, 0.0, join_packet, join_part, 0)["join_s"]
        for n in (1, 4, 16, 64):
            m = model(FILM_FRAMES, n, t_frame, setup, worker_start, scan_frame * scale, join_packet, join_part, warmup)
            m.update(kind=kind, workers=n, speedup=base / m["total_s"])
            rows.append(m)
    print(f"\n2-hour 1080p film ({FILM_FRAMES} frames), modelled; GPU: {args.gpu_ms:g} ms/frame assumed")
    print(f"{'':4} {'workers':>7} {'segments':>8} {'total':>10} {'scan':>8} {'join':>7} {'join %':>7} {'speed-up':>8}")
    for r in rows:
        print(f"{r['kind']:4} {r['workers']:7d} {r['segments']:8d} {r['total_s'] / 3600:9.2f}h {r['scan_s']:7.0f}s "
              f"{r['join_s']:6.1f}s {100 * r['join_share']:6.2f}% {r['speedup']:7.1f}x")

    result = {
        "benchmark": "ray", "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_model(), "cores": os.cpu_count(), "commit": commit(),
        "command": "python benchmarks/bench_ray.py " + " ".join(sys.argv[1:]),
        "clip": {"name": Path(clip).name, "frames": args.frames, "size": "640x360"},
        "style": args.style, "consistency": args.consistency,
        "serial": {"threads": args.threads, "seconds": serial_wall, "fps": args.frames / serial_wall,
                   "stream_seconds": serial.seconds},
        "ray": {"workers": args.workers, "threads_per_worker": 1, "seconds": ray_wall, "fps": args.frames / ray_wall,
                "segments": [s.to_json() for s in job.segments], "ray_init_s": ray_init},
        "overheads": overhead,
        "model": {"film_frames": FILM_FRAMES, "scale_to_1080p": scale, "gpu_ms_per_frame_assumed": args.gpu_ms,
                  "rows": rows},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
