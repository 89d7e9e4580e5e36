"""How far ``--precision int8`` is from fp32 on still photos, by kind of picture.

    python benchmarks/bench_int8.py [--styles starry_night,composition_vii,starry_night_fast] [--count 4]

For ``--count`` photos of ../shared/data/content (the bundled sample clip's first frame when that
folder is absent) it runs each style's OpenVINO fp32 and int8 engines (as ``stylize --precision``
makes them) on the photo scaled to 640x360, a dark version (x0.2, re-rounded to 8 bits: a night
shot), a bright one (x1.6, clipped), the photo at 1920x1080 and a flat grey frame, and prints the
PSNR of int8 against fp32 (dB, mean over photos) and the largest absolute pixel difference.
Temporal behaviour (flicker) is measured by ``bench_consistency.py --int8``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _clips import REPO
from _results import write_result

from vidstyle.models.styles import load_style
from vidstyle.samples import sample_clip_path
from vidstyle.pipeline.openvino_stylizer import OpenVinoStylizer

CONTENT = REPO.parent / "shared" / "data" / "content"


def photos(count: int) -> list[np.ndarray]:
    """``count`` RGB uint8 photos spread over the content folder (or the sample clip's first frame)."""
    files = sorted(p for p in CONTENT.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")) if CONTENT.is_dir() else []
    if not files:
        import av

        with av.open(str(sample_clip_path())) as c:
            return [next(c.decode(video=0)).to_ndarray(format="rgb24")]
    step = max(1, len(files) // count)
    return [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in files[::step][:count]]


def tensor(img: np.ndarray, w: int, h: int) -> torch.Tensor:
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if img.shape[1] > w else cv2.INTER_LINEAR)
    return torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255


def variants(img: np.ndarray) -> dict[str, torch.Tensor]:
    x = tensor(img, 640, 360)
    return {
        "photo": x,
        "dark": (x * 0.2 * 255).round() / 255,
        "bright": (x * 1.6).clamp(0, 1),
        "1080p": tensor(img, 1920, 1080),
        "flat grey": torch.full_like(x, 0.5),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--styles", default="starry_night,composition_vii,starry_night_fast")
    ap.add_argument("--count", type=int, default=4)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    imgs = photos(args.count)
    print(f"{len(imgs)} photo(s); PSNR of int8 against fp32 in dB (mean over photos), max |diff| in brackets")
    figures = {"photos": len(imgs), "styles": {}}
    for style in args.styles.split(","):
        net, info = load_style(style, "cpu")
        fp32 = OpenVinoStylizer(net, threads=args.threads)
        int8 = OpenVinoStylizer(net, threads=args.threads, precision="int8")
        psnr: dict[str, list[float]] = {}
        worst: dict[str, float] = {}
        for img in imgs:
            for name, x in variants(img).items():
                a, b = fp32(x), int8(x)
                mse = float(((a - b) ** 2).mean())
                psnr.setdefault(name, []).append(10 * np.log10(1 / max(mse, 1e-12)))
                worst[name] = max(worst.get(name, 0.0), float((a - b).abs().max()))
        cells = "  ".join(f"{n} {np.mean(v):5.1f} ({worst[n]:.2f})" for n, v in psnr.items())
        print(f"{info.name} ({info.arch_name}): {cells}", flush=True)
        figures["styles"][info.name] = {"arch": info.arch_name, "psnr_db": {n: float(np.mean(v)) for n, v in psnr.items()},
                                        "max_diff": worst}
    write_result("int8", figures)


if __name__ == "__main__":
    main()
