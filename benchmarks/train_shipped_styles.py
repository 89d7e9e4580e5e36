"""The recipe that trains the styles shipped in ``weights/`` (one process per style, in parallel).

Each style is an ordinary ``vidstyle.training.trainer.train`` run; this script only holds the
list (painting, arch, loss weights, licence of the reproduction) and runs them side by side,
which keeps one GPU busy (small batches leave most of it idle). Every run checkpoints, so a
run stopped by ``--time-limit`` or a crash continues with ``--resume``.

    python benchmarks/train_shipped_styles.py --data ../shared/data --out runs/ --device cuda \
        --steps 6000 --time-limit 8 [--only starry_night great_wave]

Then look at ``runs/<name>_preview.jpg`` and copy the good ones into ``weights/``. About 2,000-3,000
steps per style at batch 4 are enough on a GPU; The Scream, The Shipwreck and the Renoir wash out
the content at style weight 3, hence their lower weights below (``--variant`` tries others).

``starry_night`` has a second stage (``light-bilinear``, started from ``starry_night_nearest``,
the first stage's result; it runs after it when both are chosen). The shipped weights are its
step 500 (a CPU is enough for it), with the first stage's weights copied from
``benchmarks/weights``:

    cp benchmarks/weights/starry_night_nearest.* runs/
    python benchmarks/train_shipped_styles.py --out runs/ --device cpu --steps 500 --only starry_night
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

JCJ_NS = "jcjohnson/neural-style@07c4b82 (repository licence MIT; no statement for the image)"
JCJ_FNS = (
    "jcjohnson/fast-neural-style@813c834 (no statement for the image; README: 'Free for personal or "
    "research use; for commercial use please contact me')"
)
GCOMPRIS = "GCompris gcompris-qt-data 3.1-2 paintings (reproduction licensed GPLv3 or later)"
PREVIEW = "content/gcompris_farm_cat.jpg"


@dataclass
class Recipe:
    name: str
    image: str  # file in <data>/styles
    title: str
    source: str
    arch: str = "full"
    style_weight: float = 3.0
    temporal: bool = True
    shipped: bool = True
    init: str | None = None  # another recipe whose result this run starts from (run after it)
    shift_weight: float = 0.0
    lr: float = 1e-3


RECIPES = [
    # starry_night in two stages: the light net (nearest upsampling; kept as
    # benchmarks/weights/starry_night_nearest), then retrained as light-bilinear with the
    # shift-equivariance loss, so its strokes move with the picture.
    Recipe("starry_night_nearest", "van_gogh_starry_night.jpg", "Vincent van Gogh, The Starry Night (1889)", JCJ_NS, "light",
           shipped=False),
    Recipe("starry_night", "van_gogh_starry_night.jpg", "Vincent van Gogh, The Starry Night (1889)", JCJ_NS, "light-bilinear",
           init="starry_night_nearest", shift_weight=30.0, lr=3e-4),
    Recipe("great_wave", "hokusai_great_wave.jpg", "Katsushika Hokusai, The Great Wave off Kanagawa (c. 1831)", JCJ_FNS, "light"),
    Recipe("the_scream", "munch_the_scream.jpg", "Edvard Munch, The Scream (1893)", JCJ_NS, style_weight=1.5),
    Recipe("composition_vii", "kandinsky_composition_vii.jpg", "Wassily Kandinsky, Composition VII (1913)", JCJ_FNS),
    Recipe(
        "shipwreck_minotaur", "turner_shipwreck_of_the_minotaur.jpg",
        "J. M. W. Turner, The Shipwreck of the Minotaur (c. 1810)", JCJ_NS, style_weight=1.5,
    ),
    Recipe(
        "moulin_galette", "renoir_bal_du_moulin_de_la_galette.jpg",
        "Pierre-Auguste Renoir, Bal du moulin de la Galette (1876)", GCOMPRIS, style_weight=2.0,
    ),
    # Not shipped: the same net as starry_night without the temporal losses, for the flicker benchmark.
    Recipe(
        "starry_night_notemporal", "van_gogh_starry_night.jpg", "Vincent van Gogh, The Starry Night (1889)",
        JCJ_NS, "light", temporal=False, shipped=False,
    ),
]


def run_one(recipe: Recipe, args: argparse.Namespace) -> None:
    """Train one recipe in this process."""
    import torch

    from vidstyle.training.config import LossWeights, TrainConfig, checkpoint_path
    from vidstyle.training.trainer import train

    torch.set_num_threads(args.threads)
    data = Path(args.data)
    weights = LossWeights(style=recipe.style_weight, shift=recipe.shift_weight,
                          **({} if recipe.temporal else dict(temporal=0.0, feature_temporal=0.0, noise=0.0)))
    out = Path(args.out) / recipe.name
    cfg = TrainConfig(
        style_image=str(data / "styles" / recipe.image), content_dir=str(data / "content"), out=str(out),
        arch=recipe.arch, size=args.size, style_size=args.style_size, steps=args.steps,
        batch_size=args.batch_size, lr=recipe.lr, seed=args.seed, checkpoint_every=args.checkpoint_every, weights=weights,
        init=str(Path(args.out) / f"{recipe.init}.safetensors") if recipe.init else None,
        preview_image=str(data / PREVIEW), device=args.device, style_title=recipe.title,
        style_license="painting in the public domain (artist died over 70 years ago); reproduction: " + recipe.source,
        style_source=f"shared/data/styles/{recipe.image}",
    )
    resume = checkpoint_path(out).exists()
    train(cfg, resume=resume, quiet=True, time_limit=args.time_limit * 60 if args.time_limit else None)


def strip_options(argv: list[str], names: tuple[str, ...]) -> list[str]:
    """``argv`` without the options in ``names`` and their values."""
    out, skipping = [], False
    for a in argv:
        if a.startswith("--"):
            skipping = a.split("=")[0] in names
            if skipping:
                continue
        elif skipping:
            continue
        out.append(a)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--out", default="runs")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--time-limit", type=float, default=None, help="minutes per run")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--style-size", type=int, default=512)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint-every", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2, help="CPU threads per run")
    ap.add_argument("--only", nargs="+", default=None, help="names of the recipes to run")
    ap.add_argument(
        "--variant", action="append", default=[], metavar="NAME:STYLE_WEIGHT",
        help="also run recipe NAME with another style weight, as NAME_swW (repeatable)",
    )
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    by_name = {r.name: r for r in RECIPES}
    variants = []
    for v in args.variant:
        base, _, w = v.partition(":")
        r = replace(by_name[base], name=f"{base}_sw{w}", style_weight=float(w))
        by_name[r.name] = r
        variants.append(r)
    if args.one:
        run_one(by_name[args.one], args)
        return
    chosen = [by_name[n] for n in args.only] if args.only else list(RECIPES) + variants
    Path(args.out).mkdir(parents=True, exist_ok=True)
    passthrough = strip_options(sys.argv[1:], ("--only",))
    t0 = time.time()
    names = {r.name for r in chosen}
    # recipes that start from another chosen recipe's result run after the first stage
    stages = [[r for r in chosen if r.init not in names], [r for r in chosen if r.init in names]]
    failed = runs = 0
    for stage in stages:
        procs = []
        for r in stage:
            log = open(Path(args.out) / f"{r.name}.log", "w")
            cmd = [sys.executable, __file__, *passthrough, "--one", r.name]
            procs.append((r, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy()), log))
        for r, p, log in procs:
            rc = p.wait()
            log.close()
            failed += rc != 0
            print(f"{r.name:24} {'ok' if rc == 0 else f'FAILED (exit {rc}), see its log'}", flush=True)
        runs += len(procs)
    print(f"{runs} runs in {time.time() - t0:.0f} s")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
