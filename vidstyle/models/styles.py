"""Style registry: trained nets stored as ``NAME.safetensors`` + ``NAME.json`` sidecar.

Search order for a style given by name: folders in ``$VIDSTYLE_WEIGHTS`` (``os.pathsep``
separated), then the weights shipped with the package (``vidstyle.weights``, the repo's
``weights/`` folder). A style may also be given as a path to a ``.safetensors`` file; its
sidecar is the ``.json`` beside it (optional for a path: the arch is then read from the
weights file's own metadata, which :func:`save_style` writes, or else inferred from the shapes).
Weights are read with safetensors only: nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, first_line
from ..io.atomic import atomic_path, write_bytes_atomic
from .arch import Arch, resolve_arch, stored_arch

if TYPE_CHECKING:  # PyTorch and safetensors.torch load on first use: `vidstyle styles` needs neither
    import torch

    from .transformer import TransformerNet

SUFFIX = ".safetensors"


@dataclass
class StyleInfo:
    """A style's files and sidecar metadata."""

    name: str
    weights: Path
    meta: dict = field(default_factory=dict)

    @property
    def arch(self) -> Arch:
        return arch_of(self)

    @property
    def arch_name(self) -> str:
        try:
            return self.arch.name
        except Exception:  # noqa: BLE001 - unreadable sidecar or weights
            return "?"

    @property
    def painting(self) -> str:
        src = self.meta.get("style_image") or {}
        if isinstance(src, dict):
            return src.get("title") or src.get("file") or ""
        return str(src)

    @property
    def preview(self) -> Path | None:
        p = self.weights.with_name(self.name + "_preview.jpg")
        return p if p.exists() else None


def search_dirs() -> list[Path]:
    """Folders searched for named styles, highest priority first."""
    dirs = [Path(p) for p in os.environ.get("VIDSTYLE_WEIGHTS", "").split(os.pathsep) if p]
    try:
        dirs.append(Path(str(resources.files("vidstyle.weights"))))
    except (ModuleNotFoundError, TypeError):
        # Imported from a source checkout (e.g. `python -m pytest` in the repo root puts the
        # checkout's vidstyle/ first on sys.path): the shipped styles are the repo's weights/.
        checkout = Path(__file__).resolve().parents[2] / "weights"
        if checkout.is_dir():
            dirs.append(checkout)
    return dirs


def _read_meta(weights: Path) -> dict:
    sidecar = weights.with_suffix(".json")
    if not sidecar.exists():
        return {}
    try:
        meta = json.loads(sidecar.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"style sidecar {sidecar} is unreadable: {e}") from None
    if not isinstance(meta, dict):
        raise InputError(f"style sidecar {sidecar} is not a JSON object")
    return meta


def list_styles() -> list[StyleInfo]:
    """All named styles found in the search folders (first occurrence of a name wins)."""
    seen: dict[str, StyleInfo] = {}
    for d in search_dirs():
        if not d.is_dir():
            continue
        for w in sorted(d.glob("*" + SUFFIX)):
            name = w.name[: -len(SUFFIX)]
            if name not in seen:
                seen[name] = StyleInfo(name, w, _read_meta(w))
    return sorted(seen.values(), key=lambda s: s.name)


def names_file(spec: str) -> bool:
    """Whether ``spec`` is a weights file rather than a style name (how :func:`find_style` reads it)."""
    return spec.endswith(SUFFIX) or os.sep in spec


def find_style(spec: str) -> StyleInfo:
    """Resolve a style name or a ``.safetensors`` path; raises ``InputError`` if unknown."""
    p = Path(spec).expanduser()
    if names_file(spec):
        if not p.is_file():
            raise InputError(f"style file not found: {spec}")
        return StyleInfo(p.name[: -len(SUFFIX)] if p.name.endswith(SUFFIX) else p.stem, p, _read_meta(p))
    styles = list_styles()
    for s in styles:
        if s.name == spec:
            return s
    # Friendly prefix match ("starry" -> "starry_night") when unambiguous.
    matches = [s for s in styles if s.name.startswith(spec)]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(s.name for s in styles) or "(none installed)"
    raise InputError(f"unknown style {spec!r}; available styles: {names}")


def cpu_twin(info: StyleInfo) -> StyleInfo | None:
    """The net distilled from ``info`` for CPUs, when its sidecar names one (``"cpu_net"``) and it
    is installed: the same look at a fraction of the cost, which on a CPU decides the frame rate
    (a GPU runs the trained net itself in real time). None otherwise."""
    name = info.meta.get("cpu_net")
    if not isinstance(name, str) or not name:
        return None
    twin = next((s for s in list_styles() if s.name == name), None)
    if twin is None or twin.weights == info.weights:
        return None
    return twin


