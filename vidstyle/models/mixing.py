"""Style mixing: ``-s starry:0.7,wave:0.3`` blends two or more styles.

Two ways to mix, picked by ``mode``:

* ``weights``: one net whose parameters are the weighted average of the styles' parameters (conv
  weights and biases, instance-norm affine parameters). Costs one net per frame. Needs nets of the
  same arch, and only makes sense for *related* nets (fine-tuned from a common parent, or trained
  from the same seeded initialisation): averaging two unrelated nets (permuted channels) gives a
  third, meaningless net.
* ``outputs``: every net runs and the outputs are blended with the contrast-preserving blend of
  :mod:`vidstyle.ops.blend` (a weighted mean whose per-channel Y'UV std is rescaled to
  the weighted mean of the styles' stds, so a mix does not fade to grey). Works for any archs; costs
  one net per style.
* ``auto`` (default): ``weights`` when all archs match and the nets are related (mean cosine
  similarity of their conv kernels ≥ ``RELATED_COSINE``), else ``outputs``. Measured: the starry
  night net (light arch, seed 0) after 450 training steps has a cosine of 0.97 with the seed-0
  initialisation and 0.005 with a seed-1 one, so styles trained with the same ``--seed`` and arch
  count as related and others do not.

A mix of one style (``starry`` or ``starry:0.4``) is just that style's plain net.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import InputError
from ..ops.blend import stats_blend
from .styles import load_style
from .transformer import TransformerNet

MIX_MODES = ("auto", "weights", "outputs")
RELATED_COSINE = 0.5


def split_mix_item(item: str) -> tuple[str, float | None]:
    """One entry of a style list or mix: ``"starry:0.7"`` → ``("starry", 0.7)``, ``"starry"`` →
    ``("starry", None)``. The weight is any Python float literal (``0.7``, ``.5``, ``1e-1``). A
    ``:`` whose tail is a path (a drive letter: ``C:\\styles\\x.safetensors``) is part of the name.
    Raises ``InputError`` for a tail that is neither."""
    item = item.strip()
    if ":" not in item:
        return item, None
    head, tail = item.rsplit(":", 1)
    if "/" in tail or "\\" in tail:  # a path with a drive letter (C:\\styles\\x)
        return item, None
    try:
        weight = float(tail)
    except ValueError:
        raise InputError(f"bad weight {tail.strip()!r} for style {head.strip()!r} in {item!r} "
                         "(use NAME:WEIGHT,NAME:WEIGHT)") from None
    return head.strip(), weight


def is_mix(spec: str) -> bool:
    """Does ``spec`` give a weight to at least one entry (``a:0.7,b:0.3``)? ``a,b`` is not one
    (live mode cycles through such a list; ``stylize`` mixes it 50/50)."""
    return any(split_mix_item(s)[1] is not None for s in str(spec).split(",") if s.strip())


def mix_label(spec: str) -> str:
    """A short display name: ``"dir/a.safetensors:0.7,b:0.3"`` → ``"a+b"``."""
    names = [split_mix_item(s)[0] for s in str(spec).split(",") if s.strip()]
    return "+".join(n.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".safetensors") for n in names)


def parse_style_spec(spec: str) -> list[tuple[str, float]]:
    """``"starry:0.7,wave:0.3"`` → ``[("starry", 0.7), ("wave", 0.3)]``, weights normalised to sum 1.

    A plain name has weight 1 (``"a,b"`` is 50/50); entries as :func:`split_mix_item`. Raises
    ``InputError`` for empty names, negative/non-finite weights or weights that sum to 0.
    """
    if spec is None or not str(spec).strip():
        raise InputError("no style given")
    parts = []
    for raw in str(spec).split(","):
        if not raw.strip():
            raise InputError(f"bad style mix {spec!r}: empty entry")
        name, weight = split_mix_item(raw)
        weight = 1.0 if weight is None else weight
        if not name:
            raise InputError(f"bad style mix {spec!r}: a weight without a style name")
        if not math.isfinite(weight) or weight < 0:
            raise InputError(f"bad weight {weight:g} for style {name!r}: weights must be >= 0")
        parts.append((name, weight))
    total = sum(w for _, w in parts)
    if total <= 0:
        raise InputError(f"bad style mix {spec!r}: the weights sum to 0")
    return [(n, w / total) for n, w in parts]


def _conv_kernels(net: nn.Module) -> list[torch.Tensor]:
    return [m.weight.detach().flatten().float() for m in net.modules() if isinstance(m, nn.Conv2d)]


def relatedness(a: nn.Module, b: nn.Module) -> float:
    """Mean cosine similarity of the two nets' conv kernels (≈0 for independent random inits)."""
    ka, kb = _conv_kernels(a), _conv_kernels(b)
    if len(ka) != len(kb) or any(x.shape != y.shape for x, y in zip(ka, kb)):
        return 0.0
    sims = [torch.nn.functional.cosine_similarity(x, y, dim=0).item() for x, y in zip(ka, kb)]
    return sum(sims) / len(sims)


