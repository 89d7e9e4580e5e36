"""The Ray render's segment planner (pure arithmetic) and what happens without Ray installed."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from vidstyle.distributed.plan import Segment, plan_segments, scan_windows, segment_length


def covers(segs: list[Segment], frames: int) -> bool:
    return segs[0].start == 0 and segs[-1].end == frames and all(a.end == b.start for a, b in zip(segs, segs[1:]))


def test_length_is_a_quarter_of_a_workers_share_in_whole_parts():
    assert segment_length(170_000, 16) == 2750  # 170000 / 64 = 2656.25 → 11 parts of 250
    assert segment_length(600, 2) == 250  # never below the minimum
    assert segment_length(1000, 1, part_frames=100, min_frames=10) == 300


def test_without_cuts_boundaries_sit_on_the_part_grid_with_warm_up():
    segs = plan_segments(10_000, workers=4, part_frames=250, warmup=60)
    assert covers(segs, 10_000) and len(segs) == 13  # 10000 / 16 = 625, rounded up to 750
    assert all(s.start % 250 == 0 for s in segs)  # each part starts where a serial run starts a part
    assert segs[0].warmup == 0 and all(s.warmup == 60 and not s.cut for s in segs[1:])


def test_boundaries_move_to_nearby_scene_cuts_without_warm_up():
    segs = plan_segments(2000, workers=1, part_frames=100, warmup=60, cuts=[530, 1040, 1999])
    assert covers(segs, 2000)
    starts = [s.start for s in segs]
    assert starts == [0, 530, 1040, 1500]  # 500 frames a segment: cuts within 50 of 500 and 1000
    assert 1999 not in starts  # a one-frame tail is not a segment
    for s in segs:
        assert s.cut == (s.start in (530, 1040))
        assert s.warmup == (0 if s.cut or s.start == 0 else 60)
    assert plan_segments(2000, workers=1, part_frames=100, cuts=[560])[1].start == 500  # too far: the grid
    # only the windows around the grid points need a scan
    assert scan_windows(2000, workers=1, part_frames=100) == [(450, 551), (950, 1051), (1450, 1551)]


def test_warm_up_never_reaches_before_frame_zero():
    segs = plan_segments(100, workers=4, part_frames=10, warmup=60, min_frames=20)
    assert covers(segs, 100)
    assert all(s.start - s.warmup >= 0 for s in segs)
    assert segs[1].warmup == segs[1].start == 20


def test_ranges_and_small_inputs():
    # a --start/--end range is planned in frames relative to its first frame
    assert plan_segments(0, workers=2) == []
    assert plan_segments(300, workers=8) == [Segment(0, 0, 300)]  # shorter than 1.5 segments: one
    segs = plan_segments(600, workers=1, part_frames=250, warmup=60)
    assert [(s.start, s.end) for s in segs] == [(0, 250), (250, 600)]  # a short tail joins the last
    with pytest.raises(ValueError):
        plan_segments(10, workers=0)


def test_without_ray_the_option_says_what_to_install(tmp_path, monkeypatch):
    from vidstyle.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails
    r = CliRunner().invoke(main, ["stylize", str(tmp_path / "in.mp4"), "-o", str(tmp_path / "o.mp4"),
                                  "-s", "starry_night_tiny", "--ray"])
    assert r.exit_code != 0
    assert r.output.strip() == "error: rendering on Ray needs the ray package: pip install 'vidstyle[ray]'"


def test_segments_of_a_range_become_reader_ranges(tmp_path):
    """With --start/--end the first segment starts at the user's start, the last ends at the
    user's end; between them the boundaries are times half a frame before a frame (video), so
    every frame falls in exactly one segment; the warm-up starts earlier, and its frames are
    dropped by time."""
    from types import SimpleNamespace

    from vidstyle.api.config import RenderConfig
    from vidstyle.distributed.driver import RayRenderJob, _Range

    cfg = RenderConfig(str(tmp_path / "in.mp4"), str(tmp_path / "out.mkv"), "starry_night_tiny", start="100", end="700")
    job = RayRenderJob(cfg, workers=1)
    video = _Range(SimpleNamespace(kind="video"), origin=100 / 25, fps=25.0, frames=600)
    first, last = plan_segments(600, workers=1, warmup=60)
    a, b = job._work(first, video), job._work(last, video)
    assert (a.start, a.keep) == ("100", None)
    assert b.start == f"{4 + (250 - 60 - 0.5) / 25:.9f}s" and b.end == "700"
    assert b.keep == 4 + (250 - 0.5) / 25
    seq = _Range(SimpleNamespace(kind="sequence"), origin=100, fps=24.0, frames=600)
    assert (job._work(last, seq).start, job._work(last, seq).keep) == ("290", 350)
