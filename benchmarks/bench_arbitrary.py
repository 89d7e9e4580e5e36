"""Per-frame time of the arbitrary-style net (PyTorch, CPU), encoder and decoder separately.

    python benchmarks/bench_arbitrary.py [--size 640x360] [--threads 2] [--repeats 5] [--decoder FILE]

Stylizes one frame ``--repeats`` times after a warm-up run, with a style image from
../shared/data/styles (statistics taken once, as a stylize run does), and prints the median
milliseconds for the whole net, the VGG encoder alone and the decoder alone; writes
``benchmarks/results/arbitrary_speed.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_result

from vidstyle.models import arbitrary as A

DATA = next((p / "shared" / "data" for p in Path(__file__).resolve().parents if (p / "shared" / "data").is_dir()),
            Path("../shared/data"))


def median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="640x360", help="WxH")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--decoder", default=None)
    ap.add_argument("--style", default=str(DATA / "styles" / "van_gogh_starry_night.jpg"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    w, h = (int(v) for v in args.size.lower().split("x"))
    net = A.build_style_net([args.style], decoder=args.decoder)
    x = torch.rand(1, 3, h, w)
    with torch.inference_mode():
        feat = net.encoder(x)[A.BOTTLENECK]
        whole = median_ms(lambda: net(x), args.repeats)
        enc = median_ms(lambda: net.encoder(x), args.repeats)
        dec = median_ms(lambda: net.decoder(net.adain(feat)), args.repeats)
    print(f"{w}x{h}, {args.threads} threads, median of {args.repeats}: net {whole:.0f} ms "
          f"(encoder {enc:.0f} ms, decoder {dec:.0f} ms; decoder width {net.decoder.width})")
    write_result("arbitrary_speed", {"size": [w, h], "threads": args.threads, "repeats": args.repeats,
                                     "net_ms": round(whole, 1), "encoder_ms": round(enc, 1), "decoder_ms": round(dec, 1),
                                     "decoder_width": net.decoder.width})


if __name__ == "__main__":
    main()
