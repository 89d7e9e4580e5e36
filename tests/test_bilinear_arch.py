"""Archs with bilinear upsampling (``light-bilinear``): names, sidecars, shift behaviour, the
shift-equivariance loss and starting a training run from another style's weights."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from vidstyle.models.styles import find_style, load_style, save_style
from vidstyle.models.transformer import ARCH_CHOICES, ARCHS, Arch, TransformerNet, resolve_arch
from vidstyle.training import losses as L

from nets import random_net


def test_bilinear_arch_names_and_sidecars(tmp_path):
    arch = resolve_arch("light-bilinear")
    assert arch == dataclasses.replace(ARCHS["light"], upsample="bilinear") and arch.name == "light-bilinear"
    assert arch.to_dict()["upsample"] == "bilinear" and Arch.from_dict(arch.to_dict()) == arch
    assert "upsample" not in ARCHS["light"].to_dict()  # nearest sidecars stay as they were
    assert Arch((8, 8, 8), 1, upsample="bilinear").name == "custom-8/8/8x1/bilinear"
    assert "full-bilinear" in ARCH_CHOICES and "light" in ARCH_CHOICES
    for bad in ("light-cubic", "huge", "huge-bilinear"):
        with pytest.raises(ValueError, match="unknown arch"):
            resolve_arch(bad)
    with pytest.raises(ValueError, match="upsample"):
        Arch((8, 8, 8), 1, upsample="cubic")
    net = random_net("light-bilinear", seed=2)
    path = save_style(net, tmp_path / "bl", {})
    loaded, info = load_style(find_style(str(path)))
    assert info.arch_name == "light-bilinear" and loaded.decoder[0].mode == "bilinear"
    x = torch.rand(1, 3, 32, 40, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        assert torch.equal(loaded(x), net(x))
    # without its sidecar the weights file still says it is bilinear (the shapes cannot tell)
    path.with_suffix(".json").unlink()
    bare, info = load_style(find_style(str(path)))
    assert info.arch_name == "light-bilinear" and bare.decoder[0].mode == "bilinear"


def _shift_change(net: nn.Module, x: torch.Tensor, s: int) -> float:
    """Mean |output of the input shifted s px left - the output shifted s px left|, more than the
    net's receptive radius in from the borders."""
    m = 44
    with torch.inference_mode():
        a, b = net(x[..., :, :-4]), net(x[..., :, s : x.shape[-1] - 4 + s])
    return float((b[..., m:-m, m : -m - s] - a[..., m:-m, m + s : -m]).abs().mean())


def test_bilinear_upsampling_makes_the_shipped_net_follow_a_shift(one_thread):
    """A shipped light net's strokes jump when the picture moves by one pixel (the nearest
    upsampling's 2x2 blocks sit on its stride-4 grid); the same weights with bilinear upsampling
    change far less. Shifts by the stride barely change either."""
    net, info = load_style("great_wave")
    assert info.arch_name == "light"
    smooth = TransformerNet(dataclasses.replace(net.arch, upsample="bilinear")).eval()
    smooth.load_state_dict(net.state_dict())
    g = torch.Generator().manual_seed(3)
    x = nn.functional.interpolate(torch.rand(1, 3, 24, 32, generator=g), size=(128, 196), mode="bicubic").clamp(0, 1)
    nearest_1, smooth_1 = _shift_change(net, x, 1), _shift_change(smooth, x, 1)
    assert smooth_1 < 0.5 * nearest_1, (smooth_1, nearest_1)
    assert _shift_change(net, x, 4) < 0.5 * nearest_1


class _Pointwise(nn.Module):
    """A shift-equivariant "net": a 1x1 convolution."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def test_shift_equivariance_loss_is_zero_for_a_pointwise_net_and_positive_for_a_strided_one(one_thread):
    img = torch.rand(2, 3, 48, 48, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert float(L.shift_equivariance_loss(_Pointwise(), img, torch.Generator().manual_seed(0))) < 1e-6
    net = random_net("light", seed=1)
    loss = L.shift_equivariance_loss(net, img, torch.Generator().manual_seed(0))
    assert float(loss.detach()) > 0.01
    loss.backward()
    assert net.encoder[0].conv.conv.weight.grad.abs().sum() > 0
    # the same generator state draws the same shift
    a = L.shift_equivariance_loss(net, img, torch.Generator().manual_seed(5))
    b = L.shift_equivariance_loss(net, img, torch.Generator().manual_seed(5))
    assert float(a.detach()) == float(b.detach())
