"""data_format: where the channel axis is.  "NCHW" (the default, PyTorch's) keeps each feature map
a contiguous plane; "NHWC" (channels-last, TensorFlow's and every image library's) keeps the
channels of one pixel together, as an (H, W, 3) RGB image from Pillow or imageio has them.

Every operation works on NCHW-ordered *views*: an NHWC array is viewed through its axes as
(N, C, H, W) without a copy, and the C core reads it, and writes NHWC outputs, through the views'
strides (its channels-last kernels run when the channel stride is 1).
"""

from __future__ import annotations

import numpy as np

DATA_FORMATS = ("NCHW", "NHWC")


def resolve_data_format(data_format) -> bool:
    """True for channels-last ("NHWC"), False for "NCHW"; anything else is refused."""
    if isinstance(data_format, str):
        if data_format == "NCHW":
            return False
        if data_format == "NHWC":
            return True
    raise ValueError(f"data_format must be 'NCHW' or 'NHWC', got {data_format!r}")


def nchw_shape(shape, channels_last: bool) -> tuple:
    """An array shape ((N,) H, W, C) in the NCHW order ((N,) C, H, W) (unchanged for NCHW)."""
    shape = tuple(shape)
    if not channels_last or len(shape) not in (3, 4):
        return shape
    return shape[:-3] + (shape[-1],) + shape[-3:-1]


def layout_shape(shape, channels_last: bool) -> tuple:
    """An NCHW-ordered shape ((N,) C, H, W) in the caller's layout ((N,) H, W, C for NHWC)."""
    shape = tuple(shape)
    if not channels_last or len(shape) not in (3, 4):
        return shape
    return shape[:-3] + shape[-2:] + (shape[-3],)


# The axis orders of those views (ndarray.transpose: a fraction of np.moveaxis's cost, which
# matters in calls of a few microseconds).
_TO_NCHW = {3: (2, 0, 1), 4: (0, 3, 1, 2)}
_FROM_NCHW = {3: (1, 2, 0), 4: (0, 2, 3, 1)}


def as_nchw(a: np.ndarray, channels_last: bool) -> np.ndarray:
    """The NCHW-ordered view of an array in the caller's layout (no copy)."""
    if not channels_last or a.ndim not in (3, 4):
        return a
    return a.transpose(_TO_NCHW[a.ndim])


def from_nchw(a: np.ndarray, channels_last: bool) -> np.ndarray:
    """The caller's-layout view of an NCHW-ordered array (no copy)."""
    if not channels_last or a.ndim not in (3, 4):
        return a
    return a.transpose(_FROM_NCHW[a.ndim])


def empty_result(nchw_result_shape, dtype, channels_last: bool) -> np.ndarray:
    """A new C-contiguous result in the caller's layout, returned as its NCHW-ordered view."""
    return as_nchw(np.empty(layout_shape(nchw_result_shape, channels_last), dtype), channels_last)
