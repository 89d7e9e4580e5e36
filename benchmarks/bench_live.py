"""Live-mode latency and fps: the headless engine on a real clip paced like a 25 fps camera.

    python benchmarks/bench_live.py [--sizes 640x360,480x270,320x180] [--seconds 8]
        [--consistency off,default] [--threads 1,2] [--net-scale 1,auto,0.5] [--device cpu|cuda]
        [--style FILE] [--precision fp32,int8] [--record]

For every combination it runs capture (the clip at its own frame rate, as a camera delivers
frames) → inference → (optional) recording for ``--seconds`` and prints output fps, latency
(capture to display-ready) p50/p95, the time in the net (+consistency) per frame and how many
captured frames were dropped because inference was slower than the source. The net is a
random-weights light arch (speed does not depend on the weights) unless ``--style`` names a file.
Target: >= 10 fps and < 150 ms latency on CPU with the light arch at 640x360.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _clips import real_clip
from _results import write_result

from vidstyle.api.config import Runtime
from vidstyle.cli.common import build_consistency, pick_device
from vidstyle.live.session import LIVE_CONSISTENCY
from vidstyle.live.capture import CaptureThread, LatestFrameSlot, open_capture
from vidstyle.cli.options import parse_frame_size, parse_net_scale
from vidstyle.live.engine import LiveEngine, StyleBank
from vidstyle.live.keys import LiveState
from vidstyle.live.recorder import Recorder
from vidstyle.models.transformer import TransformerNet
from vidstyle.pipeline.controls import StyleControls
from vidstyle.pipeline.exported_stylizer import threads_beside
from vidstyle.pipeline.stylizer import Stylizer


def run_once(clip: Path, size, consistency: str, threads: int, seconds: float, device, style: str | None,
             record: bool, net_scale: float | None = 1.0, precision: str = "fp32") -> dict:
    torch.set_num_threads(threads)
    if style:
        bank = StyleBank([style], device, runtime=Runtime(threads=threads, precision=precision))
    else:
        torch.manual_seed(0)
        bank = StyleBank(["light"], device, loader=lambda spec, dev: (Stylizer(TransformerNet("light"), dev), "light (random)"))
    torch.set_num_threads(threads_beside(bank.get(0)[0], threads))  # as `vidstyle live` splits the threads
    cons, msg = build_consistency(consistency, "auto", device, None, **LIVE_CONSISTENCY)  # as `vidstyle live` builds it
    state = LiveState(styles=bank.names, consistency=cons is not None)
    cap, fps, kind = open_capture(source=str(clip))
    slot = LatestFrameSlot()
    capture = CaptureThread(cap, slot, kind=kind, fps=fps, pace=True, name=clip.name)
    outputs = []
    rec_path = None
    if record:
        rec_path = os.path.join(tempfile.gettempdir(), f"vidstyle-bench-live-{os.getpid()}.mp4")
        outputs.append(Recorder(rec_path, fps=fps, overwrite=True))
    engine = LiveEngine(slot, bank, state, device=device, size=size, controls=StyleControls(),
                        consistency=cons, outputs=outputs, net_scale=net_scale)
    capture.start()
    engine.start()
    engine.done.wait(seconds)
    capture.stop()
    engine.stop()
    engine.join(30)
    capture.join(10)
    rec_frames = None
    for o in outputs:
        rec_frames = o.close()
        os.remove(rec_path)
    if engine.error:
        raise engine.error
    s = engine.stats
    return {
        "fps": s.fps, "p50": s.latency_ms(50), "p95": s.latency_ms(95),
        "net_ms": s.infer_ms(50),
        "frames": s.frames, "captured": capture.frames, "dropped": slot.dropped + engine.skipped,
        "recorded": rec_frames, "consistency_msg": msg,
    }


def net_alone_ms(size, threads: int, device, reps: int = 5) -> float:
    """Best-of-``reps`` time of the light net alone at ``size`` (the floor for one frame)."""
    torch.set_num_threads(threads)
    st = Stylizer(TransformerNet("light"), device)
    x = torch.rand(1, 3, size[1], size[0])
    st(x)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        st(x)
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return best * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="640x360,480x270,320x180")
    ap.add_argument("--consistency", default="off,default")
    ap.add_argument("--threads", default="1,2", help="torch CPU threads to compare")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--style", default=None, help="a .safetensors style instead of a random light net")
    ap.add_argument("--net-scale", default="1,auto", help="comma list of net scales (live --net-scale; auto as live's default)")
    ap.add_argument("--precision", default="fp32", help="comma list of live --precision values (fp32,int8; with --style)")
    ap.add_argument("--record", action="store_true", help="also record (h264 veryfast) as --output does")
    ap.add_argument("--clip", default="city_pan_cc0.mpg")
    args = ap.parse_args()

    device = pick_device(args.device)
    clip = real_clip(args.clip, 640, 360, frames=int(25 * (args.seconds + 4)))
    print(f"clip: {clip.name} (25 fps, paced like a camera); device {device}; "
          f"{os.cpu_count()} CPU cores; load avg {os.getloadavg()[0]:.1f}; torch {torch.__version__}")
    print(f"{'size':>8} {'net':>4} {'prec':>4} {'consistency':>11} {'thr':>3} {'fps':>6} {'lat p50':>8} {'lat p95':>8} "
          f"{'net ms':>7} {'out':>5} {'captured':>8} {'dropped':>7}" + (" recorded" if args.record else ""))
    rows = []
    for size_txt in args.sizes.split(","):
        size = parse_frame_size(size_txt, allow_width=True)
        if isinstance(size, tuple) and not args.style:
            ms = [f"{net_alone_ms(size, int(t), device):.0f} ms ({t} thr)" for t in args.threads.split(",")]
            print(f"{size_txt:>8} light net alone, best of 5: {', '.join(ms)}")
        for scale, prec, cons, threads in [(parse_net_scale(sc), p, c, int(t)) for sc in args.net_scale.split(",")
                                           for p in args.precision.split(",")
                                           for c in args.consistency.split(",") for t in args.threads.split(",")]:
            r = run_once(clip, size, cons, threads, args.seconds, device, args.style, args.record, scale, prec)
            print(f"{size_txt:>8} {'auto' if scale is None else f'{scale:4.2g}':>4} {prec:>4} {cons:>11} {threads:>3} {r['fps']:6.1f} {r['p50']:6.0f}ms {r['p95']:6.0f}ms "
                  f"{r['net_ms']:7.1f} {r['frames']:5d} {r['captured']:8d} {r['dropped']:7d}"
                  + (f" {r['recorded']}" if args.record else ""), flush=True)
            rows.append({"size": size_txt, "net_scale": "auto" if scale is None else scale, "precision": prec,
                         "consistency": cons, "threads": threads,
                         **{k: r[k] for k in ("fps", "p50", "p95", "net_ms", "frames", "captured", "dropped")}})
    print(f"load avg after: {os.getloadavg()[0]:.1f}")
    write_result("live", {"clip": args.clip, "device": str(device), "style": args.style, "seconds": args.seconds,
                          "rows": rows})


if __name__ == "__main__":
    main()
