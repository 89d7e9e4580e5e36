"""Shared test fixtures."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def one_thread():
    """Run a test with one torch thread (small ops run far faster so on a small, shared CPU)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(autouse=True, scope="session")
def _private_onnx_cache(tmp_path_factory):
    """`stylize` on CPU exports nets for ONNX Runtime (--backend auto): keep those files out of ~/.cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("VIDSTYLE_CACHE", str(tmp_path_factory.mktemp("vidstyle-cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def style(tmp_path_factory) -> str:
    """A tiny random style (seed 0) saved as ``tiny.safetensors`` + sidecar, for CLI tests."""
    from nets import TINY

    from vidstyle.models.styles import save_style
    from vidstyle.models.transformer import TransformerNet

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("styles") / "tiny"
    return str(save_style(TransformerNet(TINY), path, {"style_image": {"title": "random"}}))


@pytest.fixture
def export_cache(tmp_path, monkeypatch):
    """A private export cache for one test (``$VIDSTYLE_CACHE``); returns its ``onnx`` folder."""
    d = tmp_path / "cache"
    monkeypatch.setenv("VIDSTYLE_CACHE", str(d))
    return d / "onnx"


@pytest.fixture()
def photo_dir(tmp_path):
    """A folder of three small synthetic 'photos' (smooth colour ramps, 96x80 PNG) to train on."""
    import cv2
    import numpy as np

    folder = tmp_path / "content"
    folder.mkdir()
    ys, xs = np.mgrid[0:80, 0:96]
    for i in range(3):
        img = np.stack([(xs * (i + 1)) % 256, (ys * 3) % 256, ((xs + ys) * 2) % 256], -1).astype(np.uint8)
        cv2.imwrite(str(folder / f"c{i}.png"), img)
    return folder
