"""vidstyle.flow: optical flow (OpenCV DIS, torchvision RAFT), warping and occlusion masks.

Flow convention: ``[B, 2, H, W]`` float32 pixels (x, y), backward-warping sense:
``flow(img1→img2)`` satisfies ``img1(p) ≈ img2(p + flow(p))``, i.e.
``backward_warp(img2, flow_1to2) ≈ img1``.
"""

from .dis import DISFlow
from .occlusion import fb_consistency_mask, motion_boundary_mask, occlusion_mask
from .select import FLOW_KINDS, get_flow
from .warp import backward_warp, inside_mask, resize_flow

__all__ = [
    "DISFlow",
    "FLOW_KINDS",
    "backward_warp",
    "fb_consistency_mask",
    "get_flow",
    "inside_mask",
    "motion_boundary_mask",
    "occlusion_mask",
    "resize_flow",
]
