"""The cheaper per-frame code of temporal consistency and of the frame conversion computes what the
formulas it replaced computed: old formula against new on small random inputs."""

import numpy as np
import pytest
import torch

from vidstyle.flow.warp import backward_warp
from vidstyle.ops.tensors import quantize_into, tensor_to_image
from vidstyle.pipeline.color import FrameCodec


def old_quantize(t: torch.Tensor, scale: float, dtype) -> np.ndarray:
    """The conversion ``FrameCodec.to_image`` made before rounding planar."""
    return (t[0].permute(1, 2, 0).clamp(0.0, 1.0) * scale + 0.5).to(torch.int32).numpy().astype(dtype)


def frame_values(h: int = 13, w: int = 21, seed: int = 0) -> torch.Tensor:
    """``[1, 3, h, w]`` values around and outside [0, 1], with exact half steps among them."""
    g = torch.Generator().manual_seed(seed)
    t = torch.rand(1, 3, h, w, generator=g) * 1.4 - 0.2
    t[0, 0, 0, :6] = torch.tensor([0.5 / 255, 1.5 / 255, 0.0, 1.0, 254.5 / 255, float("inf")])
    return t


@pytest.mark.parametrize("dtype, scale", [(np.uint8, 255.0), (np.uint16, 65535.0)])
@pytest.mark.parametrize("channels", [3, 4])
def test_planar_rounding_equals_the_old_conversion(dtype, scale, channels):
    t = frame_values()
    like = np.full((13, 21, channels), 7, dtype)
    ref = old_quantize(t, scale, dtype)
    for out in (FrameCodec().to_image(t, like), tensor_to_image(t, like)):
        assert out.dtype == dtype and out.shape == like.shape
        assert np.array_equal(out[..., :3], ref)
        if channels == 4:
            assert (out[..., 3] == 7).all()


def test_quantize_into_writes_a_view_of_a_larger_frame():
    t = frame_values(seed=1)
    dst = np.zeros((13, 21, 4), np.uint8)
    quantize_into(dst[..., :3], t[0], 255.0)
    assert np.array_equal(dst[..., :3], old_quantize(t, 255.0, np.uint8)) and (dst[..., 3] == 0).all()


@pytest.mark.parametrize("approx", [True, False])
def test_warping_two_images_together_equals_warping_each(approx):
    g = torch.Generator().manual_seed(2)
    a, b = torch.rand(1, 3, 12, 17, generator=g), torch.rand(1, 3, 12, 17, generator=g)
    flow = torch.randn(1, 2, 12, 17, generator=g) * 2
    both = backward_warp(torch.cat((a, b), 1), flow, approx=approx)
    assert torch.equal(both[:, :3], backward_warp(a, flow, approx=approx))
    assert torch.equal(both[:, 3:], backward_warp(b, flow, approx=approx))


def test_dis_flow_is_the_same_when_it_remembers_a_frames_grayscale():
    from vidstyle.flow.dis import DISFlow

    g = torch.Generator().manual_seed(3)
    frames = [torch.nn.functional.interpolate(torch.rand(1, 3, 8, 12, generator=g), size=(48, 72), mode="bicubic")
              .clamp(0, 1) for _ in range(4)]
    streaming = DISFlow(max_side=40)
    for prev, cur in zip(frames, frames[1:]):  # each frame passed again, as the older of the next pair
        fresh = DISFlow(max_side=40)
        assert torch.equal(streaming(cur, prev), fresh(cur, prev))
        assert torch.equal(streaming(prev, cur), fresh(prev, cur))


def test_keep_freed_memory_takes_on_glibc_and_is_idempotent():
    import platform

    from vidstyle.ops.allocator import keep_freed_memory

    first = keep_freed_memory()
    assert keep_freed_memory() == first
    assert first == (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")


def old_grid_warp(img: torch.Tensor, flow: torch.Tensor, padding: str, mode: str) -> torch.Tensor:
    """``backward_warp``'s torch path as it built its sampling grid before (planar, then stacked)."""
    from vidstyle.flow.warp import pixel_grid

    h, w = img.shape[-2:]
    pos = pixel_grid(h, w, flow.device, flow.dtype) + flow
    grid = torch.stack((pos[:, 0] * (2.0 / max(w - 1, 1)) - 1.0, pos[:, 1] * (2.0 / max(h - 1, 1)) - 1.0), dim=-1)
    return torch.nn.functional.grid_sample(img, grid, mode=mode, padding_mode=padding, align_corners=True)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
@pytest.mark.parametrize("padding", ["border", "zeros"])
def test_channels_last_grid_samples_the_same_points(mode, padding):
    g = torch.Generator().manual_seed(4)
    img, flow = torch.rand(2, 3, 11, 19, generator=g), torch.randn(2, 2, 11, 19, generator=g) * 3
    new = backward_warp(img, flow, padding=padding, mode=mode)
    assert torch.equal(new, old_grid_warp(img, flow, padding, mode))
