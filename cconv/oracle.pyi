# Type stubs for cconv.oracle, the slow NumPy twin of conv2d used by the tests as the reference.
import numpy as np
import numpy.typing as npt

from . import _Activation, _IntPair, _Int, _Padding

def conv2d_oracle(
    input: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None = None,
    stride: _IntPair = 1,
    padding: _Padding = 0,
    dilation: _IntPair = 1,
    groups: _Int = 1,
    *,
    activation: _Activation = None,
    residual: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]: ...
