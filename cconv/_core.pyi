# Type stubs for the compiled binding cconv/_core.pyx.  Arrays must be of exactly the dtype named,
# 4-D (bias 1-D), C-contiguous but for conv2d's input and out (any strides); the Python layer
# (cconv/_conv.py) guarantees it.
from typing import Any

from typing_extensions import disjoint_base

import numpy as np
import numpy.typing as npt

# (stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right, dilation_h, dilation_w, groups)
_Geometry = tuple[int, ...]

def conv2d_f32(
    input: npt.NDArray[np.float32],
    weight: npt.NDArray[np.float32],
    bias: npt.NDArray[np.float32] | None,
    out: npt.NDArray[np.float32],
    geometry: _Geometry,
    threads: int,
    simd: int,
    reference: bool = False,
    residual: npt.NDArray[np.float32] | None = None,
    stage: tuple[int, float, float] | None = None,
    padding_mode: int = 0,
    padding_value: float = 0.0,
    packed: PackedWeights | None = None,
) -> None: ...
def conv2d_f64(
    input: npt.NDArray[np.float64],
    weight: npt.NDArray[np.float64],
    bias: npt.NDArray[np.float64] | None,
    out: npt.NDArray[np.float64],
    geometry: _Geometry,
    threads: int,
    simd: int,
    reference: bool = False,
    residual: npt.NDArray[np.float64] | None = None,
    stage: tuple[int, float, float] | None = None,
    padding_mode: int = 0,
    padding_value: float = 0.0,
    packed: PackedWeights | None = None,
) -> None: ...
def conv2d_converting(
    input: npt.NDArray[Any],
    weight: npt.NDArray[np.float32] | npt.NDArray[np.float64],
    bias: npt.NDArray[np.float32] | npt.NDArray[np.float64] | None,
    out: npt.NDArray[np.float32] | npt.NDArray[np.float64],
    geometry: _Geometry,
    threads: int,
    simd: int,
    reference: bool = False,
    residual: npt.NDArray[np.float32] | npt.NDArray[np.float64] | None = None,
    stage: tuple[int, float, float] | None = None,
    padding_mode: int = 0,
    padding_value: float = 0.0,
    packed: PackedWeights | None = None,
) -> None: ...
@disjoint_base
class TransposePackedWeights:
    @property
    def nbytes(self) -> int: ...

def conv_transpose2d_pack(
    input: npt.NDArray[Any],
    weight: npt.NDArray[np.float32] | npt.NDArray[np.float64],
    bias: npt.NDArray[np.float32] | npt.NDArray[np.float64] | None,
    out: npt.NDArray[Any],
    geometry: _Geometry,
    threads: int,
    simd: int,
) -> TransposePackedWeights | None: ...
# (stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w, groups)
def conv_transpose2d_f32(
    input: npt.NDArray[np.float32],
    weight: npt.NDArray[np.float32],
    bias: npt.NDArray[np.float32] | None,
    out: npt.NDArray[np.float32],
    geometry: _Geometry,
    threads: int,
    simd: int,
    reference: bool = False,
    packed: TransposePackedWeights | None = None,
) -> None: ...
def conv_transpose2d_f64(
    input: npt.NDArray[np.float64],
    weight: npt.NDArray[np.float64],
    bias: npt.NDArray[np.float64] | None,
    out: npt.NDArray[np.float64],
    geometry: _Geometry,
    threads: int,
    simd: int,
    reference: bool = False,
    packed: TransposePackedWeights | None = None,
) -> None: ...
# (stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w, groups)
def conv2d_weight_f32(
    input: npt.NDArray[np.float32],
    grad_output: npt.NDArray[np.float32],
    grad_weight: npt.NDArray[np.float32],
    geometry: _Geometry,
    threads: int,
    simd: int,
    reference: bool = False,
) -> None: ...
def conv2d_weight_f64(
    input: npt.NDArray[np.float64],
    grad_output: npt.NDArray[np.float64],
    grad_weight: npt.NDArray[np.float64],
    geometry: _Geometry,
    threads: int,
    simd: int,
    reference: bool = False,
) -> None: ...
def conv2d_weight_workspace_bytes(
    in_shape: tuple[int, ...],
    gy_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    geometry: _Geometry,
    threads: int,
    simd: int,
    elem_size: int,
) -> int: ...
@disjoint_base
class PackedWeights:
    @property
    def nbytes(self) -> int: ...

