# Type stubs for cconv's public API (the runtime code is in _conv.py and _config.py).
from collections.abc import Sequence
from typing import Any, Literal, SupportsIndex, TypedDict, TypeVar, overload

import numpy as np
import numpy.typing as npt

from . import oracle as oracle

__version__: str
__all__ = [
    "conv2d",
    "conv2d_output_shape",
    "conv_transpose2d",
    "conv_transpose2d_output_shape",
    "conv2d_input",
    "conv2d_weight",
    "max_pool2d",
    "avg_pool2d",
    "adaptive_max_pool2d",
    "adaptive_avg_pool2d",
    "max_pool2d_backward",
    "avg_pool2d_backward",
    "adaptive_avg_pool2d_backward",
    "pool2d_output_shape",
    "pad",
    "fold_batchnorm",
    "get_config",
    "show_config",
    "__version__",
]

# An int parameter (Python or NumPy int, never bool/float at run time), a 1-element sequence of
# one (both axes), or an (h, w) pair of them.
_Int = SupportsIndex
_IntPair = _Int | tuple[_Int] | tuple[_Int, _Int] | list[_Int]
# int, (p,), (h, w), ((before, after),), ((top, bottom), (left, right)), "valid" or "same".
_Side = _Int | tuple[_Int, _Int] | list[_Int]
_Padding = (
    _Int
    | tuple[_Int]
    | tuple[_Int, _Int]
    | list[_Int]
    | tuple[_Side]
    | tuple[_Side, _Side]
    | list[_Side]
    | Literal["valid", "same"]
)
_Shape = tuple[_Int, ...] | list[_Int]
# What conv2d applies to its output tile: see conv2d's docstring.
_Activation = (
    Literal["relu", "relu6", "leaky_relu"]
    | tuple[Literal["leaky_relu"], float]
    | tuple[Literal["clamp"], float, float]
    | None
)
_PaddingMode = Literal["zeros", "reflect", "replicate", "circular", "symmetric"]
_DataFormat = Literal["NCHW", "NHWC"]
_FloatArray = npt.NDArray[np.float32] | npt.NDArray[np.float64]
_Out = TypeVar("_Out", npt.NDArray[np.float32], npt.NDArray[np.float64])

class _Config(TypedDict):
    simd: str
    simd_paths: list[str]
    simd_compiled: list[str]
    max_threads: int

@overload
def conv2d(
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
    out: None = None,
    threads: _Int | None = None,
) -> _FloatArray: ...
@overload
def conv2d(
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
    out: _Out,
    threads: _Int | None = None,
) -> _Out: ...
def conv2d_output_shape(
    input_shape: _Shape,
    weight_shape: _Shape,
    stride: _IntPair = 1,
    padding: _Padding = 0,
    dilation: _IntPair = 1,
    groups: _Int = 1,
    *,
    data_format: _DataFormat = "NCHW",
) -> tuple[int, ...]: ...
def pad(
    input: npt.ArrayLike,
    pad: Sequence[_Int],
    mode: Literal["constant", "zeros", "reflect", "replicate", "circular", "symmetric"] = "constant",
    value: float = 0.0,
    *,
    data_format: _DataFormat = "NCHW",
) -> npt.NDArray[Any]: ...
def fold_batchnorm(
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None,
    gamma: npt.ArrayLike | None,
    beta: npt.ArrayLike | None,
    running_mean: npt.ArrayLike,
    running_var: npt.ArrayLike,
    eps: float = 1e-5,
) -> tuple[_FloatArray, _FloatArray]: ...
def get_config() -> _Config: ...
def show_config() -> None: ...

# Transposed padding: int, (p,), (h, w), ((before, after),) or ((top, bottom), (left, right)).
_TransposePadding = (
    _Int | tuple[_Int] | tuple[_Int, _Int] | list[_Int] | tuple[_Side] | tuple[_Side, _Side]
    | list[_Side]
)

@overload
def conv_transpose2d(
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
    out: None = None,
    threads: _Int | None = None,
) -> _FloatArray: ...
@overload
def conv_transpose2d(
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
    out: _Out,
    threads: _Int | None = None,
) -> _Out: ...
def conv_transpose2d_output_shape(
    input_shape: _Shape,
    weight_shape: _Shape,
    stride: _IntPair = 1,
    padding: _TransposePadding = 0,
    output_padding: _IntPair = 0,
    groups: _Int = 1,
    dilation: _IntPair = 1,
    *,
    output_size: _Shape | None = None,
    data_format: _DataFormat = "NCHW",
) -> tuple[int, ...]: ...
@overload
def conv2d_input(
    input_size: _Shape,
    weight: npt.ArrayLike,
    grad_output: npt.ArrayLike,
    stride: _IntPair = 1,
    padding: _Padding = 0,
    dilation: _IntPair = 1,
    groups: _Int = 1,
    *,
    data_format: _DataFormat = "NCHW",
    out: None = None,
    threads: _Int | None = None,
) -> _FloatArray: ...
@overload
def conv2d_input(
    input_size: _Shape,
    weight: npt.ArrayLike,
    grad_output: npt.ArrayLike,
    stride: _IntPair = 1,
    padding: _Padding = 0,
    dilation: _IntPair = 1,
    groups: _Int = 1,
    *,
    data_format: _DataFormat = "NCHW",
    out: _Out,
    threads: _Int | None = None,
) -> _Out: ...
@overload
def conv2d_weight(
    input: npt.ArrayLike,
    weight_size: _Shape,
    grad_output: npt.ArrayLike,
    stride: _IntPair = 1,
    padding: _Padding = 0,
    dilation: _IntPair = 1,
    groups: _Int = 1,
    *,
    data_format: _DataFormat = "NCHW",
    out: None = None,
    threads: _Int | None = None,
) -> _FloatArray: ...
@overload
def conv2d_weight(
    input: npt.ArrayLike,
    weight_size: _Shape,
    grad_output: npt.ArrayLike,
    stride: _IntPair = 1,
    padding: _Padding = 0,
    dilation: _IntPair = 1,
    groups: _Int = 1,
    *,
    data_format: _DataFormat = "NCHW",
    out: _Out,
    threads: _Int | None = None,
) -> _Out: ...
# ---- pooling (runtime code in _pool.py and _adaptive_pool.py) ----
# Pooling padding: int, (p,), (h, w), ((before, after),) or ((top, bottom), (left, right)).
_PoolPadding = _Int | tuple[_Int] | tuple[_Int, _Int] | list[_Int] | tuple[_Side] | tuple[
    _Side, _Side
] | list[_Side]
_IndexArray = npt.NDArray[np.int64]
_OutputSize = _Int | None | tuple[_Int | None] | tuple[_Int | None, _Int | None] | list[_Int | None]

