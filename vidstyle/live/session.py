"""One live session: wires capture → engine → display / recorder / virtual camera, and shuts
everything down cleanly (recordings finalised) however it ends.

Threads: capture (:class:`~vidstyle.live.capture.CaptureThread`), inference
(:class:`~vidstyle.live.engine.LiveEngine`), encoder (:class:`~vidstyle.live.recorder.Recorder`);
the main thread shows the window and reads keys (GUI toolkits want the main thread), or, headless,
just waits for the end. The CLI (``vidstyle live``) is a thin layer over :func:`run_live`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..errors import InputError, OutputError, VidstyleError
from .capture import CaptureThread, LatestFrameSlot, describe_source, open_capture
from .engine import LiveEngine, LiveStats, StyleBank, auto_net_side, fit_size
from .keys import LiveState, handle_key, key_help
from .recorder import Recorder, numbered_path

if TYPE_CHECKING:
    from ..api.config import Controls, Runtime

log = logging.getLogger("vidstyle.live")

__all__ = ["LiveConfig", "LiveResult", "run_live", "default_threads"]


def _live_matte(cfg: "LiveConfig"):
    """``--mask`` for live: one still matte image (resized to the working size), or None."""
    if not cfg.mask:
        return None
    from ..io.reader import open_source
    from ..pipeline.mattes import StaticMatte

    try:
        src = open_source(cfg.mask)
    except InputError as e:
        raise InputError(f"--mask: {e}") from None
    try:
        if src.info.kind != "image":
            raise InputError(f"--mask: live mode takes a still matte image, not a {src.info.kind}: {cfg.mask}")
        image = next(iter(src)).image
    finally:
        src.close()
    return StaticMatte(image, cfg.mask_feather, f"matte {os.path.basename(cfg.mask)}")


@dataclass
class LiveConfig:
    """Everything ``vidstyle live`` can be told (see the CLI's ``--help``)."""

    camera: int | None = None
    source: str | None = None
    styles: list[str] | None = None  # style specs to cycle through (each one style or a mix)
    size: tuple[int, int] | int | None = None
    net_scale: float | None = None  # None: automatic (LiveEngine.scale_for)
    consistency: str | float = "off"  # as parse_consistency reads it
    flow_kind: str = "auto"
    raft_weights: str | None = None
    strength: float = 1.0
    preserve_colors: bool = False
    mask: str | None = None  # a still matte image: style only where it is white
    mask_feather: float = 3.0
    device: str = "auto"
    backend: str = "auto"  # auto | torch | onnx | openvino, as stylize --backend
    precision: str = "fp32"  # fp32 | int8, as stylize --precision
    cpu_net: bool = True  # a style's CPU net on a CPU, as stylize --cpu-net
    threads: int | None = None
    display: bool = True
    output: str | None = None
    frames: int | None = None
    overwrite: bool = False
    codec: str | None = None
    crf: int | None = None
    pace: bool = True
    side_by_side: bool = False
    overlay: bool = True
    virtual_cam: bool = False
    preview_http: int | None = None  # serve an MJPEG preview on 127.0.0.1:PORT (0: a free port)
    snapshot_dir: str = "."
    quiet: bool = False


@dataclass
class LiveResult:
    """How the session went (also turned into the final summary line)."""

    reason: str
    error: bool
    stats: LiveStats
    captured: int = 0
    dropped: int = 0
    recordings: list[tuple[str, int]] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def summary(self) -> str:
        s = self.stats
        if s.frames == 0:
            line = f"{self.reason}: no frame was stylized ({self.captured} captured)"
        else:
            line = (f"{self.reason}: {s.frames} frames ({s.fps:.1f} fps), latency p50 {s.latency_ms(50):.0f} ms"
                    f" / p95 {s.latency_ms(95):.0f} ms, {self.dropped} of {self.captured} captured frames dropped")
        for path, n in self.recordings:
            line += f"; recorded {path} ({n} frames)"
        return line


def _unique(path: str) -> str:
    if not os.path.exists(path):
        return path
    stem, ext = os.path.splitext(path)
    n = 2
    while os.path.exists(f"{stem}_{n}{ext}"):
        n += 1
    return f"{stem}_{n}{ext}"


class _Session:
    def __init__(self, cfg: LiveConfig, echo: Callable[[str], None]) -> None:
        self.cfg = cfg
        self.echo = echo
        self.recorder: Recorder | None = None
        self.recordings: list[tuple[str, int]] = []
        self.snapshots: list[str] = []
        self.messages: list[str] = []
        self.n_recordings = 0
        self.fps_hint = 30.0

    def say(self, msg: str) -> None:
        self.messages.append(msg)
        if not self.cfg.quiet:
            self.echo(msg)

    # recording ---------------------------------------------------------------------
    def start_recording(self, engine: LiveEngine | None = None) -> None:
        cfg = self.cfg
        self.n_recordings += 1
        if cfg.output:
            path = numbered_path(cfg.output, self.n_recordings)
            if self.n_recordings > 1:
                path = _unique(path)
        else:
            path = _unique(os.path.join(cfg.snapshot_dir, time.strftime("vidstyle_live_%Y%m%d-%H%M%S.mp4")))
        self.recorder = Recorder(path, fps=self.fps_hint, codec=cfg.codec, crf=cfg.crf,
                                 overwrite=cfg.overwrite and self.n_recordings == 1)
        if engine is not None:
            engine.add_output(self.recorder)

    def stop_recording(self, engine: LiveEngine | None = None, announce: bool = True) -> None:
        rec, self.recorder = self.recorder, None
        if rec is None:
            return
        if engine is not None:
            engine.remove_output(rec)
        try:
            n = rec.close()
        except OutputError as e:
            log.warning("%s", e)
            return
        self.recordings.append((rec.path, n))
        if rec.dropped:
            log.warning("%s: the encoder fell behind, %d frames not recorded", rec.path, rec.dropped)
        if announce:
            self.say(f"recorded {rec.path} ({n} frames)")

    # snapshot ------------------------------------------------------------------------
    def snapshot(self, lf, side_by_side: bool) -> str | None:
        import cv2

        from .display import compose

        if lf is None:
            return None
        os.makedirs(self.cfg.snapshot_dir or ".", exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"_{int(time.time() * 1000) % 1000:03d}"
        path = _unique(os.path.join(self.cfg.snapshot_dir or ".", f"vidstyle_snapshot_{stamp}.png"))
        img = compose(lf.content, lf.stylized, side_by_side)
        if not cv2.imwrite(path, cv2.cvtColor(img, cv2.COLOR_RGB2BGR)):
            log.warning("cannot write snapshot %s", path)
            return None
        self.snapshots.append(path)
        return path


# Live mode estimates every consistency flow at the masks' resolution (long side 320): the finer
# flow that offline conversion warps with would add its cost to every frame's latency.
LIVE_CONSISTENCY = {"warp_flow_max_side": None}


def _consistency_factory(cfg: LiveConfig, device, notes: list[str]):
    """Builds the stage key c switches on (an ``off`` start gets the default), as the API does."""
    from ..api.switching import consistency_factory

    return consistency_factory(cfg.consistency, cfg.flow_kind, device, cfg.raft_weights, notes, **LIVE_CONSISTENCY)


def live_sections(cfg: LiveConfig) -> tuple[Controls, Runtime]:
    """``cfg``'s artist controls and engine choice as the API's config sections
    ``(Controls, Runtime)``, checked as ``stylize`` checks them."""
    from ..api.config import Controls, Runtime

    try:
        controls = Controls(strength=cfg.strength, preserve_colors=cfg.preserve_colors, mask=cfg.mask,
                            mask_feather=cfg.mask_feather)
    except InputError as e:
        option = "--mask-feather" if str(e).startswith("mask_feather") else "--strength"
        raise InputError(f"{option}: {e}") from None
    return controls, Runtime(device=cfg.device, backend=cfg.backend, precision=cfg.precision, threads=cfg.threads,
                             cpu_net=cfg.cpu_net)


def default_threads(backend: str = "auto") -> int:
    """CPU threads for the net. OpenVINO and ONNX Runtime (``auto``/``openvino``/``onnx``; live
    turns ONNX Runtime's spinning off): every core, since the net is most of the work. PyTorch
    (``torch``): all cores but one, which capture, encoding and display need (its idle threads
    spin, so on a busy small CPU all cores are slower than one fewer)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 2
    return max(1, cores - 1) if backend == "torch" else max(1, cores)


def run_live(cfg: LiveConfig, echo: Callable[[str], None] = print, *, capture=None,
             capture_kind: str | None = None, capture_fps: float | None = None,
             bank: StyleBank | None = None, lost_after: float = 2.0) -> LiveResult:
    """Run a live session until the source ends, ``cfg.frames`` are done, the user quits or
    Ctrl-C. Recordings are finalised in every case. Raises :class:`VidstyleError` for setup
    errors (no camera, no display, bad style...) and, after finalising, for a lost camera or a
    failed engine. ``capture`` (anything with ``read()``/``release()``, of ``capture_kind``) and
    ``bank`` let tests and benchmarks inject a source or styles; ``lost_after``: seconds of failed
    camera reads before the camera counts as lost. PyTorch's thread count is restored on return.
    """
    import torch

    threads_before = torch.get_num_threads()
    try:
        return _run_live(cfg, echo, capture=capture, capture_kind=capture_kind, capture_fps=capture_fps,
                         bank=bank, lost_after=lost_after)
    finally:
        torch.set_num_threads(threads_before)


@dataclass
class _Running:
    """What a session holds between setup and teardown: its threads, outputs and state."""

    cfg: LiveConfig
    echo: Callable[[str], None]
    session: _Session
    bank: StyleBank
    state: LiveState
    slot: LatestFrameSlot
    capture: object
    cap_thread: CaptureThread
    engine: LiveEngine
    window: object | None = None
    vcam: object | None = None
    http: object | None = None


def _run_live(cfg: LiveConfig, echo: Callable[[str], None], *, capture, capture_kind: str | None,
              capture_fps: float | None, bank: StyleBank | None, lost_after: float) -> LiveResult:
    run = _setup(cfg, echo, capture=capture, capture_kind=capture_kind, capture_fps=capture_fps, bank=bank,
                 lost_after=lost_after)
    reason, interrupted = None, False
    try:
        reason, interrupted = _loop(run)
    finally:
        _stop(run)
    return _result(run, reason, interrupted)


def _check_config(cfg: LiveConfig) -> None:
    if cfg.camera is not None and cfg.source is not None:
        raise InputError("give either --camera or --source, not both")
    if not cfg.display and not cfg.output and not cfg.virtual_cam and cfg.preview_http is None:
        raise InputError("--no-display needs --output FILE (or --virtual-cam, or --preview-http) to send "
                         "the stream somewhere")
    if cfg.frames is not None and cfg.frames < 1:
        raise InputError("--frames must be at least 1")


def _setup(cfg: LiveConfig, echo: Callable[[str], None], *, capture, capture_kind: str | None,
           capture_fps: float | None, bank: StyleBank | None, lost_after: float) -> _Running:
    """Check the settings, load the first style, open the source and the outputs, and say what runs
    (errors here leave nothing open)."""
    from ..api.frames import style_controls
    from ..pipeline.device import pick_device

    _check_config(cfg)
    cfg, window_note = _check_window(cfg)
    sections, runtime = live_sections(cfg)
    device = pick_device(runtime.device)
    bank, first = _load_styles(cfg, device, bank, runtime)
    controls = style_controls(sections)  # a style image's strength too is a blend of the output
    state = LiveState(styles=bank.names, strength=controls.strength,
                      side_by_side=cfg.side_by_side, overlay=cfg.overlay)
    matte = _live_matte(cfg)
    notes: list[str] = []
    consistency = _initial_consistency(cfg, device, notes)
    state.consistency = consistency is not None

    name = describe_source(cfg.camera, cfg.source)
    if capture is None:
        capture, capture_fps, capture_kind = open_capture(cfg.camera, cfg.source, cfg.size if isinstance(cfg.size, tuple) else None)
    capture_kind = capture_kind or "camera"
    session = _Session(cfg, echo)
    session.fps_hint = capture_fps or 30.0
    slot = LatestFrameSlot()
    cap_thread = CaptureThread(capture, slot, kind=capture_kind, fps=capture_fps, pace=cfg.pace, name=name,
                               lost_after=lost_after)
    engine = LiveEngine(slot, bank, state, device=device, size=cfg.size, controls=controls,
                        make_consistency=_consistency_factory(cfg, device, notes), consistency=consistency,
                        max_frames=cfg.frames, net_scale=cfg.net_scale, matte=matte)
    run = _Running(cfg, echo, session, bank, state, slot, capture, cap_thread, engine)
    _open_outputs(run)

    source_txt = f"{name} ({capture_kind}{f', {capture_fps:g} fps' if capture_fps else ''}) on {device}"
    _announce(run, source_txt, first, device, notes, window_note)
    return run


def _check_window(cfg: LiveConfig) -> tuple[LiveConfig, str | None]:
    """``cfg``, without the window when none can open but the browser preview can stand in (and
    a note saying so); an error when neither can show the output."""
    if not cfg.display:
        return cfg, None
    from .display import check_display

    try:
        check_display()
    except VidstyleError as e:
        if cfg.preview_http is None:
            raise
        return replace(cfg, display=False), f"no window ({str(e).split(';')[0]}): preview in the browser only"
    return cfg, None


def _load_styles(cfg: LiveConfig, device, bank: StyleBank | None, runtime: Runtime):
    """The style bank (``bank`` or one of ``cfg.styles``) and its first stylizer, loaded now so a
    bad style is an error before the camera opens; sets PyTorch's threads to fit beside it."""
    import torch

    from ..pipeline.exported_stylizer import threads_beside

    threads = runtime.threads or (default_threads(runtime.backend) if device.type == "cpu" else None)
    if threads:
        torch.set_num_threads(int(threads))
    if bank is None:
        if not cfg.styles:
            raise InputError("no styles given: -s NAME_OR_FILE.safetensors")
        bank = StyleBank(cfg.styles, device, runtime=replace(runtime, threads=threads if device.type == "cpu" else None))
    first = bank.get(0)[0]
    if threads:
        # an exported-net engine keeps its threads; PyTorch only resizes and runs consistency beside
        # it, and its idle OpenMP threads would busy-wait on the engine's cores
        torch.set_num_threads(threads_beside(first, threads))
    return bank, first


def _announce(run: _Running, source_txt: str, first, device, notes: list[str], window_note: str | None) -> None:
    """Say what runs: the source, the styles, consistency and net size, and the keys."""
    cfg, bank = run.cfg, run.bank
    styles_txt = ", ".join(bank.names[:5]) + (f" (+{len(bank) - 5} more)" if len(bank) > 5 else "")
    said = list(notes) or ["consistency off"]
    if cfg.net_scale is None and device.type == "cpu":
        side = auto_net_side(first)
        said.append(f"net at long side <= {side} px (--net-scale auto; 1 for full-size strokes)")
    run.session.say(f"live: {source_txt}; styles: {styles_txt}; " + "; ".join(said))
    if window_note:
        run.session.say(window_note)
    if run.window is not None:
        run.session.say("keys: " + ", ".join(key_help()))


def _initial_consistency(cfg: LiveConfig, device, notes: list[str]):
    """The consistency stage to start with (None when ``cfg.consistency`` is off)."""
    from ..consistency.params import parse_consistency

    if parse_consistency(cfg.consistency) == "off":
        return None
    return _consistency_factory(cfg, device, notes)()


def _open_outputs(run: _Running) -> None:
    """Recording, virtual camera and window; on a failure the ones already open are closed."""
    cfg, session, engine = run.cfg, run.session, run.engine
    try:
        if cfg.output:
            session.start_recording(engine)
            run.state.recording = True
        if cfg.virtual_cam:
            from .virtualcam import open_virtual_camera

            # the working size is only known for a fixed --size; else from the first frame
            w, h = _working_size(cfg.size, run.capture)
            run.vcam = open_virtual_camera(w, h, session.fps_hint)
            engine.add_output(run.vcam)
            session.say(f"virtual camera: {run.vcam.device} ({w}x{h})")
        if cfg.preview_http is not None:
            from .http_preview import MjpegServer

            run.http = MjpegServer(cfg.preview_http)
            engine.add_output(run.http)
            session.say(f"preview: {run.http.url} (from another machine: ssh -L {run.http.port}:127.0.0.1:"
                        f"{run.http.port} HOST, then open that address)")
        if cfg.display:
            from .display import Window

            run.window = Window()
    except BaseException:
        if session.recorder is not None:
            session.recorder.abort()
        _close_feeds(run)
        run.capture.release()
        raise


def _loop(run: _Running) -> tuple[str | None, bool]:
    """Run until the end (source, frame count, quit key, window closed) or Ctrl-C; returns the
    reason (None: the engine's) and whether Ctrl-C ended it."""
    try:
        run.cap_thread.start()
        run.engine.start()
        run.bank.preload(0)
        if run.window is not None:
            return _display_loop(run.window, run.engine, run.state, run.session), False
        t_status = time.monotonic()
        while not run.engine.done.wait(0.2):
            if not run.cfg.quiet and time.monotonic() - t_status >= 10.0:
                t_status = time.monotonic()
                s = run.engine.stats
                run.echo(f"live: {s.frames} frames, {s.current_fps():.1f} fps, latency p50 "
                         f"{s.latency_ms(50, last=100):.0f} ms, {run.slot.dropped} dropped")
        return None, False
    except KeyboardInterrupt:
        return "interrupted (Ctrl-C)", True


def _stop(run: _Running) -> None:
    """Stop the threads and close every output (the recording is finalised), however the loop ended."""
    run.cap_thread.stop()
    run.engine.stop()
    if run.engine.is_alive():
        run.engine.join(10.0)
    run.bank.close()
    if run.cap_thread.is_alive():
        run.cap_thread.join(5.0)
    elif run.cap_thread.ident is None:  # never started: it did not release the source
        run.capture.release()
    if run.window is not None:
        run.window.close()
    _close_feeds(run)
    run.session.stop_recording(run.engine, announce=False)  # the summary line names it


def _close_feeds(run: _Running) -> None:
    """Close the outputs that feed other programs: the virtual camera and the browser preview."""
    if run.vcam is not None:
        run.vcam.close()
    if run.http is not None:
        run.http.close()


def _result(run: _Running, reason: str | None, interrupted: bool) -> LiveResult:
    """The session's result; a failed engine or a lost source is raised (after teardown), naming
    the recordings that were saved."""
    engine, session, slot = run.engine, run.session, run.slot
    reason = reason or engine.end_reason or slot.reason or "stopped"
    result = LiveResult(reason=reason, error=False, stats=engine.stats, captured=run.cap_thread.frames,
                        dropped=slot.dropped + engine.skipped, recordings=session.recordings,
                        snapshots=session.snapshots, messages=session.messages)
    saved = "".join(f"; {p} saved ({n} frames)" for p, n in session.recordings)
    if engine.error is not None:
        result.error = True
        e = engine.error
        if isinstance(e, VidstyleError):
            raise type(e)(f"{e}{saved}") from None
        raise VidstyleError(f"live inference failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}{saved}") from e
    if slot.error and not interrupted and reason == slot.reason:
        result.error = True
        raise InputError(f"{slot.reason}{saved}")
    if run.vcam is not None and run.vcam.error:
        log.warning("%s", run.vcam.error)
    return result


def _working_size(size, capture) -> tuple[int, int]:
    """Output size for outputs that need it up front (virtual camera)."""
    if isinstance(size, tuple):
        return size
    first = getattr(capture, "_first", None)
    if first is None:
        raise InputError("--virtual-cam needs --size WxH for this source")
    h, w = first.shape[:2]
    return fit_size(size, w, h)


def _display_loop(window, engine: LiveEngine, state: LiveState, session: _Session) -> str:
    from .display import compose, draw_overlay, overlay_lines

    last, dirty = None, False
    while True:
        lf = engine.out_slot.get(timeout=0.005)
        if lf is not None:
            last = lf
        if last is not None and (lf is not None or dirty):
            dirty = False
            img = compose(last.content, last.stylized, state.side_by_side)
            if state.overlay:
                extra = key_help() if state.help else None
                img = draw_overlay(img, overlay_lines(state, engine.stats, extra=extra))
            window.show(img)
        key = window.poll_key(1)
        actions = handle_key(state, key)
        dirty = dirty or bool(actions)
        for action in actions:
            if action == "snapshot":
                path = session.snapshot(last, state.side_by_side)
                if path:
                    state.message = f"saved {os.path.basename(path)}"
            elif action == "record_start":
                try:
                    session.start_recording(engine)
                    state.message = f"recording {session.recorder.path}"
                except VidstyleError as e:
                    state.recording = False
                    state.message = str(e)
            elif action == "record_stop":
                session.stop_recording(engine)
                state.message = "recording stopped"
        if state.quit:
            return "quit"
        if window.closed():
            return "window closed"
        if engine.done.is_set() and engine.out_slot.finished:
            return engine.end_reason or "stopped"