def conv2d_pack(
    input: npt.NDArray[Any],
    weight: npt.NDArray[np.float32] | npt.NDArray[np.float64],
    bias: npt.NDArray[np.float32] | npt.NDArray[np.float64] | None,
    out: npt.NDArray[Any],
    geometry: _Geometry,
    threads: int,
    simd: int,
    input_dtype: int = 0,
) -> PackedWeights | None: ...
def kernels_used(
    input: npt.NDArray[Any],
    w_shape: tuple[int, int, int, int],
    out: npt.NDArray[Any],
    geometry: _Geometry,
    simd: int,
    elem_size: int,
    input_dtype: int = 0,
    padding_mode: int = 0,
) -> str: ...
def workspace_bytes(
    in_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    out_shape: tuple[int, ...],
    geometry: _Geometry,
    threads: int,
    simd: int,
    elem_size: int,
) -> int: ...
def output_size(
    size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int
) -> int: ...
def simd_paths() -> list[tuple[str, bool]]: ...
def simd_best() -> int: ...
def max_threads() -> int: ...

# Pooling: one runner per family; op is one of the operation numbers below.  Every array may
# have any strides (the indices written forward laid out as dst).
MAX_POOL2D: int
AVG_POOL2D: int
AVG_POOL2D_BACKWARD: int
ADAPTIVE_AVG_POOL2D: int
ADAPTIVE_MAX_POOL2D: int
ADAPTIVE_AVG_POOL2D_BACKWARD: int
MAX_POOL2D_BACKWARD: int
POOL_CL_MIN_CHANNELS: int
_Real = npt.NDArray[np.float32] | npt.NDArray[np.float64]

def pool2d(
    op: int,
    src: _Real,
    dst: _Real,
    indices: npt.NDArray[np.int64] | None,
    geometry: tuple[int, ...],
    threads: int,
    simd: int,
    reference: bool = False,
) -> None: ...
def adaptive_pool2d(
    op: int,
    src: _Real,
    dst: _Real,
    indices: npt.NDArray[np.int64] | None,
    threads: int,
    simd: int,
    reference: bool = False,
) -> None: ...
def max_pool2d_backward(
    grad_output: _Real,
    indices: npt.NDArray[np.int64],
    grad_input: _Real,
    threads: int,
    simd: int,
    reference: bool = False,
) -> None: ...
def pool_output_size(
    size: int,
    kernel: int,
    stride: int,
    pad_before: int,
    pad_after: int,
    dilation: int,
    ceil_mode: bool,
) -> int: ...
def conv2d_winograd(
    input: npt.NDArray[Any],
    weight: npt.NDArray[np.float32] | npt.NDArray[np.float64],
    bias: npt.NDArray[np.float32] | npt.NDArray[np.float64] | None,
    out: npt.NDArray[np.float32] | npt.NDArray[np.float64],
    geometry: _Geometry,
    threads: int,
    simd: int,
    tile: int,
    residual: npt.NDArray[np.float32] | npt.NDArray[np.float64] | None = None,
    stage: tuple[int, float, float] | None = None,
    padding_mode: int = 0,
    padding_value: float = 0.0,
    u: npt.NDArray[np.float32] | npt.NDArray[np.float64] | None = None,
) -> None: ...
def winograd_weights(
    weight: npt.NDArray[np.float32] | npt.NDArray[np.float64],
    groups: int,
    simd: int,
    tile: int,
) -> tuple[npt.NDArray[np.float32] | npt.NDArray[np.float64], bool]: ...
def winograd_workspace_bytes(
    in_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    out_shape: tuple[int, ...],
    geometry: _Geometry,
    threads: int,
    simd: int,
    elem_size: int,
    tile: int,
) -> int: ...
