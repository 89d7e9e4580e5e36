"""The preview window (``cv2.imshow``) and the on-screen overlay.

``opencv-python-headless`` (vidstyle's default OpenCV) has no GUI: :func:`check_display` detects
that, and a missing X11/Wayland session, and says what to do instead (``--no-display --output``,
or installing ``opencv-python``), without touching the window system when it cannot work (some
GUI backends abort the process when there is no display).

:func:`compose` (side-by-side) and :func:`draw_overlay` are pure numpy/OpenCV drawing, usable and
tested without a window.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from ..errors import VidstyleError

__all__ = ["check_display", "compose", "draw_overlay", "Window", "WINDOW_TITLE"]

WINDOW_TITLE = "vidstyle live"

_HEADLESS_HINT = ("use --no-display --output FILE to record instead, or install the GUI build of "
                  "OpenCV: pip uninstall opencv-python-headless && pip install opencv-python")


def _gui_backend() -> str | None:
    """The GUI backend OpenCV was built with (``GUI:`` in its build information; None when NONE)."""
    import cv2

    try:
        info = cv2.getBuildInformation()
    except Exception:  # noqa: BLE001 - any failure means the build is unknown
        return "unknown"
    for line in info.splitlines():
        s = line.strip()
        if s.startswith("GUI:"):
            value = s[4:].strip()
            return None if value.upper() == "NONE" else (value or "unknown")
    return "unknown"


def check_display() -> None:
    """Raise :class:`VidstyleError` (one line) when no preview window can be shown here."""
    backend = _gui_backend()
    if backend is None:
        raise VidstyleError("no display: this OpenCV build has no GUI (opencv-python-headless); "
                            + _HEADLESS_HINT)
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise VidstyleError("no display: no X11/Wayland session (DISPLAY is not set); "
                            "use --no-display --output FILE to record instead")


def compose(content: np.ndarray, stylized: np.ndarray, side_by_side: bool) -> np.ndarray:
    """The picture to show (RGB): the stylized frame, or original | stylized side by side."""
    if not side_by_side:
        return stylized
    if content.shape[:2] != stylized.shape[:2]:
        import cv2

        content = cv2.resize(content, (stylized.shape[1], stylized.shape[0]))
    return np.concatenate([content, stylized], axis=1)


def overlay_lines(state, stats, *, extra: list[str] | None = None, now: float | None = None) -> list[str]:
    """Text of the overlay: style, strength, consistency, fps, latency, recording, message."""
    n = len(state.styles)
    cons = "on" if state.consistency else ("n/a" if not state.consistency_available else "off")
    lines = [
        f"{state.style_name} ({state.style_index + 1}/{n})  strength {state.strength:.1f}  consistency {cons}",
        f"{stats.current_fps(now):.1f} fps  latency {stats.latency_ms(50, last=30):.0f} ms "
        f"(p95 {stats.latency_ms(95, last=100):.0f})",
    ]
    if state.recording:
        lines.append("REC")
    lines.extend(extra or [])
    if state.message:
        lines.append(state.message)
    return lines


def draw_overlay(image: np.ndarray, lines: list[str], *, scale: float | None = None) -> np.ndarray:
    """Draw ``lines`` top-left on a copy of ``image`` (any channel order), with a dark backdrop."""
    import cv2

    out = np.ascontiguousarray(image).copy()
    if not lines:
        return out
    h, w = out.shape[:2]
    scale = scale or max(0.35, min(1.0, w / 1280))
    thick = 1
    font = cv2.FONT_HERSHEY_SIMPLEX
    sizes = [cv2.getTextSize(t, font, scale, thick)[0] for t in lines]
    line_h = max(s[1] for s in sizes) + int(8 * scale) + 2
    box_w = min(w, max(s[0] for s in sizes) + 12)
    box_h = min(h, line_h * len(lines) + 8)
    roi = out[:box_h, :box_w]
    roi[:] = (roi.astype(np.uint16) * 2 // 5).astype(out.dtype)  # darken to 40 %
    for i, text in enumerate(lines):
        y = 4 + line_h * (i + 1) - int(4 * scale)
        color = (255, 60, 60) if text == "REC" else (255, 255, 255)
        cv2.putText(out, text, (6, y), font, scale, color, thick, cv2.LINE_AA)
    return out


class Window:
    """A ``cv2.imshow`` window; :meth:`show` takes RGB, :meth:`poll_key` returns a key code or -1."""

    def __init__(self, title: str = WINDOW_TITLE) -> None:
        import cv2

        check_display()
        self.title = title
        try:
            cv2.namedWindow(title, cv2.WINDOW_NORMAL | getattr(cv2, "WINDOW_KEEPRATIO", 0))
        except cv2.error as e:
            raise VidstyleError(f"cannot open a window ({str(e).strip().splitlines()[-1][:120]}); "
                                + _HEADLESS_HINT) from None
        self._shown = False

    def show(self, rgb: np.ndarray) -> None:
        import cv2

        cv2.imshow(self.title, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        self._shown = True

    def poll_key(self, wait_ms: int = 1) -> int:
        import cv2

        return cv2.waitKeyEx(wait_ms) if hasattr(cv2, "waitKeyEx") else cv2.waitKey(wait_ms)

    def closed(self) -> bool:
        """True once the user closed the window with the window manager."""
        import cv2

        if not self._shown:
            return False
        try:
            return cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1
        except cv2.error:
            return True

    def close(self) -> None:
        import cv2

        try:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)
        except cv2.error:
            pass
