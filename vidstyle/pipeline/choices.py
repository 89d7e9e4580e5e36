"""The names the ``--backend`` and ``--precision`` options take (no imports, so the CLI lists them
without loading any engine)."""

BACKENDS = ("auto", "torch", "onnx", "openvino")
"""Inference engines: auto, PyTorch, ONNX Runtime, OpenVINO (see :mod:`vidstyle.pipeline.backends`)."""

PRECISIONS = ("fp32", "int8")
"""Arithmetic of an exported net (see :mod:`vidstyle.pipeline.exported_stylizer`)."""
