"""fold_batchnorm: an inference BatchNorm that follows a convolution, folded into the
convolution's weight and bias, so that a network runs one conv2d call where it had two layers.

In evaluation mode a BatchNorm is a per-channel affine map with frozen statistics,
``gamma * (y - mean) / sqrt(var + eps) + beta``; applied to ``y = conv(x, w) + b`` it equals
``conv(x, w * s) + (b - mean) * s + beta`` with ``s = gamma / sqrt(var + eps)``, one scale per
output channel (per filter). Closed form, so there is no oracle twin: the tests compare it with
PyTorch's conv followed by BatchNorm2d.
"""

from __future__ import annotations

import numpy as np

from ._args import result_dtype


def fold_batchnorm(weight, bias, gamma, beta, running_mean, running_var, eps=1e-5):
    """Fold an inference BatchNorm that follows a convolution into its weight and bias.

    For ``y = conv2d(x, weight, bias)`` followed by a BatchNorm in evaluation mode (frozen
    statistics, as ``torch.nn.BatchNorm2d`` after ``.eval()``), returns ``(weight', bias')`` with
    ``conv2d(x, weight', bias') == gamma * (y - running_mean) / sqrt(running_var + eps) + beta``
    up to rounding. Each filter ``o`` is scaled by ``s[o] = gamma[o] / sqrt(running_var[o] +
    eps)``, and ``bias' = (bias - running_mean) * s + beta``. Grouped and depthwise weights fold
    the same way, since the scale is per output channel.

    Parameters
    ----------
    weight : array_like
        (O, C/groups, kH, kW): the convolution's O filters.
    bias : array_like or None
        (O,), the convolution's bias; None for a convolution without one (as in ResNet and
        MobileNet, whose convolutions feed a BatchNorm).
    gamma, beta : array_like or None
        (O,), the BatchNorm's scale and shift (PyTorch's ``bn.weight`` and ``bn.bias``); None
        for a BatchNorm without them (``affine=False``): 1 and 0.
    running_mean, running_var : array_like
        (O,), the BatchNorm's running statistics (``bn.running_mean``, ``bn.running_var``).
    eps : float, default 1e-5
        Added to the variance, as the BatchNorm's ``eps`` (PyTorch's default 1e-5).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The folded weight, of the weight's shape, and bias, of shape (O,), both new C-contiguous
        arrays. Their dtype follows NumPy's promotion of all the arrays, as conv2d's does:
        float32 when that is float16 or float32, float64 otherwise. The arithmetic is done in
        float64 and rounded once.

    Raises
    ------
    ValueError
        The weight is not 4-D, a per-channel array does not have exactly O elements (the message
        names it, its shape and the weight's O), or ``running_var + eps`` is zero or negative.
    TypeError
        An array has a dtype cconv does not compute in (complex, object, ...), or eps is not a
        real number.

    Examples
    --------
    A 3x3 convolution followed by a BatchNorm, folded into one convolution:

    >>> import numpy as np, cconv
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    >>> w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    >>> gamma, beta = np.float32([1.0, 0.5, 2.0, 1.0]), np.float32([0.0, 0.1, -0.2, 0.3])
    >>> mean, var = np.float32([0.1, -0.3, 0.0, 0.2]), np.float32([1.0, 4.0, 0.25, 2.0])
    >>> w2, b2 = cconv.fold_batchnorm(w, None, gamma, beta, mean, var)
    >>> w2.shape, b2.shape, w2.dtype
    ((4, 3, 3, 3), (4,), dtype('float32'))
    >>> y = cconv.conv2d(x, w, padding=1)
    >>> bn = (gamma[:, None, None] * (y - mean[:, None, None])
    ...       / np.sqrt(var[:, None, None] + 1e-5) + beta[:, None, None])
    >>> np.allclose(cconv.conv2d(x, w2, b2, padding=1), bn, atol=1e-5)
    True
    """
    w = np.asarray(weight)
    if w.ndim != 4:
        raise ValueError(f"weight must be 4-D (O, C/groups, kH, kW), got shape {w.shape}")
    n_out = w.shape[0]
    named = {"bias": bias, "gamma": gamma, "beta": beta, "running_mean": running_mean,
             "running_var": running_var}
    arrays = {name: None if value is None else np.asarray(value) for name, value in named.items()}
    for name in ("running_mean", "running_var"):
        if arrays[name] is None:
            raise TypeError(f"{name} must be an array of {n_out} elements, got None")
    for name, a in arrays.items():
        if a is not None and a.shape != (n_out,):
            raise ValueError(f"{name} has shape {a.shape} but weight has {n_out} output channels "
                             f"(weight.shape[0]) in weight.shape {w.shape}; {name} must have "
                             f"shape ({n_out},)")
    dtype = result_dtype(("weight", w), *arrays.items())
    eps = _as_eps(eps)

    variance = arrays["running_var"].astype(np.float64) + eps
    if np.any(variance <= 0):
        o = int(np.flatnonzero(variance <= 0)[0])
        raise ValueError(f"running_var + eps must be positive, got {variance[o]!r} for output "
                         f"channel {o}")
    scale = 1.0 / np.sqrt(variance)
    if arrays["gamma"] is not None:
        scale = scale * arrays["gamma"]
    shift = -arrays["running_mean"].astype(np.float64)
    if arrays["bias"] is not None:
        shift = shift + arrays["bias"]
    folded_bias = shift * scale
    if arrays["beta"] is not None:
        folded_bias = folded_bias + arrays["beta"]
    folded_weight = w.astype(np.float64) * scale[:, None, None, None]
    return (np.ascontiguousarray(folded_weight, dtype=dtype),
            np.ascontiguousarray(folded_bias, dtype=dtype))


def _as_eps(eps) -> float:
    """eps as a Python float; bools and non-numbers are refused rather than read as 0 or 1."""
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, (int, float, np.integer,
                                                                 np.floating)):
        raise TypeError(f"eps must be a real number, got {type(eps).__name__} {eps!r}")
    return float(eps)
