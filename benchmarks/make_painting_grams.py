"""Write ``weights/grams/paintings.safetensors``: the Grams of every painting a shipped sidecar names.

    python benchmarks/make_painting_grams.py

A bake starts from the shipped style whose painting is nearest its image
(:mod:`vidstyle.training.nearest`); the paintings themselves do not ship, so their Grams do. The
paintings are read from ../shared/data/styles.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vidstyle.models.styles import list_styles
from vidstyle.models.vgg import load_vgg16_features
from vidstyle.training.nearest import GRAMS_FILE, write_painting_grams

REPO = Path(__file__).resolve().parents[1]
DATA = next((p / "shared" / "data" for p in REPO.parents if (p / "shared" / "data").is_dir()), Path("../shared/data"))


def main() -> None:
    files = {(s.meta.get("style_image") or {}).get("file") for s in list_styles()} - {None}
    found = {f: DATA / "styles" / f for f in sorted(files) if (DATA / "styles" / f).is_file()}
    missing = sorted(files - set(found))
    if missing:
        sys.exit(f"error: paintings missing from {DATA / 'styles'}: {', '.join(missing)}")
    out = write_painting_grams(found, load_vgg16_features(allow_download=False), REPO / "weights" / GRAMS_FILE)
    print(f"wrote {out} ({len(found)} paintings: {', '.join(found)})")


if __name__ == "__main__":
    main()
