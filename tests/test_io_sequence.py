"""Image sequences and single images, in and out."""

import logging
import os

import cv2
import numpy as np
import pytest

from vidstyle.errors import InputError, OutputError
from vidstyle.io.reader import open_source
from vidstyle.io.synthetic import make_test_image, make_test_sequence
from vidstyle.io.writer import open_sink


def read_raw(path):
    """Image as stored (BGR order kept, bit depth kept)."""
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_png_sequence_roundtrip_is_exact(tmp_path, dtype):
    (tmp_path / "in").mkdir()
    arrays = make_test_sequence(str(tmp_path / "in" / "shot_%04d.png"), frames=4, first=1001,
                                width=33, height=21, dtype=dtype)
    with open_source(str(tmp_path / "in" / "shot_%04d.png")) as src:
        info = src.info
        frames = list(src)
    assert (info.kind, info.width, info.height, info.frame_count) == ("sequence", 33, 21, 4)
    assert info.dtype == np.dtype(dtype).name and info.fps == 24
    assert [f.meta["number"] for f in frames] == [1001, 1002, 1003, 1004]
    assert [f.pts for f in frames] == [0, 1, 2, 3]
    assert [f.time for f in frames] == pytest.approx([0, 1 / 24, 2 / 24, 3 / 24])
    for a, f in zip(arrays, frames):
        assert f.image.dtype == dtype
        np.testing.assert_array_equal(f.image, a)

    with open_sink(str(tmp_path / "out" / "out_%04d.png"), info) as sink:
        for f in frames:
            sink.write(f)
    names = sorted(os.listdir(tmp_path / "out"))
    assert names == [f"out_{i:04d}.png" for i in range(4)]  # numbered from 0, no temp left
    for i, a in enumerate(arrays):
        raw = read_raw(tmp_path / "out" / f"out_{i:04d}.png")
        assert raw.dtype == dtype  # bit depth follows the frames
        np.testing.assert_array_equal(raw[:, :, ::-1], a)


def test_rgba_png_kept(tmp_path):
    arrays = make_test_sequence(str(tmp_path / "a_%02d.png"), frames=2, width=16, height=8, alpha=True)
    with open_source(str(tmp_path / "a_%02d.png")) as src:
        assert src.info.has_alpha
        frames = list(src)
        with open_sink(str(tmp_path / "b_%02d.png"), src.info) as sink:
            for f in frames:
                sink.write(f)
    with open_source(str(tmp_path / "b_%02d.png")) as again:
        for a, f in zip(arrays, again):
            assert f.image.shape == (8, 16, 4)
            np.testing.assert_array_equal(f.image, a)


def test_folder_natural_order_and_fps_override(tmp_path):
    for n in (10, 2, 1):
        make_test_image(str(tmp_path / f"f{n}.png"), width=8, height=6, t=n)
    (tmp_path / "notes.txt").write_text("not an image")
    with open_source(str(tmp_path), fps=30) as src:
        frames = list(src)
        assert src.info.fps == 30
    assert [os.path.basename(f.meta["path"]) for f in frames] == ["f1.png", "f2.png", "f10.png"]
    assert frames[2].time == pytest.approx(2 / 30)


def test_hash_pattern_and_range(tmp_path):
    make_test_sequence(str(tmp_path / "s_%03d.png"), frames=6, first=7, width=8, height=6)
    with open_source(str(tmp_path / "s_###.png"), start="2", end="4") as src:
        assert [f.meta["number"] for f in src] == [9, 10]
        assert src.info.start_time == pytest.approx(2 / 24)


def test_single_image(tmp_path):
    a = make_test_image(str(tmp_path / "still.png"), width=20, height=10)
    with open_source(str(tmp_path / "still.png")) as src:
        assert src.info.kind == "image" and src.info.frame_count == 1
        (frame,) = list(src)
    assert frame.pts is None and frame.index == 0
    np.testing.assert_array_equal(frame.image, a)
    b = make_test_image(str(tmp_path / "still.jpg"), width=64, height=48)
    with open_source(str(tmp_path / "still.jpg")) as src:
        (j,) = list(src)
    assert j.image.dtype == np.uint8 and np.abs(j.image.astype(int) - b).mean() < 15


