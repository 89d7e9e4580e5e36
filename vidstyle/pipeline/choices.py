"""The names the ``--backend`` and ``--precision`` options take (no imports, so the CLI lists them
without loading any engine)."""

BACKENDS = ("auto", "torch", "onnx", "openvino")
"""Inference engines: auto, PyTorch, ONNX Runtime, OpenVINO (see :mod:`vidstyle.pipeline.backends`)."""

ENGINE_PRECISIONS = ("fp32", "int8")
"""What an engine runs a net in (see :mod:`vidstyle.pipeline.exported_stylizer`)."""

PRECISIONS = ("auto", *ENGINE_PRECISIONS)
"""What ``--precision`` takes: an engine precision, or ``auto``: the one the running style's
sidecar names for CPU engines (``"cpu_precision"``), else fp32 (settled by
:func:`vidstyle.api.frames.settle_precision`)."""
