"""The arbitrary-style (AdaIN) model and its training, on a tiny random encoder (no VGG weights)."""

from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors import safe_open

from vidstyle.errors import InputError, VidstyleError
from vidstyle.models import arbitrary as A
from vidstyle.training import arbitrary as T
from vidstyle.training.trainer import checkpoint_path


@pytest.fixture(scope="module")
def parts():
    torch.manual_seed(0)
    dec = A.Decoder(width=8).eval()
    with torch.no_grad():
        dec.net[-1].bias.fill_(0.5)  # outputs mid-grey, away from the clamp, so differences show
    return A.Encoder.random(0), dec


def _painting(path, seed: int, size=(96, 80)) -> str:
    rng = np.random.default_rng(seed)
    img = (rng.random((size[1] // 8, size[0] // 8, 3)) * 255).astype(np.uint8)
    img = cv2.resize(img, size, interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(str(path), img)
    return str(path)


@pytest.fixture()
def style_dir(tmp_path):
    folder = tmp_path / "styles"
    folder.mkdir()
    for i, name in enumerate(("alpha", "beta", "held")):
        _painting(folder / f"{name}.png", i)
    return folder


def _net(parts, images, weights=None, strength=1.0):
    enc, dec = parts
    return A.build_style_net(images, weights, strength, decoder=dec, encoder=enc)


@pytest.mark.parametrize("hw", [(37, 53), (64, 64), (5, 7), (1, 9)])
def test_any_frame_size_keeps_its_shape(one_thread, parts, style_dir, hw):
    net = _net(parts, [style_dir / "alpha.png"])
    x = torch.rand(2, 3, *hw)
    with torch.inference_mode():
        y = net(x)
    assert y.shape == x.shape
    assert float(y.min()) >= 0 and float(y.max()) <= 1


def test_strength_zero_is_the_decoders_reconstruction(one_thread, parts, style_dir):
    enc, dec = parts
    net = _net(parts, [style_dir / "alpha.png"], strength=0.0)
    x = torch.rand(1, 3, 40, 52)
    with torch.inference_mode():
        recon = dec(enc(x)[A.BOTTLENECK]).clamp(0, 1)
        assert torch.equal(net(x), recon)
        net.strength = 1.0
        full = net(x)
        net.strength = 0.5
        half = net(x)
    assert not torch.allclose(full, recon)
    assert (half - recon).abs().mean() < (full - recon).abs().mean()
    with pytest.raises(InputError):
        net.strength = 1.5


def test_mixing_weights_sum_to_one_and_a_mix_of_one_is_that_image(one_thread, parts, style_dir):
    enc, _ = parts
    w = A.normalise_weights([3, 1], 2)
    assert sum(w) == pytest.approx(1.0) and w == pytest.approx([0.75, 0.25])
    assert sum(A.normalise_weights(None, 3)) == pytest.approx(1.0)
    for bad in ([1], [-1, 2], [0, 0], [float("nan"), 1]):
        with pytest.raises(InputError):
            A.normalise_weights(bad, 2)

    a, b = (A.style_stats(enc, A.read_style_image(style_dir / f"{n}.png")) for n in ("alpha", "beta"))
    one = A.mix_stats([a])
    assert torch.equal(one.mean, a.mean) and torch.equal(one.std, a.std)
    mixed = A.mix_stats([a, b], [0.25, 0.75])
    assert torch.allclose(mixed.mean, 0.25 * a.mean + 0.75 * b.mean)
    assert torch.allclose(mixed.std, 0.25 * a.std + 0.75 * b.std)

    x = torch.rand(1, 3, 32, 48)
    with torch.inference_mode():
        only_a = _net(parts, [style_dir / "alpha.png"])(x)
        a_by_weight = _net(parts, [style_dir / "alpha.png", style_dir / "beta.png"], [1.0, 0.0])(x)
        both = _net(parts, [style_dir / "alpha.png", style_dir / "beta.png"], [0.5, 0.5])(x)
    assert torch.allclose(only_a, a_by_weight, atol=1e-6)
    assert (only_a - both).abs().max() > 10 * (only_a - a_by_weight).abs().max() + 1e-6


def test_bad_style_images_give_one_line_errors(tmp_path):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((100, 100, 3), 128, np.uint8))
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), (np.random.default_rng(0).random((40, 200, 3)) * 255).astype(np.uint8))
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    cases = {blank: "blank", tiny: "at least 64", junk: "cannot read", empty: "cannot read", tmp_path / "none.png": "not found"}
    for path, words in cases.items():
        with pytest.raises(InputError) as e:
            A.read_style_image(path)
        assert words in str(e.value) and "\n" not in str(e.value)


def test_missing_vgg_says_what_to_install(tmp_path, monkeypatch):
    from vidstyle.models import vgg

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(vgg, "_find_offline_onnx", lambda: None)
    with pytest.raises(VidstyleError, match=r"pip install 'vidstyle\[train\]'"):
        A.load_encoder()


def test_tiled_run_matches_untiled(one_thread, parts, style_dir):
    """The pipeline's tiling freezes the AdaIN instance norm like a transform net's."""
    from vidstyle.pipeline.stylizer import Stylizer

    net = _net(parts, [style_dir / "alpha.png"])
    x = torch.rand(1, 3, 136, 236)
    whole = Stylizer(net, "cpu", tile=0)(x)
    tiled_run = Stylizer(net, "cpu", tile=128)
    tiled = tiled_run(x)
    assert tiled_run.plan(1, 136, 236).tile == 128
    assert (whole - tiled).abs().max() < 1e-5


def _config(tmp_path, photo_dir, style_dir, **kw) -> T.ArbitraryConfig:
    kw = {"holdout": ("held",), "size": 32, "style_side": 96, "batch_size": 2, "width": 8, "checkpoint_every": 1, **kw}
    return T.ArbitraryConfig(content_dir=str(photo_dir), style_dir=str(style_dir), out=str(tmp_path / "out" / "adain"),
                             **kw)


def _decoder_state(out) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint_path(out), weights_only=True)["model"]


