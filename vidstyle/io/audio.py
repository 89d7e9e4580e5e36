"""Audio of a video output: copied packet for packet where the container takes the codec, else
transcoded (AAC; Opus for WebM), interleaved with the video and trimmed to the video's range.

Copy or transcode is decided when the output opens (:func:`plan_audio`) by a trial mux, because a
muxer's codec list is not enough: MP4 lists PCM but refuses it when the file is finished.
"""

from __future__ import annotations

import io
from fractions import Fraction
from typing import Callable

from vidstyle.errors import InputError
from vidstyle.io._util import one_line

import av

__all__ = ["plan_audio", "trial_mux", "AudioTrack", "AudioMuxer"]


def _open_audio_source(source: str):
    """Open ``source`` for its audio streams; a one-line ``InputError`` when it cannot be read."""
    try:
        return av.open(source, mode="r")
    except FileNotFoundError:
        raise InputError(f"{source}: no such file (audio source)") from None
    except (av.error.FFmpegError, OSError) as exc:
        raise InputError(f"{source}: cannot read audio ({one_line(exc)})") from None


def plan_audio(source: str, muxer: str, supported) -> dict[int, bool]:
    """For each audio stream of ``source``: can its packets be copied into ``muxer`` (else they
    are transcoded)? Decided before the first frame: a muxer's codec list is not enough (MP4 lists
    PCM but refuses it when the file is finished), so a codec it lists gets a trial mux of its
    first packets into memory."""
    ac = _open_audio_source(source)
    plan = {}
    with ac:
        for s in ac.streams.audio:
            name = s.codec_context.name
            copy = name in supported and not (muxer == "webm" and name not in ("opus", "vorbis"))
            if muxer == "avi" and name not in ("mp3", "aac", "pcm_s16le", "ac3"):
                copy = False
            plan[s.index] = copy
        for index in [i for i, copy in plan.items() if copy]:
            plan[index] = trial_mux(source, index, muxer)
    return plan


def trial_mux(source: str, index: int, muxer: str, packets: int = 4) -> bool:
    """Does ``muxer`` take (header, packets, trailer) the first packets of stream ``index``?"""
    try:
        with av.open(source, mode="r") as src:
            stream = src.streams[index]
            with av.open(io.BytesIO(), mode="w", format=muxer) as out:
                dst = out.add_stream_from_template(stream)
                n = 0
                for p in src.demux(stream):
                    if p.size == 0 or (p.pts is None and p.dts is None):
                        continue
                    p.stream = dst
                    out.mux(p)
                    n += 1
                    if n >= packets:
                        break
        return True
    except (av.error.FFmpegError, ValueError, TypeError):
        return False


class AudioTrack:
    """One audio stream of the source and its stream in the output."""

    def __init__(self, in_stream, out_stream, copy: bool) -> None:
        self.in_stream = in_stream
        self.out_stream = out_stream
        self.copy = copy
        self.decoder = in_stream.codec_context if not copy else None
        self.done = False


