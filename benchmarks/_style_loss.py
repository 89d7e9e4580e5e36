"""Style loss for benchmarks: relative Gram error (VGG16 relu1_2..relu4_3) against a style's painting."""

from __future__ import annotations

from pathlib import Path

import torch

SHARED_STYLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "styles"


def style_image_of(info) -> Path | None:
    """The painting a style was trained on, from its sidecar, if ../shared/data has it."""
    name = (info.meta.get("style_image") or {}).get("file")
    path = SHARED_STYLES / name if name else None
    return path if path is not None and path.exists() else None


class StyleLoss:
    """``StyleLoss(painting)(img)``: the training's style loss of ``img`` ``[1,3,H,W]`` in [0,1]."""

    def __init__(self, style_image: Path) -> None:
        from vidstyle.models.vgg import load_vgg16_features
        from vidstyle.training.data import read_rgb, to_tensor
        from vidstyle.training.losses import gram_matrix

        self.vgg = load_vgg16_features(allow_download=False)
        with torch.inference_mode():
            self.grams = {k: gram_matrix(v) for k, v in self.vgg(to_tensor(read_rgb(style_image, 448))).items()}

    def __call__(self, img: torch.Tensor) -> float:
        from vidstyle.training.losses import style_loss

        with torch.inference_mode():
            return float(style_loss(self.vgg(img), self.grams))


def make_style_loss(info) -> StyleLoss | None:
    """A :class:`StyleLoss` for style ``info``, or None (with a printed reason) without VGG or painting."""
    path = style_image_of(info)
    if path is None:
        print("  (style loss skipped: the painting is not in ../shared/data/styles)")
        return None
    try:
        return StyleLoss(path)
    except Exception as e:  # noqa: BLE001 - no VGG weights here
        print(f"  (style loss skipped: {e})")
        return None
