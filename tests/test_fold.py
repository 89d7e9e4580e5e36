"""The exact CPU re-formulations of the transform net's full-resolution layers (vidstyle.models.fold)."""

from __future__ import annotations

import pytest
import torch

from vidstyle.models.fold import FoldedConv, SubPixelConvNormAct, fold_for_cpu
from vidstyle.models.transformer import ConvLayer

from nets import random_net


@pytest.mark.parametrize("arch", ["light", "full", "tiny", "fast", "light-bilinear", "full-bilinear"])
def test_folded_net_gives_the_same_output(arch, one_thread):
    net = random_net(arch, seed=7)
    folded = fold_for_cpu(net)
    x = torch.rand(2, 3, 44, 76, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        ref, y = net(x), folded(x)
    assert y.shape == ref.shape
    assert float((y - ref).abs().max()) < 1e-4 * float(ref.abs().max())
    # plain archs get the folded last layer; the fast arch (already folded) is left as it is
    assert isinstance(folded.decoder[-1], FoldedConv) == (arch != "fast")
    assert isinstance(folded.decoder[-2], SubPixelConvNormAct) == (arch != "fast")
    assert not isinstance(net.decoder[-1], FoldedConv)  # the original is untouched


@pytest.mark.parametrize("k", [3, 5, 9])
def test_folded_conv_matches_any_odd_kernel(k, one_thread):
    torch.manual_seed(k)
    layer = ConvLayer(5, 7, k)
    x = torch.randn(1, 5, 18, 26)
    with torch.inference_mode():
        y = FoldedConv(layer)(x)
        assert y.shape == (1, 7, 18, 26) and torch.allclose(y, layer(x), atol=1e-5)


def test_folded_conv_rejects_strided_layers():
    with pytest.raises(ValueError, match="stride-1"):
        FoldedConv(ConvLayer(3, 8, 3, stride=2))


def test_cpu_stylizer_runs_the_folded_net(one_thread):
    from vidstyle.pipeline.stylizer import Stylizer

    net = random_net("light", seed=3)
    st = Stylizer(net, "cpu", tile="off")
    assert isinstance(st.net.decoder[-1], FoldedConv)
    x = torch.rand(1, 3, 36, 52, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        assert torch.allclose(st(x), net(x).clamp(0, 1), atol=1e-5)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("size", [(9, 13), (20, 34)])
def test_subpixel_layer_matches_upsample_then_conv(size, mode, one_thread):
    """2x upsampling (nearest + reflection pad, or bilinear + replication pad) + 3x3 conv + norm +
    ReLU, computed at low resolution (odd sizes too: the borders must agree as well as the inside)."""
    from vidstyle.models.transformer import ConvNormAct

    torch.manual_seed(size[0])
    layer = ConvNormAct(6, 5, 3, 1, upsample=2, mode=mode).eval()
    with torch.no_grad():  # a non-trivial affine norm
        layer.norm.weight.uniform_(0.5, 1.5)
        layer.norm.bias.uniform_(-0.3, 0.3)
    x = torch.randn(1, 6, *size)
    with torch.inference_mode():
        ref, y = layer(x), SubPixelConvNormAct(layer)(x)
    assert y.shape == ref.shape == (1, 5, 2 * size[0], 2 * size[1])
    assert torch.allclose(y, ref, atol=1e-5), float((y - ref).abs().max())
    # the border rows and columns are where a wrong padding would show
    assert torch.allclose(y[..., 0, :], ref[..., 0, :], atol=1e-5) and torch.allclose(y[..., -1], ref[..., -1], atol=1e-5)


def test_subpixel_layer_rejects_other_layers():
    from vidstyle.models.transformer import ConvNormAct

    with pytest.raises(ValueError, match="upsampling"):
        SubPixelConvNormAct(ConvNormAct(4, 4, 3, 1, upsample=1))
    with pytest.raises(ValueError, match="upsampling"):
        SubPixelConvNormAct(ConvNormAct(4, 4, 5, 1, upsample=2))
    bilinear_reflect = ConvNormAct(4, 4, 3, 1, upsample=2, mode="bilinear")
    bilinear_reflect.conv.pad = torch.nn.ReflectionPad2d(1)  # the fold is exact with replication only
    with pytest.raises(ValueError, match="upsampling"):
        SubPixelConvNormAct(bilinear_reflect)
