# Type stubs for cconv.oracle, the slow NumPy twin of conv2d used by the tests as the reference.
from typing import Literal, overload

import numpy as np
import numpy.typing as npt

from . import (_Activation, _DataFormat, _Int, _IntPair, _OutputSize, _Padding, _PaddingMode, _PoolPadding, _Shape,
                _TransposePadding)

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
    padding_mode: _PaddingMode = "zeros",
    padding_value: float = 0.0,
    data_format: _DataFormat = "NCHW",
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
    data_format: _DataFormat = "NCHW",
) -> npt.NDArray[np.float64]: ...
def conv2d_input_oracle(
    input_size: _Shape,
    weight: npt.ArrayLike,
    grad_output: npt.ArrayLike,
    stride: _IntPair = 1,
    padding: _Padding = 0,
    dilation: _IntPair = 1,
    groups: _Int = 1,
    *,
    data_format: _DataFormat = "NCHW",
) -> npt.NDArray[np.float64]: ...
def conv2d_weight_oracle(
    input: npt.ArrayLike,
    weight_size: _Shape,
    grad_output: npt.ArrayLike,
    stride: _IntPair = 1,
    padding: _Padding = 0,
    dilation: _IntPair = 1,
    groups: _Int = 1,
    *,
    data_format: _DataFormat = "NCHW",
) -> npt.NDArray[np.float64]: ...

@overload
def max_pool2d_oracle(
    input: npt.ArrayLike,
    kernel_size: _IntPair,
    stride: _IntPair | None = None,
    padding: _PoolPadding = 0,
    dilation: _IntPair = 1,
    ceil_mode: bool = False,
    return_indices: Literal[False] = False,
    *,
    data_format: _DataFormat = "NCHW",
) -> npt.NDArray[np.float64]: ...
@overload
def max_pool2d_oracle(
    input: npt.ArrayLike,
    kernel_size: _IntPair,
    stride: _IntPair | None,
    padding: _PoolPadding,
    dilation: _IntPair,
    ceil_mode: bool,
    return_indices: Literal[True],
    *,
    data_format: _DataFormat = "NCHW",
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
@overload
def max_pool2d_oracle(
    input: npt.ArrayLike,
    kernel_size: _IntPair,
    stride: _IntPair | None = None,
    padding: _PoolPadding = 0,
    dilation: _IntPair = 1,
    ceil_mode: bool = False,
    *,
    return_indices: Literal[True],
    data_format: _DataFormat = "NCHW",
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
def avg_pool2d_oracle(
    input: npt.ArrayLike,
    kernel_size: _IntPair,
    stride: _IntPair | None = None,
    padding: _PoolPadding = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: _Int | None = None,
    *,
    data_format: _DataFormat = "NCHW",
) -> npt.NDArray[np.float64]: ...
def avg_pool2d_backward_oracle(
    grad_output: npt.ArrayLike,
    input_shape: _Shape,
    kernel_size: _IntPair,
    stride: _IntPair | None = None,
    padding: _PoolPadding = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: _Int | None = None,
    *,
    data_format: _DataFormat = "NCHW",
) -> npt.NDArray[np.float64]: ...
def adaptive_avg_pool2d_oracle(
    input: npt.ArrayLike, output_size: _OutputSize, *, data_format: _DataFormat = "NCHW"
) -> npt.NDArray[np.float64]: ...
@overload
def adaptive_max_pool2d_oracle(
    input: npt.ArrayLike,
    output_size: _OutputSize,
    return_indices: Literal[False] = False,
    *,
    data_format: _DataFormat = "NCHW",
) -> npt.NDArray[np.float64]: ...
@overload
def adaptive_max_pool2d_oracle(
    input: npt.ArrayLike,
    output_size: _OutputSize,
    return_indices: Literal[True],
    *,
    data_format: _DataFormat = "NCHW",
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
def adaptive_avg_pool2d_backward_oracle(
    grad_output: npt.ArrayLike, input_shape: _Shape, *, data_format: _DataFormat = "NCHW"
) -> npt.NDArray[np.float64]: ...
def max_pool2d_backward_oracle(
    grad_output: npt.ArrayLike,
    indices: npt.ArrayLike,
    input_shape: _Shape,
    *,
    data_format: _DataFormat = "NCHW",
) -> npt.NDArray[np.float64]: ...
