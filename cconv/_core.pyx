# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
# cython: freethreading_compatible=True
# (Safe without the GIL: every call works only on the buffers it is given; the C core's only
#  shared state, its thread pool, has its own lock, and the CPU features are read at import.
#  Free-threaded Python then keeps the GIL off when it imports this module.)
"""Thin binding to the C core: typed memoryviews in, one call with the GIL released, status codes
to exceptions.  Argument checking and normalisation live in Python (cconv/_conv.py)."""

import threading

from libc.stdint cimport int64_t

from cconv._cconv_c cimport *

from cpython.exc cimport PyErr_Occurred
from cpython.pythread cimport PyThread_get_thread_ident

# Python runs signal handlers only in the main thread: calls made elsewhere have nothing to poll.
cdef unsigned long _MAIN_THREAD = threading.main_thread().ident

# Calls with less work than this (multiply-adds plus elements read and written: a few tens of
# microseconds) keep the GIL.  Releasing it costs nothing alone, but beside a busy Python thread
# taking it back waits for that thread's switch interval (5 ms by default), a thousand times such
# a call's own time; holding it delays other threads by less than a switch interval.
cdef double _GIL_FREE_WORK = 1 << 20

cdef extern from "Python.h":
    # Declared without Cython's `except -1` so the pending KeyboardInterrupt stays set for the
    # caller instead of being reported as unraisable inside a noexcept callback.
    int check_signals_keep_error "PyErr_CheckSignals"()


cdef int _poll_signals(void *context) noexcept nogil:
    """Lets Ctrl-C stop a long call: run between work items by the calling (main) thread, about
    every 0.1 s (see src_c/thread_pool.h)."""
    with gil:
        if check_signals_keep_error() != 0:
            return 1
    return 0


cdef int _raise_for(cconv_status status) except -1:
    if status == CCONV_ERR_INTERRUPTED:
        # The pending exception (normally KeyboardInterrupt) was set by PyErr_CheckSignals:
        # returning -1 propagates it.
        if PyErr_Occurred():
            return -1
        raise KeyboardInterrupt
    msg = cconv_status_message(status).decode()
    if status == CCONV_ERR_NO_MEMORY:
        raise MemoryError(f"cconv: {msg}")
    if status == CCONV_ERR_UNSUPPORTED_SIMD:
        raise RuntimeError(f"cconv: {msg}")
    raise ValueError(f"cconv: {msg}")


cdef int _fill(cconv_conv2d_params *p, const Py_ssize_t *shape_in, const Py_ssize_t *shape_w,
               const Py_ssize_t *shape_out, tuple geometry, int threads, int simd,
               const Py_ssize_t *byte_strides=NULL, Py_ssize_t itemsize=0,
               int64_t *strides=NULL) except -1:
    """Fills p; with byte_strides, also the input's element strides (into `strides`, which must
    outlive p)."""
    p.batch, p.in_channels, p.in_height, p.in_width = (
        shape_in[0], shape_in[1], shape_in[2], shape_in[3])
    p.input_strides = NULL
    if byte_strides != NULL:
        for i in range(4):
            # An axis of extent 1 is never stepped along, whatever its stride says.
            if shape_in[i] <= 1:
                strides[i] = 0
            elif byte_strides[i] % itemsize:
                raise ValueError("cconv: input strides are not whole elements")
            else:
                strides[i] = byte_strides[i] // itemsize
        p.input_strides = strides
    p.out_channels, p.kernel_height, p.kernel_width = shape_w[0], shape_w[2], shape_w[3]
    p.out_height, p.out_width = shape_out[2], shape_out[3]
    (p.stride_h, p.stride_w, p.pad_top, p.pad_bottom, p.pad_left, p.pad_right,
     p.dilation_h, p.dilation_w, p.groups) = geometry
    p.threads = threads
    p.simd = simd
    p.poll = NULL
    if PyThread_get_thread_ident() == _MAIN_THREAD:
        p.poll = _poll_signals
    p.poll_context = NULL
    # The Python layer has checked all of this already; re-checked here because these shapes are
    # what keeps the C core inside its buffers.
    if (shape_out[0] != shape_in[0] or shape_out[1] != shape_w[0] or p.groups < 1
            or shape_w[1] * p.groups != shape_in[1]):
        raise ValueError("cconv: input, weight and out shapes are inconsistent")
    return 0


