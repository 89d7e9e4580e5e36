"""One parser per option concept (frame sizes, consistency, style lists and mixes), the atomic
file helper and the cache folder."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from vidstyle.cli.options import parse_consistency, parse_frame_size, parse_net_scale, split_style_specs
from vidstyle.consistency.params import parse_consistency as consistency_grammar
from vidstyle.errors import InputError
from vidstyle.io.atomic import atomic_path, write_bytes_atomic
from vidstyle.io.cache import cache_dir
from vidstyle.models.mixing import is_mix, mix_label, parse_style_spec


@pytest.mark.parametrize("text", ["640x360", "640X360", "640×360", " 640 : 360 ", "640 x 360"])
def test_frame_sizes_are_width_then_height(text):
    assert parse_frame_size(text) == (640, 360)


def test_frame_size_limits():
    assert parse_frame_size(None) is None and parse_frame_size("  ") is None
    assert parse_frame_size("480", allow_width=True) == 480
    assert parse_frame_size("64x32", option="--static-size", multiple=4, min_side=4) == (64, 32)
    for bad, kwargs, needle in [("480", {}, "WIDTHxHEIGHT"), ("big", {"allow_width": True}, "640x360 or 640"),
                                ("8x8", {}, "16..8192"), ("66x32", {"multiple": 4}, "multiples of 4"),
                                ("640x360x2", {}, "WIDTHxHEIGHT")]:
        with pytest.raises(InputError, match=needle):
            parse_frame_size(bad, **kwargs)
    with pytest.raises(InputError, match="--static-size"):
        parse_frame_size("1x1", option="--static-size")


def test_net_scale():
    assert parse_net_scale("auto") is None and parse_net_scale(" AUTO ") is None and parse_net_scale("5e-1") == 0.5
    for bad in ("0.01", "2", "x"):
        with pytest.raises(InputError, match="--net-scale"):
            parse_net_scale(bad)


@pytest.mark.parametrize("text, value", [
    ("off", "off"), ("0", "off"), ("0.00", "off"), ("0e0", "off"), (0.0, "off"), (None, "off"),
    ("Default", "default"), (" light ", "light"), ("fine", "fine"),
    (".5", 0.5), ("1e-1", 0.1), ("1", 1.0), (0.25, 0.25),
])
def test_consistency_has_one_grammar(text, value):
    assert parse_consistency(text) == value == consistency_grammar(text)


@pytest.mark.parametrize("bad", ["silky", "1.5", "-0.1", "nan", ""])
def test_consistency_errors(bad):
    with pytest.raises(InputError, match="--consistency"):
        parse_consistency(bad)


def test_live_consistency_zero_spellings_take_one_path():
    """``--consistency 0`` and ``0.00`` both start with consistency off and switch to the default
    preset (key c)."""
    import torch

    from vidstyle.live.session import LiveConfig, _consistency_factory

    made = []
    for text in ("0", "0.00", "off"):
        notes: list[str] = []
        cons = _consistency_factory(LiveConfig(consistency=parse_consistency(text), flow_kind="dis"),
                                    torch.device("cpu"), notes)()
        made.append((notes[0].split(",")[0], cons.params))
    assert made[0] == made[1] == made[2] and made[0][0] == "consistency default"


def test_style_mixes_take_any_float_syntax():
    assert parse_style_spec("a:1e-1,b:.9") == [("a", pytest.approx(0.1)), ("b", pytest.approx(0.9))]
    assert is_mix("a:1e-1,b:9E-1") and is_mix("a:.5") and not is_mix("a,b") and not is_mix(r"C:\s\x.safetensors")
    assert mix_label("dir/a.safetensors:0.7,b:3e-1") == "a+b"
    assert split_style_specs(["a:1e-1,b:9e-1", "c.safetensors,d.safetensors"]) == (
        ["a:1e-1,b:9e-1", "c.safetensors", "d.safetensors"], True)
    with pytest.raises(InputError, match="bad weight"):
        split_style_specs(["a:x,b:0.5"])


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path):
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(dest) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert dest.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.bin"]
    write_bytes_atomic(dest, b"new")
    assert dest.read_bytes() == b"new" and os.listdir(tmp_path) == ["out.bin"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o666 & ~umask
    write_bytes_atomic(tmp_path / "sub" / "x.onnx", b"1", mkdir=True)
    assert (tmp_path / "sub" / "x.onnx").read_bytes() == b"1"


def test_atomic_writers_of_one_file_never_share_a_temporary(tmp_path):
    dest = tmp_path / "cache.onnx"
    names, barrier = [], threading.Barrier(4)

    def write(i: int) -> None:
        with atomic_path(dest) as tmp:
            names.append(tmp.name)
            barrier.wait(5)
            tmp.write_bytes(bytes([i]) * 1000)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(names)) == 4 and all(n.endswith(".partial.onnx") for n in names)
    data = dest.read_bytes()
    assert len(data) == 1000 and len(set(data)) == 1 and os.listdir(tmp_path) == ["cache.onnx"]


def test_cache_folder_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("VIDSTYLE_CACHE", str(tmp_path / "v"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "v" and cache_dir("onnx") == tmp_path / "v" / "onnx"
    monkeypatch.delenv("VIDSTYLE_CACHE")
    assert cache_dir("onnx") == tmp_path / "x" / "vidstyle" / "onnx"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert cache_dir() == tmp_path / "h" / ".cache" / "vidstyle"


def test_export_static_size_is_width_by_height(tmp_path):
    import onnx
    import torch
    from click.testing import CliRunner

    from vidstyle.cli import main
    from vidstyle.models.styles import save_style
    from vidstyle.models.transformer import TransformerNet

    torch.manual_seed(0)
    style = save_style(TransformerNet({"channels": [4, 8, 8], "blocks": 1}), tmp_path / "tiny", {})
    out = tmp_path / "tiny.onnx"
    r = CliRunner().invoke(main, ["export", str(style), "--onnx", str(out), "--static-size", "64x32", "--quiet"])
    assert r.exit_code == 0, r.output
    dims = [d.dim_value for d in onnx.load(str(out)).graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 3, 32, 64]  # [B, C, H, W]
    r = CliRunner().invoke(main, ["export", str(style), "--onnx", str(out), "--static-size", "66x32", "--overwrite"])
    assert r.exit_code == 2 and r.output.startswith("error: --static-size 66x32") and "multiples of 4" in r.output


def test_live_loads_only_the_named_styles_unless_cycle_all():
    from vidstyle.models.styles import list_styles

    installed = [s.name for s in list_styles()]
    assert split_style_specs(["great_wave"]) == (["great_wave"], True)
    assert split_style_specs(None) == (["starry_night"], False)
    everything, named = split_style_specs(["great_wave", "a:0.5,b:0.5"], cycle_all=True)
    assert named and everything[:2] == ["great_wave", "a:0.5,b:0.5"]
    assert sorted(everything[2:]) == sorted(n for n in installed if n != "great_wave")
    assert split_style_specs(None, cycle_all=True) == (installed, False)


def test_live_help_explains_styles_and_consistency_default():
    from click.testing import CliRunner

    from vidstyle.cli import main

    text = " ".join(CliRunner().invoke(main, ["live", "--help"], terminal_width=200).output.split())
    assert "--cycle-all" in text and "Only these styles load" in text
    assert "Off by default, unlike stylize" in text and "latency" in text
