"""The switching stylizer live mode runs on: style selection, consistency reset on a new style,
net scale, controls; styles loaded through the API's loader with live's names and options."""

from __future__ import annotations

import pytest
import torch

from vidstyle.api.config import Runtime
from vidstyle.api.switching import StyleBank, SwitchingStylizer, load_style_engine
from vidstyle.errors import InputError, VidstyleError
from vidstyle.models.styles import save_style
from vidstyle.models.transformer import TransformerNet
from vidstyle.pipeline.controls import StyleControls

TINY = {"channels": [4, 8, 8], "blocks": 1}


class Const:
    def __init__(self, value: float) -> None:
        self.value, self.sizes = value, []

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.sizes.append(tuple(x.shape[-2:]))
        return torch.full_like(x, self.value)


class Counting:
    def __init__(self) -> None:
        self.resets = self.steps = 0

    def reset(self) -> None:
        self.resets += 1

    def step(self, content: torch.Tensor, stylized: torch.Tensor) -> torch.Tensor:
        self.steps += 1
        return stylized


def bank(**nets) -> StyleBank:
    return StyleBank(list(nets), loader=lambda spec, device: (nets[spec], spec))


def test_switching_resets_consistency_and_keeps_a_failed_style_out():
    cons = Counting()
    nets = {"a": Const(0.0), "b": Const(1.0)}
    st = SwitchingStylizer(bank(**nets), make_consistency=lambda: cons)
    x = torch.full((1, 3, 8, 8), 0.5)
    assert st.select(0) == "a" and st.load_consistency() is cons
    for _ in range(2):
        y, used = st.step(x, consistency=True)
        assert used and float(y.max()) == 0.0
    assert cons.resets == 1  # switched on
    st.select(1)
    y, _ = st.step(x, consistency=True)
    assert float(y.min()) == 1.0 and cons.resets == 2  # a new style starts over
    st.step(x, consistency=False)
    st.step(x, consistency=True)
    assert cons.resets == 3 and cons.steps == 4  # switched on again

    def loader(spec, device):
        if spec == "broken":
            raise VidstyleError("cannot read broken")
        return Const(1.0), spec

    st = SwitchingStylizer(StyleBank(["good", "broken"], loader=loader))
    st.select(0)
    with pytest.raises(VidstyleError, match="broken"):
        st.select(1)
    assert st.style_index == 0


def test_net_scale_and_controls_follow_the_frame():
    net = Const(1.0)
    st = SwitchingStylizer(bank(a=net), controls=StyleControls(), net_scale=0.5)
    st.select(0)
    x = torch.zeros(1, 3, 16, 24)
    y, used = st.step(x, strength=0.5)
    assert net.sizes == [(8, 12)] and tuple(y.shape) == (1, 3, 16, 24) and not used
    assert torch.allclose(y, torch.full_like(y, 0.5), atol=0.02)
    with pytest.raises(InputError, match="net-scale"):
        SwitchingStylizer(bank(a=net), net_scale=2)


def test_styles_load_through_the_api_with_live_names(tmp_path):
    paths = []
    for i, name in enumerate(("tiny_a", "tiny_b")):
        torch.manual_seed(i)
        paths.append(str(save_style(TransformerNet(TINY), tmp_path / name, {})))
    torch_only = Runtime(backend="torch")
    engine, name = load_style_engine(paths[0], torch.device("cpu"), torch_only)
    assert name == "tiny_a" and tuple(engine(torch.rand(1, 3, 16, 16)).shape) == (1, 3, 16, 16)
    assert load_style_engine(f"{paths[0]}:0.7,{paths[1]}:0.3", torch.device("cpu"), torch_only)[1] == "tiny_a+tiny_b"
    with pytest.raises(VidstyleError, match="precision int8"):
        load_style_engine(paths[0], torch.device("cpu"), Runtime(backend="torch", precision="int8"))


def test_live_options_become_the_api_sections():
    from vidstyle.live.session import LiveConfig, live_sections

    controls, runtime = live_sections(LiveConfig(strength=0.5, preserve_colors=True, backend="torch", threads=2))
    assert (controls.strength, controls.preserve_colors) == (0.5, True)
    assert (runtime.backend, runtime.threads, runtime.precision) == ("torch", 2, "fp32")
    with pytest.raises(InputError, match="^--strength: strength must be within 0..1"):
        live_sections(LiveConfig(strength=2.0))
    with pytest.raises(InputError, match="^--mask-feather"):
        live_sections(LiveConfig(mask_feather=-1.0))
