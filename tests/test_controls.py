"""Artist controls: strength, colour preservation, mattes, colour encodings (unit level, tiny tensors)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidstyle.io.frame import Frame
from vidstyle.ops.blend import blend_strength, linear_blend
from vidstyle.ops.color import linear_to_srgb, rgb_to_yuv, srgb_to_linear, yuv_to_rgb
from vidstyle.ops.matte import feather_mask
from vidstyle.pipeline.color import FrameCodec, image_encoding
from vidstyle.pipeline.controls import StyleControls, apply_controls, check_strength, preserve_colors
from vidstyle.pipeline.mattes import StaticMatte, matte_plane


def pair(seed: int = 0, b: int = 2, h: int = 12, w: int = 16):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, h, w, generator=g), torch.rand(b, 3, h, w, generator=g)


def photo_like(seed: int, b: int = 2, h: int = 24, w: int = 32, std: float = 0.12):
    """Smooth-ish images around mid-grey (few clipped values, unlike uniform noise)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, 3, h // 4, w // 4, generator=g)
    x = torch.nn.functional.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
    return (0.5 + std * x / x.std()).clamp(0, 1)


def test_strength_zero_is_identity_and_one_is_full_style():
    c, s = pair()
    assert torch.equal(StyleControls(0.0)(c, s), c)
    assert torch.equal(blend_strength(c, s, 1.0), s)
    assert torch.equal(StyleControls(1.0)(c, s), s)
    # the identity fast path returns the net's output as is
    assert StyleControls().is_identity and StyleControls()(c, s) is s


def test_strength_progression_is_monotone_and_keeps_contrast():
    c, s = photo_like(1), photo_like(2)
    steps = [0.0, 0.25, 0.5, 0.75, 1.0]
    outs = [blend_strength(c, s, k) for k in steps]
    dist = [(o - c).abs().mean().item() for o in outs]
    assert all(a < b for a, b in zip(dist, dist[1:]))  # moves steadily away from the content
    # Two unrelated images: the plain blend loses ~30 % of contrast (luma std) and saturation
    # (chroma std) at 0.5; ours keeps the interpolated stds.
    for ch in (0, 1, 2):  # Y, U, V
        std = lambda t: rgb_to_yuv(t)[:, ch].std((-2, -1)).mean().item()
        want = 0.5 * (std(c) + std(s))
        assert std(linear_blend(c, s, 0.5)) < 0.8 * want
        assert std(blend_strength(c, s, 0.5)) == pytest.approx(want, rel=0.03)
    # the RGB variant keeps per-RGB-channel contrast
    std = lambda t: t.std((-2, -1)).mean().item()
    assert std(blend_strength(c, s, 0.5, space="rgb")) == pytest.approx(0.5 * (std(c) + std(s)), rel=0.03)


def test_blending_an_image_with_itself_is_exact():
    c, _ = pair(6)
    for k in (0.1, 0.5, 0.9):
        assert torch.equal(blend_strength(c, c, k), c)


def test_live_mode_can_change_strength_between_frames():
    c, s = pair(2)
    ctl = StyleControls(1.0, preserve_colors=False)
    ctl.strength = 0.0
    assert torch.equal(ctl(c, s), c)
    ctl.strength = 1.7  # out of range while turning a knob: clamped, not an error
    assert torch.equal(ctl(c, s), s)


@pytest.mark.parametrize("bad", [-0.1, 1.5, "x", float("nan")])
def test_bad_strength_is_rejected(bad):
    with pytest.raises(ValueError):
        check_strength(bad)
    with pytest.raises(ValueError):
        StyleControls(bad)


def test_yuv_round_trip():
    c, _ = pair(3)
    assert torch.allclose(yuv_to_rgb(rgb_to_yuv(c)), c, atol=1e-6)


def test_preserve_colors_keeps_chroma_and_takes_luma():
    c, s = pair(4, h=20, w=20)
    c = c * 0.5 + 0.25  # moderately saturated content: its chroma allows most luma values
    s = s * 0.5 + 0.25
    out = preserve_colors(c, s)
    assert out.min() >= 0 and out.max() <= 1
    yc, ys, yo = rgb_to_yuv(c), rgb_to_yuv(s), rgb_to_yuv(out)
    assert torch.allclose(yo[:, 1:], yc[:, 1:], atol=1e-5)  # chroma of the input, exactly
    # luma of the style (where the gamut allows) and not the input's
    assert (yo[:, 0] - ys[:, 0]).abs().mean() < 0.02
    assert (yo[:, 0] - yc[:, 0]).abs().mean() > 0.1
    # also through the controls (8-bit rounding of the output aside)
    ctl = StyleControls(1.0, preserve_colors=True)
    assert torch.allclose(rgb_to_yuv(ctl(c, s))[:, 1:], yc[:, 1:], atol=1e-5)


def test_preserve_colors_saturated_content_stays_exact():
    # a pure red content and a bright stylized frame: luma is limited so red stays in gamut
    c = torch.zeros(1, 3, 4, 4)
    c[:, 0] = 1.0
    s = torch.ones(1, 3, 4, 4)
    out = preserve_colors(c, s)
    assert torch.allclose(rgb_to_yuv(out)[:, 1:], rgb_to_yuv(c)[:, 1:], atol=1e-6)


