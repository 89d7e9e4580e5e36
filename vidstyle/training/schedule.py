"""A cosine learning-rate schedule that fits a run's time limit as well as its step count.

A run with ``--time-limit`` usually stops long before its nominal ``--steps``; a schedule planned
over ``--steps`` alone would still be near its peak then, and the net would end on coarse,
unsettled texture. Here the run's progress is the larger of steps done / ``steps`` and time spent /
time allowed, so the rate reaches its floor when either runs out. A resumed run starts from the
progress its checkpoint recorded and spreads the rest over its own time limit.
"""

from __future__ import annotations

import math
import time

FLOOR = 0.05
"""Final learning rate as a fraction of the peak."""
WARMUP_STEPS = 10
"""Steps of linear warm-up for a net that starts from trained weights: Adam's first updates move
every weight by about the learning rate whatever its gradient, which at the peak rate throws a
trained net's texture away before the second-moment estimates have settled."""


class Schedule:
    """``lr(step)``: cosine decay from ``peak`` to ``FLOOR * peak`` as :meth:`progress` goes 0 -> 1.

    ``time_limit`` in seconds (None: steps alone); ``start_progress`` in [0, 1]: the progress a
    checkpoint recorded; ``warmup``: steps of linear warm-up from step 0 (see :data:`WARMUP_STEPS`).
    The clock starts at the first :meth:`lr` call (the first step).
    """

    def __init__(self, peak: float, steps: int, time_limit: float | None = None, start_progress: float = 0.0,
                 warmup: int = 0) -> None:
        self.peak, self.steps, self.time_limit, self.warmup = peak, steps, time_limit, warmup
        self.start_progress = min(1.0, max(0.0, start_progress))
        self._t0: float | None = None
        self.last_progress = self.start_progress

    def progress(self, step: int) -> float:
        """Fraction of the run done before ``step`` (0-based), in [0, 1]; no time has passed
        before the clock starts, so a run's first step is the same however it ends."""
        p = max(self.start_progress, step / self.steps)
        if self.time_limit and self._t0 is not None:
            spent = time.monotonic() - self._t0
            p = max(p, self.start_progress + (1 - self.start_progress) * spent / self.time_limit)
        return min(1.0, p)

    def lr(self, step: int) -> float:
        """The learning rate for ``step``; remembers the progress in :attr:`last_progress`."""
        self.last_progress = self.progress(step)
        if self._t0 is None:
            self._t0 = time.monotonic()
        ramp = min(1.0, (step + 1) / self.warmup) if self.warmup else 1.0
        return ramp * self.peak * (FLOOR + (1 - FLOOR) * 0.5 * (1 + math.cos(math.pi * self.last_progress)))
