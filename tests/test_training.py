"""Losses, synthetic motion, VGG conversion and the training loop (tiny data, random VGG)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vidstyle.errors import InputError, VidstyleError
from vidstyle.flow.warp import backward_warp
from vidstyle.models import vgg as V
from vidstyle.models.styles import load_style
from vidstyle.training import losses as L
from vidstyle.training.motion import make_motion_pair
from vidstyle.training.trainer import TrainConfig, checkpoint_path, train


def test_gram_matrix_of_known_tensor():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)  # C=2, H=1, W=2
    g = L.gram_matrix(f)
    expected = torch.tensor([[1 + 4, 3 + 8], [3 + 8, 9 + 16]]) / 4.0
    assert torch.allclose(g[0], expected)


def _shift_flow(b, h, w, dx, dy):
    flow = torch.zeros(b, 2, h, w)
    flow[:, 0], flow[:, 1] = dx, dy
    return flow


def test_temporal_loss_zero_for_perfect_warp_and_positive_otherwise():
    g = torch.Generator().manual_seed(0)
    prev_in = torch.rand(1, 3, 24, 24, generator=g)
    prev_out = torch.rand(1, 3, 24, 24, generator=g)
    flow = _shift_flow(1, 24, 24, 2.0, -1.0)
    cur_in, cur_out = backward_warp(prev_in, flow), backward_warp(prev_out, flow)
    mask = torch.ones(1, 1, 24, 24)
    assert L.output_temporal_loss(prev_out, cur_out, prev_in, cur_in, flow, mask).item() < 1e-10
    flicker = cur_out + 0.1 * torch.rand(1, 3, 24, 24, generator=g)
    assert L.output_temporal_loss(prev_out, flicker, prev_in, cur_in, flow, mask).item() > 1e-4
    # A global luminance change of the input allows the same change in the output.
    brighter_in, brighter_out = cur_in + 0.1, cur_out + 0.1
    assert L.output_temporal_loss(prev_out, brighter_out, prev_in, brighter_in, flow, mask).item() < 1e-10


def test_temporal_mask_excludes_occluded_pixels():
    prev = torch.rand(1, 3, 16, 16)
    flow = torch.zeros(1, 2, 16, 16)
    cur_out = prev.clone()
    cur_out[..., 4:8, 4:8] = 1.0 - cur_out[..., 4:8, 4:8]  # an occluder appears here
    mask = torch.ones(1, 1, 16, 16)
    assert L.output_temporal_loss(prev, cur_out, prev, prev, flow, mask).item() > 1e-3
    mask[..., 4:8, 4:8] = 0
    assert L.output_temporal_loss(prev, cur_out, prev, prev, flow, mask).item() < 1e-12
    feat = torch.rand(1, 8, 16, 16)
    feat_cur = feat.clone()
    feat_cur[..., 4:8, 4:8] += 1
    assert L.feature_temporal_loss(feat, feat_cur, flow, mask).item() < 1e-12


def test_motion_pair_flow_maps_current_frame_onto_previous():
    g = torch.Generator().manual_seed(1)
    # A smooth textured image so that interpolation error is small.
    ys, xs = torch.meshgrid(torch.linspace(0, 6, 96), torch.linspace(0, 6, 96), indexing="ij")
    img = torch.stack([torch.sin(xs + ys), torch.cos(xs * 1.3), torch.sin(ys * 0.7 + 1)]) * 0.5 + 0.5
    images = torch.stack([img, img.flip(-1)])
    pair = make_motion_pair(images, 64, g)
    assert pair.prev.shape == pair.cur.shape == (2, 3, 64, 64)
    assert pair.flow.abs().max() > 0.5  # there really is motion
    err = (backward_warp(pair.prev, pair.flow) - pair.cur).abs()
    masked = (err * pair.mask).sum() / (pair.mask.sum() * 3)
    assert masked < 1e-4
    assert 0.3 < pair.mask.mean() < 1.0 or err.mean() < 1e-4
    # The frames differ: without the flow, the error is large.
    assert ((pair.prev - pair.cur).abs() * pair.mask).sum() / (pair.mask.sum() * 3) > 10 * masked


def _tiny_onnx(path: Path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    onnx = pytest.importorskip("onnx")
    from onnx import helper, numpy_helper

    chans = [3, 4, 4, 5, 5, 6, 6, 6, 7, 7, 7, 8, 8, 8]
    inits, arrays = [], {}
    for i, (b, c) in enumerate(V.CONV_BLOCKS):
        w = rng.standard_normal((chans[i + 1], chans[i], 3, 3)).astype(np.float32)
        bias = rng.standard_normal(chans[i + 1]).astype(np.float32)
        wn, bn = V.ONNX_WEIGHT.format(b=b, c=c), V.ONNX_BIAS.format(b=b, c=c)
        inits += [numpy_helper.from_array(w, wn), numpy_helper.from_array(bias, bn)]
        arrays[wn], arrays[bn] = w, bias
    x = helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, [1, 3, 4, 4])
    y = helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, [1, 3, 4, 4])
    graph = helper.make_graph([helper.make_node("Identity", ["input"], ["output"])], "tiny", [x], [y], inits)
    onnx.save(helper.make_model(graph), str(path))
    return arrays


def test_vgg_onnx_conversion_folds_caffe_convention(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "tiny.onnx"
    arrays = _tiny_onnx(path, rng)
    with pytest.raises(VidstyleError, match="sha256"):
        V.convert_onnx(path)  # not the expected file
    state = V.convert_onnx(path, expected_sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    assert sorted(int(k.split(".")[0]) for k in state if k.endswith("weight")) == V.FEATURE_INDEX
    # Later layers are copied as they are.
    assert np.array_equal(state["28.weight"].numpy(), arrays[V.ONNX_WEIGHT.format(b=5, c=3)])
    # conv1_1 on ImageNet-normalised RGB equals the original conv on Caffe BGR 0-255 input.
    x = torch.rand(1, 3, 9, 9, dtype=torch.float64)
    mean = torch.tensor(V.IMAGENET_MEAN, dtype=torch.float64).view(1, 3, 1, 1)
    std = torch.tensor(V.IMAGENET_STD, dtype=torch.float64).view(1, 3, 1, 1)
    caffe = x.flip(1) * 255 - torch.tensor(V.CAFFE_MEAN_BGR, dtype=torch.float64).view(1, 3, 1, 1)
    w0 = torch.from_numpy(arrays[V.ONNX_WEIGHT.format(b=1, c=1)]).double()
    b0 = torch.from_numpy(arrays[V.ONNX_BIAS.format(b=1, c=1)]).double()
    ref = F.conv2d(caffe, w0, b0)
    got = F.conv2d((x - mean) / std, state["0.weight"].double(), state["0.bias"].double())
    assert torch.allclose(ref, got, rtol=1e-4, atol=1e-3)


def test_vgg_missing_sources_give_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(V, "_find_offline_onnx", lambda: None)
    with pytest.raises(VidstyleError, match="no VGG16 weights"):
        V.load_vgg16_state(allow_download=False)


def _style_image(tmp_path: Path) -> Path:
    import cv2

    style = tmp_path / "style.png"
    cv2.imwrite(str(style), (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8))
    return style


@pytest.fixture(scope="module")
def random_vgg():
    torch.manual_seed(0)
    net = V.VGGFeatures(None, layers=("relu1_2", "relu2_2"))
    return net


def _cfg(tmp_path, content, style, out, steps, **kw):
    cfg = TrainConfig(
        style_image=str(style), content_dir=str(content), out=str(out), arch="light", size=32, style_size=64,
        steps=steps, batch_size=2, seed=3, checkpoint_every=2, content_layer="relu2_2", **kw,
    )
    return cfg


def test_training_lowers_the_loss_and_writes_style(tmp_path, random_vgg, photo_dir):
    content, style = photo_dir, _style_image(tmp_path)
    out = tmp_path / "w" / "tiny"
    cfg = _cfg(tmp_path, content, style, out, steps=40, lr=3e-3)
    cfg = dataclasses.replace(cfg, checkpoint_every=20)
    weights = train(cfg, quiet=True, vgg=random_vgg)
    meta = json.loads(out.with_suffix(".json").read_text())
    hist = torch.load(checkpoint_path(out), weights_only=True)["history"]
    totals = [h["total"] for h in json.loads(hist)]
    assert totals[-1] < 0.7 * totals[0]
    assert meta["arch"]["channels"] == [16, 32, 64] and meta["training"]["steps"] == 40
    assert (out.parent / "tiny_preview.jpg").exists()
    net, info = load_style(str(weights))
    assert info.arch_name == "light"


def test_resume_matches_uninterrupted_run(tmp_path, random_vgg, photo_dir):
    content, style = photo_dir, _style_image(tmp_path)
    full = tmp_path / "full"
    train(_cfg(tmp_path, content, style, full, steps=4), quiet=True, vgg=random_vgg)
    part = tmp_path / "part"
    train(_cfg(tmp_path, content, style, part, steps=2), quiet=True, vgg=random_vgg)
    with pytest.raises(VidstyleError, match="--resume"):
        train(_cfg(tmp_path, content, style, part, steps=4), quiet=True, vgg=random_vgg)
    train(_cfg(tmp_path, content, style, part, steps=4), resume=True, quiet=True, vgg=random_vgg)
    a = torch.load(checkpoint_path(full), weights_only=True)
    b = torch.load(checkpoint_path(part), weights_only=True)
    assert a["step"] == b["step"] == 4
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    # A run of only 2 steps really differs from 4 (the comparison above can fail).
    short = tmp_path / "short"
    train(_cfg(tmp_path, content, style, short, steps=2), quiet=True, vgg=random_vgg)
    c = torch.load(checkpoint_path(short), weights_only=True)
    assert any(not torch.equal(a["model"][k], c["model"][k]) for k in a["model"])


def test_init_starts_from_another_styles_weights(tmp_path, random_vgg, photo_dir):
    """``init`` loads a light style's weights into a light-bilinear net (same layers); with a zero
    learning rate they come out unchanged, and the sidecar records where they came from."""
    from vidstyle.models.styles import save_style
    from vidstyle.training.config import LossWeights

    from nets import random_net

    content, style = photo_dir, _style_image(tmp_path)
    src = save_style(random_net("light", seed=4), tmp_path / "src", {})
    out = tmp_path / "bl"
    cfg = _cfg(tmp_path, content, style, out, steps=1, lr=0.0, init=str(src), weights=LossWeights(shift=5.0))
    cfg = dataclasses.replace(cfg, arch="light-bilinear")
    weights = train(cfg, quiet=True, vgg=random_vgg)
    net, info = load_style(str(weights))
    ref, _ = load_style(str(src))
    assert info.arch_name == "light-bilinear"
    for k, v in ref.state_dict().items():
        assert torch.equal(net.state_dict()[k], v), k
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["training"]["init"] == str(src) and meta["training"]["final_losses"]["shift"] > 0
    # a net with other layers does not fit
    full = save_style(random_net("full", seed=4), tmp_path / "full", {})
    bad = _cfg(tmp_path, content, style, tmp_path / "bad", steps=1, init=str(full))
    with pytest.raises(InputError, match="does not fit"):
        train(bad, quiet=True, vgg=random_vgg)
