"""End to end against the PyPI peer styletransfer-lite: the same 640x360 clip, CLI runs timed wall-clock.

    python benchmarks/bench_peer.py [--frames 120] [--styles "a,b,a --no-cpu-net"] [--clip city_pan_cc0.mpg|held-out|a,b] [--threads N] [--skip-peer]
        [--repeats 1] [--device cpu] [--backends auto,onnx] [--precisions fp32,int8] [--peer-style 19] [--peer-smooth 0.8] [--peer-venv DIR]
        [--peer-spec 'styletransfer-lite[video]==0.1.0']

In one run it stylizes the same clip (``_clips.real_clip``: a shared clip scaled to 640x360, looped
forwards/backwards to ``--frames``; ``--frames 0``: the clip's own length) with

* vidstyle, as a user runs it: ``vidstyle stylize CLIP -s STYLE -o out.mp4 --consistency off|default
  --device cpu --backend B --quiet --overwrite`` (``--backends``, default ``auto``: OpenVINO on a
  CPU where installed) and ``--precision P`` for each of ``--precisions`` (default ``fp32``; ``int8``
  rows run the quantized net, whose one-time calibration happens in the untimed warm-up), for
  shipped styles of each arch (``--styles``; default the
  fast starry_night_fast, the tiny starry_night_tiny, the light starry_night and the full
  composition_vii; an entry may add stylize options: ``"starry_night --no-cpu-net"`` runs the
  trained light net where ``starry_night`` alone runs its CPU net on a CPU);
* styletransfer-lite 0.1.0 (ONNX Runtime, 26 built-in styles of the TensorFlow Android
  "stylize" demo net, models inside the wheel), as a user runs it:
  ``styletransfer-lite video CLIP -o out.mp4 -s 19 --device cpu --json`` (frame by frame, OpenCV
  decode, mp4v encode), and once more with ``--smooth 0.8`` (blends each output with the previous
  one: its only flicker control).

``--clip`` may name several clips (comma-separated; ``held-out``: every clip in ../shared/data/video,
none of which trained a shipped net): each row then runs once per clip, and its fps is the frames
of all clips over the seconds of all commands, so each clip pays its own start-up, as a user
converting those files would.

Every run is a fresh process timed wall-clock from start to exit (interpreter start, imports, model
load, decode, stylize, encode), and fps = frames / seconds, the frames counted in the output file.
Each row is also run on a 4-frame clip (``start s``, mostly start-up), and ``steady fps`` = the
extra frames / the extra seconds: the rate once running, which is what a long film sees (most of
vidstyle's start-up is importing PyTorch).
The peer lives in its own venv (created once with ``python -m venv`` + ``pip install`` and reused;
``--peer-venv`` or ``$VIDSTYLE_PEER_VENV``, default benchmarks/out/peer-venv), so it never touches
vidstyle's environment. Before the timed runs each tool stylizes a 4-frame clip once, untimed
(warms the page cache and the imports).

Threads: both tools get OMP_NUM_THREADS/MKL_NUM_THREADS = ``--threads`` (default: all CPUs this
process may use); torch honours it. The peer's CLI has no thread option and ONNX Runtime ignores
OMP_NUM_THREADS (its default is one thread per physical core), so with ``--threads`` below the CPU
count both tools are also pinned to that many CPUs with ``taskset``.

Peer style: its 26 styles have no names; style 19 is the Starry-Night-like one (deep blue with
yellow strokes, the closest to vidstyle's starry_night in ``styletransfer-lite sheet``; also the
one its README shows). It has nothing like composition_vii, and the style does not change its
speed anyway (one network for all 26, the style is an input weight vector).
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _cli_tools import die, find_vidstyle
from _results import write_result

PEER_SPEC = "styletransfer-lite[video]==0.1.0"
CLIP = "{clip}"  # stands for the input in a row's command
VIDSTYLE_STYLES = "starry_night_fast,starry_night_tiny,starry_night,composition_vii"  # fast, tiny, light, full


def style_arch(name: str, flags: list[str], device: str) -> str:
    """The arch of the net ``stylize -s name`` runs (from the sidecars): on a CPU a style's CPU
    net unless ``--no-cpu-net`` is among ``flags``."""
    sys.path.insert(0, str(HERE.parent))
    from vidstyle.models.styles import cpu_twin, find_style
    from vidstyle.models.transformer import Arch

    info = find_style(name)
    twin = cpu_twin(info) if device == "cpu" and "--no-cpu-net" not in flags else None
    meta = (twin or info).meta
    arch = Arch.from_dict(meta["arch"]).name if "arch" in meta else "?"
    return f"{twin.name}, {arch}" if twin else arch



def tail(text: str, n: int = 15) -> str:
    return "\n".join("    " + ln for ln in (text or "").strip().splitlines()[-n:])


def count_frames(path: Path) -> int:
    import av

    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


def bin_dir(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def ensure_peer_venv(venv: Path, spec: str) -> Path:
    """Create ``venv`` with ``spec`` installed (once; a stamp file records the spec). Returns its CLI."""
    cli = bin_dir(venv) / "styletransfer-lite"
    stamp = venv / ".bench-peer-spec"
    if cli.exists() and stamp.exists() and stamp.read_text().strip() == spec:
        return cli
    py = bin_dir(venv) / "python"
    if not py.exists():
        print(f"creating the peer's venv in {venv} ...", flush=True)
        try:
            venv.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            die(f"cannot create {venv.parent} for the peer's venv ({e}); pick another with --peer-venv")
        r = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
        if r.returncode != 0 or not py.exists():
            shutil.rmtree(venv, ignore_errors=True)
            die(f"could not create a venv with `{sys.executable} -m venv {venv}` (on Debian/Ubuntu: "
                f"apt install python3-venv):\n{tail(r.stderr or r.stdout)}")
    print(f"installing {spec} into {venv} (pip) ...", flush=True)
    r = subprocess.run([str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q", spec],
                       capture_output=True, text=True)
    if r.returncode != 0:
        die(f"`pip install {spec}` failed in {venv} (needs access to the package index):\n"
            f"{tail(r.stderr or r.stdout)}")
    r = subprocess.run([str(py), "-c", "import cv2, onnxruntime, styletransfer_lite"], capture_output=True, text=True)
    if r.returncode != 0 or not cli.exists():
        die(f"{spec} installed but does not import (or has no styletransfer-lite command) in {venv}:\n"
            f"{tail(r.stderr)}")
    stamp.write_text(spec + "\n")
    return cli


def peer_info(cli: Path) -> str:
    r = subprocess.run([str(cli), "info", "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        die(f"`{cli} info` failed:\n{tail(r.stderr or r.stdout)}")
    d = json.loads(r.stdout)
    return (f"styletransfer-lite {d['version']}, onnxruntime {d['onnxruntime']}, device {d['auto_device']}, "
            f"models {', '.join(d['models'])}")



def timed(cmd: list[str], env: dict, out: Path) -> tuple[float, int, str]:
    """Run ``cmd`` (writes ``out``); wall-clock seconds, frames in ``out``, stdout."""
    out.unlink(missing_ok=True)
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    secs = time.perf_counter() - t
    if r.returncode != 0:
        die(f"`{' '.join(cmd)}` exited with {r.returncode}:\n{tail(r.stderr or r.stdout)}")
    if not out.exists():
        die(f"`{' '.join(cmd)}` wrote no {out}")
    return secs, count_frames(out), r.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--styles", default=VIDSTYLE_STYLES, help=f"vidstyle styles to run (default {VIDSTYLE_STYLES})")
    ap.add_argument("--clip", default="city_pan_cc0.mpg",
                    help="clip in ../shared/data/video, scaled to 640x360 (sample: the bundled sample clip)")
    ap.add_argument("--threads", type=int, default=None, help="threads/CPUs for both tools (default: all)")
    ap.add_argument("--skip-peer", action="store_true", help="vidstyle rows only (no venv, no ratios)")
    ap.add_argument("--repeats", type=int, default=1, help="timed runs per row; the median is shown")
    ap.add_argument("--device", default="cpu", help="vidstyle's --device (the peer always runs on CPU)")
    ap.add_argument("--backends", default="auto",
                    help="comma-separated vidstyle --backend values, each a row per style (e.g. auto,onnx)")
    ap.add_argument("--precisions", default="fp32",
                    help="comma-separated vidstyle --precision values, each a row per style and backend (e.g. fp32,int8)")
    ap.add_argument("--peer-style", default="19", help="styletransfer-lite style index (default 19, Starry-Night-like)")
    ap.add_argument("--peer-smooth", type=float, default=0.8, help="extra peer row with --smooth (0: none)")
    ap.add_argument("--peer-venv", type=Path,
                    default=Path(os.environ.get("VIDSTYLE_PEER_VENV") or HERE / "out" / "peer-venv"),
                    help="the peer's venv, created if missing (default $VIDSTYLE_PEER_VENV or benchmarks/out/peer-venv)")
    ap.add_argument("--peer-spec", default=PEER_SPEC, help=f"what pip installs there (default {PEER_SPEC!r})")
    ap.add_argument("--no-warmup", action="store_true")
    ap.add_argument("--results", default="peer",
                    help="results name: benchmarks/results/NAME.json (peer.json is the README's table)")
    args = ap.parse_args()
    if args.frames < 0 or args.repeats < 1:
        die("--frames must be >= 0 and --repeats >= 1")

    try:
        from _clips import SHARED_VIDEO, real_clip
    except ImportError as e:
        die(f"{e.name or e} is not importable: run this with vidstyle's environment (PyAV, numpy)")
    vidstyle = find_vidstyle()

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
    threads = args.threads or len(cpus)
    if threads < 1:
        die("--threads must be >= 1")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), PYTHONWARNINGS="ignore")
    env.pop("VIRTUAL_ENV", None)
    pin: list[str] = []
    if threads < len(cpus):
        if shutil.which("taskset"):
            pin = ["taskset", "-c", ",".join(str(c) for c in cpus[:threads])]
        else:
            print(f"warning: no taskset: the peer's ONNX Runtime may use more than {threads} threads")

    names = [c.strip() for c in args.clip.split(",") if c.strip()]
    if names == ["held-out"]:
        names = sorted(p.name for p in SHARED_VIDEO.iterdir()) if SHARED_VIDEO.is_dir() else ["sample"]
    clips: list[tuple[Path, Path]] = []  # (clip, its 4-frame start)
    for name in names:
        if name != "sample" and not (SHARED_VIDEO / name).exists():
            if SHARED_VIDEO.is_dir():
                die(f"no clip {name} in {SHARED_VIDEO} (there: {', '.join(sorted(p.name for p in SHARED_VIDEO.iterdir()))})")
            print(f"note: {SHARED_VIDEO} is absent: using the bundled sample clip instead of {name}")
        try:  # --frames 0: the whole clip, once
            clip = real_clip(name, 640, 360, args.frames or 10**6, loop=args.frames > 0)
            clips.append((clip, real_clip(name, 640, 360, 4)))
        except Exception as e:  # noqa: BLE001 - any failure ends the benchmark with one line
            die(f"could not make the 640x360 clip from {name}: {e}")
    clip_frames = {c: count_frames(c) for c, _ in clips}

    cli = None
    if not args.skip_peer:
        cli = ensure_peer_venv(args.peer_venv.resolve(), args.peer_spec)

    tmp = Path(tempfile.mkdtemp(prefix="vidstyle-bench-peer-"))
    atexit.register(shutil.rmtree, tmp, True)  # also on error exits
    rows = []  # (tool, style/arch, consistency, key, cmd, out)
    if cli is not None:
        base = [*pin, str(cli), "video", CLIP, "-s", args.peer_style, "--device", "cpu", "--json"]
        rows.append(("styletransfer-lite", f"style {args.peer_style}", "none (per frame)", "peer",
                     [*base, "-o", str(tmp / "peer.mp4")], tmp / "peer.mp4"))
        if args.peer_smooth:
            rows.append(("styletransfer-lite", f"style {args.peer_style}", f"--smooth {args.peer_smooth:g}", "peer-smooth",
                         [*base, "--smooth", str(args.peer_smooth), "-o", str(tmp / "peer_smooth.mp4")],
                         tmp / "peer_smooth.mp4"))
    # an entry may carry stylize options after the name: "starry_night --no-cpu-net"
    runs = [(e.split()[0], e.split()[1:], style_arch(e.split()[0], e.split()[1:], args.device))
            for e in args.styles.split(",") if e.strip()]
    backends = [b for b in args.backends.split(",") if b]
    precisions = [p for p in args.precisions.split(",") if p]
    for style, flags, arch in runs:
        tag = "".join(f.strip("-").replace("-", "_") for f in flags)
        name = style + (" " + " ".join(flags) if flags else "")
        for backend in backends:
            for precision in precisions:
                for cons in ("off", "default"):
                    key = f"{style}{'-' + tag if tag else ''}-{backend}-{precision}-{cons}"
                    out = tmp / f"{key}.mp4"
                    extra = (", " + backend if len(backends) > 1 else "") + (", " + precision if precision != "fp32" else "")
                    rows.append(("vidstyle", f"{name} ({arch}{extra})", cons, key,
                                 [*pin, vidstyle, "stylize", CLIP, "-s", style, *flags, "-o", str(out),
                                  "--consistency", cons, "--device", args.device, "--backend", backend,
                                  "--precision", precision, "--quiet", "--overwrite"], out))

    total_frames = sum(clip_frames.values())
    print(f"clips: {', '.join(f'{c.name} ({n} frames)' for c, n in clip_frames.items())}, 640x360, threads {threads}"
          f"{' (taskset -c ' + pin[2] + ')' if pin else ''}, vidstyle device {args.device}, backends {args.backends}, "
          f"repeats {args.repeats}")
    if cli is not None:
        print(f"peer: {peer_info(cli)}")

    def on(cmd: list[str], clip: Path) -> list[str]:
        return [str(clip) if a == CLIP else a for a in cmd]

    warm_clip = clips[0][1]
    if not args.no_warmup:
        if cli is not None:
            timed([*pin, str(cli), "video", str(warm_clip), "-s", args.peer_style, "--device", "cpu", "--json",
                   "-o", str(tmp / "warm_peer.mp4")], env, tmp / "warm_peer.mp4")
        for style, flags, _ in runs:
            for precision in precisions:  # int8: the one-time calibration happens here
                timed([*pin, vidstyle, "stylize", str(warm_clip), "-s", style, *flags, "-o", str(tmp / "warm.mp4"),
                       "--device", args.device, "--precision", precision, "--quiet", "--overwrite"], env, tmp / "warm.mp4")

    # per (row, clip): the seconds of each repeat, whole clip and 4-frame start
    secs: dict[tuple[str, Path], list[float]] = {(r[3], c): [] for r in rows for c, _ in clips}
    short_secs: dict[tuple[str, Path], list[float]] = {k: [] for k in secs}
    short_frames = count_frames(warm_clip)
    for _ in range(args.repeats):  # interleaved, so a slow spell on a shared machine hits every row
        for clip, short_clip in clips:
            for tool, _, _, key, cmd, out in rows:
                # the same command on the short clip: its time is mostly start-up (imports, model load)
                short_secs[key, clip].append(timed(on(cmd, short_clip), env, out)[0])
                s, n, stdout = timed(on(cmd, clip), env, out)
                if tool == "styletransfer-lite":
                    try:
                        reported = json.loads(stdout)["frames"]
                    except (ValueError, KeyError):
                        reported = n
                    if reported != n:
                        print(f"warning: the peer reports {reported} frames, its output has {n}")
                if n != clip_frames[clip]:
                    print(f"warning: {key}: {n} frames in the output, {clip.name} has {clip_frames[clip]}")
                secs[key, clip].append(s)

    keys = [r[3] for r in rows]
    med = {k: sum(statistics.median(secs[k, c]) for c, _ in clips) for k in keys}  # all clips, one command each
    start_total = {k: sum(statistics.median(short_secs[k, c]) for c, _ in clips) for k in keys}
    fps = {k: total_frames / med[k] for k in keys}
    start = {k: start_total[k] / len(clips) for k in keys}
    steady = {k: (total_frames - len(clips) * short_frames) / max(med[k] - start_total[k], 1e-6) for k in keys}
    frames = {k: total_frames for k in keys}
    ref = fps.get("peer")
    ref_s = fps.get("peer-smooth")
    print()
    label_w = max(26, *(len(r[1]) for r in rows))
    hdr = f"{'tool':<19} {'style / arch':<{label_w}} {'consistency':<17} {'seconds':>8} {'frames':>6} {'fps':>7}"
    if ref:
        hdr += f" {'x peer':>7}"
    if ref_s:
        hdr += f" {'x peer smooth':>13}"
    hdr += f" {'start s':>8} {'steady fps':>10}" + (f" {'x peer':>7}" if ref else "")
    print(hdr)
    print("-" * len(hdr))
    for tool, label, cons, key, _, _ in rows:
        line = (f"{tool:<19} {label:<{label_w}} {cons:<17} {med[key]:8.2f} {frames[key]:6d} "
                f"{fps[key]:7.2f}")
        if ref:
            line += f" {fps[key] / ref:6.2f}x"
        if ref_s:
            line += f" {fps[key] / ref_s:12.2f}x"
        line += f" {start[key]:8.2f} {steady[key]:10.2f}"
        if ref:
            line += f" {steady[key] / steady['peer']:6.2f}x"
        print(line)
    print("\nseconds: wall clock of the whole command (process start to exit: imports, model load, decode, "
          "stylize, encode);\nfps = output frames / seconds; x peer = fps / the peer's per-frame fps "
          "(x peer smooth: / its --smooth fps).")
    print(f"start s: the same command on a {short_frames}-frame clip (mostly start-up: interpreter, imports, "
          f"model load), mean over clips;\nsteady fps = (frames - {short_frames} per clip) / (seconds - start s per "
          "clip): the rate once running, what a long film sees.")
    print("vidstyle writes H.264 (libx264, preset medium, CRF 18) via PyAV; styletransfer-lite writes MPEG-4 Part 2 "
          "(mp4v) via OpenCV.")
    write_result(args.results, {
        "clip": ",".join(c.name for c, _ in clips), "clips": {c.name: n for c, n in clip_frames.items()},
        "frames": total_frames, "size": "640x360", "threads": threads, "repeats": args.repeats,
        "short_frames": short_frames, "peer": peer_info(cli) if cli is not None else None,
        "rows": [{"key": key, "tool": tool, "label": label, "consistency": cons,
                  "seconds": round(med[key], 3), "frames": frames[key],
                  "fps": round(fps[key], 3), "x_peer": round(fps[key] / ref, 3) if ref else None,
                  "x_peer_smooth": round(fps[key] / ref_s, 3) if ref_s else None,
                  "start_s": round(start[key], 3), "steady_fps": round(steady[key], 3),
                  "steady_x_peer": round(steady[key] / steady["peer"], 3) if ref else None}
                 for tool, label, cons, key, _, _ in rows],
    })


if __name__ == "__main__":
    main()
