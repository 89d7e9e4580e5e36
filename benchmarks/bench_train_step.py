"""Seconds per training step for each arch (perceptual + temporal losses, VGG16 to relu4_3).

Runs a few warm-up steps, then times ``--steps`` steps of the real ``training_step`` + optimizer on
random content, for the full and the light arch. Needs VGG16 weights (see ``vidstyle.models.vgg``).

    python benchmarks/bench_train_step.py --device cpu --batch-size 4 --size 256
    python benchmarks/bench_train_step.py --device cuda --batch-size 4 8
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import write_result
from vidstyle.models.transformer import TransformerNet
from vidstyle.models.vgg import load_vgg16_features
from vidstyle.training.trainer import MARGIN, TrainConfig, step_generators, style_grams, training_step


def time_steps(arch: str, batch: int, size: int, steps: int, device: torch.device, vgg) -> float:
    """Mean seconds per optimizer step (after 3 warm-up steps)."""
    torch.manual_seed(0)
    net = TransformerNet(arch).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    cfg = TrainConfig(style_image="", content_dir="", out="", arch=arch, size=size, batch_size=batch, device=str(device))
    grams = style_grams(vgg, torch.rand(1, 3, 384, 384, device=device))
    amp = device.type == "cuda"
    images = torch.rand(batch, 3, size + 2 * MARGIN, size + 2 * MARGIN)

    def one(step: int) -> None:
        _, g = step_generators(0, step)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss, _ = training_step(net, vgg, grams, images, cfg, g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for i in range(3):
        one(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for i in range(steps):
        one(3 + i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch-size", type=int, nargs="+", default=[4])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--arch", nargs="+", default=["full", "light"])
    args = ap.parse_args()
    device = torch.device(args.device)
    vgg = load_vgg16_features(allow_download=False).to(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; VGG16 from {vgg.source}; crop {args.size}px; {args.steps} timed steps")
    print(f"{'arch':6} {'batch':>5} {'s/step':>8} {'images/s':>9}")
    rows = []
    for arch in args.arch:
        for b in args.batch_size:
            s = time_steps(arch, b, args.size, args.steps, device, vgg)
            print(f"{arch:6} {b:5d} {s:8.3f} {b / s:9.1f}", flush=True)
            rows.append({"arch": arch, "batch": b, "s_per_step": s, "images_per_s": b / s})
    write_result("train_step", {"device": name, "size": args.size, "steps": args.steps, "rows": rows})


if __name__ == "__main__":
    main()
