"""End-to-end stylization fps: tiny, light and full nets vs. decode+encode alone (the ceiling).

    python benchmarks/bench_pipeline.py [--frames 120] [--device cpu|cuda] [--batch-size 4] [--size 640x360] [--backend auto]

Prints, for each arch: the net alone (fps), the whole pipeline (decode → stylize → encode, fps),
its ratio to the decode+encode ceiling, and the share of the end-to-end time per frame that
decoding + encoding alone would take. Weights are random: speed does not depend on them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _clips import real_clip
from _results import write_result

from vidstyle.io.reader import open_source
from vidstyle.io.writer import open_sink
from vidstyle.models.transformer import ARCHS, TransformerNet
from vidstyle.pipeline.runner import stylize_stream
from vidstyle.pipeline.backends import make_stylizer


class _Identity:
    device = torch.device("cpu")


def decode_encode_fps(clip: Path, out: Path) -> float:
    t = time.perf_counter()
    with open_source(str(clip)) as src, open_sink(str(out), src.info, overwrite=True) as sink:
        n = 0
        for f in src:
            sink.write(f)
            n += 1
    return n / (time.perf_counter() - t)


def net_fps(stylizer, h: int, w: int, batch: int, reps: int) -> float:
    x = torch.rand(batch, 3, h, w)
    stylizer(x)  # warm-up
    if stylizer.device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        stylizer(x)
    if stylizer.device.type == "cuda":
        torch.cuda.synchronize()
    return reps * batch / (time.perf_counter() - t)


def pipeline_fps(clip: Path, out: Path, stylizer, batch: int, consistency=None) -> float:
    with open_source(str(clip)) as src, open_sink(str(out), src.info, overwrite=True) as sink:
        stats = stylize_stream(src, sink, stylizer, batch_size=batch, quiet=True, consistency=consistency)
    return stats.fps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--archs", default="tiny,light,full")
    ap.add_argument("--backend", default="auto", choices=["auto", "torch", "onnx"], help="as stylize --backend")
    ap.add_argument("--size", default="640x360", help="WxH the clip is scaled to")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    clip = real_clip(width=w, height=h, frames=args.frames)
    tmp = Path(tempfile.mkdtemp(prefix="vidstyle-bench-"))
    print(f"clip: {clip.name} ({args.frames} frames, {w}x{h}), device {args.device}, backend {args.backend}, "
          f"torch threads {torch.get_num_threads()}")
    ceiling = decode_encode_fps(clip, tmp / "copy.mp4")
    print(f"{'decode+encode alone (ceiling)':<34} {ceiling:7.1f} fps")
    figures = {"frames": args.frames, "size": args.size, "device": args.device, "backend": args.backend,
               "batch_size": args.batch_size, "decode_encode_fps": ceiling, "archs": {}}
    for arch in args.archs.split(","):
        torch.manual_seed(0)
        st = make_stylizer(TransformerNet(ARCHS[arch]), args.device, args.backend, spinning=False)[0]
        nf = net_fps(st, h, w, args.batch_size, reps=max(1, 16 // args.batch_size))
        pf = pipeline_fps(clip, tmp / f"{arch}.mp4", st, args.batch_size)
        print(f"{arch + ' net alone':<34} {nf:7.1f} fps")
        figures["archs"][arch] = {"net_fps": nf, "end_to_end_fps": pf}
        print(
            f"{arch + ' end to end':<34} {pf:7.1f} fps   ({pf / ceiling:.2f}x of ceiling, {pf / nf:.2f}x of net alone; "
            f"decode+encode alone = {pf / ceiling:.0%} of its time per frame)"
        )
    write_result("pipeline", figures)


if __name__ == "__main__":
    main()
