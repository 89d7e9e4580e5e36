"""Temporal consistency on real clips: E_warp, sharpness, style loss and time per setting.

    python benchmarks/bench_consistency.py -s starry_night [--frames 60] [--clips city_pan_cc0.mpg,vtest.avi,tree.avi]
        [--settings off,default,fine] [--repeats 3]

For each clip (scaled to 640x360) and each setting (per-frame = consistency off, light, default,
strong, fine) it stylizes the clip losslessly (FFV1), then prints short-term (k=1) and long-term (k=5)
E_warp (Lai et al. 2018, DIS flow on the input), their ratios to per-frame and to the input's own
E_warp, sharpness (mean gradient magnitude) and style loss (relative Gram error at VGG relu1_2..
relu4_3, when VGG16 weights are available) relative to per-frame, and seconds per frame, wall clock
and process CPU time (all threads), each also relative to per-frame (the net runs as `stylize
--device cpu` runs it: OpenVINO when installed, else ONNX Runtime).
It also writes benchmarks/out/strip_<clip>.png: 6 consecutive frames per setting, one row each.
``--compare-net W.safetensors`` adds rows ``nt:off`` / ``nt:default`` for a second net (e.g.
benchmarks/weights/starry_night_notemporal.safetensors: the same style trained without the temporal
losses), all ratios still against the main net's per-frame output; ``--compare-label tiny`` names
the rows otherwise (e.g. ``--compare-net starry_night_tiny``: the distilled tiny net against its
light teacher). ``--int8`` adds rows ``int8:off`` / ``int8:default``: the main net at ``--precision
int8`` (does quantization add flicker, blur or style error?); ``--compare-int8`` the same for the
second net. ``--results NAME`` writes benchmarks/results/NAME.json instead of consistency.json
(which the README's consistency figure reads).
Targets: default short <= 0.3x per-frame and <= 2x input; long <= 0.5x per-frame;
sharpness >= 0.85x per-frame; DIS consistency adds <= 30% CPU time per frame.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _clips import real_clip
from _results import write_result
from _style_loss import make_style_loss

from vidstyle.consistency.temporal import DIS_GD_ITERATIONS, DIS_PATCH_STRIDE, make_consistency
from vidstyle.flow import get_flow
from vidstyle.io.reader import open_source
from vidstyle.io.writer import open_sink
from vidstyle.metrics.warping_error import warping_error
from vidstyle.models.styles import find_style, load_style
from vidstyle.pipeline.runner import stylize_stream
from vidstyle.pipeline.backends import make_stylizer
from vidstyle.pipeline.exported_stylizer import opencv_threads, threads_beside, torch_threads
from vidstyle.training.data import to_tensor

SETTINGS = ("off", "light", "default", "strong", "fine")
OUT = Path(__file__).resolve().parent / "out"
CORES = torch.get_num_threads()


def style_losses(path: Path, loss, every: int = 10) -> float | None:
    """Mean style loss (``loss``: a ``_style_loss.StyleLoss`` or None) of every ``every``-th frame
    from frame ``every`` on (frame 0 is the fresh stylization in every setting, so it would pull
    the ratios toward 1; on the city pan the loss of the consistent output climbs over the first
    ~16 frames and then stays)."""
    if loss is None:
        return None
    with open_source(str(path)) as src:
        return float(np.mean([loss(to_tensor(f.image)) for i, f in enumerate(src) if i % every == 0 and i > 0]))


def make_cpu_stylizer(net, precision: str = "fp32"):
    """The net's stylizer as `stylize --device cpu --precision P` makes it, warmed up."""
    stylizer = make_stylizer(net, "cpu", "auto", precision=precision, spinning=False)[0]
    stylizer(torch.rand(1, 3, 64, 64))  # engine warm-up outside the timed part
    return stylizer


def run_setting(clip: Path, out: Path, stylizer, setting: str, flow) -> tuple[float, float]:
    """Stylize ``clip`` into ``out``; (wall seconds, process CPU seconds) per frame."""
    cons = make_consistency(setting, flow) if setting != "off" else None
    side = threads_beside(stylizer, CORES)  # PyTorch and OpenCV beside the net, as `stylize` sets them
    with torch_threads(side), opencv_threads(side), open_source(str(clip)) as src, open_sink(str(out), src.info, codec="ffv1", overwrite=True) as sink:
        t, c = time.perf_counter(), time.process_time()
        stats = stylize_stream(src, sink, stylizer, consistency=cons, batch_size=1, quiet=True)
    n = max(stats.frames, 1)
    return (time.perf_counter() - t) / n, (time.process_time() - c) / n


