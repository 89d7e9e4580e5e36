"""Overlapping-tile stylization (vidstyle.pipeline.tiling) and the Stylizer's tiling / batch chunking."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from vidstyle.cli import main
from vidstyle.io.synthetic import make_test_clip
from vidstyle.models.styles import save_style
from vidstyle.models.transformer import TransformerNet
from vidstyle.pipeline import tiling
from vidstyle.pipeline.stylizer import Stylizer

from nets import random_net

# Measured on torch 2.14 CPU (tile 128 with the receptive-field margin: max 4e-6; per-tile
# normalisation: max ~0.9, mean ~0.07). Tolerances leave room for other BLAS/oneDNN builds.
EXACT_TOL = 1e-4


def light_net(seed: int = 0) -> TransformerNet:
    """A random light net whose instance norms have non-trivial affine parameters."""
    return random_net("light", seed)


def image(h: int = 160, w: int = 200, seed: int = 1) -> torch.Tensor:
    """Smooth random content ``[1,3,h,w]`` with an uneven tone, so per-tile statistics differ."""
    g = torch.Generator().manual_seed(seed)
    x = torch.nn.functional.avg_pool2d(torch.rand(1, 3, h, w, generator=g), 5, 1, 2)
    ramp = torch.linspace(0, 1, w)[None, None, None, :]
    return (0.6 * x + 0.4 * ramp * x.new_tensor([1.0, 0.3, 0.0])[None, :, None, None]).clamp(0, 1)


@pytest.fixture(scope="module")
def net_and_ref():
    torch.set_num_threads(1)
    net, x = light_net(), image()
    with torch.inference_mode():
        ref = net(x)
    return net, x, ref


def test_tiles_with_full_frame_statistics_match_untiled(net_and_ref, one_thread):
    net, x, ref = net_and_ref
    margin = tiling.receptive_radius(net)
    ys, xs = tiling.axis_tiles(160, 128, 2 * margin + 8), tiling.axis_tiles(200, 128, 2 * margin + 8)
    assert len(ys.starts) >= 2 and len(xs.starts) >= 2  # really tiled, on both axes
    y = tiling.stylize_tiled(net, x, 128, margin=margin, ramp=8)
    d = (y - ref).abs()
    assert d.max() < EXACT_TOL, float(d.max())  # everywhere, borders included


def test_small_tiles_agree_away_from_borders(net_and_ref, one_thread):
    """128 px tiles with the default margin/ramp for that size (24 / 16 px, below the 42 px
    receptive field): close, not exact. Measured: max 0.010, mean 0.0002 (clamped to [0,1]).
    Smaller margins cost accuracy fast on this random net (96 px tiles: max 0.07; 48 px tiles
    with a 4 px margin: max 0.8), hence margins default to the receptive field on large tiles."""
    net, x, ref = net_and_ref
    y = tiling.stylize_tiled(net, x, 128).clamp(0, 1)
    d = (y - ref.clamp(0, 1)).abs()[..., 16:-16, 16:-16]
    assert d.max() < 0.02 and d.mean() < 0.001, (float(d.max()), float(d.mean()))


def test_per_tile_statistics_would_fail(net_and_ref, one_thread, monkeypatch):
    """The same tiling with each tile normalising by its own statistics is far off: the
    agreement above comes from the shared statistics."""
    net, x, ref = net_and_ref
    margin = tiling.receptive_radius(net)

    @contextmanager
    def own_statistics(_net, _stats):
        yield

    monkeypatch.setattr(tiling, "frozen_norms", own_statistics)
    y = tiling.stylize_tiled(net, x, 128, margin=margin, ramp=8)
    d = (y - ref).abs()[..., 16:-16, 16:-16]
    assert d.max() > 0.1 and d.mean() > 0.01, (float(d.max()), float(d.mean()))


def test_downscaled_statistics_are_seamless(net_and_ref, one_thread):
    """Statistics from a smaller copy: the tiles equal one untiled pass with those statistics
    (so no seams), even though the tone differs slightly from the ordinary output."""
    net, x, ref = net_and_ref
    small = tiling.stats_input(x, 80 * 100)  # half size: [1,3,80,100]
    assert small.shape[-2:] == (80, 100)
    stats, _ = tiling.record_norm_stats(net, small)
    y = tiling.stylize_tiled(net, x, 128, margin=tiling.receptive_radius(net), ramp=8, stats=stats)
    with torch.inference_mode(), tiling.frozen_norms(net, stats):
        whole = net(x)
    assert (y - whole).abs().max() < EXACT_TOL
    assert (y - ref).abs().mean() > 1e-3  # the statistics really were different


def test_net_is_unchanged_after_tiling(net_and_ref, one_thread):
    net, x, ref = net_and_ref
    tiling.stylize_tiled(net, x, 96)
    assert not any("forward" in m.__dict__ for m in net.modules())
    stats, _ = tiling.record_norm_stats(net, x[..., :64, :64])
    with pytest.raises(RuntimeError, match="boom"), tiling.frozen_norms(net, stats):
        raise RuntimeError("boom")
    assert not any("forward" in m.__dict__ for m in net.modules())
    with torch.inference_mode():
        assert torch.equal(net(x), ref)


def test_blend_weights_sum_to_one():
    axis = tiling.axis_tiles(200, 64, 24)
    assert all(s % 4 == 0 for s in axis.starts) and axis.size % 4 == 0 and axis.size <= 64
    assert axis.starts[0] == 0 and axis.starts[-1] + axis.size == 200
    total = torch.zeros(200)
    for s, w in zip(axis.starts, tiling.blend_weights(axis, 6, 8)):
        assert torch.all(w[:6] == 0) if s > 0 else w[0] > 0  # interior margins dropped
        total[s:s + axis.size] += w
    assert torch.allclose(total, torch.ones(200), atol=1e-6)


def test_batch_chunks_give_the_unchunked_result(monkeypatch, one_thread):
    net, x = light_net(), torch.cat([image(36, 52, seed=s) for s in range(3)])
    whole = Stylizer(net, "cpu", tile="off")(x)
    monkeypatch.setattr(tiling, "MAX_TENSOR_ELEMENTS", 32 * (40 + 8) * (52 + 8) + 1)  # one frame per call
    st = Stylizer(net, "cpu", tile="off")
    assert st.plan(3, 36, 52).chunk == 1
    calls = []
    real_forward = st.net.forward  # the stylizer's (CPU-folded) copy of the net
    monkeypatch.setattr(st.net, "forward", lambda t: calls.append(t.shape[0]) or real_forward(t))
    y = st(x)
    assert calls == [1, 1, 1]
    assert torch.allclose(y, whole, atol=2e-5, rtol=0)  # batched vs single convs round differently (~3e-6)


@pytest.mark.parametrize("arch", ["light", "full"])
def test_no_tensor_exceeds_32bit_indexing_at_4k(arch):
    """The CUDA bug: batch 8 at 3840x2160 made tensors over 2**31 elements. Planning alone (no run)."""
    st = Stylizer(TransformerNet(arch), "cpu", tile="off")
    plan = st.plan(8, 2160, 3840)
    per_px = tiling.elements_per_pixel(st.net)
    assert plan.chunk * per_px * (2160 + 8) * (3840 + 8) <= 2**31 - 1
    assert plan.chunk == (8 if arch == "light" else 4)


def test_elements_per_pixel_bounds_every_tensor(one_thread):
    net = TransformerNet("light").eval()
    h, w = 36, 44
    biggest = []
    hooks = [m.register_forward_hook(lambda m, i, o: biggest.append(max(i[0].numel(), o.numel())))
             for m in net.modules() if not list(m.children())]
    with torch.inference_mode():
        net(torch.rand(1, 3, h, w))
    for hk in hooks:
        hk.remove()
    assert max(biggest) <= tiling.elements_per_pixel(net) * (h + 8) * (w + 8)


def test_auto_tiles_only_frames_over_the_budget(one_thread):
    full = Stylizer(TransformerNet("full"), "cpu")
    assert full.plan(1, 360, 640).tile == 0
    assert full.plan(1, 1080, 1920).tile == 0  # the default CPU budget keeps 1080p whole
    plan = full.plan(1, 2160, 3840)
    assert plan.tile and plan.chunk == 1 and plan.stats_pixels < 2160 * 3840
    # A tiny budget makes a small frame tile; the result is still a whole, sensible picture.
    net, x = light_net(), image(96, 128)
    st = Stylizer(net, "cpu", memory_budget=int(tiling.bytes_per_pixel(net) * 64 * 64))
    plan = st.plan(1, 96, 128)
    assert 32 <= plan.tile <= 64 and plan.stats_pixels <= 64 * 64
    y = st(x)
    with torch.inference_mode():
        ref = net(x).clamp(0, 1)
    assert y.shape == x.shape and (y - ref).abs().mean() < 0.1


@pytest.mark.parametrize("spec, want", [(None, None), ("auto", None), ("off", 0), (0, 0), ("64", 64), (256, 256)])
def test_parse_tile(spec, want):
    assert tiling.parse_tile(spec) == want


@pytest.mark.parametrize("spec", ["bogus", "16", "-5", "1.5", True])
def test_parse_tile_rejects(spec):
    with pytest.raises(ValueError):
        tiling.parse_tile(spec)


@pytest.fixture(scope="module")
def tiny_style(tmp_path_factory) -> str:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("styles") / "tiny"
    return str(save_style(TransformerNet({"channels": [4, 8, 8], "blocks": 1}), path, {"style_image": {"title": "random"}}))


def test_cli_tile_runs_tiled(tmp_path, tiny_style, monkeypatch):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=150, height=90, frames=3)
    out = tmp_path / "out.mp4"
    calls = []
    real = tiling.stylize_tiled
    monkeypatch.setattr(tiling, "stylize_tiled", lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    r = CliRunner().invoke(main, ["stylize", clip.path, "-s", tiny_style, "-o", str(out), "--tile", "64",
                                  "--consistency", "off", "--quiet"])
    assert r.exit_code == 0, r.output
    assert calls and set(calls) == {64}
    import av

    with av.open(str(out)) as c:
        frames = list(c.decode(video=0))
    assert len(frames) == 3 and (frames[0].width, frames[0].height) == (150, 90)
    assert np.isfinite(frames[0].to_ndarray(format="rgb24")).all()


@pytest.mark.parametrize("value", ["bogus", "8"])
def test_cli_bad_tile_is_one_line_error(tmp_path, tiny_style, value):
    clip = make_test_clip(str(tmp_path / "in.mp4"), frames=2)
    out = tmp_path / "out.mp4"
    r = CliRunner().invoke(main, ["stylize", clip.path, "-s", tiny_style, "-o", str(out), "--tile", value])
    assert r.exit_code != 0
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --tile"), r.output
    assert not out.exists()