cdef double _work(const cconv_conv2d_params *p) noexcept:
    """Multiply-adds plus elements read and written: the size of a call, for _GIL_FREE_WORK."""
    cdef double outputs = <double>p.batch * p.out_channels * p.out_height * p.out_width
    return (outputs * (p.in_channels // p.groups) * p.kernel_height * p.kernel_width + outputs
            + <double>p.batch * p.in_channels * p.in_height * p.in_width)


cdef cconv_status _run_f32(const cconv_conv2d_params *p, const float *input, const float *weight,
                           const float *bias, float *out, bint reference) noexcept nogil:
    if reference:
        return cconv_conv2d_ref_f32(p, input, weight, bias, out)
    return cconv_conv2d_f32(p, input, weight, bias, out)


cdef cconv_status _run_f64(const cconv_conv2d_params *p, const double *input,
                           const double *weight, const double *bias, double *out,
                           bint reference) noexcept nogil:
    if reference:
        return cconv_conv2d_ref_f64(p, input, weight, bias, out)
    return cconv_conv2d_f64(p, input, weight, bias, out)


def conv2d_f32(const float[:, :, :, :] input, const float[:, :, :, ::1] weight,
               const float[::1] bias, float[:, :, :, ::1] out, tuple geometry,
               int threads, int simd, bint reference=False):
    """out = conv2d(input, weight) + bias for float32 arrays (no empty axes): input of any
    strides, weight, bias and out C-contiguous.

    geometry = (stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right,
                dilation_h, dilation_w, groups); simd is an index from simd_paths()."""
    cdef cconv_conv2d_params p
    cdef int64_t strides[4]
    _fill(&p, input.shape, weight.shape, out.shape, geometry, threads, simd, input.strides,
          sizeof(float), strides)
    if bias is not None and bias.shape[0] != weight.shape[0]:
        raise ValueError("cconv: bias length does not match the number of filters")
    cdef const float *b = &bias[0] if bias is not None else NULL
    cdef cconv_status status
    if _work(&p) < _GIL_FREE_WORK:
        p.poll = NULL
        status = _run_f32(&p, &input[0, 0, 0, 0], &weight[0, 0, 0, 0], b, &out[0, 0, 0, 0],
                            reference)
    else:
        with nogil:
            status = _run_f32(&p, &input[0, 0, 0, 0], &weight[0, 0, 0, 0], b, &out[0, 0, 0, 0],
                                reference)
    if status != CCONV_OK:
        _raise_for(status)


def conv2d_f64(const double[:, :, :, :] input, const double[:, :, :, ::1] weight,
               const double[::1] bias, double[:, :, :, ::1] out, tuple geometry,
               int threads, int simd, bint reference=False):
    """The float64 twin of conv2d_f32."""
    cdef cconv_conv2d_params p
    cdef int64_t strides[4]
    _fill(&p, input.shape, weight.shape, out.shape, geometry, threads, simd, input.strides,
          sizeof(double), strides)
    if bias is not None and bias.shape[0] != weight.shape[0]:
        raise ValueError("cconv: bias length does not match the number of filters")
    cdef const double *b = &bias[0] if bias is not None else NULL
    cdef cconv_status status
    if _work(&p) < _GIL_FREE_WORK:
        p.poll = NULL
        status = _run_f64(&p, &input[0, 0, 0, 0], &weight[0, 0, 0, 0], b, &out[0, 0, 0, 0],
                            reference)
    else:
        with nogil:
            status = _run_f64(&p, &input[0, 0, 0, 0], &weight[0, 0, 0, 0], b, &out[0, 0, 0, 0],
                                reference)
    if status != CCONV_OK:
        _raise_for(status)


def output_size(int64_t size, int64_t kernel, int64_t stride, int64_t pad_before,
                int64_t pad_after, int64_t dilation):
    """The C core's output-size formula; -1 when the arguments are invalid or overflow."""
    return cconv_conv2d_output_size(size, kernel, stride, pad_before, pad_after, dilation)


def simd_paths():
    """[(name, usable)] for every instruction-set path compiled in, lowest first."""
    return [(cconv_simd_name(i).decode(), bool(cconv_simd_supported(i)))
            for i in range(cconv_simd_count())]


def simd_best():
    """Index of the highest usable path."""
    return cconv_simd_best()


def max_threads():
    """What threads=None resolves to (OMP_NUM_THREADS, else the usable cores)."""
    return cconv_max_threads()


def workspace_bytes(tuple in_shape, tuple w_shape, tuple out_shape, tuple geometry, int threads,
                    int simd, size_t elem_size):
    """Temporary bytes (all threads) the fast path allocates for this call; elem_size 4 or 8."""
    cdef Py_ssize_t si[4]
    cdef Py_ssize_t sw[4]
    cdef Py_ssize_t so[4]
    for i in range(4):
        si[i], sw[i], so[i] = in_shape[i], w_shape[i], out_shape[i]
    cdef cconv_conv2d_params p
    _fill(&p, si, sw, so, geometry, threads, simd)
    cdef size_t nbytes = 0
    cdef cconv_status status = cconv_conv2d_workspace_bytes(&p, elem_size, &nbytes)
    if status != CCONV_OK:
        _raise_for(status)
    return nbytes
