"""The streaming runner's threads: a failing net stops the decoder thread before the call returns."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from vidstyle.io.frame import Frame
from vidstyle.pipeline.runner import stylize_stream


class FailingStylizer:
    device = "cpu"

    def __call__(self, x):
        raise RuntimeError("net failed")


class ListSink:
    def __init__(self) -> None:
        self.frames = []

    def write(self, frame) -> None:
        self.frames.append(frame)


def test_decoder_thread_has_stopped_when_the_net_raises():
    decoding = threading.Event()
    after_return = []

    def frames():
        for i in range(1000):
            decoding.set()
            time.sleep(0.01)  # a decoder busy inside the demuxer
            after_return.append(returned.is_set())
            yield Frame(np.zeros((8, 8, 3), np.uint8), i)

    returned = threading.Event()
    with pytest.raises(RuntimeError, match="net failed"):
        stylize_stream(frames(), ListSink(), FailingStylizer(), batch_size=2, quiet=True, queue_size=2)
    returned.set()
    assert decoding.is_set()
    assert not any(t.name == "vidstyle-decode" and t.is_alive() for t in threading.enumerate())
    time.sleep(0.05)
    assert not any(after_return)  # nothing decoded after the call returned (the caller may close the source)


class IdentityStylizer:
    device = "cpu"

    def __init__(self) -> None:
        self.threads: set[str] = set()

    def __call__(self, x):
        self.threads.add(threading.current_thread().name)
        return x.clone()


class RecordingConsistency:
    """Records the thread and order of its steps; optionally fails at step ``fail_at``."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at = fail_at
        self.seen: list[float] = []
        self.threads: set[str] = set()

    def step(self, content, stylized):
        self.threads.add(threading.current_thread().name)
        if self.fail_at is not None and len(self.seen) == self.fail_at:
            raise ValueError("consistency failed")
        self.seen.append(float(content[0, 0, 0, 0]))
        return stylized

    def reset(self) -> None:
        pass


def numbered_frames(n: int):
    for i in range(n):
        yield Frame(np.full((8, 8, 3), i, np.uint8), i)


def test_consistency_runs_beside_the_net_in_frame_order():
    net, cons, sink = IdentityStylizer(), RecordingConsistency(), ListSink()
    stats = stylize_stream(numbered_frames(20), sink, net, consistency=cons, batch_size=3, quiet=True, queue_size=2)
    assert stats.frames == 20 and [f.index for f in sink.frames] == list(range(20))
    assert cons.seen == pytest.approx([i / 255 for i in range(20)])  # one step per frame, in order
    assert cons.threads == {"vidstyle-finish"} and threading.current_thread().name in net.threads
    assert [int(f.image[0, 0, 0]) for f in sink.frames] == list(range(20))


def test_a_failing_consistency_step_is_raised_and_nothing_is_written_after_it():
    cons, sink = RecordingConsistency(fail_at=5), ListSink()
    with pytest.raises(ValueError, match="consistency failed"):
        stylize_stream(numbered_frames(50), sink, IdentityStylizer(), consistency=cons, batch_size=1, quiet=True, queue_size=2)
    assert [f.index for f in sink.frames] == list(range(len(sink.frames))) and len(sink.frames) <= 5
    written = len(sink.frames)
    time.sleep(0.2)
    assert len(sink.frames) == written
    assert not any(t.name.startswith("vidstyle-") and t.is_alive() for t in threading.enumerate())
