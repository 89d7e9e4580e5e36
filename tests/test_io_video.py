"""Video read -> write round trips: sizes, timestamps, audio packets, codecs, rotation, seeking."""

import logging

import av
import numpy as np
import pytest

from vidstyle.io import reader as reader_mod
from vidstyle.io.diagnostics import collect_warnings
from vidstyle.io.reader import open_source
from vidstyle.io.synthetic import make_test_clip
from vidstyle.io.writer import open_sink

FAST = {"preset": "ultrafast"}


def audio_packets(path):
    """[(stream index, pts, bytes)] of every audio packet, in file order."""
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return []
        return [(p.stream.index, p.pts, bytes(p)) for p in c.demux(*c.streams.audio) if p.size]


def audio_payloads(path):
    return [data for _, _, data in audio_packets(path)]


def roundtrip(src_path, out_path, **kw):
    with collect_warnings() as read_warnings, open_source(str(src_path)) as src:
        frames = list(src)
    assert not read_warnings
    with open_sink(str(out_path), src.info, audio_source=str(src_path), **kw) as sink:
        for f in frames:
            sink.write(f)
    with collect_warnings() as read_warnings, open_source(str(out_path)) as out:
        out_frames = list(out)
    assert not read_warnings
    return src.info, frames, out.info, out_frames, sink


@pytest.fixture(scope="module")
def vfr_clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("vfr")
    return make_test_clip(str(d / "vfr.mp4"), width=322, height=178, frames=24, irregular=True)


def test_reader_reports_info_and_times(vfr_clip):
    with open_source(vfr_clip.path) as src:
        info = src.info
        frames = list(src)
    assert (info.kind, info.width, info.height) == ("video", 322, 178)
    assert info.frame_count == 24 and info.audio_streams == 1
    assert info.time_base == vfr_clip.time_base and info.dtype == "uint8" and not info.has_alpha
    assert len(frames) == 24
    assert all(f.image.shape == (178, 322, 3) and f.image.dtype == np.uint8 for f in frames)
    assert [f.index for f in frames] == list(range(24))
    assert [f.pts for f in frames] == vfr_clip.frame_pts
    np.testing.assert_allclose([f.time for f in frames], vfr_clip.frame_times, atol=1e-3)
    gaps = np.diff([f.time for f in frames])
    assert gaps.max() > 1.9 * gaps.min()  # really variable frame rate
    # the picture is the pattern (decoded within codec error), not garbage
    assert frames[5].image.std() > 20


@pytest.mark.parametrize("size, pix", [((322, 178), "yuv420p"), ((323, 177), "yuv444p")])
def test_mp4_roundtrip_keeps_size_times_and_audio(tmp_path, size, pix):
    w, h = size
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=w, height=h, frames=24, irregular=True)
    out_path = tmp_path / "out.mp4"
    info, frames, oinfo, oframes, _ = roundtrip(clip.path, out_path, encoder_options=FAST)
    assert (oinfo.width, oinfo.height) == (w, h)
    assert oinfo.pix_fmt == pix
    assert len(oframes) == len(frames) == 24
    np.testing.assert_allclose([f.time for f in oframes], [f.time for f in frames], atol=1e-3)
    # the content survives (lossy codec: small error)
    diff = np.abs(oframes[10].image.astype(int) - frames[10].image.astype(int)).mean()
    assert diff < 4
    # audio copied packet for packet
    src_audio, out_audio = audio_payloads(clip.path), audio_payloads(out_path)
    assert len(src_audio) > 20
    assert out_audio == src_audio
    assert not list(tmp_path.glob(".*partial*"))


def test_mkv_ffv1_is_lossless_and_keeps_times(tmp_path):
    clip = make_test_clip(str(tmp_path / "in.mkv"), width=323, height=177, frames=12, irregular=True,
                          audio_codec="libopus")
    info, frames, oinfo, oframes, _ = roundtrip(clip.path, tmp_path / "out.mkv", codec="ffv1")
    assert oinfo.codec == "ffv1" and len(oframes) == 12
    for a, b in zip(frames, oframes):
        np.testing.assert_array_equal(a.image, b.image)
        assert abs(a.time - b.time) <= 1e-3
    assert audio_payloads(tmp_path / "out.mkv") == audio_payloads(clip.path)


