"""Make the README's style-mixing picture: content | A | 75/25 | 50/50 | 25/75 | B.

    python benchmarks/make_mix_row.py STYLE_A STYLE_B [--content PHOTO] [--out docs/mix_row.jpg]
        [--mix auto|weights|outputs|both] [--width 320]

STYLE_A/STYLE_B: style names (see ``vidstyle styles``) or ``.safetensors`` files. ``--mix both``
stacks two rows, interpolated weights above blended outputs (same arch only), to compare them.
Each tile is labelled; the row is written as a JPEG (quality 90).
"""

from __future__ import annotations

import argparse
import os
import sys

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from vidstyle.models.mixing import load_styles_mix
from vidstyle.models.styles import find_style
from vidstyle.pipeline.stylizer import Stylizer

DEFAULT_CONTENT = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "content", "gcompris_farm_cat.jpg")
MIXES = (0.75, 0.5, 0.25)


def load_content(path: str, width: int) -> torch.Tensor:
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"cannot read {path}")
    h = int(round(img.shape[0] * width / img.shape[1]))
    img = cv2.resize(img, (width, h), interpolation=cv2.INTER_AREA)[:, :, ::-1]
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float() / 255


def to_bgr(t: torch.Tensor) -> np.ndarray:
    return (t[0].clamp(0, 1).permute(1, 2, 0).numpy()[:, :, ::-1] * 255 + 0.5).astype(np.uint8)


def label(tile: np.ndarray, text: str) -> np.ndarray:
    out = tile.copy()
    scale = max(0.4, tile.shape[1] / 640)
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.rectangle(out, (0, 0), (tw + 8, th + 10), (0, 0, 0), -1)
    cv2.putText(out, text, (4, th + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def row(content: torch.Tensor, a: str, b: str, mode: str, device: str) -> list[np.ndarray]:
    na, nb = find_style(a).name, find_style(b).name
    tiles = [label(to_bgr(content), "content")]
    for wa in (1.0, *MIXES, 0.0):
        if wa == 1.0:
            spec, text = a, na
        elif wa == 0.0:
            spec, text = b, nb
        else:
            spec, text = f"{a}:{wa},{b}:{1 - wa}", f"{wa:.0%} / {1 - wa:.0%}"
        net, desc = load_styles_mix(spec, device, mode=mode)
        y = Stylizer(net, device)(content)
        if 0 < wa < 1 and mode == "auto":
            text += " (w)" if "weights" in desc else " (o)"
        tiles.append(label(to_bgr(y.cpu()), text))
    return tiles


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("style_a")
    ap.add_argument("style_b")
    ap.add_argument("--content", default=DEFAULT_CONTENT)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs", "mix_row.jpg"))
    ap.add_argument("--mix", default="auto", choices=["auto", "weights", "outputs", "both"])
    ap.add_argument("--width", type=int, default=320, help="tile width in pixels")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    content = load_content(args.content, args.width)
    modes = ["weights", "outputs"] if args.mix == "both" else [args.mix]
    rows = [np.concatenate(row(content, args.style_a, args.style_b, m, args.device), axis=1) for m in modes]
    picture = np.concatenate(rows, axis=0)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    cv2.imwrite(args.out, picture, [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(f"wrote {args.out} ({picture.shape[1]}x{picture.shape[0]}, mix {args.mix})")


if __name__ == "__main__":
    main()
