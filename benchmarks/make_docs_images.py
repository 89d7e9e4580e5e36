"""Make the README's pictures from the bundled sample clip (``vidstyle sample``).

    python benchmarks/make_docs_images.py [--style starry_night] [--frame 40] [--out docs/]

Stylizes the sample with the ``vidstyle`` command, as a user runs it, once per frame
(``--consistency off``) and once with the default temporal consistency, then writes

* ``docs/sample_side_by_side.jpg``: input frame and stylized frame side by side;
* ``docs/sample_strip.jpg``: ``--count`` consecutive frames (columns) of the input, the per-frame
  stylization and the consistent one (rows), cropped to ``--crop`` pixels at full resolution so
  the strokes are visible: flicker shows as strokes that change from column to column in the
  middle row and move with the picture in the bottom one.

Small JPEGs, so the README stays light.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _cli_tools import die, find_vidstyle


def frames_of(path: Path, start: int, count: int) -> list[np.ndarray]:
    """Frames ``start .. start + count - 1`` of a video as RGB ``H x W x 3`` uint8 arrays."""
    with av.open(str(path)) as c:
        out = [f.to_ndarray(format="rgb24") for i, f in enumerate(c.decode(video=0)) if start <= i < start + count]
    if len(out) < count:
        die(f"{path} has fewer than {start + count} frames")
    return out


def tile(img: np.ndarray, width: int | None, text: str | None = None) -> np.ndarray:
    """``img`` scaled to ``width`` (area filter; None: as it is), with an optional label in the
    top-left corner."""
    t = np.ascontiguousarray(img)
    if width:
        h = round(img.shape[0] * width / img.shape[1])
        t = cv2.resize(img, (width, h), interpolation=cv2.INTER_AREA)
    if text:
        scale = 0.45
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.rectangle(t, (0, 0), (tw + 8, th + 10), (0, 0, 0), -1)
        cv2.putText(t, text, (4, th + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return t


def save_jpeg(path: Path, rgb: np.ndarray, quality: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]):
        die(f"cannot write {path}")
    print(f"wrote {path} ({rgb.shape[1]}x{rgb.shape[0]}, {path.stat().st_size // 1024} KB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-s", "--style", default="starry_night")
    ap.add_argument("--frame", type=int, default=40, help="first frame shown (the sample has 75)")
    ap.add_argument("--count", type=int, default=5, help="consecutive frames in the strip")
    ap.add_argument("--width", type=int, default=384, help="side-by-side tile width in pixels")
    ap.add_argument("--crop", default="240x150", help="strip tile: WxH pixels cut from the full-size frames")
    ap.add_argument("--crop-at", default="0.55,0.35", help="strip tile centre as fractions of the frame's width,height")
    ap.add_argument("--quality", type=int, default=82, help="JPEG quality")
    ap.add_argument("--out", type=Path, default=HERE.parent / "docs")
    args = ap.parse_args()

    vidstyle = find_vidstyle()
    tmp = Path(tempfile.mkdtemp(prefix="vidstyle-docs-"))
    try:
        clip = tmp / "sample.mp4"
        end = str(args.frame + args.count)
        subprocess.run([vidstyle, "sample", str(clip)], check=True)
        outs = {}
        for cons in ("off", "default"):
            outs[cons] = tmp / f"styled_{cons}.mkv"
            subprocess.run([vidstyle, "stylize", str(clip), "-s", args.style, "-o", str(outs[cons]), "--codec", "ffv1",
                            "--consistency", cons, "--end", end, "--quiet"], check=True)
        src = frames_of(clip, args.frame, args.count)
        # --end keeps frames 0..end-1, all of them stylized in order, so the consistent state is the real one
        off = frames_of(outs["off"], args.frame, args.count)
        cons = frames_of(outs["default"], args.frame, args.count)
    except subprocess.CalledProcessError as e:
        die(f"`{' '.join(map(str, e.cmd))}` failed with exit status {e.returncode}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    side = np.concatenate([tile(src[0], args.width, "input"), tile(cons[0], args.width, args.style)], 1)
    save_jpeg(args.out / "sample_side_by_side.jpg", side, args.quality)

    cw, ch = (int(v) for v in args.crop.lower().split("x"))
    fx, fy = (float(v) for v in args.crop_at.split(","))
    height, width = src[0].shape[:2]
    x0 = min(max(0, round(fx * width - cw / 2)), width - cw)
    y0 = min(max(0, round(fy * height - ch / 2)), height - ch)
    rows = []
    for name, frames in (("input", src), ("per frame", off), ("consistency", cons)):
        tiles = [tile(f[y0:y0 + ch, x0:x0 + cw], None, name if i == 0 else None) for i, f in enumerate(frames)]
        rows.append(np.concatenate([np.pad(t, ((0, 2), (0, 2), (0, 0)), constant_values=255) for t in tiles], 1))
    save_jpeg(args.out / "sample_strip.jpg", np.concatenate(rows, 0)[:-2, :-2], args.quality)


if __name__ == "__main__":
    main()
