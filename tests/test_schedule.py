"""The learning-rate schedule fits the time limit as well as the step count."""

from __future__ import annotations

import math

import pytest

from vidstyle.training import schedule as S


@pytest.fixture
def clock(monkeypatch):
    """A settable ``time.monotonic`` for the schedule (seconds)."""
    now = [100.0]
    monkeypatch.setattr(S.time, "monotonic", lambda: now[0])
    return now


def cosine(p: float) -> float:
    return S.FLOOR + (1 - S.FLOOR) * 0.5 * (1 + math.cos(math.pi * p))


def test_steps_alone_decay_over_the_steps():
    s = S.Schedule(1.0, 100)
    assert s.lr(0) == pytest.approx(1.0) and s.lr(50) == pytest.approx(cosine(0.5))
    assert s.lr(100) == pytest.approx(S.FLOOR) and s.lr(500) == pytest.approx(S.FLOOR)


def test_a_time_limit_decays_the_rate_by_its_end(clock):
    s = S.Schedule(1.0, 3000, time_limit=900)
    assert s.lr(0) == pytest.approx(1.0)  # the first step is the same however the run ends
    clock[0] += 450
    assert s.lr(90) == pytest.approx(cosine(0.5))  # half the time gone, 3% of the steps
    clock[0] += 450
    assert s.lr(180) == pytest.approx(S.FLOOR) and s.last_progress == 1.0


def test_a_resumed_run_spreads_the_rest_over_its_own_time(clock):
    s = S.Schedule(1.0, 3000, time_limit=600, start_progress=0.5)
    assert s.lr(100) == pytest.approx(cosine(0.5))
    clock[0] += 300
    assert s.progress(150) == pytest.approx(0.75)


def test_warmup_ramps_up_from_trained_weights():
    s = S.Schedule(1.0, 1000, warmup=10)
    assert s.lr(0) == pytest.approx(0.1 * cosine(0.0)) and s.lr(9) == pytest.approx(cosine(0.009))
    assert s.lr(20) == pytest.approx(cosine(0.02))