def strip(paths: list[Path], start: int, n: int = 6, w: int = 256) -> np.ndarray:
    rows = []
    for p in paths:
        with open_source(str(p)) as src:
            frames = [f.image for i, f in enumerate(src) if start <= i < start + n]
        h = round(frames[0].shape[0] * w / frames[0].shape[1])
        rows.append(np.concatenate([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in frames], 1))
    return np.concatenate(rows, 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-s", "--style", default="starry_night")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--clips", default="city_pan_cc0.mpg,vtest.avi,tree.avi")
    ap.add_argument("--settings", default=",".join(SETTINGS))
    ap.add_argument("--compare-net", default=None, help="a second style net (name or .safetensors) to compare")
    ap.add_argument("--compare-label", default="nt", help="row prefix for --compare-net (nt: no temporal loss)")
    ap.add_argument("--int8", action="store_true", help="add rows for the main net at --precision int8")
    ap.add_argument("--compare-int8", action="store_true", help="add rows for --compare-net at --precision int8")
    ap.add_argument("--results", default="consistency",
                    help="name of the results file in benchmarks/results/ (default consistency: the README figure)")
    ap.add_argument("--repeats", type=int, default=1, help="timed runs per setting (interleaved; medians shown)")
    ap.add_argument("--dis-preset", default=None, choices=["ultrafast", "fast", "medium"],
                    help="DIS preset of the consistency flow (E_warp keeps the default; live uses fast)")
    ap.add_argument("--dis-stride", type=int, default=DIS_PATCH_STRIDE,
                    help=f"DIS patch stride of the consistency flow (default {DIS_PATCH_STRIDE}, as stylize; E_warp keeps 3)")
    args = ap.parse_args()
    settings = args.settings.split(",")
    info = find_style(args.style)
    net, _ = load_style(info)
    nets = {s: (net, s, "fp32") for s in settings}
    if args.compare_net:
        other, _ = load_style(find_style(args.compare_net))
        extra = [f"{args.compare_label}:{s}" for s in ("off", "default")]
        for row, s in zip(extra, ("off", "default")):
            nets[row] = (other, s, "fp32")
        settings = settings + extra
        if args.compare_int8:
            extra = [f"{args.compare_label}-int8:{s}" for s in ("off", "default")]
            for row, s in zip(extra, ("off", "default")):
                nets[row] = (other, s, "int8")
            settings = settings + extra
    if args.int8:
        extra = [f"int8:{s}" for s in ("off", "default")]
        for row, s in zip(extra, ("off", "default")):
            nets[row] = (net, s, "int8")
        settings = settings + extra
    loss = make_style_loss(info)
    flow, msg = get_flow("auto")
    # the consistency step's flow as `stylize` builds it (fewer DIS iterations than E_warp's flow)
    cons_flow, cons_msg = get_flow("auto" if args.dis_preset is None else "dis", dis_preset=args.dis_preset,
                                   dis_gd_iterations=DIS_GD_ITERATIONS, dis_patch_stride=args.dis_stride)
    msg = f"E_warp {msg}; consistency {cons_msg}"
    print(f"style {info.name} ({info.arch_name}); {msg}; torch threads {torch.get_num_threads()}")
    OUT.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="vidstyle-cons-"))
    stylizers = {(id(n), p): make_cpu_stylizer(n, p) for n, _, p in nets.values()}  # one engine per net
    figures = {"style": info.name, "arch": info.arch_name, "frames": args.frames, "repeats": args.repeats,
               "flow": msg, "clips": {}}
    for name in args.clips.split(","):
        clip = real_clip(name, frames=args.frames, loop=False)
        outs = {s: tmp / f"{Path(name).stem}_{s.replace(':', '_')}.mkv" for s in settings}
        runs = {s: [] for s in settings}
        for _ in range(args.repeats):  # interleaved, so a slow spell on a shared machine hits every setting
            for s in settings:
                runs[s].append(run_setting(clip, outs[s], stylizers[(id(nets[s][0]), nets[s][2])], nets[s][1], cons_flow))
        secs = {s: statistics.median(t[0] for t in v) for s, v in runs.items()}
        cpu = {s: statistics.median(t[1] for t in v) for s, v in runs.items()}
        with open_source(str(clip)) as inp:
            srcs = [open_source(str(outs[s])) for s in settings]
            res = warping_error(inp, srcs, flow, long_k=5)
            for s in srcs:
                s.close()
        res = dict(zip(settings, res))
        sl = {s: style_losses(outs[s], loss) for s in settings}
        base = res.get("off")
        print(f"\n{name} ({res[settings[0]]['frames']} frames at {res[settings[0]]['size']}): input E_warp short {res[settings[0]]['input_short']:.5f}, long {res[settings[0]]['input_long']:.5f}")
        print(f"{'setting':<9} {'short':>8} {'xperfr':>7} {'xinput':>7} {'long':>8} {'xperfr':>7} {'sharp':>7} {'xperfr':>7} {'style':>7} {'xperfr':>7} {'s/frame':>8} {'xperfr':>7} {'cpu s/fr':>8} {'xperfr':>7}")
        for s in settings:
            r = res[s]
            rel = lambda k: r[k] / base[k] if base else float("nan")  # noqa: E731 - a one-line local helper
            st = f"{sl[s]:7.3f} {sl[s] / sl['off']:7.2f}" if sl[s] is not None and sl.get("off") else f"{'-':>7} {'-':>7}"
            print(f"{s:<9} {r['short']:8.5f} {rel('short'):7.2f} {r['ratio_short']:7.2f} {r['long']:8.5f} {rel('long'):7.2f} "
                  f"{r['sharpness']:7.4f} {rel('sharpness'):7.2f} {st} {secs[s]:8.3f} {secs[s] / secs.get('off', secs[s]):7.2f} "
                  f"{cpu[s]:8.3f} {cpu[s] / cpu.get('off', cpu[s]):7.2f}")
        figures["clips"][name] = {
            "size": list(res[settings[0]]["size"]), "frames": res[settings[0]]["frames"],
            "input_short": res[settings[0]]["input_short"], "input_long": res[settings[0]]["input_long"],
            "settings": {s: {"short": res[s]["short"], "long": res[s]["long"], "x_input_short": res[s]["ratio_short"],
                             "sharpness": res[s]["sharpness"], "style_loss": sl[s],
                             "wall_s_per_frame": secs[s], "cpu_s_per_frame": cpu[s]} for s in settings},
        }
        start = max(0, res[settings[0]]["frames"] // 2 - 3)
        img = strip([clip] + [outs[s] for s in settings], start)
        cv2.imwrite(str(OUT / f"strip_{Path(name).stem}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        print(f"strip (rows: input, {', '.join(settings)}; frames {start}..{start + 5}): {OUT / ('strip_' + Path(name).stem + '.png')}")
    write_result(args.results, figures)


if __name__ == "__main__":
    main()
