"""cconv: the convolution layer of a CNN at C speed, for NumPy.

>>> import numpy as np, cconv
>>> cconv.conv2d(np.ones((1, 3, 8, 8)), np.ones((4, 3, 3, 3))).shape
(1, 4, 6, 6)
"""

try:
    from . import _core  # noqa: F401  (the compiled C core)
except ImportError as exc:  # pragma: no cover - only hit in an unbuilt source tree
    raise ImportError(
        f"cconv's compiled core could not be imported ({exc}). If this is a source checkout, "
        "build it in place with `pip install -e .`, or run Python from outside the checkout so "
        "that an installed cconv is imported instead.") from exc

from . import oracle  # noqa: F401  (cconv.oracle.conv2d_oracle, the slow NumPy twin)
from ._config import get_config, show_config
from ._conv import conv2d, conv2d_output_shape
from ._adaptive_pool import (adaptive_avg_pool2d, adaptive_avg_pool2d_backward,
                             adaptive_max_pool2d)
from ._conv_transpose import conv2d_input, conv_transpose2d, conv_transpose2d_output_shape
from ._conv_weight import conv2d_weight
from ._fold import fold_batchnorm
from ._pad import pad
from ._pool import (avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward,
                    pool2d_output_shape)
from ._version import __version__

__all__ = ["conv2d", "conv2d_output_shape", "conv_transpose2d", "conv_transpose2d_output_shape",
           "conv2d_input", "conv2d_weight", "max_pool2d", "avg_pool2d", "adaptive_max_pool2d",
           "adaptive_avg_pool2d", "max_pool2d_backward", "avg_pool2d_backward",
           "adaptive_avg_pool2d_backward", "pool2d_output_shape", "pad", "fold_batchnorm",
           "get_config", "show_config", "__version__"]
