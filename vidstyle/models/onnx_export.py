"""Export a style net to ONNX (for ONNX Runtime on CPU), and a per-user cache of exported nets.

``export_style("starry_night", "starry.onnx")`` (or ``vidstyle export starry_night --onnx
starry.onnx``) writes a model with input ``x`` ``[B,3,H,W]`` float32 RGB in [0,1] and output ``y``
``[B,3,H,W]`` (unclamped, like ``TransformerNet.forward``); batch, height and width are dynamic
(H and W must be multiples of 4, the net's stride). The style's name, arch and a digest of its
weights are stored in the model's ``metadata_props`` (keys ``vidstyle.*``, see
:func:`read_metadata`).

:func:`cached_onnx` exports a net once and keeps it in the ``onnx`` folder of vidstyle's cache
(:func:`vidstyle.io.cache.cache_dir`: ``~/.cache/vidstyle/onnx`` by default), named by a digest of the net's
weights, so ``vidstyle stylize --backend onnx`` needs no manual export step.

Needs the ``onnx`` package (a dependency of vidstyle); without it every entry point raises
a :class:`~vidstyle.errors.VidstyleError` that says so.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import warnings
from pathlib import Path

import torch
from torch import nn

from ..errors import VidstyleError
from ..io.atomic import write_bytes_atomic
from ..io.cache import cache_dir
from .fold import fold_for_cpu
from .transformer import TransformerNet

#: ONNX opset the exporter targets (InstanceNormalization, Resize and reflect Pad are all >= 11).
OPSET = 17
#: Bumped whenever the exported graph changes, so cached files from older versions are not reused.
EXPORT_VERSION = "3"  # 2: last layer folded, 3: last upsampling layer sub-pixel (vidstyle.models.fold)
INSTALL_HINT = "pip install onnx onnxruntime"
META_PREFIX = "vidstyle."
# torch.onnx.export keeps global state: two exports at once (live mode preloads styles on a thread)
# fail with "GLOBALS.in_onnx_export must be False".
_EXPORT_LOCK = threading.Lock()


def require_onnx():
    """Import and return the ``onnx`` module, or raise a one-line ``VidstyleError``."""
    try:
        import onnx
    except ImportError:
        raise VidstyleError(f"ONNX export needs the onnx package: {INSTALL_HINT}") from None
    return onnx


def net_digest(net: nn.Module) -> str:
    """SHA-256 (hex) of the net's arch and floating-point state, plus the export format version."""
    h = hashlib.sha256(f"vidstyle-onnx-v{EXPORT_VERSION}-opset{OPSET}".encode())
    arch = getattr(net, "arch", None)
    h.update(json.dumps(arch.to_dict() if hasattr(arch, "to_dict") else repr(arch)).encode())
    for key, t in sorted(net.state_dict().items()):
        t = t.detach().to("cpu").contiguous()
        h.update(f"{key}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.float().numpy().tobytes() if t.is_floating_point() else t.numpy().tobytes())
    return h.hexdigest()


def _torch_export(net: nn.Module, sample: torch.Tensor, dynamic: bool) -> bytes:
    """``torch.onnx.export`` to bytes: the TorchScript exporter (needs only ``onnx``), else the
    ``torch.export``-based one (needs ``onnxscript``) on torch versions without the former."""
    buf = io.BytesIO()
    axes = {"x": {0: "batch", 2: "height", 3: "width"}, "y": {0: "batch", 2: "height", 3: "width"}}
    kwargs = dict(input_names=["x"], output_names=["y"], opset_version=OPSET)
    with _EXPORT_LOCK, warnings.catch_warnings():
        # Deprecation notice of the TorchScript exporter; "instance_norm ... train=True" (the
        # net's InstanceNorm2d always uses per-image statistics, which is what ONNX computes);
        # constant-folding notes about the reflection-pad Slice ops (ONNX Runtime folds them).
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(net, (sample,), buf, dynamo=False, do_constant_folding=True,
                              dynamic_axes=axes if dynamic else None, **kwargs)
        except (TypeError, RuntimeError, NotImplementedError) as first:
            buf = io.BytesIO()
            try:
                shapes = {"x": {0: torch.export.Dim("batch"), 2: torch.export.Dim.AUTO, 3: torch.export.Dim.AUTO}}
                torch.onnx.export(net, (sample,), buf, dynamo=True, dynamic_shapes=shapes if dynamic else None,
                                  **kwargs)
            except Exception as second:  # noqa: BLE001 - report both exporters' reasons
                raise VidstyleError(f"ONNX export failed: {first}; torch.export-based exporter: {second}") from None
    return buf.getvalue()


def export_onnx(
    net: nn.Module,
    path: str | Path | None = None,
    *,
    meta: dict | None = None,
    dynamic: bool = True,
    sample_size: tuple[int, int] = (64, 64),
) -> bytes:
    """Export ``net`` (a ``TransformerNet``, eval mode, fp32, CPU copy) to ONNX; returns the model
    bytes and, with ``path``, also writes them there (atomically).

    ``meta`` entries are stored as ``metadata_props`` ``vidstyle.<key>`` (non-string values as
    JSON); the arch and the weights digest are always added. ``dynamic=False`` fixes the input to
    ``sample_size`` (H, W) and batch 1.
    """
    onnx = require_onnx()
    if not isinstance(net, TransformerNet):
        raise VidstyleError(f"only a single style net can be exported to ONNX, not {type(net).__name__}")
    net = _cpu_fp32_copy(net)
    h, w = sample_size
    sample = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0))
    # the same function with a faster last layer on CPUs (see vidstyle.models.fold)
    model = onnx.load_from_string(_torch_export(fold_for_cpu(net), sample, dynamic))
    props = {"arch": net.arch.to_dict(), "arch_name": net.arch.name, "digest": net_digest(net),
             "stride": net.stride, "export_version": EXPORT_VERSION, **(meta or {})}
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key = META_PREFIX + key
        entry.value = value if isinstance(value, str) else json.dumps(value)
    model.producer_name = "vidstyle"
    model.doc_string = ("vidstyle style transform net: x [B,3,H,W] float32 RGB in [0,1] "
                        "(H, W multiples of 4) -> y [B,3,H,W] (unclamped)")
    data = model.SerializeToString()
    if path is not None:
        write_bytes_atomic(path, data, mkdir=True)
    return data


