"""Border modes: what a convolution sees outside the image, and cconv.pad, which materialises it.

The modes are PyTorch's names plus "symmetric" (NumPy's and SciPy's name for the one that repeats the
edge pixel).  conv2d computes them in the C core's edge handling (the input is never padded into a
copy); cconv.pad is the same rule applied to build the padded array itself, through numpy.pad.
"""

from __future__ import annotations

import math

import numpy as np

from ._args import as_int
from ._layout import resolve_data_format

# The C core's cconv_padding_mode numbers (src_c/include/cconv.h).
PADDING_MODES = {"zeros": 0, "reflect": 1, "replicate": 2, "circular": 3, "symmetric": 4}
# numpy.pad's name of each mode.
_NUMPY_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge",
                "circular": "wrap", "symmetric": "symmetric"}


def resolve_padding_mode(padding_mode, padding_value) -> tuple[int, float]:
    """(C mode number, constant value) of conv2d's padding_mode= and padding_value=."""
    if not isinstance(padding_mode, str) or padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, "
                         f"got {padding_mode!r}")
    value = _constant(padding_value, "padding_value")
    if value != 0 and padding_mode != "zeros":
        raise ValueError(f"padding_value={padding_value!r} is the constant of a constant border: "
                         f"it needs padding_mode='zeros', got padding_mode={padding_mode!r}")
    return PADDING_MODES[padding_mode], value


def _constant(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    return value


def pad(input, pad, mode="constant", value=0.0, *, data_format="NCHW"):
    """Pads the two spatial axes of feature maps, as ``torch.nn.functional.pad`` does on 4-D input.

    Parameters
    ----------
    input : array_like
        (N, C, H, W), (C, H, W) or (H, W); with ``data_format="NHWC"``, (N, H, W, C) or
        (H, W, C). Any dtype NumPy can pad; the result keeps it.
    pad : sequence of 2 or 4 ints
        ``(left, right)`` or ``(left, right, top, bottom)``: PyTorch's order, the last axis
        first. A negative amount crops that side (before the padding is computed).
    mode : {"constant", "zeros", "reflect", "replicate", "circular", "symmetric"}
        "constant" (or "zeros") fills with `value`. "reflect" mirrors about the edge pixel
        without repeating it (dcb|abcd|cba: OpenCV's BORDER_REFLECT_101, NumPy's "reflect");
        "symmetric" repeats it (cba|abcd|dcb: OpenCV's BORDER_REFLECT, SciPy's "reflect");
        "replicate" repeats the edge pixel (aaa|abcd|ddd); "circular" wraps around
        (bcd|abcd|abc). Padding wider than the image continues the same pattern, as in
        numpy.pad (PyTorch refuses it for reflect and circular).
    value : float, default 0.0
        The constant of mode "constant".
    data_format : {"NCHW", "NHWC"}, default "NCHW"
        Where the channel axis of a 3-D or 4-D input is.

    Returns
    -------
    numpy.ndarray
        A new C-contiguous array with the spatial axes padded.

    Raises
    ------
    ValueError
        An unknown mode, a pad of the wrong length, a value with a non-constant mode, a crop
        larger than the image, or a border mode other than constant on an empty axis.
    TypeError
        A pad amount that is not an int, or a value that is not a real number.

    Examples
    --------
    >>> import numpy as np, cconv
    >>> row = np.array([[[[1, 2, 3, 4]]]])
    >>> cconv.pad(row, (2, 2), mode="reflect")[0, 0, 0]
    array([3, 2, 1, 2, 3, 4, 3, 2])
    >>> cconv.pad(row, (2, 2), mode="symmetric")[0, 0, 0]
    array([2, 1, 1, 2, 3, 4, 4, 3])
    >>> cconv.pad(np.ones((2, 2, 3)), (1, 1, 1, 1), data_format="NHWC").shape
    (4, 4, 3)
    """
    channels_last = resolve_data_format(data_format)
    x = np.asarray(input)
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"input must be 2-D, 3-D or 4-D, got {x.ndim}-D with shape {x.shape}")
    if isinstance(mode, str) and mode == "constant":
        mode = "zeros"
    if not isinstance(mode, str) or mode not in PADDING_MODES:
        raise ValueError(f"mode must be one of 'constant', {', '.join(map(repr, PADDING_MODES))}, "
                         f"got {mode!r}")
    fill = _constant(value, "value")
    if fill != 0 and mode != "zeros":
        raise ValueError(f"value={value!r} is the constant of mode 'constant', got mode={mode!r}")
    if isinstance(pad, (str, bytes)) or not hasattr(pad, "__len__"):
        raise TypeError(f"pad must be a sequence of 2 or 4 ints, got {type(pad).__name__}")
    if len(pad) not in (2, 4):
        raise ValueError(f"pad must be (left, right) or (left, right, top, bottom), got "
                         f"{len(pad)} values: {tuple(pad)!r}")
    amounts = [as_int(p, f"pad[{i}]", -2**62) for i, p in enumerate(pad)] + [0, 0]
    h_axis, w_axis = (x.ndim - 3, x.ndim - 2) if channels_last and x.ndim >= 3 else (
        x.ndim - 2, x.ndim - 1)
    crop = [slice(None)] * x.ndim
    widths = [(0, 0)] * x.ndim
    for axis, (before, after), name in ((w_axis, amounts[0:2], "width"),
                                        (h_axis, amounts[2:4], "height")):
        size = x.shape[axis]
        cut_before, cut_after = max(-before, 0), max(-after, 0)
        if cut_before + cut_after > size:
            raise ValueError(f"pad crops {cut_before} + {cut_after} pixels from the input "
                             f"{name} {size}")
        crop[axis] = slice(cut_before, size - cut_after)
        widths[axis] = (max(before, 0), max(after, 0))
        if size - cut_before - cut_after == 0 and widths[axis] != (0, 0) and mode != "zeros":
            raise ValueError(f"mode {mode!r} cannot pad an empty {name}: it has no pixel to "
                             f"repeat")
    x = x[tuple(crop)]
    if mode == "zeros":
        padded = np.pad(x, widths, mode="constant", constant_values=fill)
    else:
        padded = np.pad(x, widths, mode=_NUMPY_MODES[mode])
    return np.ascontiguousarray(padded)
