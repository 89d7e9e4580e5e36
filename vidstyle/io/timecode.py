"""Parse ``--start`` / ``--end`` positions.

Accepted forms (``text`` is stripped, case-insensitive):

* ``"120"``            a 0-based frame number (index in decode order of the source);
* ``"4.5s"``           seconds (also ``"4.5 s"``, ``"250ms"``);
* ``"00:00:04.500"``   ``HH:MM:SS(.fff)`` or ``MM:SS(.fff)`` clock time;
* ``"00:01:02:12"``    ``HH:MM:SS:FF`` SMPTE-style timecode (non drop-frame); the frame field is
  converted with ``fps`` and must be ``< ceil(fps)``. ``;`` may separate the frame field too.

Semantics of a range ``[start, end)``: **start is inclusive, end is exclusive**. A frame is
selected when ``index >= start`` (frame positions) or ``t >= start`` (time positions) and
``index < end`` / ``t < end``, where ``t`` is the frame's presentation time in seconds measured from
the start of the source (the first frame of an ordinary file is at ``t = 0``). So
``--start 0 --end 24`` selects frames 0..23 and ``--start 1s --end 2s`` the frames shown during
the second second.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from vidstyle.errors import InputError

__all__ = ["Position", "FramePos", "parse_position", "parse_range"]


@dataclass(frozen=True)
class Position:
    """A point in a source: exactly one of ``frame`` (0-based index) or ``seconds`` is set."""

    frame: int | None = None
    seconds: Fraction | None = None
    text: str = ""

    @property
    def is_frame(self) -> bool:
        return self.frame is not None

    def to_seconds(self, fps: Fraction | None) -> Fraction | None:
        """This position in seconds (frame positions need ``fps``; ``None`` if it is unknown)."""
        if self.seconds is not None:
            return self.seconds
        if fps is None or fps <= 0:
            return None
        return Fraction(self.frame) / Fraction(fps)

    def to_frame(self, fps: Fraction | None) -> int | None:
        """This position as a frame index (time positions need ``fps``; rounded up)."""
        if self.frame is not None:
            return self.frame
        if fps is None or fps <= 0:
            return None
        return math.ceil(self.seconds * Fraction(fps))

    def __str__(self) -> str:  # pragma: no cover - cosmetic
        return self.text or (f"{self.frame}" if self.frame is not None else f"{float(self.seconds)}s")


FramePos = Position  # a second public name for Position

_INT = re.compile(r"^\d+$")
_SECONDS = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*(s|sec|secs|seconds|ms)$")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")  # [HH:]MM:SS(.fff)
_SMPTE = re.compile(r"^(\d+):(\d{1,2}):(\d{1,2})[:;](\d{1,3})$")  # HH:MM:SS:FF


def _as_fraction(fps) -> Fraction | None:
    if fps is None:
        return None
    try:
        f = Fraction(fps).limit_denominator(1_000_000) if isinstance(fps, float) else Fraction(fps)
    except (TypeError, ValueError):
        return None
    return f if f > 0 else None


def parse_position(text: str, fps: Fraction | float | int | None = None) -> Position:
    """Parse one position (see the module docstring). Raises ``InputError`` on bad syntax."""
    if text is None:
        raise InputError("empty position")
    raw = str(text)
    s = raw.strip().lower()
    if not s:
        raise InputError("empty position")
    if s.startswith("-"):
        raise InputError(f"position {raw!r} is negative")
    fps_f = _as_fraction(fps)

    if _INT.match(s):
        return Position(frame=int(s), text=raw)

    m = _SECONDS.match(s)
    if m:
        value = Fraction(m.group(1))
        if m.group(2) == "ms":
            value /= 1000
        return Position(seconds=value, text=raw)

    m = _SMPTE.match(s)
    if m:
        hh, mm, ss, ff = (int(g) for g in m.groups())
        if fps_f is None:
            raise InputError(f"timecode {raw!r} has a frame field but the frame rate is unknown")
        if mm >= 60 or ss >= 60:
            raise InputError(f"bad timecode {raw!r}: minutes and seconds must be < 60")
        if ff >= math.ceil(fps_f):
            raise InputError(f"bad timecode {raw!r}: frame field must be < {math.ceil(fps_f)}")
        seconds = Fraction(hh * 3600 + mm * 60 + ss) + Fraction(ff) / fps_f
        return Position(seconds=seconds, text=raw)

    m = _CLOCK.match(s)
    if m:
        hh = int(m.group(1) or 0)
        mm = int(m.group(2))
        sec = Fraction(m.group(3))
        if (m.group(1) is not None and mm >= 60) or sec >= 60:
            raise InputError(f"bad time {raw!r}: minutes and seconds must be < 60")
        return Position(seconds=hh * 3600 + mm * 60 + sec, text=raw)

    raise InputError(
        f"cannot parse position {raw!r} (use a frame number like 120, seconds like 4.5s, "
        "or a timecode like 00:00:04.500 / 00:01:02:12)"
    )


def parse_range(
    start: str | None, end: str | None, fps: Fraction | float | int | None = None
) -> tuple[Position | None, Position | None]:
    """Parse both ends; checks ``end > start`` where they can be compared."""
    p0 = parse_position(start, fps) if start not in (None, "") else None
    p1 = parse_position(end, fps) if end not in (None, "") else None
    if p0 is not None and p1 is not None:
        fps_f = _as_fraction(fps)
        if p0.is_frame and p1.is_frame:
            a, b = Fraction(p0.frame), Fraction(p1.frame)
        else:
            a, b = p0.to_seconds(fps_f), p1.to_seconds(fps_f)
        if a is not None and b is not None and b <= a:
            raise InputError(f"--end ({p1.text}) must be after --start ({p0.text})")
    return p0, p1
