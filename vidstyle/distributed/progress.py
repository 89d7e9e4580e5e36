"""Frames done across all workers, for the driver's one progress bar.

A small Ray actor (the driver makes it remote): each worker reports its segment's kept-frame
count every half second; a retried segment reports from 0 again, so counts are per segment and
replaced, never added (a killed attempt's frames are not counted twice).
"""

from __future__ import annotations

__all__ = ["FrameCounter"]


class FrameCounter:
    """Per-segment frame counts; ``total()`` is their sum."""

    def __init__(self) -> None:
        self.done: dict[int, int] = {}

    def report(self, index: int, frames: int) -> None:
        self.done[int(index)] = int(frames)

    def total(self) -> int:
        return sum(self.done.values())
