"""Key bindings and the live session's mutable state: pure logic, no OpenCV window needed.

``handle_key(state, key) -> list[str]`` updates ``state`` for the key (an OpenCV ``waitKey`` code
or a one-character string) and returns the actions it triggered, so the UI only has to carry out
the side effects (``snapshot``, ``record_start``/``record_stop``, ``quit``) and redraw.

=====================  =====================================
key                    action
=====================  =====================================
``n`` ``.`` ``]`` Tab  next style (also the right arrow)
``p`` ``,`` ``[``      previous style (left arrow)
``+`` ``=``            strength up by ``STRENGTH_STEP`` (up arrow)
``-`` ``_``            strength down (down arrow)
``c``                  temporal consistency on/off
``b``                  side-by-side with the original on/off
``o``                  overlay (style, fps, latency) on/off
``s`` Space            snapshot to PNG
``r``                  start/stop recording
``h`` ``?``            key help in the overlay
``q`` Esc              quit
=====================  =====================================
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

__all__ = ["KEYMAP", "SPECIAL_KEYS", "STRENGTH_STEP", "LiveState", "handle_key", "key_help"]

STRENGTH_STEP = 0.1

# action name -> keys (characters; Tab and Esc as their codes)
_BINDINGS: dict[str, tuple[str, ...]] = {
    "next_style": ("n", ".", "]", "\t"),
    "prev_style": ("p", ",", "["),
    "strength_up": ("+", "="),
    "strength_down": ("-", "_"),
    "toggle_consistency": ("c",),
    "toggle_side_by_side": ("b",),
    "toggle_overlay": ("o",),
    "snapshot": ("s", " "),
    "toggle_recording": ("r",),
    "toggle_help": ("h", "?"),
    "quit": ("q", "\x1b"),
}

KEYMAP: dict[int, str] = {ord(k): action for action, keys in _BINDINGS.items() for k in keys}

# arrow keys as ``cv2.waitKeyEx`` reports them (GTK/Qt on Linux, Windows, macOS)
SPECIAL_KEYS: dict[int, str] = {
    65361: "prev_style", 65363: "next_style", 65362: "strength_up", 65364: "strength_down",
    2424832: "prev_style", 2555904: "next_style", 2490368: "strength_up", 2621440: "strength_down",
    63234: "prev_style", 63235: "next_style", 63232: "strength_up", 63233: "strength_down",
}


def key_help() -> list[str]:
    """One line per action, for the overlay and ``--help``."""
    names = {"\t": "Tab", "\x1b": "Esc", " ": "Space"}
    return [f"{'/'.join(names.get(k, k) for k in keys)}: {action.replace('_', ' ')}"
            for action, keys in _BINDINGS.items()]


@dataclass
class LiveState:
    """What the user controls during a live session (shared by the UI and the engine thread).

    ``styles``: the names to cycle through; ``consistency_available``: False when no consistency
    stage can be built (the toggle then reports ``consistency_unavailable``). ``lock`` guards
    multi-field reads (the engine takes a consistent :meth:`snapshot` once per frame).
    """

    styles: list[str]
    style_index: int = 0
    strength: float = 1.0
    consistency: bool = False
    consistency_available: bool = True
    side_by_side: bool = False
    overlay: bool = True
    help: bool = False
    recording: bool = False
    quit: bool = False
    message: str = ""  # last status message (shown in the overlay)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def style_name(self) -> str:
        return self.styles[self.style_index] if self.styles else "?"

    def snapshot(self) -> dict:
        with self.lock:
            return {"style_index": self.style_index, "strength": self.strength,
                    "consistency": self.consistency, "side_by_side": self.side_by_side}


def _action_for(key: int | str | None) -> str | None:
    if key is None:
        return None
    if isinstance(key, str):
        if len(key) != 1:
            return None
        key = ord(key)
    if key < 0:  # waitKey: no key pressed
        return None
    if key in SPECIAL_KEYS:
        return SPECIAL_KEYS[key]
    action = KEYMAP.get(key)
    if action is None and 65 <= key <= 90:  # Shift held: treat 'N' like 'n'
        action = KEYMAP.get(key + 32)
    return action


def handle_key(state: LiveState, key: int | str | None) -> list[str]:
    """Apply ``key`` to ``state``; returns the triggered actions (empty for an unbound key).

    Besides the binding names, the result can hold ``record_start``/``record_stop`` (instead of
    ``toggle_recording``) and ``consistency_unavailable``. ``state.message`` says what changed.
    """
    action = _action_for(key)
    if action is None:
        return []
    with state.lock:
        n = len(state.styles)
        if action in ("next_style", "prev_style"):
            if n == 0:
                return []
            step = 1 if action == "next_style" else -1
            state.style_index = (state.style_index + step) % n
            state.message = f"style {state.style_name} ({state.style_index + 1}/{n})"
        elif action in ("strength_up", "strength_down"):
            step = STRENGTH_STEP if action == "strength_up" else -STRENGTH_STEP
            state.strength = round(min(1.0, max(0.0, state.strength + step)), 3)
            state.message = f"strength {state.strength:.1f}"
        elif action == "toggle_consistency":
            if not state.consistency_available and not state.consistency:
                state.message = "consistency unavailable"
                return ["consistency_unavailable"]
            state.consistency = not state.consistency
            state.message = f"consistency {'on' if state.consistency else 'off'}"
        elif action == "toggle_side_by_side":
            state.side_by_side = not state.side_by_side
            state.message = f"side by side {'on' if state.side_by_side else 'off'}"
        elif action == "toggle_overlay":
            state.overlay = not state.overlay
        elif action == "toggle_help":
            state.help = not state.help
        elif action == "toggle_recording":
            state.recording = not state.recording
            return ["record_start" if state.recording else "record_stop"]
        elif action == "quit":
            state.quit = True
        return [action]
