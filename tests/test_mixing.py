"""Style mixing: spec parsing, weight interpolation, output blending (tiny random nets)."""

from __future__ import annotations

import pytest
import torch

from vidstyle.errors import InputError
from vidstyle.models.mixing import (
    OutputMix,
    blend_outputs,
    interpolate_weights,
    load_styles_mix,
    parse_style_spec,
    relatedness,
)
from vidstyle.models.mixing import RELATED_COSINE as RELATED
from vidstyle.models.styles import save_style
from vidstyle.models.transformer import TransformerNet
from vidstyle.ops.color import rgb_to_yuv
from vidstyle.pipeline.stylizer import Stylizer

TINY = {"channels": [4, 8, 8], "blocks": 1}
OTHER = {"channels": [4, 8, 16], "blocks": 1}


def tiny(seed: int, arch=TINY) -> TransformerNet:
    torch.manual_seed(seed)
    return TransformerNet(arch).eval()


@pytest.fixture()
def styles(tmp_path):
    a, b, c = tiny(0), tiny(1), tiny(2, OTHER)
    # "a_ft": a fine-tuned relative of a (small perturbation): weight interpolation applies
    a_ft = tiny(0)
    with torch.no_grad():
        for p in a_ft.parameters():
            p.add_(0.05 * torch.randn_like(p))
    paths = {}
    for name, net in {"a": a, "b": b, "c": c, "a_ft": a_ft}.items():
        paths[name] = str(save_style(net, tmp_path / name, {}))
    return paths


def x_in(seed: int = 5) -> torch.Tensor:
    return torch.rand(1, 3, 16, 20, generator=torch.Generator().manual_seed(seed))


def test_parse_spec():
    assert parse_style_spec("starry:0.7,wave:0.3") == [("starry", pytest.approx(0.7)), ("wave", pytest.approx(0.3))]
    assert parse_style_spec("starry") == [("starry", 1.0)]
    assert parse_style_spec("a, b") == [("a", 0.5), ("b", 0.5)]
    assert parse_style_spec("a:3,b:1") == [("a", 0.75), ("b", 0.25)]
    assert parse_style_spec(r"C:\styles\x.safetensors:2") == [(r"C:\styles\x.safetensors", 1.0)]
    assert parse_style_spec(r"C:\styles\x.safetensors") == [(r"C:\styles\x.safetensors", 1.0)]


@pytest.mark.parametrize("bad", ["", "a:x", "a:-1", "a:0,b:0", ",a", ":0.5", "a:inf", "a:nan"])
def test_parse_spec_errors(bad):
    with pytest.raises(InputError):
        parse_style_spec(bad)


def test_single_style_is_the_plain_net(styles):
    net, text = load_styles_mix(styles["a"])
    assert type(net) is TransformerNet and "a" in text
    net2, _ = load_styles_mix(styles["a"] + ":0.3")
    assert torch.equal(net(x_in()), net2(x_in()))


@pytest.mark.parametrize("mode", ["auto", "weights", "outputs"])
def test_half_and_half_of_one_style_is_that_style(styles, mode):
    single, _ = load_styles_mix(styles["a"])
    mix, text = load_styles_mix(f"{styles['a']}:0.5,{styles['a']}:0.5", mode=mode)
    x = x_in()
    with torch.no_grad():
        assert torch.allclose(mix(x), single(x), atol=1e-5), text


def test_weights_interpolation_is_linear_in_parameters():
    a, b = tiny(0), tiny(1)
    m = interpolate_weights([a, b], [0.25, 0.75])
    k = "encoder.0.conv.conv.weight"
    assert torch.allclose(m.state_dict()[k], 0.25 * a.state_dict()[k] + 0.75 * b.state_dict()[k])
    k = "residuals.0.norm1.weight"  # instance-norm affine parameters too
    assert torch.allclose(m.state_dict()[k], 0.25 * a.state_dict()[k] + 0.75 * b.state_dict()[k])
    assert torch.equal(interpolate_weights([a, b], [1.0, 0.0])(x_in()), a(x_in()))


def test_auto_mode_interpolates_related_nets_only(styles):
    assert relatedness(tiny(0), tiny(0)) == pytest.approx(1.0)
    assert abs(relatedness(tiny(0), tiny(1))) < RELATED
    related, text = load_styles_mix(f"{styles['a']}:0.5,{styles['a_ft']}:0.5")
    assert type(related) is TransformerNet and "weights interpolated" in text
    unrelated, text = load_styles_mix(f"{styles['a']}:0.5,{styles['b']}:0.5")
    assert isinstance(unrelated, OutputMix) and "outputs blended" in text
    other_arch, _ = load_styles_mix(f"{styles['a']},{styles['c']}")
    assert isinstance(other_arch, OutputMix)
    with pytest.raises(InputError, match="same arch"):
        load_styles_mix(f"{styles['a']},{styles['c']}", mode="weights")


def test_output_blend_between_the_two_styles(styles):
    na, _ = load_styles_mix(styles["a"])
    nb, _ = load_styles_mix(styles["b"])
    mix, _ = load_styles_mix(f"{styles['a']}:0.75,{styles['b']}:0.25", mode="outputs")
    x = x_in()
    with torch.no_grad():
        ya, yb, ym = na(x), nb(x), mix(x)
    da, db = (ym - ya).abs().mean(), (ym - yb).abs().mean()
    assert da < db  # closer to the heavier style
    assert torch.allclose(ym.mean((-2, -1)), (0.75 * ya + 0.25 * yb).mean((-2, -1)), atol=1e-5)
    # contrast/saturation-preserving: the blend's Y'UV per-channel std is the weighted std
    sd = lambda t: rgb_to_yuv(t).std((-2, -1), unbiased=False)
    want = 0.75 * sd(ya) + 0.25 * sd(yb)
    assert torch.allclose(sd(ym), want, rtol=1e-3)
    assert (sd(0.75 * ya + 0.25 * yb) < 0.97 * want).any()  # which the plain average is not
    assert torch.equal(blend_outputs([ya], [1.0]), ya)


def test_mix_runs_in_the_stylizer_with_padding(styles):
    mix, _ = load_styles_mix(f"{styles['a']}:0.5,{styles['b']}:0.5")
    assert mix.stride == 4
    y = Stylizer(mix, "cpu")(torch.rand(2, 3, 17, 23))
    assert y.shape == (2, 3, 17, 23) and y.min() >= 0 and y.max() <= 1


def test_unknown_style_in_a_mix(styles):
    with pytest.raises(InputError, match="unknown style|not found"):
        load_styles_mix(f"{styles['a']}:0.5,nosuchstyle_xyz:0.5")