@overload
def max_pool2d(
    input: npt.ArrayLike,
    kernel_size: _IntPair,
    stride: _IntPair | None = None,
    padding: _PoolPadding = 0,
    dilation: _IntPair = 1,
    ceil_mode: bool = False,
    return_indices: Literal[False] = False,
    *,
    data_format: _DataFormat = "NCHW",
    out: npt.NDArray[Any] | None = None,
    threads: _Int | None = None,
) -> _FloatArray: ...
@overload
def max_pool2d(
    input: npt.ArrayLike,
    kernel_size: _IntPair,
    stride: _IntPair | None = None,
    padding: _PoolPadding = 0,
    dilation: _IntPair = 1,
    ceil_mode: bool = False,
    *,
    return_indices: Literal[True],
    data_format: _DataFormat = "NCHW",
    out: npt.NDArray[Any]
    | tuple[npt.NDArray[Any] | None, _IndexArray | None]
    | None = None,
    threads: _Int | None = None,
) -> tuple[_FloatArray, _IndexArray]: ...
@overload
def max_pool2d(
    input: npt.ArrayLike,
    kernel_size: _IntPair,
    stride: _IntPair | None,
    padding: _PoolPadding,
    dilation: _IntPair,
    ceil_mode: bool,
    return_indices: Literal[True],
    *,
    data_format: _DataFormat = "NCHW",
    out: npt.NDArray[Any]
    | tuple[npt.NDArray[Any] | None, _IndexArray | None]
    | None = None,
    threads: _Int | None = None,
) -> tuple[_FloatArray, _IndexArray]: ...
def avg_pool2d(
    input: npt.ArrayLike,
    kernel_size: _IntPair,
    stride: _IntPair | None = None,
    padding: _PoolPadding = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: _Int | None = None,
    *,
    data_format: _DataFormat = "NCHW",
    out: npt.NDArray[Any] | None = None,
    threads: _Int | None = None,
) -> _FloatArray: ...
def adaptive_avg_pool2d(
    input: npt.ArrayLike,
    output_size: _OutputSize,
    *,
    data_format: _DataFormat = "NCHW",
    out: npt.NDArray[Any] | None = None,
    threads: _Int | None = None,
) -> _FloatArray: ...
@overload
def adaptive_max_pool2d(
    input: npt.ArrayLike,
    output_size: _OutputSize,
    return_indices: Literal[False] = False,
    *,
    data_format: _DataFormat = "NCHW",
    out: npt.NDArray[Any] | None = None,
    threads: _Int | None = None,
) -> _FloatArray: ...
@overload
def adaptive_max_pool2d(
    input: npt.ArrayLike,
    output_size: _OutputSize,
    return_indices: Literal[True],
    *,
    data_format: _DataFormat = "NCHW",
    out: npt.NDArray[Any]
    | tuple[npt.NDArray[Any] | None, _IndexArray | None]
    | None = None,
    threads: _Int | None = None,
) -> tuple[_FloatArray, _IndexArray]: ...
def max_pool2d_backward(
    grad_output: npt.ArrayLike,
    indices: npt.ArrayLike,
    input_shape: _Shape,
    *,
    data_format: _DataFormat = "NCHW",
    out: npt.NDArray[Any] | None = None,
    threads: _Int | None = None,
) -> _FloatArray: ...
def avg_pool2d_backward(
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
    out: npt.NDArray[Any] | None = None,
    threads: _Int | None = None,
) -> _FloatArray: ...
def adaptive_avg_pool2d_backward(
    grad_output: npt.ArrayLike,
    input_shape: _Shape,
    *,
    data_format: _DataFormat = "NCHW",
    out: npt.NDArray[Any] | None = None,
    threads: _Int | None = None,
) -> _FloatArray: ...
def pool2d_output_shape(
    input_shape: _Shape,
    kernel_size: _IntPair,
    stride: _IntPair | None = None,
    padding: _PoolPadding = 0,
    dilation: _IntPair = 1,
    ceil_mode: bool = False,
    *,
    data_format: _DataFormat = "NCHW",
) -> tuple[int, ...]: ...
