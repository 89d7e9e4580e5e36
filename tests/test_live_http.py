"""The browser preview (``live --preview-http``): frames fetched from localhost as MJPEG."""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch

from vidstyle.live.http_preview import BOUNDARY, MjpegServer


def frame(value: int, h: int = 24, w: int = 32) -> SimpleNamespace:
    return SimpleNamespace(stylized=np.full((h, w, 3), value, np.uint8))


def read_parts(url: str, n: int, timeout: float = 10.0) -> list[np.ndarray]:
    """The first ``n`` JPEG parts of a multipart MJPEG stream, decoded (RGB order irrelevant)."""
    out = []
    with urllib.request.urlopen(url, timeout=timeout) as r:
        assert r.headers["Content-Type"] == f"multipart/x-mixed-replace; boundary={BOUNDARY}"
        while len(out) < n:
            line = r.readline()
            if not line:
                break
            if line.strip() != f"--{BOUNDARY}".encode():
                continue
            headers = {}
            while (h := r.readline().strip()):
                k, v = h.decode().split(":", 1)
                headers[k.lower()] = v.strip()
            assert headers["content-type"] == "image/jpeg"
            jpeg = r.read(int(headers["content-length"]))
            out.append(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR))
    return out


def test_stream_serves_the_newest_frames_on_localhost():
    server = MjpegServer(0)
    stop = threading.Event()

    def feed() -> None:
        v = 0
        while not stop.is_set():
            server.submit(frame(v))
            v = (v + 40) % 240
            time.sleep(0.01)

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    try:
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0
        page = urllib.request.urlopen(server.url, timeout=10).read()
        assert b"/stream" in page
        still = cv2.imdecode(np.frombuffer(urllib.request.urlopen(server.url + "frame.jpg", timeout=10).read(),
                                           np.uint8), cv2.IMREAD_COLOR)
        assert still.shape == (24, 32, 3)
        parts = read_parts(server.url + "stream", 4)
        assert len(parts) == 4 and all(p.shape == (24, 32, 3) for p in parts)
        assert len({int(p.mean()) // 10 for p in parts}) > 1  # a moving feed, not one frame repeated
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(server.url + "nothing", timeout=10)
    finally:
        stop.set()
        t.join()
        server.close()
    with pytest.raises(OSError):
        urllib.request.urlopen(server.url, timeout=2)


class EndlessFile:
    """A 'file' capture that delivers frames until ``done`` is set."""

    def __init__(self) -> None:
        self.done, self.n = threading.Event(), 0

    def read(self):
        if self.done.is_set():
            return False, None
        self.n += 1
        img = np.zeros((24, 32, 3), np.uint8)
        img[:, : self.n % 32] = 255
        return True, img

    def release(self):
        pass


def test_live_session_serves_its_feed_without_a_gui(tmp_path, monkeypatch):
    """With headless OpenCV the browser preview stands in for the window."""
    from vidstyle.errors import VidstyleError
    from vidstyle.live import display as display_mod
    from vidstyle.live.session import LiveConfig, run_live

    def no_gui() -> None:
        raise VidstyleError("no display: this OpenCV build has no GUI; use --no-display")

    monkeypatch.setattr(display_mod, "check_display", no_gui)
    from vidstyle.models.styles import save_style
    from vidstyle.models.transformer import TransformerNet

    torch.manual_seed(0)
    style = str(save_style(TransformerNet({"channels": [4, 8, 8], "blocks": 1}), tmp_path / "tiny", {}))
    said: list[str] = []
    cam = EndlessFile()
    cfg = LiveConfig(styles=[style], display=True, preview_http=0, threads=1, backend="torch")
    result: dict = {}

    def session() -> None:
        try:
            result["r"] = run_live(cfg, echo=said.append, capture=cam, capture_kind="file", capture_fps=50.0)
        except BaseException as e:  # noqa: BLE001 - reported by the test below
            result["e"] = e

    t = threading.Thread(target=session, daemon=True)
    t.start()
    deadline = time.monotonic() + 60
    url = None
    while url is None and time.monotonic() < deadline and t.is_alive():
        url = next((m.group(1) for s in said if (m := re.search(r"preview: (http://127\.0\.0\.1:\d+/)", s))), None)
        time.sleep(0.05)
    try:
        assert url, said
        parts = read_parts(url + "stream", 3, timeout=30)
        assert len(parts) == 3 and all(p.shape == (24, 32, 3) for p in parts)
    finally:
        cam.done.set()
        t.join(30)
    assert "e" not in result, result.get("e")
    assert result["r"].stats.frames >= 3
    assert any(s.startswith("no window (no display: this OpenCV build has no GUI)") for s in said), said
