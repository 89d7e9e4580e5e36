"""The codec policy on its own: :func:`vidstyle.io.codecs.encoder_settings` maps names and numbers
to encoder settings without opening PyAV, so each rule is checked here without encoding."""

from __future__ import annotations

import pytest

from vidstyle.errors import OutputError
from vidstyle.io.codecs import CONTAINERS, canonical_codec, encoder_settings, prores_profile


@pytest.mark.parametrize("codec", ["h264", "h265"])
def test_even_size_is_420_odd_size_is_444(codec):
    even = encoder_settings(codec, 64, 36)
    assert even.pix_fmt == "yuv420p" and not even.warnings
    for w, h in [(63, 36), (64, 35), (63, 35)]:
        odd = encoder_settings(codec, w, h)
        assert odd.pix_fmt == "yuv444p"
        assert any("odd frame size" in m for m in odd.warnings)


def test_h264_defaults():
    s = encoder_settings(None, 64, 36, container=".mp4")
    assert s.codec == "libx264" and s.options == {"crf": "18"}
    assert s.bits == 8 and not s.alpha and s.yuv and s.tag_bt709 and s.colorspace == "ITU709"
    assert encoder_settings("h264", 64, 36, crf=23).options["crf"] == "23"
    assert encoder_settings("hevc", 64, 36).options == {"crf": "20", "x265-params": "log-level=error"}


def test_16_bit_sources():
    prores = encoder_settings("prores", 64, 36, depth=16, container="mov")
    assert (prores.pix_fmt, prores.bits, prores.options["profile"]) == ("yuv422p10le", 16, "3")
    xq = encoder_settings("prores", 64, 36, depth=16, container="mov", prores="4444xq")
    assert (xq.pix_fmt, xq.options["profile"]) == ("yuv444p10le", "5")
    ffv1 = encoder_settings("ffv1", 64, 36, depth=16, container="mkv")
    assert (ffv1.pix_fmt, ffv1.bits, ffv1.yuv) == ("gbrp16le", 16, False)
    assert ffv1.options == {"level": "3", "slicecrc": "1"}
    h264 = encoder_settings("h264", 64, 36, depth=16)
    assert h264.bits == 8 and "16-bit frames are converted to 8 bits for libx264" in h264.warnings
    floats = encoder_settings("ffv1", 64, 36, depth=32, container="mkv")
    assert floats.pix_fmt == "gbrp16le" and any("float frames" in m for m in floats.warnings)
    assert encoder_settings("ffv1", 64, 36, depth=8, container="mkv").pix_fmt == "bgr0"


def test_alpha():
    prores = encoder_settings("prores", 64, 36, alpha=True, container="mov")
    assert prores.options["profile"] == "4" and prores.pix_fmt == "yuva444p10le" and prores.alpha
    assert prores.options["alpha_bits"] == "16"
    hq = encoder_settings("prores", 64, 36, alpha=True, container="mov", prores="hq")
    assert hq.pix_fmt == "yuv422p10le" and not hq.alpha
    assert any("alpha channel is dropped" in m for m in hq.warnings)
    ffv1 = encoder_settings("ffv1", 64, 36, alpha=True, container="mkv")
    assert ffv1.pix_fmt == "bgra" and ffv1.alpha and not ffv1.warnings
    assert encoder_settings("ffv1", 64, 36, depth=16, alpha=True, container="mkv").pix_fmt == "gbrap16le"
    h264 = encoder_settings("h264", 64, 36, alpha=True)
    assert not h264.alpha and "libx264 (yuv420p) has no alpha: the alpha channel is dropped" in h264.warnings


@pytest.mark.parametrize("name, encoder, pix_fmt, container", [
    ("h264", "libx264", "yuv420p", "mp4"), ("avc", "libx264", "yuv420p", "mp4"),
    ("x264", "libx264", "yuv420p", "mp4"), ("h265", "libx265", "yuv420p", "mp4"),
    ("hevc", "libx265", "yuv420p", "mp4"), ("x265", "libx265", "yuv420p", "mp4"),
    ("prores", "prores_ks", "yuv422p10le", "mov"), ("prores_ks", "prores_ks", "yuv422p10le", "mov"),
    ("ffv1", "ffv1", "bgr0", "matroska"), ("vp9", "libvpx-vp9", "yuv420p", "webm"),
    ("mpeg4", "mpeg4", "yuv420p", "avi"), ("H264 ", "libx264", "yuv420p", "mp4"),
])
def test_each_codec_name(name, encoder, pix_fmt, container):
    s = encoder_settings(name, 64, 36, container=container)
    assert (s.codec, s.pix_fmt) == (encoder, pix_fmt)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in s.options.items())


def test_container_defaults_and_quirks():
    for ext, (_muxer, default, allowed) in CONTAINERS.items():
        assert encoder_settings(None, 64, 36, container=ext).codec == default
        assert default in allowed
    vp9 = encoder_settings("vp9", 64, 36, container=".webm")
    assert vp9.options == {"crf": "32", "b": "0", "deadline": "good", "cpu-used": "4", "row-mt": "1"}
    mpeg4 = encoder_settings(None, 64, 36, container="avi")
    assert mpeg4.qscale == 3 and mpeg4.colorspace == "ITU601" and not mpeg4.tag_bt709
    assert encoder_settings("mpeg4", 64, 36, container="avi", crf=0).qscale == 1
    assert encoder_settings("mpeg4", 64, 36, container="avi", crf=63).qscale == 10
    assert encoder_settings("h264", 64, 36).qscale is None


def test_encoder_options_override():
    s = encoder_settings("h264", 64, 36, encoder_options={"preset": "veryfast", "crf": 30})
    assert s.options == {"crf": "30", "preset": "veryfast"}


def test_bad_names_give_one_line():
    with pytest.raises(OutputError) as err:
        encoder_settings("divx", 64, 36)
    assert str(err.value) == ("unknown codec 'divx' (known: exr, ffv1, h264, h265, hevc, jpeg, mpeg4, "
                              "png, prores, tiff, vp9)")
    with pytest.raises(OutputError, match="cannot write video files"):
        encoder_settings("png", 64, 36)
    with pytest.raises(OutputError, match="unknown ProRes profile") as err:
        encoder_settings("prores", 64, 36, container="mov", prores="ultra")
    assert "\n" not in str(err.value)


def test_names_and_profiles():
    assert canonical_codec(None) is None and canonical_codec("JPG") == "jpeg"
    assert [prores_profile(v, False) for v in (None, "proxy", "LT", 2, "3", 4444, "4444 XQ")] == [3, 0, 1, 2, 3, 4, 5]
    assert prores_profile(None, True) == 4
    with pytest.raises(OutputError):
        prores_profile(6, False)
