"""Measure ``--strength``: plain linear RGB blending vs the contrast-preserving blend.

For strengths 0, 0.1, ..., 1 and a few real photos, prints VGG-free proxies of how "alive" the
blend looks: contrast (std of BT.709 luma), saturation (std of chroma, sqrt(var U + var V)), and
the distance from the content (mean |out - content|), plus evenness summaries:

* ``dip``: the worst ratio metric(s) / straight line between metric(0) and metric(1) (1.0 = no
  fading; the linear blend of unrelated images dips towards grey in the middle);
* ``lin``: max deviation of the content distance from a straight line in s, as a fraction of the
  full distance (0 = perfectly even steps).

Stylized images: the trained net at ``--weights`` (a ``.safetensors`` style, or a trainer checkpoint
``*.ckpt.pt`` read with ``weights_only=True``), and, as the hardest case, an unrelated painting
from ``--styles`` resized to the photo (what a strongly restyling net approaches).

    python benchmarks/strength_blend.py [--weights runs/starry_night.ckpt.pt] [--n 4]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from _results import write_result
from vidstyle.models.transformer import TransformerNet
from vidstyle.ops.blend import blend_strength, linear_blend
from vidstyle.ops.color import rgb_to_yuv
from vidstyle.pipeline.stylizer import Stylizer

STEPS = [i / 10 for i in range(11)]


def load_image(path: str, width: int) -> torch.Tensor:
    img = cv2.imread(path, cv2.IMREAD_COLOR)[:, :, ::-1]
    h = int(round(img.shape[0] * width / img.shape[1]))
    img = cv2.resize(img, (width, h), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float() / 255


def load_net(path: str | None):
    if not path or not os.path.exists(path):
        return None, "none"
    if path.endswith(".ckpt.pt"):
        state = torch.load(path, map_location="cpu", weights_only=True)
        cfg = json.loads(state["config"]) if isinstance(state.get("config"), str) else state.get("config", {})
        net = TransformerNet(cfg.get("arch", "full"))
        net.load_state_dict(state["model"])
        return net.eval(), f"{os.path.basename(path)} (step {state.get('step')})"
    from vidstyle.models.styles import load_style

    net, info = load_style(path)
    return net, info.name


def metrics(x: torch.Tensor, content: torch.Tensor) -> tuple[float, float, float]:
    yuv = rgb_to_yuv(x)
    contrast = yuv[:, 0].std().item()
    sat = (yuv[:, 1].var() + yuv[:, 2].var()).sqrt().item()
    dist = (x - content).abs().mean().item()
    return contrast, sat, dist


def curve(content, styled, fn) -> np.ndarray:
    return np.array([metrics(fn(content, styled, s), content) for s in STEPS])  # [11, 3]


def summary(m: np.ndarray) -> dict:
    s = np.array(STEPS)
    out = {}
    for j, name in enumerate(("contrast", "saturation")):
        line = m[0, j] + (m[-1, j] - m[0, j]) * s
        out[f"{name}_dip"] = float((m[:, j] / line).min())
    d = m[:, 2]
    out["lin"] = float(np.abs(d - d[-1] * s).max() / max(d[-1], 1e-9))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    shared = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
    ap.add_argument("--weights", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "weights", "starry_night.safetensors"),
                    help="a .safetensors style or a trainer checkpoint (*.ckpt.pt)")
    ap.add_argument("--content", default=os.path.join(shared, "content"))
    ap.add_argument("--styles", default=os.path.join(shared, "styles"))
    ap.add_argument("--n", type=int, default=4, help="number of photos")
    ap.add_argument("--width", type=int, default=320)
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    photos = sorted(glob.glob(os.path.join(args.content, "*.jpg")))[:: max(1, 185 // max(args.n, 1))][: args.n]
    paintings = sorted(glob.glob(os.path.join(args.styles, "*.jpg")))
    net, net_name = load_net(args.weights)
    stylizer = Stylizer(net, "cpu") if net is not None else None
    cases = {}
    for i, p in enumerate(photos):
        c = load_image(p, args.width)
        if stylizer is not None:
            cases.setdefault(f"net {net_name}", []).append((c, stylizer(c)))
        if paintings:
            art = load_image(paintings[i % len(paintings)], args.width)
            art = torch.nn.functional.interpolate(art, size=c.shape[-2:], mode="bilinear", align_corners=False)
            cases.setdefault("unrelated painting", []).append((c, art.clamp(0, 1)))
    print(f"{len(photos)} photos at {args.width} px wide; strengths {STEPS[0]}..{STEPS[-1]} step 0.1")
    figures = {"photos": len(photos), "width": args.width, "strengths": list(STEPS), "cases": {}}
    for case, pairs in cases.items():
        print(f"\n== {case}")
        methods = (
            ("linear RGB", linear_blend),
            ("stats blend, RGB", lambda c, s, k: blend_strength(c, s, k, space="rgb")),
            ("stats blend, Y'UV", blend_strength),  # the one --strength uses
        )
        for label, fn in methods:
            curves = np.stack([curve(c, s, fn) for c, s in pairs]).mean(0)
            summ = [summary(curve(c, s, fn)) for c, s in pairs]
            agg = {k: float(np.mean([d[k] for d in summ])) for k in summ[0]}
            print(f"  {label:20s} contrast dip {agg['contrast_dip']:.3f}  saturation dip {agg['saturation_dip']:.3f}"
                  f"  distance non-linearity {agg['lin']:.3f}")
            figures["cases"].setdefault(case, {})[label] = {**agg, "curves": curves.tolist()}
            print("    s      " + " ".join(f"{s:5.1f}" for s in STEPS))
            for j, name in enumerate(("contrast", "saturat.", "distance")):
                print(f"    {name:8s} " + " ".join(f"{v:5.3f}" for v in curves[:, j]))
    write_result("strength_blend", figures)


if __name__ == "__main__":
    main()