def test_exr_float_in_and_out(tmp_path):
    a = make_test_image(str(tmp_path / "e_0000.exr"), width=12, height=9)
    a2 = make_test_image(str(tmp_path / "e_0001.exr"), width=12, height=9, t=0.5)
    a2[0, 0] = (-0.5, 7.25, 1e-6)  # scene-linear values survive (no clipping)
    from vidstyle.io._exr import encode_exr
    (tmp_path / "e_0001.exr").write_bytes(encode_exr(a2))
    with open_source(str(tmp_path / "e_%04d.exr")) as src:
        assert src.info.dtype == "float32"
        frames = list(src)
        with open_sink(str(tmp_path / "o_%04d.exr"), src.info) as sink:
            for f in frames:
                sink.write(f)
    np.testing.assert_array_equal(frames[0].image, a)
    np.testing.assert_array_equal(frames[1].image, a2)
    with open_source(str(tmp_path / "o_%04d.exr")) as out:
        for f, ref in zip(out, (a, a2)):
            assert f.image.dtype == np.float32
            np.testing.assert_array_equal(f.image, ref)


def test_exr_half_and_alpha(tmp_path):
    from vidstyle.io.frame import VideoInfo

    img = np.random.default_rng(1).uniform(-1, 4, size=(5, 7, 4)).astype(np.float32)
    info = VideoInfo(path="-", kind="sequence", width=7, height=5, dtype="float32", has_alpha=True)
    with open_sink(str(tmp_path / "h_%02d.exr"), info, encoder_options={"exr_half": True}) as sink:
        sink.write(img)
    with open_source(str(tmp_path / "h_%02d.exr")) as src:
        (f,) = list(src)
    assert f.image.shape == (5, 7, 4) and f.image.dtype == np.float32
    np.testing.assert_allclose(f.image, img, rtol=2e-3, atol=1e-3)  # half precision
    np.testing.assert_array_equal(f.image, f.image.astype(np.float16))  # stored as half


def test_sequence_to_video_and_folder_output(tmp_path):
    make_test_sequence(str(tmp_path / "s_%04d.png"), frames=5, width=32, height=24)
    with open_source(str(tmp_path / "s_%04d.png")) as src:
        frames = list(src)
        with open_sink(str(tmp_path / "seq.mp4"), src.info, encoder_options={"preset": "ultrafast"}) as sink:
            for f in frames:
                sink.write(f)
        with open_sink(str(tmp_path / "frames") + "/", src.info) as sink:
            for f in frames:
                sink.write(f)
    with open_source(str(tmp_path / "seq.mp4")) as v:
        assert [f.time for f in v] == pytest.approx([i / 24 for i in range(5)], abs=1e-3)
    assert sorted(os.listdir(tmp_path / "frames")) == [f"{i:06d}.png" for i in range(5)]


def test_sequence_errors(tmp_path, caplog):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no images"):
        open_source(str(tmp_path / "empty"))
    with pytest.raises(InputError, match="no files match"):
        open_source(str(tmp_path / "nothing_%04d.png"))
    make_test_sequence(str(tmp_path / "x_%02d.png"), frames=2, width=8, height=6)
    (tmp_path / "x_03.png").write_bytes(b"broken")  # damaged last image: warn, stop there
    with caplog.at_level(logging.WARNING, "vidstyle.io"), open_source(str(tmp_path / "x_%02d.png")) as src:
        frames = list(src)
    assert len(frames) == 2 and any("stopped there" in r.getMessage() for r in caplog.records)
    # existing sequence output without overwrite
    with pytest.raises(OutputError, match="already exist"):
        open_sink(str(tmp_path / "x_%02d.png"), src.info)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_tiff_sequence_roundtrip_is_exact(tmp_path, dtype):
    arrays = make_test_sequence(str(tmp_path / "t_%03d.tif"), frames=2, width=15, height=7, dtype=dtype)
    with open_source(str(tmp_path / "t_%03d.tif")) as src:
        assert src.info.dtype == np.dtype(dtype).name
        with open_sink(str(tmp_path / "u_%03d.tif"), src.info) as sink:
            for f in src:
                sink.write(f)
    for i, a in enumerate(arrays):
        raw = read_raw(tmp_path / f"u_{i:03d}.tif")
        assert raw.dtype == dtype
        np.testing.assert_array_equal(raw[:, :, ::-1], a)
