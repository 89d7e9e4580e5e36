"""Shared test fixtures."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def one_thread():
    """Run a test with one torch thread (small ops are far faster so on a shared 2-core CPU)."""
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
