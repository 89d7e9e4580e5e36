"""vidstyle.ops: tensor operations shared by several layers (the lowest layer, beside errors).

* :mod:`~vidstyle.ops.allocator` — malloc thresholds that let each frame reuse the last one's pages;
* :mod:`~vidstyle.ops.color` — BT.709 Y'PbPr and sRGB transfer curves;
* :mod:`~vidstyle.ops.blend` — contrast-preserving blends (strength, style mixes);
* :mod:`~vidstyle.ops.matte` — Gaussian feathering of mattes;
* :mod:`~vidstyle.ops.resample` — OpenCV fast paths for resizing, warping and pooling;
* :mod:`~vidstyle.ops.tensors` — frames (numpy) ↔ ``[B,3,H,W]`` tensors, stride padding, rounding.

Nothing here imports another vidstyle package (``errors`` aside), so ``models``, ``flow``,
``pipeline`` and ``consistency`` can all use it. Submodules are imported on use: this package
imports nothing itself.
"""
