import cv2
import numpy as np
import pytest
import torch

from vidstyle.flow import DISFlow, backward_warp, get_flow


def textured(h, w, seed=0):
    rng = np.random.default_rng(seed)
    img = rng.random((h // 4 + 4, w // 4 + 4, 3)).astype(np.float32)
    img = cv2.resize(img, (w + 16, h + 16), interpolation=cv2.INTER_CUBIC)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    return np.clip(img, 0, 1)


def shifted_pair(h, w, dx, dy, seed=0):
    """img1 and img2 = img1 moved by (dx, dy) (subpixel, via an affine warp)."""
    big = textured(h, w, seed)
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    big2 = cv2.warpAffine(big, m, (big.shape[1], big.shape[0]), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a[8 : 8 + h, 8 : 8 + w])).permute(2, 0, 1)[None]
    return t(big), t(big2)


@pytest.mark.parametrize("max_side, gd_iterations, patch_stride", [(None, None, None), (96, None, None), (None, 8, None),
                                                                   (None, 8, 4)])
def test_dis_recovers_shift(max_side, gd_iterations, patch_stride):
    h, w = 120, 160
    pairs = [shifted_pair(h, w, 2.6, -1.3, seed=1), shifted_pair(h, w, -4.0, 3.5, seed=2)]
    img1 = torch.cat([p[0] for p in pairs])
    img2 = torch.cat([p[1] for p in pairs])
    est = DISFlow("medium", max_side=max_side, gd_iterations=gd_iterations, patch_stride=patch_stride)
    assert est.gd_iterations == (gd_iterations or 25) and est.patch_stride == (patch_stride or 3)
    flow = est(img1, img2)
    assert flow.shape == (2, 2, h, w) and flow.dtype == torch.float32
    m = 16
    for i, (dx, dy) in enumerate([(2.6, -1.3), (-4.0, 3.5)]):
        gt = torch.tensor([dx, dy]).view(2, 1, 1)
        epe = (flow[i] - gt).norm(dim=0)[m:-m, m:-m].mean().item()
        assert epe < 0.5, (i, epe)
    # convention: warping img2 with flow(1->2) gives img1 back
    err = (backward_warp(img2, flow) - img1)[..., m:-m, m:-m].abs().mean()
    assert err < 0.02


def test_dis_flow_does_not_depend_on_earlier_small_images():
    """OpenCV's DIS lowers its finest scale for an image too small for it and keeps it lowered;
    the estimator restores it, so a flow is the same before and after a tiny pair."""
    a, b = shifted_pair(120, 160, 2.6, -1.3, seed=3)
    est = DISFlow("medium")
    before = est(a, b)
    est(a[..., :40, :40].contiguous(), b[..., :40, :40].contiguous())
    after = est(a, b)
    assert torch.equal(before, after)
    assert torch.equal(after, DISFlow("medium")(a, b))


def test_dis_work_size_and_name():
    est = DISFlow("fast", max_side=320)
    assert est.work_size(360, 640) == (180, 320)
    assert est.work_size(200, 300) == (200, 300)
    assert est.name.startswith("dis")
    with pytest.raises(ValueError):
        DISFlow("slowest")
    with pytest.raises(ValueError, match="stride"):
        DISFlow("medium", patch_stride=9)  # wider than medium's 8-pixel patch: gaps between patches


def test_get_flow_auto_on_cpu_is_dis():
    est, msg = get_flow("auto", device="cpu")
    assert isinstance(est, DISFlow)
    assert "DIS" in msg and "CUDA" in msg and "\n" not in msg


def test_consistency_flow_is_cheaper_than_evals():
    """``stylize``/``live`` give the consistency step DIS with DIS_GD_ITERATIONS and
    DIS_PATCH_STRIDE (cheaper, nearly the same E_warp in the benchmark); ``vidstyle eval`` keeps
    the preset's 25 iterations and stride 3."""
    from vidstyle.cli.common import build_consistency
    from vidstyle.consistency.temporal import DIS_GD_ITERATIONS, DIS_PATCH_STRIDE

    cons, msg = build_consistency("default", "dis", torch.device("cpu"), None)
    assert cons.flow.gd_iterations == DIS_GD_ITERATIONS == 8 and "8 iterations" in msg
    assert cons.flow.patch_stride == DIS_PATCH_STRIDE == 4 and "patch stride 4" in msg
    assert (get_flow("dis")[0].gd_iterations, get_flow("dis")[0].patch_stride) == (25, 3)
    a, b = shifted_pair(120, 160, 2.6, -1.3, seed=4)
    diff = (cons.flow(a, b) - get_flow("dis")[0](a, b))[..., 16:-16, 16:-16].norm(dim=1).mean()
    assert float(diff) < 0.1  # the two agree to a tenth of a pixel on a plain shift
