"""Peak memory stays flat with clip length: a 10x longer clip peaks within 10% of the short one.

    python benchmarks/bench_memory.py [--frames 30] [--factor 10] [--style starry_night]
        [--consistency default] [--device cpu] [--clip city_pan_cc0.mpg] [--limit 1.10]

Runs ``vidstyle stylize CLIP -s STYLE -o out.mp4 --consistency default --device cpu --quiet
--overwrite`` on an N-frame and on a (factor x N)-frame 640x360 clip (``_clips.real_clip``: a shared
clip scaled to 640x360, looped forwards/backwards), each in its own fresh process, and prints per
run the peak RSS of that process, frames, seconds, then the ratio long/short with PASS/FAIL
against ``--limit``.

Peak RSS: the child is started with ``subprocess.Popen`` and reaped with ``os.wait4(pid)``, which
returns the kernel's resource usage of exactly that child; ``ru_maxrss`` is its high-water resident
set size (the same number ``/usr/bin/time -v`` prints as "Maximum resident set size" and
/proc/PID/status shows as VmHWM). The kernel keeps it up to the child's exit, so unlike polling
nothing between two samples is missed, and unlike ``getrusage(RUSAGE_CHILDREN)`` it is not a
maximum over every child this process ever had. vidstyle decodes and encodes in-process (PyAV),
so there are no helper processes to add.
The peak includes the interpreter, torch and the weights (a fixed few hundred MiB), which is
why the difference long - short is printed as well.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _cli_tools import die, find_vidstyle
from _results import write_result




def count_frames(path: Path) -> int:
    import av

    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


def run_peak(cmd: list[str], err: Path) -> tuple[float, float]:
    """Run ``cmd`` in a fresh process; (wall-clock seconds, its peak RSS in MiB)."""
    with open(err, "w") as ferr:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=ferr)
        _, status, ru = os.wait4(p.pid, 0)
        secs = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
    if p.returncode != 0:
        lines = err.read_text(errors="replace").strip().splitlines()[-15:]
        die(f"`{' '.join(cmd)}` exited with {p.returncode}:\n" + "\n".join("    " + ln for ln in lines))
    # ru_maxrss: KiB on Linux, bytes on macOS
    mib = ru.ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru.ru_maxrss / 1024
    return secs, mib


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=30, help="N, the short clip's frames")
    ap.add_argument("--factor", type=int, default=10, help="the long clip has factor x N frames")
    ap.add_argument("--style", default="starry_night", help="a light shipped style, or a .safetensors file")
    ap.add_argument("--consistency", default="default")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--clip", default="city_pan_cc0.mpg", help="clip in ../shared/data/video, scaled to 640x360")
    ap.add_argument("--limit", type=float, default=1.10, help="PASS when peak(long) / peak(short) <= this")
    args = ap.parse_args()
    if args.frames < 1 or args.factor < 2:
        die("--frames must be >= 1 and --factor >= 2")
    if not hasattr(os, "wait4"):
        die("os.wait4 is not available on this platform (needs Linux or macOS)")

    try:
        from _clips import SHARED_VIDEO, real_clip
    except ImportError as e:
        die(f"{e.name or e} is not importable: run this with vidstyle's environment (PyAV, numpy)")
    vidstyle = find_vidstyle()
    if not (SHARED_VIDEO / args.clip).exists():
        if SHARED_VIDEO.is_dir():
            die(f"no clip {args.clip} in {SHARED_VIDEO} (there: {', '.join(sorted(p.name for p in SHARED_VIDEO.iterdir()))})")
        print(f"note: {SHARED_VIDEO} is absent: using the bundled sample clip instead of {args.clip}")

    lengths = (args.frames, args.frames * args.factor)
    try:
        clips = [real_clip(args.clip, 640, 360, n) for n in lengths]
    except Exception as e:  # noqa: BLE001 - any failure ends the benchmark with one line
        die(f"could not make the 640x360 clips from {args.clip}: {e}")

    tmp = Path(tempfile.mkdtemp(prefix="vidstyle-bench-mem-"))
    atexit.register(shutil.rmtree, tmp, True)  # also on error exits
    print(f"clip: {args.clip} at 640x360, style {args.style}, consistency {args.consistency}, device {args.device}")
    print(f"\n{'run':<6} {'frames':>6} {'seconds':>8} {'fps':>6} {'peak RSS MiB':>13}")
    peaks, runs = [], {}
    for name, n, clip in zip(("short", "long"), lengths, clips):
        out = tmp / f"{name}.mp4"
        cmd = [vidstyle, "stylize", str(clip), "-s", args.style, "-o", str(out), "--consistency", args.consistency,
               "--device", args.device, "--quiet", "--overwrite"]
        secs, peak = run_peak(cmd, tmp / f"{name}.err")
        frames = count_frames(out)
        if frames != n:
            print(f"warning: {name}: {frames} frames in the output, the clip has {n}")
        peaks.append(peak)
        runs[name] = {"frames": frames, "seconds": secs, "peak_rss_mib": peak}
        print(f"{name:<6} {frames:6d} {secs:8.2f} {frames / secs:6.2f} {peak:13.1f}", flush=True)
    ratio = peaks[1] / peaks[0]
    verdict = "PASS" if ratio <= args.limit else "FAIL"
    print(f"\nlong/short peak RSS: {ratio:.3f} ({peaks[1] - peaks[0]:+.1f} MiB) -> {verdict} (limit {args.limit:.2f})")
    write_result("memory", {"clip": args.clip, "style": args.style, "consistency": args.consistency,
                            "device": args.device, "runs": runs, "ratio": ratio, "limit": args.limit, "verdict": verdict})
    sys.exit(0 if verdict == "PASS" else 2)


if __name__ == "__main__":
    main()
