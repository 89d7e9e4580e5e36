import pytest
import torch
from torchvision.models._api import WeightsEnum
from torchvision.models.optical_flow import raft_small

from vidstyle.errors import InputError, VidstyleError
from vidstyle.flow import get_flow
from vidstyle.flow.raft import RaftFlow, load_raft, load_raft_state


@pytest.fixture(autouse=True)
def _single_thread(one_thread):
    """Small torch ops are far faster single-threaded on the shared test CPU."""


@pytest.fixture(scope="module")
def small_weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("raft") / "raft_small_random.pth"
    torch.save(raft_small(weights=None).state_dict(), path)
    return path


def test_raft_local_weights_odd_size(small_weights):
    est = RaftFlow("small", weights=small_weights, device="cpu", num_flow_updates=2)
    assert est.name == "raft-small"
    a, b = torch.rand(1, 3, 67, 93), torch.rand(1, 3, 67, 93)
    flow = est(a, b)
    assert flow.shape == (1, 2, 67, 93) and flow.dtype == torch.float32
    assert torch.isfinite(flow).all()


def test_raft_loader_weights_only_and_wrappers(small_weights, tmp_path):
    state = load_raft_state(small_weights)
    wrapped = tmp_path / "wrapped.pt"
    torch.save({"state_dict": {"module." + k: v for k, v in state.items()}}, wrapped)
    net = load_raft("small", wrapped)
    assert sum(p.numel() for p in net.parameters()) > 0 and not net.training
    # a pickled non-tensor object is refused by weights_only loading
    evil = tmp_path / "evil.pt"
    torch.save({"x": object()}, evil)
    with pytest.raises(InputError):
        load_raft_state(evil)
    with pytest.raises(InputError, match="do not match"):
        load_raft("large", small_weights)
    with pytest.raises(InputError, match="not found"):
        load_raft("small", tmp_path / "missing.pth")


def test_raft_weights_unavailable_message(monkeypatch):
    def offline(self, *a, **k):
        raise OSError("no network")

    monkeypatch.setattr(WeightsEnum, "get_state_dict", offline)
    with pytest.raises(VidstyleError, match=r"RAFT weights unavailable .*--raft-weights FILE or use --flow dis"):
        load_raft("small")
    with pytest.raises(VidstyleError):
        get_flow("raft", device="cpu")
    # auto never fails: it falls back to DIS (on CPU it does not even try RAFT)
    est, msg = get_flow("auto", device="cpu")
    assert est.name.startswith("dis")
    est, msg = get_flow("auto", device="cuda")  # weights fail before any CUDA use
    assert est.name.startswith("dis") and "RAFT weights unavailable" in msg and "\n" not in msg


def test_get_flow_raft_with_file(small_weights):
    est, msg = get_flow("raft", device="cpu", raft_weights=small_weights)
    assert est.name == "raft-small" and "RAFT" in msg
    with pytest.raises(InputError):
        get_flow("farneback")
