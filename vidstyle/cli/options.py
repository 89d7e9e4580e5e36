"""Parsers for option values that several commands share: one grammar per concept.

Every parser takes the option's text and returns a typed value, or raises
:class:`~vidstyle.errors.InputError` (one ``error: ...`` line, exit status 2). They import
nothing heavy, so ``vidstyle CMD --help`` stays fast.

* frame sizes: ``640x360`` (also ``640X360``, ``640×360``, ``640:360``) → ``(width, height)``;
* ``--net-scale``: ``auto`` or a fraction;
* style lists for ``live -s``: entries and mixes as :func:`vidstyle.models.mixing.split_mix_item`
  (one grammar with ``stylize -s``; weights in any Python float syntax);
* ``--consistency``: :func:`vidstyle.consistency.params.parse_consistency` (``off``, a preset or
  a strength; 0 in any spelling is off), which the consistency layer also applies to values
  given to it directly (``build_consistency``, ``make_consistency``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..consistency.params import parse_consistency
from ..errors import InputError

__all__ = ["DEFAULT_STYLE", "parse_frame_size", "parse_net_scale", "parse_consistency", "split_style_specs"]

_SIZE = re.compile(r"\s*(\d+)\s*(?:[xX×:]\s*(\d+))?\s*")


def parse_frame_size(text: str | None, *, option: str = "--size", allow_width: bool = False, multiple: int = 1,
                     min_side: int = 16, max_side: int = 8192) -> tuple[int, int] | int | None:
    """``"640x360"`` → ``(640, 360)`` (width, height in pixels); None or blank → None.

    ``allow_width``: a bare ``"640"`` is a width (returned as an int; the caller derives the
    height from the aspect ratio). Each side must be within ``min_side..max_side`` and a multiple
    of ``multiple``.
    """
    if text is None or str(text).strip() == "":
        return None
    m = _SIZE.fullmatch(str(text))
    if not m or (m.group(2) is None and not allow_width):
        shape = "640x360 or 640" if allow_width else "WIDTHxHEIGHT, e.g. 640x360"
        raise InputError(f"{option} must look like {shape}, not {text!r}")
    sides = [int(g) for g in m.groups() if g is not None]
    if any(not min_side <= v <= max_side for v in sides):
        raise InputError(f"{option} {text.strip()}: each side must be within {min_side}..{max_side} pixels")
    if multiple > 1 and any(v % multiple for v in sides):
        raise InputError(f"{option} {text.strip()}: width and height must be multiples of {multiple}")
    return sides[0] if len(sides) == 1 else (sides[0], sides[1])


def parse_net_scale(value: str | float | None) -> float | None:
    """``--net-scale``: ``"auto"``/None → None (automatic), else a float in 0.05..1."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    try:
        scale = float(value)
    except ValueError:
        raise InputError(f"--net-scale must be 'auto' or a number in 0.05..1, not {value!r}") from None
    if not 0.05 <= scale <= 1.0:
        raise InputError(f"--net-scale must be within 0.05..1, not {value}")
    return scale


DEFAULT_STYLE = "starry_night"
"""The style ``live`` uses when given no ``-s`` (the first installed one if it is missing)."""


def split_style_specs(values: Sequence[str] | None, *, cycle_all: bool = False) -> tuple[list[str], bool]:
    """``live -s`` values → the styles to load and cycle through, and whether the user named them.

    Each value is a style (name or ``.safetensors`` path), a comma list of styles (``a,b,c``) or a
    mix (``a:0.7,b:0.3``: at least one entry has a weight), which counts as one style. Only the
    named styles load (each costs memory and, on the CPU, an export); with none,
    :data:`DEFAULT_STYLE`. ``cycle_all`` adds every other installed style after the named ones.
    """
    from ..models.mixing import is_mix
    from ..models.styles import find_style, list_styles

    out: list[str] = []
    for value in values or ():
        value = value.strip()
        if not value:
            continue
        if is_mix(value):
            out.append(value)
        else:
            out.extend(s.strip() for s in value.split(",") if s.strip())
    named = bool(out)
    if out and not cycle_all:
        return out, named
    installed = [s.name for s in list_styles()]
    if not installed and not out:
        raise InputError("no styles installed: give one with -s NAME_OR_FILE.safetensors "
                         "(train one with `vidstyle train`)")
    if not cycle_all:
        return [DEFAULT_STYLE if DEFAULT_STYLE in installed else installed[0]], named
    given = {find_style(s).name for s in out if not is_mix(s) and not s.endswith(".safetensors")}
    return [*out, *(n for n in installed if n not in given)], named