def interpolate_weights(nets: list[TransformerNet], weights: list[float]) -> TransformerNet:
    """A new net whose floating-point parameters/buffers are ``Σ wᵢ · paramᵢ`` (same arch required)."""
    arch = nets[0].arch
    if any(n.arch != arch for n in nets):
        raise ValueError("weight interpolation needs nets of the same arch")
    states = [n.state_dict() for n in nets]
    mixed = {}
    for key, ref in states[0].items():
        if ref.is_floating_point():
            acc = torch.zeros_like(ref, dtype=torch.float32)
            for st, w in zip(states, weights):
                acc += float(w) * st[key].float()
            mixed[key] = acc.to(ref.dtype)
        else:
            mixed[key] = ref.clone()
    out = TransformerNet(arch)
    out.load_state_dict(mixed)
    return out.to(next(nets[0].parameters()).device).eval()


def blend_outputs(outputs: list[torch.Tensor], weights: list[float]) -> torch.Tensor:
    """Contrast- and saturation-preserving weighted blend of ``[B,3,H,W]`` images (see
    :func:`vidstyle.ops.blend.stats_blend`)."""
    return stats_blend(outputs, weights)


class OutputMix(nn.Module):
    """Runs several style nets and blends their outputs (``forward`` like a ``TransformerNet``)."""

    def __init__(self, nets: list[nn.Module], weights: list[float]) -> None:
        super().__init__()
        self.nets = nn.ModuleList(nets)
        self.weights = [float(w) for w in weights]
        self.stride = max(getattr(n, "stride", 4) for n in nets)
        self.arch = getattr(nets[0], "arch", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return blend_outputs([net(x) for net in self.nets], self.weights)


def load_styles_mix(spec: str, device: str | torch.device = "cpu", mode: str = "auto") -> tuple[nn.Module, str]:
    """Load a style or a mix of styles; returns ``(module, description)``.

    ``module`` is called like a ``TransformerNet`` (``[B,3,H,W]`` → ``[B,3,H,W]``) and has
    ``.stride``. See the module docstring for ``mode``.
    """
    if mode not in MIX_MODES:
        raise InputError(f"unknown mix mode {mode!r}; use {', '.join(MIX_MODES)}")
    parts = [(n, w) for n, w in parse_style_spec(spec) if w > 0]
    loaded = [(load_style(name, device), w) for name, w in parts]
    if len(parts) == 1:
        (net, info), _ = loaded[0]
        return net, f"{info.name} ({info.arch_name})"
    nets = [net for (net, _), _ in loaded]
    weights = [w for _, w in loaded]
    label = " + ".join(f"{info.name} {w:.0%}" for (_, info), w in loaded)
    same_arch = all(isinstance(n, TransformerNet) and n.arch == nets[0].arch for n in nets)
    if mode == "weights" and not same_arch:
        raise InputError("--mix weights needs styles of the same arch: "
                         + ", ".join(f"{info.name} ({info.arch_name})" for (_, info), _ in loaded))
    use_weights = mode == "weights" or (
        mode == "auto" and same_arch
        and min(relatedness(nets[0], n) for n in nets[1:]) >= RELATED_COSINE
    )
    if use_weights:
        return interpolate_weights(nets, weights), f"{label} (weights interpolated, {nets[0].arch.name})"
    return OutputMix(nets, weights).eval(), f"{label} (outputs blended, {len(nets)} nets per frame)"
