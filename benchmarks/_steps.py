"""Steps of a check that must finish in a fixed time: each has a budget, a failure is recorded
and the next step runs, and the record is saved after every step.

A check that must give every figure in one short run cannot let one step sink it: a step that
hangs or fails must cost its budget at most and leave everything measured so far on disk. Python
code is interrupted by ``SIGALRM`` at the budget; a step that waits on a child process passes
:meth:`Steps.left` as the child's timeout, so the child is killed at the same moment.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from contextlib import contextmanager

SKIPPED_NO_CUDA = "skipped (no CUDA)"


class StepFailed(Exception):
    """A step that ran and failed: ``str(e)`` is its one error line, ``figures`` what it measured."""

    def __init__(self, message: str, figures: dict | None = None) -> None:
        super().__init__(message)
        self.figures = figures or {}


class StepSkipped(Exception):
    """A step that cannot run here: ``str(e)`` says why."""


class StepTimeout(BaseException):
    """Raised in the main thread when a step's budget is spent (BaseException: a step's own
    ``except Exception`` does not swallow it)."""


def error_line(e: BaseException) -> str:
    """``Type: first line of the message``; a vidstyle error is its own message already."""
    text = str(e).strip().splitlines()
    if type(e).__module__.startswith("vidstyle") and text:
        return text[0]
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


@contextmanager
def _alarm(seconds: float):
    def fire(signum, frame):
        raise StepTimeout()

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class Steps:
    """Runs steps until ``deadline`` (``time.monotonic()`` seconds); results go to ``record``
    (name → ``{"status", "seconds", "budget_s", ...figures}``) and ``save()`` runs after each."""

    def __init__(self, record: dict, save: Callable[[], None], deadline: float, cuda: bool,
                 only: set[str] | None = None) -> None:
        self.record, self.save, self.deadline, self.cuda, self.only = record, save, deadline, cuda, only
        self._step_end = deadline

    def left(self) -> float:
        """Seconds left to the step that runs now (its budget or the deadline, whichever is sooner)."""
        return max(0.0, self._step_end - time.monotonic())

    def run(self, name: str, budget: float, fn: Callable[[dict], None], *, needs_cuda: bool = False,
            min_s: float = 5.0) -> dict:
        """Run ``fn(figures)`` within ``budget`` seconds; returns the step's record.

        ``fn`` fills ``figures`` as it measures, so a step cut short keeps what it had. Skipped
        without CUDA when ``needs_cuda``, and when fewer than ``min_s`` seconds are left.
        """
        if self.only is not None and not any(name.startswith(p) for p in self.only):
            return {}
        rec: dict = {"budget_s": budget}
        left = self.deadline - time.monotonic()
        if needs_cuda and not self.cuda:
            rec["status"] = SKIPPED_NO_CUDA
        elif left < min_s:
            rec["status"] = "skipped (out of time)"
        else:
            budget = min(budget, left)
            t0 = time.monotonic()
            self._step_end = t0 + budget
            figures: dict = {}
            try:
                with _alarm(budget):
                    fn(figures)
                rec.update(figures, status="pass")
            except StepTimeout:
                rec.update(figures, status="fail", error=f"timed out after {budget:.0f} s")
            except StepFailed as e:
                rec.update(figures, **e.figures, status="fail", error=str(e))
            except StepSkipped as e:
                rec.update(figures, status=f"skipped ({e})")
            except Exception as e:  # noqa: BLE001  (a failing step is this check's result; the next one runs)
                rec.update(figures, status="fail", error=error_line(e))
            finally:
                self._step_end = self.deadline
            rec["seconds"] = round(time.monotonic() - t0, 2)
        self.record[name] = rec
        took = f" {rec['seconds']:.1f}s" if "seconds" in rec else ""
        print(f"[{rec['status'].split(' ')[0]:>7}] {name}{took}: {summary(rec)}", flush=True)
        self.save()
        return rec


def summary(rec: dict) -> str:
    """One line for a step's record: its error, or its headline figures."""
    if rec.get("error"):
        return rec["error"]
    if rec["status"].startswith("skipped"):
        return rec["status"]
    parts = []
    for key, value in rec.items():
        if key in ("status", "seconds", "budget_s") or isinstance(value, (dict, list)):
            continue
        parts.append(f"{key}={value:.3g}" if isinstance(value, float) else f"{key}={value}")
    return ", ".join(parts)
