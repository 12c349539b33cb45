# Type stubs for cconv.oracle, the slow NumPy twin of conv2d used by the tests as the reference.
import numpy as np
import numpy.typing as npt

from . import _Activation, _IntPair, _Int, _Padding, _Shape, _TransposePadding

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
def conv_transpose2d_oracle(
    input: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None = None,
    stride: _IntPair = 1,
    padding: _TransposePadding = 0,
    output_padding: _IntPair = 0,
    groups: _Int = 1,
    dilation: _IntPair = 1,
    *,
    output_size: _Shape | None = None,
) -> npt.NDArray[np.float64]: ...
def conv2d_input_oracle(
    input_size: _Shape,
    weight: npt.ArrayLike,
    grad_output: npt.ArrayLike,
    stride: _IntPair = 1,
    padding: _Padding = 0,
    dilation: _IntPair = 1,
    groups: _Int = 1,
) -> npt.NDArray[np.float64]: ...
def conv2d_weight_oracle(
    input: npt.ArrayLike,
    weight_size: _Shape,
    grad_output: npt.ArrayLike,
    stride: _IntPair = 1,
    padding: _Padding = 0,
    dilation: _IntPair = 1,
    groups: _Int = 1,
) -> npt.NDArray[np.float64]: ...
