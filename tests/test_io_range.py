"""--start/--end trimming of video and audio."""

import av
import numpy as np
import pytest

from vidstyle.errors import InputError
from vidstyle.io.reader import open_source
from vidstyle.io.synthetic import make_test_clip
from vidstyle.io.writer import open_sink


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("range")
    return make_test_clip(str(d / "in.mp4"), width=96, height=64, frames=48, fps=24)


def audio_packets(path):
    with av.open(str(path)) as c:
        s = c.streams.audio[0]
        return [(float(p.pts * p.time_base), float(p.duration * p.time_base), bytes(p))
                for p in c.demux(s) if p.size]


@pytest.mark.parametrize("start, end", [("12", "36"), ("0.5s", "1.5s"), ("00:00:00:12", "00:00:01.500")])
def test_range_selects_frames(clip, start, end):
    with open_source(clip.path, start=start, end=end) as src:
        info = src.info
        frames = list(src)
    assert [f.index for f in frames] == list(range(12, 36))  # start inclusive, end exclusive
    assert info.trimmed and info.frame_count == 24
    assert info.start_time == pytest.approx(0.5) and info.end_time == pytest.approx(1.5)
    np.testing.assert_allclose([f.time for f in frames], clip.frame_times[12:36], atol=1e-3)


def test_open_ended_ranges(clip):
    with open_source(clip.path, start="40") as src:
        assert [f.index for f in src] == list(range(40, 48))
        assert src.info.frame_count == 8
    with open_source(clip.path, end="0.25s") as src:
        assert [f.index for f in src] == list(range(0, 6))
    with open_source(clip.path, end="1000") as src:  # past the end: clamped
        assert len(list(src)) == 48


def test_start_past_the_end_is_an_input_error(clip):
    with pytest.raises(InputError, match="past the end"):
        open_source(clip.path, start="10s")
    with pytest.raises(InputError):
        open_source(clip.path, start="20", end="10")


def test_trimmed_write_trims_and_rebases_audio(clip, tmp_path):
    out = tmp_path / "cut.mp4"
    with open_source(clip.path, start="0.5s", end="1.5s") as src:
        with open_sink(str(out), src.info, audio_source=clip.path,
                       encoder_options={"preset": "ultrafast"}) as sink:
            for f in src:
                sink.write(f)
    with open_source(str(out)) as o:
        oframes = list(o)
    assert len(oframes) == 24
    # video rebased to start at 0, spacing kept
    np.testing.assert_allclose([f.time for f in oframes],
                               np.array(clip.frame_times[12:36]) - 0.5, atol=1e-3)
    src_pk = audio_packets(clip.path)
    out_pk = audio_packets(out)
    pkt = src_pk[1][1]  # one AAC packet (1024 samples)
    total = sum(d for _, d, _ in out_pk)
    assert abs(total - 1.0) <= pkt + 1e-6
    # audio starts at the new zero, within a packet
    assert 0 <= out_pk[0][0] < pkt
    # the kept packets are a contiguous run of the source's packets, unchanged, starting in range
    payloads = [b for _, _, b in src_pk]
    first = payloads.index(out_pk[0][2])
    assert [b for _, _, b in out_pk] == payloads[first:first + len(out_pk)]
    assert src_pk[first][0] == pytest.approx(0.5, abs=pkt)
    # and shifted by exactly the video shift (sync kept)
    assert out_pk[0][0] == pytest.approx(src_pk[first][0] - 0.5, abs=1e-4)