class AudioMuxer:
    """Feeds the audio of ``source`` into the output ``container`` alongside the video.

    ``shift``: seconds subtracted from every timestamp (the video's); ``window``: ``(start, end)``
    seconds of the source kept when it was trimmed (None: all); ``trim_start``: packets before
    ``start`` are dropped; ``warn``: where lost or transcoded audio is reported.
    """

    def __init__(self, container, muxer: str, *, shift: Fraction, window: tuple[float, float | None] | None,
                 trim_start: bool, warn: Callable[[str], None]) -> None:
        self._container = container
        self._muxer = muxer
        self._shift = Fraction(shift)
        self._win_start, self._win_end = window if window is not None else (None, None)
        self._trimmed = window is not None
        self._trim_start = trim_start
        self._warn = warn
        self._source = None
        self.tracks: list[AudioTrack] = []
        self._iter = None
        self._pending = None

    def open(self, source: str, copy_plan: dict[int, bool]) -> None:
        """Add an output stream for each audio stream of ``source`` (copied where ``copy_plan``
        says so) and start reading; a stream the output refuses is skipped with a warning."""
        ac = _open_audio_source(source)
        self._source = ac
        for s in ac.streams.audio:
            name = s.codec_context.name
            copy = copy_plan.get(s.index, False)
            try:
                out = self._container.add_stream_from_template(s) if copy else self._transcoded_stream(s)
            except (av.error.FFmpegError, ValueError, TypeError) as exc:
                self._warn(f"audio stream {s.index} ({name}) skipped ({one_line(exc)})")
                continue
            self.tracks.append(AudioTrack(s, out, copy))
        if self.tracks:
            if self._trim_start and self._win_start > 5.0:
                try:  # skip most of the audio before the range (we still filter exactly below)
                    ac.seek(int((self._win_start - 2.0) * av.time_base), backward=True)
                except av.error.FFmpegError:
                    pass
            self._iter = ac.demux(*[t.in_stream for t in self.tracks])
        else:
            self.close()

    def _transcoded_stream(self, s):
        """An AAC (Opus for WebM) output stream for the source stream ``s``."""
        name = s.codec_context.name
        target = "libopus" if self._muxer == "webm" else "aac"
        rate = s.codec_context.sample_rate or 48000
        if target == "libopus" and rate not in (8000, 12000, 16000, 24000, 48000):
            rate = 48000
        out = self._container.add_stream(target, rate=rate)
        layout = s.codec_context.layout
        if layout is not None and layout.nb_channels in (1, 2):  # "2 channels" (no order) is refused
            out.codec_context.layout = "mono" if layout.nb_channels == 1 else "stereo"
        out.codec_context.time_base = Fraction(1, rate)
        out.time_base = Fraction(1, rate)
        if target == "aac":
            out.codec_context.bit_rate = 96000 * max(1, (layout.nb_channels if layout else 2))
        self._warn(f"audio stream {s.index} ({name}) transcoded to {target}: "
                   f"{self._muxer} cannot hold {name}")
        return out

    def _next_packet(self):
        if self._pending is not None:
            p, self._pending = self._pending, None
            return p
        if self._iter is None:
            return None
        while True:
            try:
                p = next(self._iter)
            except StopIteration:
                self._iter = None
                return None
            except av.error.FFmpegError as exc:
                self._warn(f"audio source damaged ({one_line(exc)}): audio stops there")
                self._iter = None
                return None
            if p.size == 0 or (p.pts is None and p.dts is None):
                continue
            return p

    def pump(self, until: float | None) -> None:
        """Mux audio packets whose (output-timeline) start is before ``until`` (None: all)."""
        if not self.tracks:
            return
        by_index = {t.in_stream.index: t for t in self.tracks}
        shift = float(self._shift)
        while True:
            p = self._next_packet()
            if p is None:
                return
            track = by_index.get(p.stream.index)
            if track is None:
                continue
            tb = p.time_base or track.in_stream.time_base
            ts = p.pts if p.pts is not None else p.dts
            t0 = float(ts * tb)
            if until is not None and t0 - shift >= until:
                self._pending = p
                return
            if self._trim_start and t0 < self._win_start - 1e-6:
                continue
            if self._win_end is not None and self._trimmed and t0 >= self._win_end - 1e-6:
                track.done = True  # past the range
                if all(t.done for t in self.tracks):
                    self._iter = None
                    return
                continue
            if track.done:
                continue
            self._mux(track, p, tb)

    def _mux(self, track: AudioTrack, p, tb) -> None:
        shift_ts = int(round(self._shift / Fraction(tb))) if self._shift else 0
        if track.copy:
            ts = p.pts if p.pts is not None else p.dts
            if self._shift < 0 and ts - shift_ts < 0:  # before the first frame, moved to 0
                return
            if shift_ts:
                if p.pts is not None:
                    p.pts -= shift_ts
                if p.dts is not None:
                    p.dts -= shift_ts
            p.stream = track.out_stream
            self._container.mux(p)
            return
        try:
            frames = track.decoder.decode(p)
        except av.error.FFmpegError as exc:
            self._warn(f"audio decoding failed ({one_line(exc)}): audio stops there")
            track.done = True
            return
        self._encode(track, frames)

    def _encode(self, track: AudioTrack, frames) -> None:
        enc = track.out_stream
        rate = enc.codec_context.sample_rate
        for f in frames:
            if f.pts is not None and f.time_base:
                t = Fraction(f.pts) * Fraction(f.time_base) - self._shift
                f.pts = int(round(t * rate))
                f.time_base = Fraction(1, rate)
                if f.pts < 0:
                    continue
            for pkt in enc.encode(f):
                self._container.mux(pkt)

    def finish(self) -> None:
        """Mux the rest of the audio and flush the transcoders."""
        self.pump(None)
        for t in self.tracks:
            if not t.copy:
                try:
                    self._encode(t, t.decoder.decode(None))
                except av.error.FFmpegError:
                    pass
                for pkt in t.out_stream.encode(None):
                    self._container.mux(pkt)

    def close(self) -> None:
        """Close the audio source (the output is the caller's)."""
        if self._source is not None:
            try:
                self._source.close()
            except Exception:  # noqa: BLE001 - the audio source is only read; closing is best effort
                pass
            self._source = None
