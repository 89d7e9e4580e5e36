"""``vidstyle live``: real-time stylization of a camera, file or stream.

Modules (pure logic first, UI last):

* :mod:`~vidstyle.live.keys` — key bindings and :class:`LiveState` (style, strength,
  consistency, side-by-side, overlay, recording); ``handle_key`` works without a window.
* :mod:`~vidstyle.live.capture` — :class:`LatestFrameSlot` (size-1 buffer that drops stale
  frames) and :class:`CaptureThread` (OpenCV camera/file/URL, file sources paced at their fps).
* :mod:`~vidstyle.live.engine` — :class:`LiveEngine` (inference thread: newest frame → resize →
  the API's :class:`~vidstyle.api.switching.SwitchingStylizer` → outputs), :class:`LiveStats`.
* :mod:`~vidstyle.live.recorder` — VFR recording through :func:`vidstyle.io.writer.open_sink`.
* :mod:`~vidstyle.live.display` — preview window, overlay, headless-OpenCV detection.
* :mod:`~vidstyle.live.virtualcam` — optional pyvirtualcam output.
* :mod:`~vidstyle.live.http_preview` — MJPEG browser preview on 127.0.0.1 (``--preview-http``).
* :mod:`~vidstyle.live.session` — :func:`run_live`, which wires them together for the CLI.
"""
