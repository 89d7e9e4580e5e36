"""What ``evaluate`` reports: the warping error of each output, as data, a text table and JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from ..errors import OutputError

__all__ = ["EvalReport", "format_table", "verdict"]


@dataclass
class EvalReport:
    """``results``: one dict per output, in the order given (keys: see
    :func:`vidstyle.metrics.warping_error.warping_error`, plus ``input``, ``output`` and
    ``warnings``); ``warnings`` about the sources; ``frame_counts``: of the input and each output
    (None where the file does not say); ``flow``: which flow estimated the motion."""

    results: list[dict]
    warnings: list[str] = field(default_factory=list)
    frame_counts: list[int | None] = field(default_factory=list)
    flow: str = ""

    @property
    def counts_differ(self) -> bool:
        """Do the sources' known frame counts differ (only the common frames were compared)?"""
        return len({c for c in self.frame_counts if c}) > 1

    def table(self) -> str:
        """The text report of ``vidstyle eval``."""
        return format_table(self.results)

    def verdict(self) -> str:
        return verdict(self.results)

    def to_json(self) -> str:
        """The results as JSON: one object for one output, else a list; NaN and inf as null."""
        return json.dumps(_clean(self.results[0] if len(self.results) == 1 else self.results), indent=2)

    def write_json(self, path: str) -> None:
        """:meth:`to_json` into the file ``path``."""
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(self.to_json() + "\n")
        except OSError as e:
            raise OutputError(f"cannot write {path}: {e.strerror or e}") from None


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def _fmt(v: float, ratio: bool = False) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    return f"{v:.2f}x" if ratio else f"{v:.5f}"


def format_table(results: list[dict]) -> str:
    """The short text report printed by ``vidstyle eval``."""
    r0 = results[0]
    k = r0["long_k"]
    w, h = r0["size"]
    lines = [
        (f"E_warp (Lai et al. 2018; mean squared RGB error in [0,1] over non-occluded pixels), "
         f"flow {r0['flow']} on the input, {w}x{h}, {r0['frames']} frames"),
        ("lower is steadier; the input's own E_warp is the floor (flow errors and real changes in the "
         "picture), so output/input 1.00x is as steady as the source"),
    ]
    if r0["cuts"]:
        lines.append(f"scene cuts before frames {', '.join(map(str, r0['cuts']))}: pairs across them skipped")
    name_w = max(14, *(len(r.get("output", "")) for r in results)) + 2
    lines.append(f"{'':{name_w}}{'short (k=1)':>13}{f'long (k={k})':>13}{'sharpness':>11}")
    lines.append(f"{'input (floor)':{name_w}}{_fmt(r0['input_short']):>13}{_fmt(r0['input_long']):>13}{r0['input_sharpness']:>11.4f}")
    for r in results:
        lines.append(f"{r.get('output', 'output'):{name_w}}{_fmt(r['short']):>13}{_fmt(r['long']):>13}{r['sharpness']:>11.4f}")
        lines.append(f"{'  output/input':{name_w}}{_fmt(r['ratio_short'], True):>13}{_fmt(r['ratio_long'], True):>13}")
    lines.append(f"{'pairs':{name_w}}{r0['pairs_short']:>13}{r0['pairs_long']:>13}")
    lines.append(verdict(results))
    return "\n".join(lines)


def verdict(results: list[dict]) -> str:
    """One line: each output's short-term E_warp as a multiple of the input's own."""
    def ratio(r: dict) -> str:
        v = r["ratio_short"]
        return f"{v:.2f}x" if v is not None and math.isfinite(v) else "not measurable"

    if len(results) == 1:
        return f"verdict: {ratio(results[0])} the input's own flicker"
    return "verdict: " + ", ".join(f"{r.get('output', 'output')} {ratio(r)}" for r in results) + " the input's own flicker"