def test_mask_zero_untouched_one_full_and_soft_in_between():
    c, s = pair(5)
    zero = torch.zeros(2, 1, 12, 16)
    assert torch.equal(apply_controls(c, s, mask=zero), c)
    assert torch.equal(apply_controls(c, s, mask=zero + 1), s)
    half = apply_controls(c, s, mask=zero + 0.5)
    assert torch.allclose(half, 0.5 * (c + s), atol=1e-6)
    small = torch.ones(1, 1, 6, 8)  # a matte of another size is resized
    assert torch.equal(StyleControls()(c, s, small), s)


def test_feather_softens_the_edge_only():
    m = torch.zeros(1, 1, 32, 32)
    m[..., 16:] = 1.0
    f = feather_mask(m, 3.0)
    assert f.shape == m.shape
    assert f[..., 0, 0].item() == pytest.approx(0, abs=1e-6) and f[..., 0, -1].item() == pytest.approx(1, abs=1e-6)
    edge = f[0, 0, 10, 14:18]
    assert 0.05 < edge.min().item() < 0.5 < edge.max().item() < 0.95  # a soft ramp across the edge
    assert torch.equal(feather_mask(m, 0), m)


def test_matte_planes():
    gray = np.full((4, 4, 3), 255, np.uint8)
    assert np.array_equal(matte_plane(gray), np.ones((4, 4), np.float32))
    rgba = np.zeros((4, 4, 4), np.uint16)
    rgba[:2, :, 3] = 65535
    assert matte_plane(rgba)[0, 0] == 1.0 and matte_plane(rgba)[3, 0] == 0.0  # alpha used
    frame = Frame(np.zeros((8, 10, 3), np.uint8), 0)
    t = StaticMatte(gray, feather=0)(frame)  # resized to the frame, no blur
    assert t.shape == (1, 1, 8, 10) and torch.all(t == 1)


def test_srgb_transfer_functions():
    x = torch.tensor([0.0, 0.002, 0.01, 0.2140, 0.5, 1.0, 4.0, -0.5])
    assert torch.allclose(srgb_to_linear(linear_to_srgb(x)), x, rtol=1e-5, atol=1e-7)
    assert linear_to_srgb(torch.tensor(0.21404)).item() == pytest.approx(0.5, abs=1e-4)
    assert srgb_to_linear(torch.tensor(1.0)).item() == pytest.approx(1.0)


def test_encodings_follow_the_file_type_and_the_choice():
    f32, u8 = np.float32, np.uint8
    assert image_encoding("a_%04d.exr", f32) == "linear"
    assert image_encoding("a_%04d.png", u8) == "srgb"
    assert image_encoding("a_%04d.tif", np.uint16, "linear") == "linear"
    assert image_encoding("out.mp4", f32, "linear", is_output=True) == "srgb"  # video is display-referred
    assert image_encoding("out_%04d.exr", f32, is_output=True) == "linear"
    assert image_encoding("out_%04d.exr", f32, "srgb", is_output=True) == "srgb"


def test_linear_codec_shows_the_net_srgb_and_writes_linear_back():
    lin = np.full((2, 3, 3), 0.21404, np.float32)  # 0.5 in sRGB
    lin[0, 0] = [4.0, -0.25, 0.5]  # out-of-range scene values
    codec = FrameCodec("linear", "linear")
    t = codec.to_tensor(lin)
    assert t[0, :, 1, 1].tolist() == pytest.approx([0.5] * 3, abs=1e-4)
    back = codec.to_image(t, lin)
    assert back.dtype == np.float32
    assert np.allclose(back[1:], lin[1:], atol=1e-6)
    # a zero matte gives the input bit for bit, out-of-range values included
    assert np.array_equal(codec.to_image(t * 0.3, lin, torch.zeros(1, 1, 2, 3)), lin)
    # an 8-bit source written linear (EXR output) becomes float, alpha scaled to 0..1
    rgba = np.full((2, 2, 4), 255, np.uint8)
    out = FrameCodec("srgb", "linear").to_image(torch.full((1, 3, 2, 2), 0.5), rgba)
    assert out.dtype == np.float32 and out[0, 0, 3] == 1.0 and out[0, 0, 0] == pytest.approx(0.21404, abs=1e-4)


def test_plain_codec_matches_the_old_frame_conversion():
    from vidstyle.ops.tensors import image_to_tensor, tensor_to_image

    img = (np.arange(4 * 5 * 4) % 251).astype(np.uint8).reshape(4, 5, 4)
    codec = FrameCodec()
    assert torch.equal(codec.to_tensor(img), image_to_tensor(img))
    t = torch.rand(1, 3, 4, 5)
    assert np.array_equal(codec.to_image(t, img), tensor_to_image(t, img))


def test_to_tensor_gives_contiguous_planar_frames_scaled_by_bit_depth():
    rng = np.random.default_rng(0)
    u8 = rng.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    u16 = rng.integers(0, 65536, (6, 7, 3), dtype=np.uint16)
    f32 = rng.uniform(-0.5, 1.5, (6, 7, 3)).astype(np.float32)
    codec = FrameCodec()
    for img, scale in ((u8, 255.0), (u16, 65535.0)):
        t = codec.to_tensor(img)
        assert t.dtype == torch.float32 and t.shape == (1, 3, 6, 7) and t.is_contiguous()
        assert torch.equal(t, torch.from_numpy(img.astype(np.float32)).permute(2, 0, 1)[None] / scale)
    t = codec.to_tensor(f32)
    assert t.is_contiguous() and torch.equal(t, torch.from_numpy(f32).permute(2, 0, 1)[None].clamp(0, 1))
