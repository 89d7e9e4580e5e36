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
