"""Transform net alone: frames per second at several resolutions, per arch, as ``stylize`` runs it.

Uses ``vidstyle.pipeline.stylizer.Stylizer`` (CUDA: fp16 + channels_last + cuDNN autotuning;
CPU: fp32), random weights (speed does not depend on them), input already on the device.
``--compile`` adds a torch.compile'd variant for comparison.

    python benchmarks/bench_net.py --device cuda --sizes 640x360,1920x1080,3840x2160 --batch-size 1 4
    python benchmarks/bench_net.py --device cpu --sizes 640x360 --archs light
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import write_result
from vidstyle.models.transformer import ARCHS, TransformerNet
from vidstyle.pipeline.stylizer import Stylizer


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def fps(run, x: torch.Tensor, device: torch.device, seconds: float) -> float:
    """Frames per second of ``run(x)`` over about ``seconds`` (after two warm-up calls)."""
    run(x)
    run(x)
    _sync(device)
    n, t0 = 0, time.perf_counter()
    while True:
        run(x)
        n += 1
        if n % 4 == 0:
            _sync(device)
            if time.perf_counter() - t0 >= seconds:
                break
    _sync(device)
    return n * x.shape[0] / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--sizes", default="640x360,1920x1080,3840x2160")
    ap.add_argument("--archs", default="full,light")
    ap.add_argument("--batch-size", type=int, nargs="+", default=[1])
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--compile", action="store_true", help="also time torch.compile(net)")
    ap.add_argument("--compile-mode", default=None, help="torch.compile mode, e.g. max-autotune-no-cudagraphs")
    args = ap.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; torch {torch.__version__}")
    print(f"{'arch':6} {'size':>10} {'batch':>5} {'variant':>8} {'fps':>8} {'ms/frame':>9}")
    rows = []
    for arch in args.archs.split(","):
        torch.manual_seed(0)
        st = Stylizer(TransformerNet(ARCHS[arch]), device)
        variants = {"eager": st}
        if args.compile:
            cst = Stylizer(TransformerNet(ARCHS[arch]), device)
            cst.net = torch.compile(cst.net, dynamic=False, mode=args.compile_mode)
            variants["compile"] = cst
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            for b in args.batch_size:
                x = torch.rand(b, 3, h, w, device=device)
                for vname, run in variants.items():
                    try:
                        f = fps(run, x, device, args.seconds)
                    except torch.OutOfMemoryError:
                        print(f"{arch:6} {size:>10} {b:5d} {vname:>8}   out of memory")
                        torch.cuda.empty_cache()
                        continue
                    print(f"{arch:6} {size:>10} {b:5d} {vname:>8} {f:8.1f} {1000 / f:9.2f}", flush=True)
                    rows.append({"arch": arch, "size": size, "batch": b, "variant": vname, "fps": f, "ms_per_frame": 1000 / f})
                del x
    write_result("net", {"device": name, "torch": torch.__version__, "rows": rows})


if __name__ == "__main__":
    main()
