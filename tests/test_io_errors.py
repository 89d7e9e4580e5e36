"""Bad inputs and outputs: one-line InputError/OutputError, never raw av/cv2 exceptions,
damaged files read up to the damage, and no partial or clobbered outputs."""

import logging
import os

import av
import numpy as np
import pytest

from vidstyle.errors import InputError, OutputError
from vidstyle.io.frame import Frame, VideoInfo
from vidstyle.io.reader import open_source
from vidstyle.io.synthetic import make_test_clip
from vidstyle.io.writer import open_sink


def one_line(exc_info):
    msg = str(exc_info.value)
    assert msg and "\n" not in msg
    return msg


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("err")
    return make_test_clip(str(d / "in.mp4"), width=64, height=48, frames=12, audio=False)


@pytest.fixture
def frames(clip):
    with open_source(clip.path) as src:
        return src.info, list(src)


def listdir(path):
    return sorted(os.listdir(path))


# ----------------------------------------------------------------------------- inputs


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as e:
        open_source(str(tmp_path / "nope.mp4"))
    assert "no such file" in one_line(e)


def test_text_file_named_mp4(tmp_path):
    p = tmp_path / "fake.mp4"
    p.write_text("this is not a video\n" * 20)
    with pytest.raises(InputError) as e:
        open_source(str(p))
    assert "fake.mp4" in one_line(e)


def test_audio_only_file(tmp_path):
    p = tmp_path / "sound.m4a"
    with av.open(str(p), "w") as out:
        s = out.add_stream("aac", rate=48000)
        for i in range(10):
            f = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), format="fltp", layout="stereo")
            f.sample_rate, f.pts = 48000, i * 1024
            for pk in s.encode(f):
                out.mux(pk)
        for pk in s.encode(None):
            out.mux(pk)
    with pytest.raises(InputError) as e:
        open_source(str(p))
    assert "no video stream" in one_line(e)


@pytest.mark.parametrize("name, kw", [("long.mkv", {}), ("long.mp4", {"faststart": True})])
def test_truncated_file_yields_frames_before_the_damage(tmp_path, name, kw, caplog):
    clip = make_test_clip(str(tmp_path / name), width=64, height=48, frames=48, audio=False, **kw)
    data = open(clip.path, "rb").read()
    cut = tmp_path / ("cut_" + name)
    cut.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, "vidstyle.io"), open_source(str(cut)) as src:
        got = list(src)  # must not raise
    warned = [r.getMessage() for r in caplog.records if r.name == "vidstyle.io.reader"]
    assert warned, "truncation must be reported"
    assert len(warned) == len(set(warned)), "each problem once"
    assert 5 < len(got) < 48
    assert [f.index for f in got] == list(range(len(got)))


def test_truncated_mp4_without_index_is_an_input_error(tmp_path):
    # a regular MP4 keeps its index (moov) at the end: half a file has no index at all
    clip = make_test_clip(str(tmp_path / "long.mp4"), width=64, height=48, frames=48, audio=False)
    data = open(clip.path, "rb").read()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as e:
        open_source(str(tmp_path / "cut.mp4"))
    one_line(e)


def test_bad_range_text(clip):
    with pytest.raises(InputError) as e:
        open_source(clip.path, start="soon")
    one_line(e)


# ----------------------------------------------------------------------------- outputs


def test_existing_output_needs_overwrite(tmp_path, frames):
    info, fr = frames
    out = tmp_path / "out.mp4"
    out.write_bytes(b"precious")
    with pytest.raises(OutputError) as e:
        open_sink(str(out), info)
    assert "exists" in one_line(e)
    assert out.read_bytes() == b"precious"
    with open_sink(str(out), info, overwrite=True) as sink:
        for f in fr:
            sink.write(f)
    with open_source(str(out)) as src:
        assert len(list(src)) == len(fr)


def test_unwritable_folder(tmp_path, frames):
    info, _ = frames
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(OutputError) as e:
        open_sink(str(blocker / "out.mp4"), info)
    assert "a_file" in one_line(e)
    with pytest.raises(OutputError):
        open_sink(str(blocker / "sub" / "out_%04d.png"), info)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_folder(tmp_path, frames):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(OutputError) as e:
            open_sink(str(ro / "out.mp4"), frames[0])
        assert "permission" in one_line(e)
    finally:
        ro.chmod(0o755)


