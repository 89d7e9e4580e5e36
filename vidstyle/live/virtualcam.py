"""Optional virtual camera output (``--virtual-cam``) through ``pyvirtualcam``.

pyvirtualcam drives v4l2loopback on Linux, the OBS virtual camera on Windows and macOS (and
Unity Capture on Windows). It is an optional extra (``pip install pyvirtualcam``); when it is not
installed or no virtual camera device exists, :func:`open_virtual_camera` raises a
:class:`~vidstyle.errors.VidstyleError` saying what to install or load.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

from ..errors import VidstyleError, first_line

__all__ = ["VirtualCamera", "open_virtual_camera", "setup_hint"]


def setup_hint() -> str:
    if sys.platform.startswith("linux"):
        return ("load v4l2loopback: sudo modprobe v4l2loopback devices=1 exclusive_caps=1 "
                "card_label=vidstyle")
    if sys.platform == "darwin":
        return "install OBS Studio (26+) and start its virtual camera once"
    if sys.platform.startswith("win"):
        return "install OBS Studio (26+) or Unity Capture"
    return f"no virtual camera backend is known for {sys.platform}"


class VirtualCamera:
    """An engine output: sends each stylized frame (RGB) to the virtual camera.

    ``send`` is quick (a copy into the device buffer); a frame of another size than the camera's
    is resized. The first error disables the output and is kept in ``error``.
    """

    def __init__(self, cam) -> None:
        self.cam = cam
        self.width, self.height = int(cam.width), int(cam.height)
        self.device = getattr(cam, "device", "virtual camera")
        self.frames = 0
        self.error: str | None = None
        self._lock = threading.Lock()

    def submit(self, lf) -> None:
        if self.error is not None:
            return
        img = lf.stylized
        if img.shape[1] != self.width or img.shape[0] != self.height:
            import cv2

            img = cv2.resize(img, (self.width, self.height), interpolation=cv2.INTER_AREA)
        try:
            with self._lock:
                self.cam.send(np.ascontiguousarray(img))
            self.frames += 1
        except Exception as e:  # noqa: BLE001 - keep the session running without it
            self.error = f"virtual camera stopped: {e}"

    def close(self) -> None:
        try:
            self.cam.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass


def open_virtual_camera(width: int, height: int, fps: float = 30.0, device: str | None = None) -> VirtualCamera:
    """Open a ``width x height`` RGB virtual camera, or raise a one-line :class:`VidstyleError`."""
    try:
        import pyvirtualcam
    except ModuleNotFoundError:
        raise VidstyleError("--virtual-cam needs the optional pyvirtualcam package "
                            f"(pip install pyvirtualcam); then {setup_hint()}") from None
    try:
        cam = pyvirtualcam.Camera(width=int(width), height=int(height), fps=float(fps or 30.0),
                                  fmt=pyvirtualcam.PixelFormat.RGB, device=device)
    except Exception as e:  # noqa: BLE001 - RuntimeError when no device/backend
        raise VidstyleError(f"no virtual camera available ({first_line(e)}); {setup_hint()}") from None
    return VirtualCamera(cam)
