"""vidstyle: video style transfer with temporal consistency."""

__version__ = "0.1.0"