def infer_arch(state: dict[str, torch.Tensor]) -> Arch:
    """Infer channels, block count and pixel folding from a TransformerNet state dict."""
    first = state.get("encoder.0.conv.conv.weight")
    if first is None or first.dim() != 4:
        raise InputError("not a vidstyle transform net (no encoder.0.conv.conv.weight tensor)")
    channels, i = [], 0
    while f"encoder.{i}.conv.conv.weight" in state:
        channels.append(state[f"encoder.{i}.conv.conv.weight"].shape[0])
        i += 1
    blocks = len({k.split(".")[1] for k in state if k.startswith("residuals.")})
    unshuffle = round((first.shape[1] / 3) ** 0.5)
    try:
        return Arch(tuple(channels), blocks, unshuffle)
    except ValueError as e:
        raise InputError(f"not a vidstyle transform net: {e}") from None


def arch_of(info: StyleInfo, state: dict[str, torch.Tensor] | None = None) -> Arch:
    """A style's arch: from its sidecar, else from its weights file's metadata, else inferred from
    the tensor shapes (``state``, when already loaded). A bad one is an ``InputError`` naming the file."""
    if "arch" in info.meta:
        try:
            return resolve_arch(info.meta["arch"])
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise InputError(f"style sidecar {info.weights.with_suffix('.json')}: impossible arch "
                             f"{json.dumps(info.meta['arch'])[:80]} ({first_line(e)})") from None
    stored = stored_arch(info.weights)
    if stored is not None:
        return stored
    try:
        if state is None:
            from safetensors.torch import load_file  # torch only when the shapes must tell

            state = load_file(str(info.weights))
        return infer_arch(state)
    except InputError as e:
        raise InputError(f"style weights {info.weights}: {e}") from None
    except Exception as e:  # noqa: BLE001 - safetensors raises several kinds
        raise InputError(f"cannot read style weights {info.weights}: {first_line(e)}") from None


def load_style(spec: str | StyleInfo, device: str | torch.device = "cpu") -> tuple[TransformerNet, StyleInfo]:
    """Load a style net (eval mode) on ``device``; returns the net and its info."""
    import torch  # `vidstyle styles` lists styles without torch
    from safetensors.torch import load_file

    from .transformer import TransformerNet

    info = spec if isinstance(spec, StyleInfo) else find_style(spec)
    try:
        state = load_file(str(info.weights))
    except Exception as e:  # noqa: BLE001 - safetensors raises several kinds
        raise InputError(f"cannot read style weights {info.weights}: {first_line(e)}") from None
    arch = arch_of(info, state)
    net = TransformerNet(arch)
    problem = state_mismatch(net.state_dict(), state)
    if problem:
        raise InputError(f"style weights {info.weights} do not match arch {arch.name}: {problem}")
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise InputError(f"style weights {info.weights} hold NaN or infinite values ({len(bad)} tensors, "
                         f"e.g. {bad[0]})")
    net.load_state_dict(state)
    return net.eval().to(device), info


def state_mismatch(expected: dict[str, torch.Tensor], state: dict[str, torch.Tensor]) -> str:
    """What keeps ``state`` from loading into a net whose state dict is ``expected``, in one line
    (empty when it fits): missing and unexpected tensors, and tensors of another shape."""
    missing = [k for k in expected if k not in state]
    extra = [k for k in state if k not in expected]
    shapes = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    parts = []
    if missing:
        parts.append(f"{len(missing)} tensors missing (e.g. {missing[0]})")
    if extra:
        parts.append(f"{len(extra)} unexpected (e.g. {extra[0]})")
    if shapes:
        k = shapes[0]
        parts.append(f"{len(shapes)} of another shape (e.g. {k}: {list(state[k].shape)} in the file, "
                     f"{list(expected[k].shape)} in the arch)")
    return "; ".join(parts)


def save_style(net: TransformerNet, path: str | Path, meta: dict) -> Path:
    """Write ``path.safetensors`` and ``path.json`` (arch added to ``meta``); returns the weights path."""
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix == SUFFIX:
        path = path.with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = path.with_name(path.name + SUFFIX)
    meta = {"name": path.name, **meta, "arch": net.arch.to_dict()}
    with atomic_path(weights) as tmp:  # a style appears whole or not at all
        save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, str(tmp),
                  metadata={"arch": json.dumps(net.arch.to_dict())})
    write_bytes_atomic(path.with_name(path.name + ".json"), (json.dumps(meta, indent=2) + "\n").encode("utf-8"))
    return weights
