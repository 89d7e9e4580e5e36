"""Synthetic pictures for tests (imported by test modules; pytest puts tests/ on sys.path)."""

from __future__ import annotations

import cv2
import numpy as np


def painting(path, seed: int = 0, size=(96, 80)) -> str:
    """A seeded blocky random colour image of ``size`` (W, H) written to ``path``: a usable style
    image (texture at 8 px blocks). Returns the path as text."""
    rng = np.random.default_rng(seed)
    img = (rng.random((size[1] // 8, size[0] // 8, 3)) * 255).astype(np.uint8)
    cv2.imwrite(str(path), cv2.resize(img, size, interpolation=cv2.INTER_NEAREST))
    return str(path)
