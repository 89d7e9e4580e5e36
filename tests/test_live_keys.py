"""Key handling of `vidstyle live` without a window: LiveState + handle_key, overlay drawing."""

from __future__ import annotations

import numpy as np
import pytest

from vidstyle.live.display import compose, draw_overlay, overlay_lines
from vidstyle.live.engine import LiveStats
from vidstyle.live.keys import KEYMAP, LiveState, handle_key


def state(**kw) -> LiveState:
    return LiveState(styles=["candy", "mosaic", "udnie"], **kw)


def test_next_and_previous_style_wrap_around():
    s = state()
    assert handle_key(s, "n") == ["next_style"]
    assert (s.style_index, s.style_name) == (1, "mosaic")
    handle_key(s, ord("n"))
    handle_key(s, "]")
    assert s.style_index == 0  # wrapped
    assert handle_key(s, "p") == ["prev_style"]
    assert s.style_name == "udnie"
    handle_key(s, 65363)  # right arrow as cv2.waitKeyEx reports it on Linux
    assert s.style_index == 0
    assert "candy" in s.message


def test_strength_up_down_is_clamped_to_0_1():
    s = state()
    assert handle_key(s, "+") == ["strength_up"]
    assert s.strength == 1.0  # already at the top
    for _ in range(3):
        handle_key(s, "-")
    assert s.strength == pytest.approx(0.7)
    for _ in range(20):
        handle_key(s, "-")
    assert s.strength == 0.0
    handle_key(s, "=")
    assert s.strength == pytest.approx(0.1)
    assert s.message == "strength 0.1"


def test_toggles_and_side_effect_actions():
    s = state()
    assert handle_key(s, "c") == ["toggle_consistency"] and s.consistency
    assert handle_key(s, "c") == ["toggle_consistency"] and not s.consistency
    assert handle_key(s, "b") == ["toggle_side_by_side"] and s.side_by_side
    assert handle_key(s, "o") == ["toggle_overlay"] and not s.overlay
    assert handle_key(s, "r") == ["record_start"] and s.recording
    assert handle_key(s, "r") == ["record_stop"] and not s.recording
    assert handle_key(s, "s") == ["snapshot"]
    assert not s.quit
    assert handle_key(s, 27) == ["quit"] and s.quit  # Esc


def test_consistency_unavailable_stays_off():
    s = state(consistency_available=False)
    assert handle_key(s, "c") == ["consistency_unavailable"]
    assert not s.consistency


def test_unbound_and_no_key_do_nothing():
    s = state()
    before = (s.style_index, s.strength, s.consistency, s.side_by_side, s.overlay, s.recording)
    for key in (-1, None, "x", "", "nn", ord("z"), 0x110000):
        assert handle_key(s, key) == []
    assert (s.style_index, s.strength, s.consistency, s.side_by_side, s.overlay, s.recording) == before
    assert handle_key(s, "N") == ["next_style"]  # Shift/caps lock


def test_keymap_has_no_duplicate_bindings_for_required_actions():
    actions = set(KEYMAP.values())
    for a in ("next_style", "prev_style", "strength_up", "strength_down", "toggle_consistency",
              "snapshot", "toggle_recording", "quit", "toggle_overlay", "toggle_side_by_side"):
        assert a in actions


def test_overlay_and_side_by_side_drawing():
    content = np.zeros((90, 160, 3), np.uint8)
    styl = np.full((90, 160, 3), 200, np.uint8)
    both = compose(content, styl, True)
    assert both.shape == (90, 320, 3)
    assert (both[:, :160] == 0).all() and (both[:, 160:] == 200).all()
    assert compose(content, styl, False) is styl
    s = state(recording=True)
    lines = overlay_lines(s, LiveStats())
    assert lines[0].startswith("candy (1/3)") and "REC" in lines
    drawn = draw_overlay(styl, lines)
    assert drawn.shape == styl.shape and (styl == 200).all()  # input untouched
    assert np.abs(drawn.astype(int) - 200).sum() > 0  # something was drawn top-left
    assert (drawn[-10:, -10:] == 200).all()  # ... and only there
