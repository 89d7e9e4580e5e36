"""Quality of distilled (faster) style nets against their teacher, on still photos.

    python benchmarks/bench_students.py -t starry_night -s starry_night_fast,starry_night_tiny [--count 10] [--size 640x360]

For ``--count`` photos of ../shared/data/content (every n-th file, scaled to ``--size``) it runs the
teacher and each student and prints, averaged over the photos: the mean absolute difference to the
teacher's output (/255), sharpness (mean gradient magnitude of the luma) relative to the teacher's
and style loss (relative Gram error against the painting, VGG16 relu1_2..relu4_3, when VGG weights
are available) relative to the teacher's. A row ``teacher@half`` is the teacher run at half the
size and upscaled bilinearly (what live mode's ``--net-scale auto`` does on a CPU), for scale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_result
from _style_loss import make_style_loss

from vidstyle.ops.resample import resize_area, resize_bilinear
from vidstyle.metrics.warping_error import sharpness
from vidstyle.models.styles import find_style, load_style
from vidstyle.training.data import to_tensor

CONTENT = Path(__file__).resolve().parents[2] / "shared" / "data" / "content"


def photos(count: int, size: tuple[int, int]) -> list[torch.Tensor]:
    """``count`` photos spread over the content folder, scaled to ``size`` (h, w), ``[1,3,h,w]``."""
    files = sorted(p for p in CONTENT.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        sys.exit(f"no photos in {CONTENT}")
    picked = files[:: max(1, len(files) // count)][:count]
    out = []
    for f in picked:
        img = cv2.resize(cv2.imread(str(f)), (size[1], size[0]), interpolation=cv2.INTER_AREA)
        out.append(to_tensor(cv2.cvtColor(img, cv2.COLOR_BGR2RGB)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-t", "--teacher", default="starry_night")
    ap.add_argument("-s", "--students", default="starry_night_fast,starry_night_tiny")
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--size", default="640x360", help="WxH")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    tinfo = find_style(args.teacher)
    teacher, _ = load_style(tinfo)
    nets = {"teacher@half": None}
    for name in args.students.split(","):
        info = find_style(name)
        nets[f"{info.name} ({info.arch_name})"] = load_style(info)[0]
    loss = make_style_loss(tinfo)
    imgs = photos(args.count, (h, w))
    rows: dict[str, list[tuple[float, float, float]]] = {k: [] for k in nets}
    with torch.inference_mode():
        for x in imgs:
            t = teacher(x).clamp(0, 1)
            t_sharp, t_style = sharpness(t), (loss(t) if loss else float("nan"))
            for name, net in nets.items():
                if net is None:
                    y = resize_bilinear(teacher(resize_area(x, (h // 2, w // 2))).clamp(0, 1).contiguous(), (h, w))
                else:
                    y = net(x).clamp(0, 1)
                st = loss(y) / t_style if loss else float("nan")
                rows[name].append((float((y - t).abs().mean()) * 255, sharpness(y) / t_sharp, st))
    print(f"teacher {tinfo.name} ({tinfo.arch_name}); {len(imgs)} photos at {w}x{h}")
    print(f"{'net':<42} {'L1 to teacher /255':>19} {'sharpness x':>12} {'style loss x':>13}")
    figures = {"teacher": tinfo.name, "photos": len(imgs), "size": args.size, "nets": {}}
    for name, vals in rows.items():
        l1, sh, st = np.mean(np.array(vals), axis=0)
        print(f"{name:<42} {l1:>19.1f} {sh:>12.2f} {st:>13.2f}")
        figures["nets"][name] = {"l1_to_teacher_255": float(l1), "sharpness_x": float(sh),
                                 "style_loss_x": None if np.isnan(st) else float(st)}
    write_result("students", figures)


if __name__ == "__main__":
    main()
