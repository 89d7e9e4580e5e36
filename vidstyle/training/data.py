"""Content images for training: random scaled crops and flips, reproducible per step."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from ..errors import InputError
from ..io.limits import check_image_file

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def read_rgb(path: str | Path, max_side: int | None = None) -> np.ndarray:
    """Read an image as ``H x W x 3`` uint8 RGB, optionally downscaled to ``max_side``; refused
    above the pixel limit (:mod:`vidstyle.io.limits`) before it is decoded."""
    check_image_file(path)
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise InputError(f"cannot read image: {path}")
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if max_side and max(img.shape[:2]) > max_side:
        s = max_side / max(img.shape[:2])
        img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
    return img


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """``H x W x 3`` uint8 RGB -> ``[1,3,H,W]`` float in [0,1]."""
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).unsqueeze(0).float() / 255.0


class ContentImages:
    """A folder of photos, sampled as random crops (scale jitter, horizontal flips).

    Decoded images are kept in memory (downscaled to ``max_side``), so a step costs no JPEG decode.
    """

    def __init__(self, folder: str | Path, max_side: int = 512) -> None:
        folder = Path(folder)
        if not folder.is_dir():
            raise InputError(f"content folder not found: {folder}")
        self.files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTS)
        if not self.files:
            raise InputError(f"no images in content folder: {folder}")
        for f in self.files:  # headers only: a photo too large to decode is refused before training
            check_image_file(f)
        self.max_side = max_side
        self._cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.files)

    def image(self, i: int) -> np.ndarray:
        if i not in self._cache:
            self._cache[i] = read_rgb(self.files[i], self.max_side)
        return self._cache[i]

    def sample(self, batch: int, out_size: int, rng: np.random.Generator) -> torch.Tensor:
        """``[batch,3,out_size,out_size]`` random crops in [0,1]."""
        crops = []
        for _ in range(batch):
            img = self.image(int(rng.integers(len(self))))
            h, w = img.shape[:2]
            side = min(h, w)
            crop = int(side * rng.uniform(0.5, 1.0))
            y, x = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
            patch = cv2.resize(img[y : y + crop, x : x + crop], (out_size, out_size), interpolation=cv2.INTER_AREA)
            if rng.random() < 0.5:
                patch = patch[:, ::-1]
            crops.append(to_tensor(patch))
        return torch.cat(crops)
