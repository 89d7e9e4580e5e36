"""How close a baked style comes to a fully trained one on the same painting.

    python benchmarks/bench_bake.py [--styles starry_night,great_wave] [--steps 187] [--photos 6] [--bake-args '--size 128']

For each shipped style named, it bakes that style's painting (../shared/data/styles) with
``vidstyle distill --style-image`` on the photos of ../shared/data/content, starting from the
installed style of the bake's arch nearest the painting by Gram distance, leaving out every style
of the same painting. The bake runs a fixed ``--steps`` (the steps a 15-minute bake makes on a
quiet CPU) under a time limit that never binds, so a busy CPU makes it slower but not different.

On ``--photos`` photos at ``--size`` it then reports, per net (the bake, the shipped fully trained
style, the bake's starting point, and the arbitrary-style model it could have copied): style loss
(relative Gram error against the painting, VGG16 relu1_2..relu4_3, as ``_style_loss``) and
content loss (relative relu2_2 error against the photo), means over the photos; and the bake's
wall time (the ``vidstyle distill`` process from start to exit) with the CPU load around it;
``--jobs 2`` runs two bakes side by side, so each one's wall time includes the other's.
A side-by-side image per style (photo, painting, baked, fully trained) goes to benchmarks/out/.
Figures: benchmarks/results/bake.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_result
from _style_loss import StyleLoss

from vidstyle.models import arbitrary as A
from vidstyle.models.arch import resolve_arch
from vidstyle.models.styles import find_style, load_style
from vidstyle.models.vgg import load_vgg16_features
from vidstyle.training import losses as L
from vidstyle.training import nearest as N
from vidstyle.training.data import read_rgb, to_tensor

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("VIDSTYLE_WEIGHTS", str(REPO / "weights"))  # this checkout's styles and painting Grams
DATA = next((p / "shared" / "data" for p in REPO.parents if (p / "shared" / "data").is_dir()), Path("../shared/data"))
OUT = Path(__file__).resolve().parent / "out"
QUIET_SECONDS_PER_STEP = 4.8
"""A perceptual bake step of the light arch at the default size (192 px crops, batch 4) on a quiet
2-core CPU: the default ``--steps`` is what 15 minutes allow at that pace."""


def photos(count: int, size: tuple[int, int]) -> list[torch.Tensor]:
    """``count`` photos spread over ../shared/data/content, scaled to ``size`` (W, H)."""
    files = sorted((DATA / "content").glob("*.jpg"))
    picked = files[len(files) // (2 * count):: max(1, len(files) // count)][:count]
    return [to_tensor(cv2.cvtColor(cv2.resize(cv2.imread(str(f)), size, interpolation=cv2.INTER_AREA),
                                   cv2.COLOR_BGR2RGB)) for f in picked]


def pick_init(painting: Path, arch: str) -> tuple[str | None, dict[str, float]]:
    """The nearest style of ``arch`` to ``painting``, never one of the same painting."""
    vgg = load_vgg16_features(allow_download=False)
    grams = N.image_grams(vgg, to_tensor(read_rgb(painting, N.STYLE_SIDE)))
    dist = N.style_distances(grams, resolve_arch(arch), exclude=N.same_painting_styles(painting.name))
    return (min(dist, key=dist.__getitem__) if dist else None), dist


class Bake:
    """``vidstyle distill --style-image`` run as a user would, in its own process (``threads`` torch
    threads); :meth:`wait` gives its wall time, from start to exit, and its sidecar."""

    def __init__(self, painting: Path, out: Path, init: str | None, args: argparse.Namespace) -> None:
        self.out = out
        self.cmd = [sys.executable, "-c", "from vidstyle.cli import run; run()", "distill", "--style-image",
                    str(painting), "--content-dir", str(DATA / "content"), "--out", str(out), "--steps",
                    str(args.steps), "--time-limit", str(args.time_limit), "--init", init or "none", "--device", "cpu",
                    "--quiet", *args.bake_args.split()]
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads)) if args.threads else None
        self.load0 = os.getloadavg()[0]
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, env=env)

    def wait(self) -> dict:
        if self.proc.wait() != 0:
            sys.exit(f"error: the bake failed: {' '.join(self.cmd[3:])}")
        wall = time.monotonic() - self.t0
        return {"command": ["vidstyle", *self.cmd[3:]], "wall_s": round(wall, 1), "load_before": round(self.load0, 2),
                "load_at_end_1min": round(os.getloadavg()[0], 2),
                "meta": json.loads(self.out.with_suffix(".json").read_text())}


def evaluate(nets: dict, painting: Path, imgs: list[torch.Tensor]) -> tuple[dict, dict]:
    """Mean style and content loss of each net over ``imgs``, and each net's first output."""
    loss = StyleLoss(painting)
    rows, firsts = {}, {}
    with torch.inference_mode():
        for name, net in nets.items():
            s_l, c_l = [], []
            for x in imgs:
                y = net(x).clamp(0, 1)
                firsts.setdefault(name, y)
                s_l.append(loss(y))
                f_in = loss.vgg(x, layers=("relu2_2",))["relu2_2"]
                c_l.append(float(L.content_loss(loss.vgg(y, layers=("relu2_2",))["relu2_2"], f_in)))
            rows[name] = {"style_loss": round(float(np.mean(s_l)), 3), "content_loss": round(float(np.mean(c_l)), 3)}
            print(f"  {name:<12} style {rows[name]['style_loss']:8.3f}  content {rows[name]['content_loss']:7.3f}")
    return rows, firsts