def test_training_resumes_exactly_and_saves_fp16_weights_with_sidecar(one_thread, tmp_path, photo_dir, style_dir):
    enc = A.Encoder.random(0)
    cfg = _config(tmp_path, photo_dir, style_dir, steps=2)
    weights = T.train_arbitrary(cfg, quiet=True, encoder=enc)
    straight = _decoder_state(cfg.out)

    cfg2 = _config(tmp_path / "b", photo_dir, style_dir, steps=1)
    T.train_arbitrary(cfg2, quiet=True, encoder=enc)
    with pytest.raises(InputError, match="--resume"):
        T.train_arbitrary(cfg2, quiet=True, encoder=enc)  # a fresh run never overwrites a checkpoint
    cfg2 = dataclasses.replace(cfg2, steps=2)
    T.train_arbitrary(cfg2, resume=True, quiet=True, encoder=enc)
    resumed = _decoder_state(cfg2.out)
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)

    with safe_open(str(weights), framework="pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.float16}
    dec, meta = A.load_decoder(weights)
    assert dec.width == 8
    for k, v in dec.state_dict().items():
        assert torch.equal(v, straight["decoder." + k].half().float())
    tr = meta["training"]
    assert (tr["size"], tr["batch_size"], tr["width"], tr["steps_done"], tr["holdout"]) == (32, 2, 8, 2, ["held"])
    assert set(tr["weights"]) == {"content", "style", "recon", "recon_pixel"}
    assert meta["data"]["styles"]["held_out"] == ["held"]
    assert meta["data"]["styles"]["training"] == ["alpha", "beta"]
    assert (tmp_path / "out" / "adain_preview.jpg").is_file()

    # --init: a new run (other settings, fresh optimizer) starting from the saved weights.
    started = T.train_arbitrary(_config(tmp_path / "c", photo_dir, style_dir, steps=0, init=str(weights)), quiet=True, encoder=enc)
    assert all(torch.equal(a, b) for a, b in zip(A.load_decoder(started)[0].state_dict().values(), dec.state_dict().values()))
    with pytest.raises(InputError, match="width-8"):
        wide = _config(tmp_path / "d", photo_dir, style_dir, steps=1, init=str(weights), width=16)
        T.train_arbitrary(wide, quiet=True, encoder=enc)

    cfg3 = _config(tmp_path / "b", photo_dir, style_dir, steps=3, size=48)
    with pytest.raises(InputError, match="same --size"):
        T.train_arbitrary(cfg3, resume=True, quiet=True, encoder=enc)


def test_sidecar_takes_sources_from_the_data_readme(tmp_path, style_dir):
    (style_dir.parent / "README.md").write_text(
        "| file | work | licence as stated | what was done |\n| --- | --- | --- | --- |\n"
        "| `alpha.png` | A painting | public domain | resized |\n"
    )
    rows = T.data_sources(style_dir, sorted(style_dir.glob("*.png")))
    assert rows == {"alpha.png": {"work": "A painting", "licence as stated": "public domain"}}


def test_cli_trains_and_reports_bad_options(one_thread, tmp_path, photo_dir, style_dir, monkeypatch):
    from vidstyle.cli import main

    monkeypatch.setattr(T, "load_encoder", lambda: A.Encoder.random(0))
    out = tmp_path / "w" / "adain"
    args = ["train-arbitrary", "--content-dir", str(photo_dir), "--style-dir", str(style_dir), "--out", str(out),
            "--holdout", "held", "--size", "32", "--batch-size", "1", "--width", "8", "--steps", "1", "--quiet"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert json.loads(out.with_suffix(".json").read_text())["training"]["steps_done"] == 1
    for extra, words in ((["--size", "30"], "multiple of 4"), (["--time-limit", "0"], "--time-limit"),
                         (["--holdout", "alpha,beta,held"], "no training paintings")):
        r = CliRunner().invoke(main, args + extra)
        assert r.exit_code != 0
        assert r.output.strip().startswith("error:") and words in r.output, r.output
        assert len(r.output.strip().splitlines()) == 1
