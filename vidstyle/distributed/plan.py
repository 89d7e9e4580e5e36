"""The segment planner: how a render's frame range is split into independently rendered parts.

Pure arithmetic on frame numbers relative to the render's range (0 = its first frame), no I/O,
so the driver, its tests and the benchmark's model share one answer.

A segment's boundaries are chosen so that joining the parts is invisible:

* at a **scene cut** (the first frame of a new shot) where one lies within half a part of the
  nominal boundary (so only those windows need scanning for cuts, not the whole film):
  temporal consistency resets there in the serial render too, so the segment starts fresh
  without warm-up and the join equals the serial render;
* elsewhere on the **part grid** (multiples of ``part_frames`` from the range's first frame),
  where a resumable serial render starts a part, and so a keyframe; the segment then decodes and
  stylizes ``warmup`` frames before its first frame and drops them (the carried state is rebuilt
  as ``--resume`` does). The warm-up never reaches before frame 0.

Segments are ``max(min_frames, frames / (4 * workers))`` long, rounded up to whole parts:
about four per worker, so a slow or retried one delays the end by a quarter of a worker's
share, while each stays long enough that its fixed cost (start, model load, warm-up) is small.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Segment", "cut_window", "grid_points", "plan_segments", "scan_windows", "segment_length"]


@dataclass(frozen=True)
class Segment:
    """Frames ``start``..``end`` (end exclusive, relative to the range) of part ``index``;
    ``warmup`` frames before ``start`` are stylized and dropped; ``cut``: ``start`` is a scene cut."""

    index: int
    start: int
    end: int
    warmup: int = 0
    cut: bool = False

    @property
    def frames(self) -> int:
        return self.end - self.start

    def to_json(self) -> dict:
        return {"index": self.index, "start": self.start, "end": self.end, "warmup": self.warmup, "cut": self.cut}

    @classmethod
    def from_json(cls, data: dict) -> Segment:
        return cls(int(data["index"]), int(data["start"]), int(data["end"]), int(data["warmup"]), bool(data["cut"]))


def segment_length(frames: int, workers: int, part_frames: int = 250, min_frames: int = 250) -> int:
    """Nominal segment length in frames: ``max(min_frames, frames / (4 * workers))`` rounded up
    to a multiple of ``part_frames``."""
    target = max(int(min_frames), math.ceil(max(0, frames) / (4 * max(1, workers))))
    return max(part_frames, math.ceil(target / part_frames) * part_frames)


def cut_window(part_frames: int, length: int) -> int:
    """How far (frames) a boundary may move from its grid point to a scene cut: half a part, at
    most a quarter segment. Only these windows need a scene-cut scan."""
    return max(0, min(part_frames // 2, length // 4))


def grid_points(frames: int, length: int) -> list[int]:
    """The nominal boundaries ``k * length``, leaving the last segment at least half a segment."""
    return list(range(length, frames - length // 2, length))


def scan_windows(frames: int, *, workers: int, part_frames: int = 250, min_frames: int = 250) -> list[tuple[int, int]]:
    """The frame ranges (start, end exclusive) in which a scene cut would move a boundary: the
    driver scans only these, not the whole range."""
    length = segment_length(frames, workers, part_frames, min_frames)
    w = cut_window(part_frames, length)
    return [(g - w, g + w + 1) for g in grid_points(frames, length)] if w else []


def plan_segments(frames: int, *, workers: int, part_frames: int = 250, warmup: int = 60,
                  cuts: Iterable[int] = (), min_frames: int = 250) -> list[Segment]:
    """Split ``frames`` frames into segments (see the module docstring). ``cuts``: frame numbers
    that start a new shot; ``warmup``: frames to stylize before a grid boundary (0 without
    temporal consistency). A remainder shorter than half a segment joins the last one."""
    if frames <= 0:
        return []
    if part_frames < 1 or workers < 1:
        raise ValueError("part_frames and workers must be at least 1")
    length = segment_length(frames, workers, part_frames, min_frames)
    w = cut_window(part_frames, length)
    shots = sorted({int(c) for c in cuts if 0 < int(c) < frames})
    bounds: list[tuple[int, bool]] = [(0, False)]
    for g in grid_points(frames, length):
        near = [c for c in shots if abs(c - g) <= w and c > bounds[-1][0]]
        bounds.append((min(near, key=lambda c: (abs(c - g), c)), True) if near else (g, False))
    out: list[Segment] = []
    for i, (start, cut) in enumerate(bounds):
        end = bounds[i + 1][0] if i + 1 < len(bounds) else frames
        w_up = 0 if (start == 0 or cut) else min(int(warmup), start)
        out.append(Segment(i, start, end, w_up, cut))
    return out