def _cpu_fp32_copy(net: TransformerNet) -> TransformerNet:
    copy = TransformerNet(net.arch)
    copy.load_state_dict({k: v.detach().to("cpu", torch.float32) for k, v in net.state_dict().items()})
    return copy.eval()


def export_style(spec: str, out: str | Path, *, dynamic: bool = True) -> tuple[Path, dict]:
    """Export a style (name or ``.safetensors`` path) to ``out``; returns the path and its metadata."""
    from .styles import load_style

    net, info = load_style(spec, "cpu")
    meta = {"style": info.name, "source": info.weights.name}
    if info.painting:
        meta["painting"] = info.painting
    out = Path(out)
    export_onnx(net, out, meta=meta, dynamic=dynamic)
    return out, read_metadata(out)


def read_metadata(model: str | Path | bytes) -> dict:
    """The ``vidstyle.*`` metadata of an exported model (prefix stripped, JSON values decoded)."""
    onnx = require_onnx()
    m = onnx.load_from_string(model) if isinstance(model, bytes) else onnx.load(str(model), load_external_data=False)
    out = {}
    for p in m.metadata_props:
        if p.key.startswith(META_PREFIX):
            try:
                out[p.key[len(META_PREFIX):]] = json.loads(p.value)
            except json.JSONDecodeError:
                out[p.key[len(META_PREFIX):]] = p.value
    return out


def cached_onnx(net: TransformerNet, meta: dict | None = None) -> Path | bytes:
    """The exported model of ``net``: a file in :func:`cache_dir` (exported on first use), or the
    bytes when the cache folder cannot be written."""
    path = cache_dir("onnx") / f"{net_digest(net)[:32]}.onnx"
    if path.is_file():
        return path
    data = export_onnx(net, meta=meta)
    try:
        write_bytes_atomic(path, data, mkdir=True)
    except OSError:
        return data
    return path