def test_missing_output_folders_are_created_and_removed_on_abort(tmp_path, frames):
    info, fr = frames
    sink = open_sink(str(tmp_path / "new" / "deeper" / "out.mp4"), info)
    sink.write(fr[0])
    sink.abort()
    assert listdir(tmp_path) == []


def test_abort_leaves_nothing_and_keeps_existing_file(tmp_path, frames):
    info, fr = frames
    out = tmp_path / "out.mp4"
    out.write_bytes(b"old version")
    sink = open_sink(str(out), info, overwrite=True)
    for f in fr:
        sink.write(f)
    assert len(listdir(tmp_path)) == 2  # the old file + the hidden temporary one
    sink.abort()
    assert listdir(tmp_path) == ["out.mp4"]
    assert out.read_bytes() == b"old version"
    with pytest.raises(OutputError):
        sink.write(fr[0])


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_exception_in_with_block_aborts(tmp_path, frames, exc):
    info, fr = frames
    with pytest.raises(exc):
        with open_sink(str(tmp_path / "out.mkv"), info) as sink:
            sink.write(fr[0])
            raise exc()
    assert listdir(tmp_path) == []
    with pytest.raises(exc):
        with open_sink(str(tmp_path / "seq_%03d.png"), info) as sink:
            sink.write(fr[0])
            raise exc()
    assert listdir(tmp_path) == []


@pytest.mark.parametrize("name, kw", [
    ("out.mp4", {"codec": "ffv1"}),
    ("out.mp4", {"codec": "prores"}),
    ("out.webm", {"codec": "h264"}),
    ("out.mkv", {"codec": "divx3000"}),
    ("out.xyz", {}),
    ("out.mp4", {"codec": "png"}),
    ("out_%04d.png", {"codec": "exr"}),
    ("out.png", {}),
    ("out.mov", {"prores_profile": 9}),
    ("out.mp4", {"crf": 99}),
])
def test_unsupported_combinations(tmp_path, frames, name, kw):
    with pytest.raises(OutputError) as e:
        open_sink(str(tmp_path / name), frames[0], **kw)
    one_line(e)
    assert listdir(tmp_path) == []


def test_no_frames_and_wrong_sizes(tmp_path, frames):
    info, fr = frames
    sink = open_sink(str(tmp_path / "empty.mp4"), info)
    with pytest.raises(OutputError, match="no frames"):
        sink.close()
    assert listdir(tmp_path) == []
    sink = open_sink(str(tmp_path / "mixed.mp4"), info)
    sink.write(fr[0])
    with pytest.raises(OutputError) as e:
        sink.write(Frame(image=np.zeros((10, 10, 3), np.uint8), index=1))
    one_line(e)
    assert listdir(tmp_path) == []  # a failed write aborts


def test_plain_arrays_and_missing_timestamps_are_accepted(tmp_path):
    info = VideoInfo(path="-", kind="video", width=17, height=9)
    with open_sink(str(tmp_path / "arr.mkv"), info, codec="ffv1") as sink:
        for i in range(3):
            sink.write(np.full((9, 17, 3), 40 * i, np.uint8))
    with open_source(str(tmp_path / "arr.mkv")) as src:
        got = list(src)
    assert [f.time for f in got] == pytest.approx([0, 1 / 24, 2 / 24], abs=1e-3)
    assert [int(f.image.mean()) for f in got] == [0, 40, 80]


def test_missing_audio_source_is_reported_at_open(tmp_path, frames):
    with pytest.raises(InputError) as e:
        open_sink(str(tmp_path / "out.mp4"), frames[0], audio_source=str(tmp_path / "gone.mp4"))
    assert "gone.mp4" in one_line(e)
    assert listdir(tmp_path) == []


def test_source_without_audio_gives_video_only(tmp_path, clip, frames):
    info, fr = frames
    with open_sink(str(tmp_path / "out.mp4"), info, audio_source=clip.path) as sink:
        sink.write(fr[0])
    with open_source(str(tmp_path / "out.mp4")) as src:
        assert src.info.audio_streams == 0 and len(list(src)) == 1
