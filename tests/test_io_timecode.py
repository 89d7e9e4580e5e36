from fractions import Fraction

import pytest

from vidstyle.errors import InputError
from vidstyle.io.timecode import parse_position, parse_range


def test_frame_number():
    p = parse_position("120", None)
    assert p.is_frame and p.frame == 120 and p.seconds is None
    assert p.to_seconds(Fraction(24)) == 5
    assert p.to_seconds(None) is None


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("4.5s", Fraction(9, 2)),
        ("4.5 S", Fraction(9, 2)),
        ("250ms", Fraction(1, 4)),
        ("00:00:04.500", Fraction(9, 2)),
        ("01:02.25", Fraction(249, 4)),  # MM:SS.ff
        ("1:00:00", Fraction(3600)),
    ],
)
def test_seconds_and_clock(text, seconds):
    p = parse_position(text, None)
    assert not p.is_frame
    assert p.seconds == seconds


def test_smpte_timecode_uses_fps():
    p = parse_position("00:01:02:12", Fraction(24))
    assert p.seconds == Fraction(62) + Fraction(12, 24)
    assert p.to_frame(Fraction(24)) == 62 * 24 + 12
    p30 = parse_position("00:00:01:15", Fraction(30000, 1001))
    assert p30.seconds == 1 + Fraction(15 * 1001, 30000)


@pytest.mark.parametrize("text, fps", [
    ("00:01:02:12", None),  # frame field without a frame rate
    ("00:00:01:30", 24),  # frame field too large
    ("abc", 24),
    ("-3", 24),
    ("", 24),
    ("1:75", 24),  # 75 seconds
    ("4.5x", 24),
])
def test_bad_positions_raise_input_error(text, fps):
    with pytest.raises(InputError):
        parse_position(text, fps)


def test_time_to_frame_rounds_up():
    # start inclusive: 0.05 s at 24 fps lies inside frame 1's... first frame at/after it is 2
    assert parse_position("0.05s").to_frame(Fraction(24)) == 2
    assert parse_position("0.5s").to_frame(Fraction(24)) == 12


def test_range_order_checked():
    a, b = parse_range("10", "20", 24)
    assert (a.frame, b.frame) == (10, 20)
    with pytest.raises(InputError):
        parse_range("20", "10", 24)
    with pytest.raises(InputError):
        parse_range("2s", "24", 24)  # frame 24 == 1 s, before 2 s
    assert parse_range(None, "3s", None) == (None, parse_position("3s"))