def side_by_side(photo: torch.Tensor, painting: Path, baked: torch.Tensor, shipped: torch.Tensor, path: Path) -> None:
    """photo | painting | baked | fully trained, one row, as a JPEG."""
    def u8(t: torch.Tensor) -> np.ndarray:
        return (t[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)

    h, w = photo.shape[-2:]
    p = read_rgb(painting)
    s = h / p.shape[0]
    p = cv2.resize(p, (round(p.shape[1] * s), h), interpolation=cv2.INTER_AREA)
    gap = np.full((h, 8, 3), 255, np.uint8)
    row = np.concatenate([u8(photo), gap, p, gap, u8(baked), gap, u8(shipped)], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(row, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])


def start_style(name: str, args: argparse.Namespace, work: Path) -> dict:
    """Pick the init for ``name``'s painting and start its bake."""
    info = find_style(name)
    painting = DATA / "styles" / info.meta["style_image"]["file"]
    init, dist = pick_init(painting, "light")
    print(f"{name}: painting {painting.name}, init {init} (Gram distances {dist})", flush=True)
    return {"name": name, "painting": painting, "init": init, "dist": dist,
            "bake": Bake(painting, work / f"baked_{name}", init, args)}


def finish_style(job: dict, args: argparse.Namespace, imgs: list[torch.Tensor], work: Path) -> dict:
    """Wait for a bake, compare it with the shipped net; one row of the figures."""
    name, painting, init = job["name"], job["painting"], job["init"]
    result = job["bake"].wait()
    print(f"{name}: baked {args.steps} steps in {result['wall_s']:.0f} s wall", flush=True)
    nets = {"baked": load_style(str(work / f"baked_{name}.safetensors"))[0], "shipped": load_style(name)[0]}
    if init:
        nets["init"] = load_style(init)[0]
    if args.arbitrary:
        nets["arbitrary"] = A.build_style_net([painting]).eval()
    rows, firsts = evaluate(nets, painting, imgs)
    side_by_side(imgs[0], painting, firsts["baked"], firsts["shipped"], OUT / f"bake_{name}.jpg")
    training = result["meta"]["training"]
    return {"style": name, "painting": painting.name, "init": init, "init_gram_distances": job["dist"],
            "steps": training["steps"], "bake_wall_s": result["wall_s"],
            "bake_loop_s": training.get("seconds_this_run"), "load_before": result["load_before"],
            "load_at_end_1min": result["load_at_end_1min"], "losses": rows,
            "style_ratio_baked_vs_shipped": round(rows["baked"]["style_loss"] / rows["shipped"]["style_loss"], 3),
            "content_ratio_baked_vs_shipped": round(rows["baked"]["content_loss"] / rows["shipped"]["content_loss"], 3),
            "final_train_losses": training.get("final_losses"), "bake_command": result["command"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--styles", default="starry_night,great_wave", help="shipped light-arch styles to re-bake")
    ap.add_argument("--steps", type=int, default=int(15 * 60 / QUIET_SECONDS_PER_STEP))
    ap.add_argument("--time-limit", type=float, default=180.0, help="minutes; only a safety stop")
    ap.add_argument("--bake-args", default="", help="more `vidstyle distill` options, e.g. '--size 128'")
    ap.add_argument("--jobs", type=int, default=1, help="bakes run side by side")
    ap.add_argument("--threads", type=int, default=None, help="torch threads per bake (default: torch's)")
    ap.add_argument("--photos", type=int, default=6)
    ap.add_argument("--size", default="640x360", help="WxH of the evaluation photos")
    ap.add_argument("--no-arbitrary", dest="arbitrary", action="store_false", help="skip the arbitrary model's row")
    ap.add_argument("--out", default="bake", help="results name (benchmarks/results/NAME.json)")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    imgs = photos(args.photos, (w, h))
    names = args.styles.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-bake-") as tmp:  # the measurement's weights are not kept
        rows = []
        for i in range(0, len(names), args.jobs):  # bakes side by side share the CPU: wall times stretch
            jobs = [start_style(name, args, Path(tmp)) for name in names[i:i + args.jobs]]
            rows += [finish_style(job, args, imgs, Path(tmp)) for job in jobs]
    write_result(args.out, {"steps": args.steps, "quiet_seconds_per_step_assumed": QUIET_SECONDS_PER_STEP,
                            "bake_args": args.bake_args, "jobs": args.jobs, "threads": args.threads, "photos": args.photos,
                            "size": [w, h],
                            "rows": rows})


if __name__ == "__main__":
    main()
