"""vidstyle.metrics: temporal warping error (Lai et al. 2018) and sharpness."""

from .warping_error import WarpingErrorMeter, pair_warping_error, sharpness, warping_error

__all__ = ["WarpingErrorMeter", "pair_warping_error", "sharpness", "warping_error"]
