"""CPU inference backends for the style nets, one 640x360 frame at a time, real shipped weights.

    python benchmarks/bench_cpu_backends.py --styles starry_night,composition_vii --size 640x360 --threads 2

Variants (every one is called like ``Stylizer``: ``[1,3,H,W]`` in [0,1] -> clamped output):

* ``eager``     ``vidstyle.pipeline.stylizer.Stylizer`` as ``stylize --backend torch`` runs it on CPU (fp32, inference_mode)
* ``eager_cl``  the same with channels_last weights and input
* ``jit``       ``torch.jit.trace`` + ``torch.jit.freeze`` (folds weights, oneDNN conv fusion)
* ``jit_ofi``   ``torch.jit.optimize_for_inference`` (freeze + MKLDNN layout conversion)
* ``compile``   ``torch.compile(dynamic=False)`` (inductor C++ codegen; ``--no-compile`` skips it)
* ``ort``       ``vidstyle.pipeline.ort_stylizer.OrtStylizer``: exported with ``torch.onnx.export``
                (opset 17, dynamic batch/H/W), ONNX Runtime CPUExecutionProvider, ORT_ENABLE_ALL,
                intra-op threads = ``--threads``, idle threads spinning
* ``ort_nospin`` the same with ``session.intra_op.allow_spinning=0`` (what ``--backend onnx`` runs in ``stylize`` and ``live``)
* ``openvino``  ``vidstyle.pipeline.openvino_stylizer.OpenVinoStylizer``: the same exported model compiled by
                OpenVINO's CPU plugin (fp32, ``--threads`` threads, one stream, latency hint; what
                ``--backend auto`` runs on CPU when OpenVINO is installed)
* ``ort_int8``, ``openvino_int8``  the same engines on the int8 quantized export (``--precision int8``,
                ``vidstyle.models.int8``; the setup time includes the one-time calibration unless cached)

Timing: all variants are warmed up, then timed in interleaved rounds (``--rounds`` x ``--iters``
calls each), so background load hits every variant alike. Printed per variant: median and best
wall ms/frame, fps from the median, speed-up vs ``eager`` (medians), CPU ms/frame (process CPU
time per call: with ``--threads 1`` it does not depend on other processes' load), the max
abs difference from ``eager`` of the clamped output in [0,1] on a real video frame and its PSNR
against ``eager`` (dB; inf when identical).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _results import write_result
from vidstyle.models.styles import load_style
from vidstyle.pipeline.stylizer import Stylizer
from vidstyle.ops.tensors import pad_to_multiple


def real_frame(width: int, height: int) -> torch.Tensor:
    """Frame 30 of the bundled sample clip (or the shared city clip) scaled to ``width x height``."""
    import av

    for src in (REPO.parent / "shared" / "data" / "video" / "city_pan_cc0.mpg", REPO / "vidstyle" / "samples" / "city_pan.mp4"):
        if src.exists():
            with av.open(str(src)) as c:
                for i, f in enumerate(c.decode(video=0)):
                    img = f.to_ndarray(format="rgb24", width=width, height=height)
                    if i >= 30:
                        break
            return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float() / 255
    return torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0))


class Scripted:
    """A traced/compiled module called like ``Stylizer`` (pad, run, crop, clamp)."""

    def __init__(self, module, stride: int = 4) -> None:
        self.module, self.stride = module, stride

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        xp, (h, w) = pad_to_multiple(x, self.stride)
        return self.module(xp)[..., :h, :w].clamp(0, 1).contiguous()


def make_variants(net, x: torch.Tensor, args) -> tuple[dict, dict]:
    """Name -> callable, and name -> setup seconds (export/trace/compile + first call)."""
    variants, setup = {}, {}

    def add(name, build):
        t = time.perf_counter()
        try:
            fn = build()
            fn(x)
        except Exception as e:  # noqa: BLE001 - report and go on with the other variants
            print(f"  {name}: failed ({type(e).__name__}: {str(e).splitlines()[0][:120]})", flush=True)
            return
        setup[name] = time.perf_counter() - t
        variants[name] = fn

    xp, _ = pad_to_multiple(x, 4)
    add("eager", lambda: Stylizer(net, "cpu"))
    add("eager_cl", lambda: Stylizer(net, "cpu", channels_last=True))

    def jit(ofi: bool):
        with torch.inference_mode(False), torch.no_grad():
            traced = torch.jit.trace(net, xp, check_trace=False)
            return Scripted(torch.jit.optimize_for_inference(traced) if ofi else torch.jit.freeze(traced.eval()), net.stride)

    add("jit", lambda: jit(False))
    add("jit_ofi", lambda: jit(True))
    if args.compile:
        add("compile", lambda: Scripted(torch.compile(net, dynamic=False), net.stride))
    from vidstyle.pipeline.ort_stylizer import OrtStylizer, ort_available

    if ort_available():
        add("ort", lambda: OrtStylizer(net, threads=args.threads, spinning=True))
        add("ort_nospin", lambda: OrtStylizer(net, threads=args.threads, spinning=False))
        add("ort_int8", lambda: OrtStylizer(net, threads=args.threads, spinning=False, precision="int8"))
    else:
        print("  onnxruntime not installed: pip install onnx onnxruntime", flush=True)
    from vidstyle.pipeline.openvino_stylizer import OpenVinoStylizer, openvino_available

    if openvino_available():
        add("openvino", lambda: OpenVinoStylizer(net, threads=args.threads))
        add("openvino_int8", lambda: OpenVinoStylizer(net, threads=args.threads, precision="int8"))
    else:
        print("  openvino not installed: pip install openvino", flush=True)
    return variants, setup


def time_variants(variants: dict, x: torch.Tensor, rounds: int, iters: int) -> dict:
    wall = {k: [] for k in variants}
    cpu = {k: [] for k in variants}
    for fn in variants.values():  # second warm-up (first calls were in make_variants)
        fn(x)
    for _ in range(rounds):
        for name, fn in variants.items():
            for _ in range(iters):
                c0, t0 = time.process_time(), time.perf_counter()
                fn(x)
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
    return {k: (wall[k], cpu[k]) for k in variants}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--styles", default="starry_night,composition_vii", help="comma-separated styles (names or .safetensors)")
    ap.add_argument("--size", default="640x360", help="WxH")
    ap.add_argument("--threads", type=int, default=2, help="torch threads and ONNX Runtime intra-op threads")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=3, help="calls per variant per round")
    ap.add_argument("--no-compile", dest="compile", action="store_false", help="skip torch.compile")
    ap.add_argument("--only", default=None, help="comma-separated variant names to keep (eager is always kept)")
    args = ap.parse_args()

    warnings.filterwarnings("ignore", category=FutureWarning)  # torch.jit.* deprecation notices
    torch.set_num_threads(args.threads)
    w, h = (int(v) for v in args.size.split("x"))
    x = real_frame(w, h)
    import platform

    try:
        import onnxruntime

        ort_v = onnxruntime.__version__
    except ImportError:
        ort_v = "not installed"
    try:
        import openvino

        ov_v = openvino.__version__
    except ImportError:
        ov_v = "not installed"
    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores; threads {args.threads}; "
          f"torch {torch.__version__}; onnxruntime {ort_v}; openvino {ov_v}; load average at start {os.getloadavg()[0]:.2f}")
    figures = {"size": args.size, "threads": args.threads, "torch": torch.__version__, "onnxruntime": ort_v,
               "openvino": ov_v, "styles": {}}
    for spec in args.styles.split(","):
        net, info = load_style(spec, "cpu")
        print(f"\n{info.name} ({info.arch_name}) at {w}x{h}, batch 1", flush=True)
        variants, setup = make_variants(net, x, args)
        if args.only:
            keep = {"eager", *args.only.split(",")}
            variants = {k: v for k, v in variants.items() if k in keep}
        ref = variants["eager"](x)
        outs = {k: fn(x) for k, fn in variants.items()}
        diffs = {k: float((y - ref).abs().max()) for k, y in outs.items()}
        psnr = {k: float(-10 * torch.log10(((y - ref) ** 2).mean().clamp_min(1e-12))) if diffs[k] > 0 else float("inf")
                for k, y in outs.items()}
        res = time_variants(variants, x, args.rounds, args.iters)
        base = statistics.median(res["eager"][0])
        print(f"{'variant':<13} {'ms/frame':>9} {'best ms':>8} {'fps':>6} {'speed-up':>8} {'CPU ms':>7} {'max|diff|':>10} {'PSNR dB':>8} {'setup s':>8}")
        for name, (wt, ct) in res.items():
            med = statistics.median(wt)
            print(f"{name:<13} {med * 1e3:9.1f} {min(wt) * 1e3:8.1f} {1 / med:6.2f} {base / med:7.2f}x "
                  f"{statistics.median(ct) * 1e3:7.1f} {diffs[name]:10.2e} {psnr[name]:8.1f} {setup[name]:8.1f}", flush=True)
        figures["styles"][info.name] = {"arch": info.arch_name, "variants": {
            name: {"ms": statistics.median(wt) * 1e3, "best_ms": min(wt) * 1e3, "cpu_ms": statistics.median(ct) * 1e3,
                   "speedup_vs_eager": base / statistics.median(wt), "max_diff": diffs[name],
                   "psnr_db": None if psnr[name] == float("inf") else psnr[name], "setup_s": setup[name]}
            for name, (wt, ct) in res.items()}}
    print(f"\nload average at end {os.getloadavg()[0]:.2f} (1 min; {os.cpu_count()} logical cores)")
    write_result("cpu_backends", figures)


if __name__ == "__main__":
    main()
