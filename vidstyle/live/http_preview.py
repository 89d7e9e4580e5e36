"""Browser preview (``vidstyle live --preview-http [PORT]``): the stylized feed as an MJPEG stream.

A standard-library HTTP server on 127.0.0.1 (nothing listens on other interfaces: from another
machine, forward the port, ``ssh -L PORT:127.0.0.1:PORT host``) serves

* ``/``: a page showing the stream;
* ``/stream``: ``multipart/x-mixed-replace`` JPEG frames (what browsers play as MJPEG);
* ``/frame.jpg``: the newest frame alone.

It is an engine output like the recorder: :meth:`MjpegServer.submit` only keeps a reference to the
newest frame; each client's thread encodes (once per frame, shared) and sends at its own pace,
skipping frames it could not keep up with, so a slow browser never slows the feed. Works with
OpenCV builds without a GUI (``opencv-python-headless``).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["MjpegServer", "BOUNDARY"]

BOUNDARY = "vidstyleframe"
_PAGE = (b"<!doctype html><title>vidstyle live</title><body style='margin:0;background:#111'>"
         b"<img src='/stream' style='display:block;margin:auto;max-width:100vw;max-height:100vh'></body>")


class MjpegServer:
    """Serve the newest submitted frame (``.stylized``, RGB uint8) on ``http://127.0.0.1:PORT/``.

    ``port`` 0 picks a free port (see :attr:`port`). ``quality``: JPEG quality 1..100.
    """

    def __init__(self, port: int = 0, *, host: str = "127.0.0.1", quality: int = 85) -> None:
        self.quality = int(quality)
        self._cond = threading.Condition()
        self._frame = None  # newest LiveFrame-like object
        self._seq = 0  # frames submitted so far
        self._jpeg: tuple[int, bytes] | None = None  # (seq, encoded) cache shared by the clients
        self._closed = False
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner._serve(self)

            def log_message(self, format, *args) -> None:
                pass

        try:
            self._httpd = ThreadingHTTPServer((host, int(port)), Handler)
        except OSError as e:
            from ..errors import InputError

            raise InputError(f"--preview-http: cannot listen on {host}:{port}: {e.strerror or e}") from None
        self._httpd.daemon_threads = True
        self.host, self.port = host, self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="vidstyle-live-http", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    # engine output ------------------------------------------------------------------
    def submit(self, frame) -> None:
        """Keep ``frame`` as the newest (called on the engine thread; never blocks on clients)."""
        with self._cond:
            self._frame = frame
            self._seq += 1
            self._cond.notify_all()

    def close(self) -> None:
        """Stop serving: open streams end, the port is released."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5.0)

    # serving --------------------------------------------------------------------------
    def _next(self, after: int, timeout: float) -> tuple[int, bytes] | None:
        """The JPEG of the first frame newer than ``after`` (waiting up to ``timeout`` s), or None."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._closed or self._seq > after, timeout):
                return None
            if self._closed:
                return None
            seq, frame = self._seq, self._frame
            cached = self._jpeg
        if cached is not None and cached[0] == seq:
            return cached
        import cv2

        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(frame.stylized, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            return None
        encoded = (seq, buf.tobytes())
        with self._cond:
            if self._jpeg is None or self._jpeg[0] < seq:
                self._jpeg = encoded
        return encoded

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        path = req.path.split("?", 1)[0]
        try:
            if path in ("/", "/index.html"):
                self._reply(req, "text/html; charset=utf-8", _PAGE)
            elif path == "/frame.jpg":
                got = self._next(0, 5.0)
                if got is None:
                    req.send_error(503, "no frame yet")
                else:
                    self._reply(req, "image/jpeg", got[1])
            elif path == "/stream":
                self._stream(req)
            else:
                req.send_error(404)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away

    @staticmethod
    def _reply(req: BaseHTTPRequestHandler, ctype: str, body: bytes) -> None:
        req.send_response(200)
        req.send_header("Content-Type", ctype)
        req.send_header("Content-Length", str(len(body)))
        req.send_header("Cache-Control", "no-store")
        req.end_headers()
        req.wfile.write(body)

    def _stream(self, req: BaseHTTPRequestHandler) -> None:
        req.send_response(200)
        req.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        req.send_header("Cache-Control", "no-store")
        req.end_headers()
        seq = 0
        while not self._closed:
            got = self._next(seq, 1.0)
            if got is None:
                continue
            seq, jpeg = got
            req.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode())
            req.wfile.write(jpeg)
            req.wfile.write(b"\r\n")
            req.wfile.flush()
