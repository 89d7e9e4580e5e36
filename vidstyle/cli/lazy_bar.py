"""The progress bar every long command shows: tqdm, opened at the first progress report (so a
job's status lines print before it), fed with reports that carry ``done`` and ``total``."""

from __future__ import annotations

from typing import Any

__all__ = ["LazyBar"]


class LazyBar:
    """A tqdm bar made with ``tqdm_options`` at the first :meth:`update`; nothing with ``quiet``."""

    def __init__(self, quiet: bool, **tqdm_options: Any) -> None:
        self.quiet = quiet
        self.options = tqdm_options
        self.bar = None

    def update(self, p) -> None:
        """Move the bar to ``p.done`` of ``p.total``."""
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm  # only once there is something to show

            self.bar = tqdm(total=p.total, **self.opening_options(p))
        self.bar.update(p.done - self.bar.n)

    def opening_options(self, p) -> dict[str, Any]:
        """The tqdm options for a bar opened at report ``p``."""
        return self.options

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