def test_prores_10bit_alpha_gives_uint16_rgba_and_keeps_it(tmp_path):
    clip = make_test_clip(str(tmp_path / "in.mov"), width=64, height=48, frames=6, codec="prores",
                          pix_fmt="yuva444p10le", audio_codec="pcm_s16le")
    with open_source(clip.path) as src:
        assert src.info.dtype == "uint16" and src.info.has_alpha
        first = next(iter(src))
    assert first.image.shape == (48, 64, 4) and first.image.dtype == np.uint16
    alpha = first.image[:, :, 3].astype(float) / 65535
    assert alpha[:, 0].mean() < 0.35 and alpha[:, -1].mean() > 0.95  # the gradient alpha
    info, frames, oinfo, oframes, _ = roundtrip(clip.path, tmp_path / "out.mov")
    assert oinfo.codec == "prores" and oinfo.has_alpha and oinfo.dtype == "uint16"
    assert oinfo.pix_fmt.startswith("yuva444p")
    err = np.abs(oframes[3].image.astype(float) - frames[3].image.astype(float)).mean() / 65535
    assert err < 0.01
    assert audio_payloads(tmp_path / "out.mov") == audio_payloads(clip.path)


def test_ffv1_16bit_is_exact(tmp_path):
    clip = make_test_clip(str(tmp_path / "in.mov"), width=40, height=30, frames=3, codec="prores",
                          pix_fmt="yuv422p10le", audio=False)
    info, frames, oinfo, oframes, _ = roundtrip(clip.path, tmp_path / "out.mkv", codec="ffv1")
    assert frames[0].image.dtype == np.uint16 and oframes[0].image.dtype == np.uint16
    assert oinfo.pix_fmt == "gbrp16le"
    for a, b in zip(frames, oframes):
        np.testing.assert_array_equal(a.image, b.image)


def test_audio_transcoded_when_container_cannot_hold_it(tmp_path, caplog):
    clip = make_test_clip(str(tmp_path / "in.mkv"), width=64, height=48, frames=12,
                          audio_codec="libopus")
    with caplog.at_level(logging.WARNING, "vidstyle.io"):
        _, frames, oinfo, oframes, sink = roundtrip(clip.path, tmp_path / "out.avi")
    assert len(oframes) == 12 and oinfo.audio_streams == 1
    with av.open(str(tmp_path / "out.avi")) as c:
        a = c.streams.audio[0]
        assert a.codec_context.name == "aac"
        decoded = sum(f.samples for f in c.decode(a)) / a.codec_context.sample_rate
    assert abs(decoded - clip.audio_duration) < 0.1
    assert any("transcoded" in r.getMessage() for r in caplog.records if r.name == "vidstyle.io.writer")


def test_rotation_is_reported_and_written_back(tmp_path):
    clip = make_test_clip(str(tmp_path / "rot.mp4"), width=64, height=48, frames=4, rotation=90,
                          audio=False)
    _, frames, oinfo, _, _ = roundtrip(clip.path, tmp_path / "out.mp4", encoder_options=FAST)
    assert frames[0].image.shape == (48, 64, 3)  # stored orientation, not rotated
    with open_source(clip.path) as src:
        assert src.info.rotation == 90
    assert oinfo.rotation == 90


def test_seek_gives_same_frames_as_decode_and_skip(tmp_path, monkeypatch):
    clip = make_test_clip(str(tmp_path / "in.mp4"), width=64, height=48, frames=48, audio=False)
    with open_source(clip.path, start="1s", end="1.5s") as src:
        skipped = list(src)
    monkeypatch.setattr(reader_mod, "SEEK_THRESHOLD_S", 0.0)
    with open_source(clip.path, start="1s", end="1.5s") as src:
        assert src._seek_to is not None
        sought = list(src)
    assert [f.index for f in skipped] == list(range(24, 36))
    assert [f.index for f in sought] == [f.index for f in skipped]
    assert [f.pts for f in sought] == [f.pts for f in skipped]
    for a, b in zip(skipped, sought):
        np.testing.assert_array_equal(a.image, b.image)


def test_source_can_be_iterated_twice(vfr_clip):
    with open_source(vfr_clip.path) as src:
        first = [f.pts for f in src]
        second = [f.pts for f in src]
    assert first == second == vfr_clip.frame_pts
