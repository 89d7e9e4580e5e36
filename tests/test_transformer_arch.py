"""Transform-net archs: the pixel-unshuffled ``fast`` arch and two-level nets (shapes, resolution,
save/load, tiling)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vidstyle.models.styles import find_style, load_style, save_style
from vidstyle.models.transformer import ARCHS, Arch, ConvLayer, TransformerNet
from vidstyle.pipeline import tiling
from vidstyle.pipeline.stylizer import Stylizer

from nets import random_net


def conv_input_sizes(net: TransformerNet, x: torch.Tensor) -> list[tuple[int, int]]:
    sizes = []
    hooks = [m.register_forward_hook(lambda m, i, o: sizes.append(tuple(i[0].shape[-2:])))
             for m in net.modules() if isinstance(m, ConvLayer)]  # input before padding
    with torch.inference_mode():
        y = net(x)
    for h in hooks:
        h.remove()
    assert y.shape == x.shape
    return sizes


def test_fast_arch_runs_every_layer_at_half_resolution_or_less(one_thread):
    x = torch.rand(1, 3, 64, 96)
    fast, light = conv_input_sizes(random_net("fast"), x), conv_input_sizes(random_net("light"), x)
    assert max(fast) == (32, 48) and max(light) == (64, 96)
    # two levels (half and quarter resolution): the residual blocks stay at light's quarter scale
    assert min(fast) == min(light) == (16, 24)
    assert len(fast) == len(light) - 2  # one stride-2 conv and one decoder conv fewer
    assert TransformerNet("fast").stride == 4 and TransformerNet("light").stride == 4
    assert ARCHS["fast"].name == "fast" and Arch((8, 8, 8), 1, 3).name == "custom-8/8/8x1/u3"


def test_level_count_sets_the_stride():
    assert [Arch(c, 1, u).stride for c, u in [((8, 8), 1), ((8, 8), 2), ((8, 8, 8), 2), ((8, 8, 8), 1)]] == [2, 4, 8, 4]
    for bad in ((8,), (8, 8, 8, 8)):
        with pytest.raises(ValueError, match="2 or 3"):
            Arch(bad, 1)


def test_stylizer_pads_odd_sizes_to_the_fast_stride(one_thread):
    y = Stylizer(random_net("fast"), "cpu")(torch.rand(2, 3, 37, 53))
    assert y.shape == (2, 3, 37, 53) and 0.0 <= float(y.min()) and float(y.max()) <= 1.0


def test_fast_style_saves_and_loads_with_and_without_sidecar(tmp_path, one_thread):
    net = random_net("fast", seed=2)
    path = save_style(net, tmp_path / "s_fast", {"style_image": {"title": "random"}})
    x = torch.rand(1, 3, 32, 48)
    for drop_sidecar in (False, True):
        if drop_sidecar:
            path.with_suffix(".json").unlink()
        loaded, info = load_style(find_style(str(path)))
        assert info.arch_name == "fast" and loaded.arch == ARCHS["fast"]
        with torch.inference_mode():
            assert torch.equal(loaded(x), net(x))
    # plain archs keep their old sidecar form
    assert "unshuffle" not in ARCHS["light"].to_dict() and Arch.from_dict(ARCHS["fast"].to_dict()) == ARCHS["fast"]


@pytest.mark.parametrize("arch, seed, height, tile, data_seed", [
    ("fast", 1, 320, 256, 4),
    (Arch((16, 32, 64), 2, 2), 3, 288, 224, 5),  # three levels folded: stride 8
    (Arch((8, 16), 2, 1), 3, 288, 224, 5),  # two levels unfolded: stride 2
    ("light-bilinear", 3, 288, 224, 5),  # bilinear upsampling reads one more coarse pixel
])
def test_archs_tile_exactly_with_their_receptive_margin(arch, seed, height, tile, data_seed, one_thread):
    net = random_net(arch, seed=seed)
    g = torch.Generator().manual_seed(data_seed)
    x = nn.functional.avg_pool2d(torch.rand(1, 3, height, 400, generator=g), 5, 1, 2)
    with torch.inference_mode():
        ref = net(x)
    margin = tiling.receptive_radius(net)
    y = tiling.stylize_tiled(net, x, tile, margin=margin, ramp=8)
    assert len(tiling.axis_tiles(400, tile, 2 * margin + 8, stride=net.stride).starts) >= 2
    assert float((y - ref).abs().max()) < 1e-4
