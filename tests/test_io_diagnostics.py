"""The io layer's warnings go through logging: once each, labelled, held back when opening fails,
collected for results that list them (also under --quiet)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from vidstyle.errors import InputError
from vidstyle.io.checkpoint import ResumableSink
from vidstyle.io.diagnostics import collect_warnings
from vidstyle.io.frame import Frame
from vidstyle.io.reader import open_source
from vidstyle.io.synthetic import make_test_clip
from vidstyle.io.writer import open_sink


def io_messages(caplog, logger: str = "vidstyle.io") -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith(logger)]


def damaged_clip(tmp_path, keep: float = 1 / 3) -> str:
    """A 12-frame MKV whose data after the first ``keep`` is garbage."""
    clip = make_test_clip(str(tmp_path / "in.mkv"), width=64, height=48, frames=12, audio=False, codec="libx264")
    data = bytearray(open(clip.path, "rb").read())
    for i in range(int(len(data) * keep), len(data)):
        data[i] = (data[i] * 7 + 13) % 256
    path = tmp_path / "bad.mkv"
    path.write_bytes(bytes(data))
    return str(path)


def test_a_source_that_cannot_open_says_why_in_its_error_only(tmp_path, caplog):
    path = damaged_clip(tmp_path)
    with caplog.at_level(logging.WARNING, "vidstyle.io"), pytest.raises(InputError) as e:
        open_source(path)
    assert "no decodable video frames (" in str(e.value) and "stopped there" in str(e.value)
    assert io_messages(caplog) == []  # said once, in the error


def test_a_label_names_the_file_the_warnings_are_about(tmp_path, caplog):
    clip = make_test_clip(str(tmp_path / "long.mkv"), width=64, height=48, frames=48, audio=False)
    data = open(clip.path, "rb").read()
    (tmp_path / "cut.mkv").write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, "vidstyle.io"), \
            open_source(str(tmp_path / "cut.mkv"), label="matte cut.mkv") as src:
        list(src)
    said = io_messages(caplog, "vidstyle.io.reader")
    assert said and all(m.startswith("matte cut.mkv: ") for m in said)


def test_the_parts_of_one_output_say_a_warning_once(tmp_path, caplog):
    clip = make_test_clip(str(tmp_path / "in.mkv"), width=63, height=47, frames=6, audio=False)
    with open_source(clip.path) as src:
        frames = list(src)
        info = src.info
    with caplog.at_level(logging.WARNING, "vidstyle.io"):
        sink = ResumableSink(open_sink(str(tmp_path / "out.mp4"), info), {}, part_frames=2)
        with sink:
            for f in frames:
                sink.write(Frame(f.image, f.index, f.pts, f.time_base, f.time))
    odd = [m for m in io_messages(caplog, "vidstyle.io.writer") if "odd frame size" in m]
    assert sink.saved_frames == 6 and len(odd) == 1


def test_collected_warnings_ignore_quiet_and_stay_quiet(tmp_path):
    class Seen(logging.Handler):
        def __init__(self):
            super().__init__()
            self.records = []

        def emit(self, record):
            self.records.append(record)

    root = logging.getLogger("vidstyle")
    seen = Seen()
    saved = root.level
    root.addHandler(seen)
    root.setLevel(logging.ERROR)  # as --quiet sets it
    try:
        image = np.zeros((8, 8, 3), np.uint16)
        with collect_warnings() as warnings:
            with open_sink(str(tmp_path / "out.mp4"), _info(8, 8)) as sink:
                sink.write(image)
    finally:
        root.removeHandler(seen)
        root.setLevel(saved)
    assert any("16-bit frames are converted to 8 bits" in w for w in warnings)
    assert seen.records == []
    assert logging.getLogger("vidstyle.io").level == logging.NOTSET  # restored


def _info(width: int, height: int):
    from fractions import Fraction

    from vidstyle.io.frame import VideoInfo

    return VideoInfo(path="synthetic", kind="video", width=width, height=height, fps=Fraction(24),
                     time_base=Fraction(1, 24))
