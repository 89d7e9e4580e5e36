"""Join saved parts of one output by copying their video packets, without re-encoding.

A resumed run (:mod:`vidstyle.io.checkpoint`) writes its frames in parts; the finished file is
their packets back to back, so timestamps must be moved onto one timeline and decoding times
kept strictly increasing across the joins.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Iterator

from vidstyle.errors import OutputError

import av

__all__ = ["part_dts", "part_packets"]


def part_dts(path: str, shift: int, last_dts: int | None) -> list[int] | None:
    """Decoding times for the video packets of the part ``path`` (in its time base, after ``shift``
    ticks are subtracted), strictly increasing, each at most its packet's presentation time and
    above ``last_dts`` (the previous part's last). The part's own are kept when they qualify;
    Matroska stores none (and ``last_dts + 1`` overtakes a B-frame's time when frames are a tick
    or two apart), so they are derived as muxers do: the i-th decoding time is the (i - d)-th
    smallest presentation time, d the part's reordering depth, the first d placed one tick apart
    below the smallest. None when a packet has no presentation time or two share one."""
    with av.open(path, mode="r") as part:
        src = part.streams.video[0]
        stamps = [(p.pts, p.dts) for p in part.demux(src) if p.size]
    if any(p is None for p, _ in stamps):
        return None
    pts = [p - shift for p, _ in stamps]
    own = [None if d is None else d - shift for _, d in stamps]
    floor = last_dts if last_dts is not None else -math.inf
    if all(d is not None for d in own) and all(d <= p for d, p in zip(own, pts)) \
            and all(b > a for a, b in zip([floor, *own], own)):
        return own
    order = sorted(pts)
    if any(b <= a for a, b in zip(order, order[1:])):
        return None
    rank = {p: i for i, p in enumerate(order)}
    depth = max(0, max(i - rank[p] for i, p in enumerate(pts)))
    dts = [order[i - depth] if i >= depth else order[0] - (depth - i) for i in range(len(pts))]
    if dts and dts[0] <= floor:  # squeezed against the previous part: shift up where there is room
        dts = [max(d, floor + 1 + i) for i, d in enumerate(dts)]
        if any(d > p for d, p in zip(dts, pts)):
            return None
    return dts


def part_packets(part, name: str, n: int, *, time_base: Fraction, shift: int, last_dts: int | None,
                 output: str) -> Iterator:
    """The video packets of ``part`` (the open container of file ``name``, part number ``n``),
    presentation times less ``shift`` ticks of ``time_base`` and decoding times from
    :func:`part_dts`, ready to mux into ``output`` (named in errors)."""
    dts = part_dts(name, shift, last_dts)
    if dts is None:
        raise OutputError(f"{output}: part {n} has frames without timestamps or with "
                          "equal ones (closer than its time base)")
    k = 0
    for pkt in part.demux(part.streams.video[0]):
        if pkt.size == 0:
            continue
        if Fraction(pkt.time_base) != time_base:
            raise OutputError(f"{output}: part {n} has another time base")
        if k >= len(dts):
            raise OutputError(f"{output}: part {n} changed while joining")
        pkt.pts = pkt.pts - shift
        pkt.dts = dts[k]
        k += 1
        yield pkt
