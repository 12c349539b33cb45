# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
# cython: freethreading_compatible=True
# (Safe without the GIL: every call works only on the buffers it is given; the C core's only
#  shared state, its thread pool, has its own lock, and the CPU features are read at import.
#  Free-threaded Python then keeps the GIL off when it imports this module.)
"""Thin binding to the C core: typed memoryviews in, one call with the GIL released (see
_run_core for when and how), status codes to exceptions.  Argument checking and normalisation
live in Python (cconv/_conv.py)."""

import sys
import threading

cimport cython
from libc.stdint cimport int64_t
from libc.string cimport memset

from cconv._cconv_c cimport *

from cpython.exc cimport PyErr_Occurred
from cpython.pythread cimport PyThread_get_thread_ident

cdef extern from "Python.h":
    # Declared without Cython's `except -1` so the pending KeyboardInterrupt stays set for the
    # caller instead of being reported as unraisable inside a noexcept callback.
    int check_signals_keep_error "PyErr_CheckSignals"()
    ctypedef struct PyThreadState:
        pass
    PyThreadState *PyEval_SaveThread() nogil
    void PyEval_RestoreThread(PyThreadState *) nogil


# ------------------------------------------------------------------------------------------------
# The GIL.  Releasing it lets other threads run Python during a call, but taking it back waits
# for whichever thread holds it then: beside a thread that runs pure Python, for that thread's
# whole switch interval (sys.getswitchinterval(), 5 ms by default), ruinous for a 1 ms call.
# - A call with less work than _GIL_FREE_WORK (a few tens of microseconds) keeps the GIL.
# - Other calls release it, and time how long taking it back took.  A wait longer than
#   _CONTENDED_WAIT means a thread busy in Python; for the next _PROBE_SECONDS this thread then
#   (a) keeps the GIL in calls expected to last less than half a switch interval (that delays
#       the busy thread no longer than its own switching does, and the busy thread's turn then
#       falls on fewer than half of the calls), and
#   (b) lets longer calls take the GIL back one switch interval before they end: the C core's
#       handoff callback blocks the calling thread on the GIL while a pool thread finishes the
#       work, so the wait overlaps the computation instead of following it;
#   after which one call releases the GIL plainly again, to see whether the busy thread is still
#   there.
# A call is expected to last as long as the same call (same work, threads and kernel) last
# time in this thread; failing that, its "work" (multiply-adds plus elements read and written)
# divided by _WORK_PER_SECOND per thread, about as fast as dense layers run.
cdef double _GIL_FREE_WORK = 1 << 20
cdef double _WORK_PER_SECOND = 4e10
cdef double _CONTENDED_WAIT = 1e-3
cdef double _PROBE_SECONDS = 1.0
cdef int _DURATIONS_KEPT = 256
# Per calling thread: contended_until (cconv_monotonic_time seconds), durations ({(work,
# threads, kernel): seconds}) and handoffs (a count, for the tests).
_gil_state = threading.local()


cdef double _expected_seconds(tuple key, double work, int threads):
    durations = getattr(_gil_state, "durations", None)
    if durations is not None:
        seconds = durations.get(key)
        if seconds is not None:
            return seconds
    return work / (_WORK_PER_SECOND * threads)


cdef void _remember_seconds(tuple key, double seconds):
    durations = getattr(_gil_state, "durations", None)
    if durations is None or len(durations) >= _DURATIONS_KEPT:
        durations = _gil_state.durations = {}
    durations[key] = seconds

# Python runs signal handlers only in the main thread: calls made elsewhere have nothing to poll.
cdef unsigned long _MAIN_THREAD = threading.main_thread().ident


cdef struct _GilRelease:
    PyThreadState *saved
    bint restored
    double wait              # seconds taking the GIL back took


cdef void _take_gil_back(void *context) noexcept nogil:
    """The handoff callback: blocks until this thread holds the GIL again."""
    cdef _GilRelease *release = <_GilRelease *>context
    cdef double start = cconv_monotonic_time()
    PyEval_RestoreThread(release.saved)
    release.wait = cconv_monotonic_time() - start
    release.restored = True


cdef int _poll_signals(void *context) noexcept nogil:
    """Lets Ctrl-C stop a long call: run between work items by the calling (main) thread, about
    every 0.1 s (see src_c/runtime/thread_pool.h)."""
    with gil:
        if check_signals_keep_error() != 0:
            return 1
    return 0


cdef double _conv2d_work(const cconv_conv2d_params *p) noexcept:
    """Multiply-adds plus elements read and written: the size of a call (for _run_core)."""
    cdef double outputs = <double>p.batch * p.out_channels * p.out_height * p.out_width
    return (outputs * (p.in_channels // p.groups) * p.kernel_height * p.kernel_width + outputs
            + <double>p.batch * p.in_channels * p.in_height * p.in_width)


# One C entry point with its arguments: each operation wraps its own in a struct.
ctypedef cconv_status (*_runner)(const void *args) noexcept nogil


cdef cconv_status _run_core(_runner run, const void *args, cconv_run_options *opts,
                            double work) except *:
    """run(args) under the GIL policy above, with opts (the run options inside args) filled in;
    `work` sizes the call (see _work).  Returns the C status."""
    opts.poll = NULL
    opts.poll_context = NULL
    opts.handoff = NULL
    opts.handoff_seconds = 0.0
    if work < _GIL_FREE_WORK:
        return run(args)
    cdef double start = cconv_monotonic_time()
    cdef int threads = opts.threads if opts.threads > 0 else cconv_max_threads()
    cdef double switch = sys.getswitchinterval()
    cdef bint contended = getattr(_gil_state, "contended_until", 0.0) > start
    key = (work, threads, <size_t>run)
    cdef cconv_status status
    if contended and _expected_seconds(key, work, threads) < 0.5 * switch:
        status = run(args)
        _remember_seconds(key, cconv_monotonic_time() - start)
        return status
    cdef _GilRelease release
    release.restored = False
    release.wait = 0.0
    if PyThread_get_thread_ident() == _MAIN_THREAD:
        opts.poll = _poll_signals
    opts.poll_context = &release
    if contended:
        opts.handoff = _take_gil_back
        opts.handoff_seconds = switch
    cdef double done
    release.saved = PyEval_SaveThread()
    status = run(args)
    done = cconv_monotonic_time()
    if release.restored:   # by the handoff: counted for the tests
        _gil_state.handoffs = getattr(_gil_state, "handoffs", 0) + 1
    else:
        PyEval_RestoreThread(release.saved)
        release.wait = cconv_monotonic_time() - done
    _remember_seconds(key, done - start - (release.wait if release.restored else 0.0))
    if release.wait > _CONTENDED_WAIT:
        _gil_state.contended_until = cconv_monotonic_time() + _PROBE_SECONDS
    return status


# ------------------------------------------------------------------------------------------------
# conv2d

ctypedef fused _real:
    float
    double

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
    outlive p).  No callbacks: _run_core sets those."""
    memset(p, 0, sizeof(cconv_conv2d_params))   # no output strides, no output stage
    p.batch, p.in_channels, p.in_height, p.in_width = (
        shape_in[0], shape_in[1], shape_in[2], shape_in[3])
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
    p.run.threads = threads
    p.run.simd = simd
    # The Python layer has checked all of this already; re-checked here because these shapes are
    # what keeps the C core inside its buffers.
    if (shape_out[0] != shape_in[0] or shape_out[1] != shape_w[0] or p.groups < 1
            or shape_w[1] * p.groups != shape_in[1]):
        raise ValueError("cconv: input, weight and out shapes are inconsistent")
    return 0


cdef int _element_strides(const Py_ssize_t *shape, const Py_ssize_t *byte_strides,
                          Py_ssize_t itemsize, int64_t *strides) except -1:
    """Element strides of a 4-D buffer (0 along axes of extent 1, which are never stepped);
    returns 1 when they are the C-contiguous ones."""
    cdef int64_t expected = 1
    cdef bint contiguous = True
    for i in range(3, -1, -1):
        if shape[i] <= 1:
            strides[i] = 0
        elif byte_strides[i] % itemsize:
            raise ValueError("cconv: strides are not whole elements")
        else:
            strides[i] = byte_strides[i] // itemsize
            contiguous = contiguous and strides[i] == expected
        expected *= shape[i]
    return 1 if contiguous else 0


cdef int _fill_stage(cconv_conv2d_params *p, const Py_ssize_t *shape_out,
                     const int64_t *out_strides, const Py_ssize_t *shape_residual,
                     const Py_ssize_t *residual_byte_strides, Py_ssize_t itemsize,
                     const void *residual, tuple stage) except -1:
    """The output stage: residual (shaped and laid out like out, whose element strides are
    out_strides) and stage = (activation, alpha, beta) as _args.resolve_activation gives it
    (None: no activation)."""
    cdef int64_t residual_strides[4]
    if residual != NULL:
        for i in range(4):
            if shape_residual[i] != shape_out[i]:
                raise ValueError("cconv: residual and out shapes differ")
        _element_strides(shape_residual, residual_byte_strides, itemsize, residual_strides)
        for i in range(4):
            if shape_out[i] > 1 and residual_strides[i] != out_strides[i]:
                raise ValueError("cconv: residual is not laid out as out is")
        p.residual = residual
    if stage is not None:
        p.activation = <cconv_activation><int>stage[0]
        p.activation_alpha, p.activation_beta = stage[1], stage[2]
    return 0


cdef struct _Conv2dArgs:
    cconv_conv2d_params p
    const void *input
    const void *weight
    const void *bias
    void *out
    bint reference


cdef cconv_status _conv2d_f32(const void *args) noexcept nogil:
    cdef const _Conv2dArgs *a = <const _Conv2dArgs *>args
    cdef const cconv_conv2d_params *p = &a.p
    if a.reference:
        return cconv_conv2d_ref_f32(p, a.input, <const float *>a.weight,
                                    <const float *>a.bias, <float *>a.out)
    return cconv_conv2d_f32(p, a.input, <const float *>a.weight,
                            <const float *>a.bias, <float *>a.out)


cdef cconv_status _conv2d_f64(const void *args) noexcept nogil:
    cdef const _Conv2dArgs *a = <const _Conv2dArgs *>args
    cdef const cconv_conv2d_params *p = &a.p
    if a.reference:
        return cconv_conv2d_ref_f64(p, a.input, <const double *>a.weight,
                                    <const double *>a.bias, <double *>a.out)
    return cconv_conv2d_f64(p, a.input, <const double *>a.weight,
                            <const double *>a.bias, <double *>a.out)


# The input element types conv2d converts as it packs: NumPy's one-letter type codes.
_INPUT_DTYPES = {"B": CCONV_DTYPE_U8, "b": CCONV_DTYPE_I8, "H": CCONV_DTYPE_U16,
                 "h": CCONV_DTYPE_I16, "f": CCONV_DTYPE_F32}


cdef int _conv2d(_Conv2dArgs *args, _runner runner, const void *input,
                 const Py_ssize_t *in_shape, const Py_ssize_t *in_byte_strides,
                 Py_ssize_t in_itemsize, cconv_dtype input_dtype, const Py_ssize_t *w_shape,
                 Py_ssize_t bias_len, const Py_ssize_t *out_shape,
                 const Py_ssize_t *out_byte_strides, Py_ssize_t itemsize,
                 const Py_ssize_t *residual_shape, const Py_ssize_t *residual_byte_strides,
                 const void *residual, tuple geometry, int threads, int simd, bint reference,
                 tuple stage, int padding_mode, double padding_value,
                 PackedWeights packed=None) except -1:
    """The body shared by the conv2d bindings: args.weight, .bias and .out already set."""
    cdef int64_t in_strides[4]
    cdef int64_t out_strides[4]
    _fill(&args.p, in_shape, w_shape, out_shape, geometry, threads, simd, in_byte_strides,
          in_itemsize, in_strides)
    if bias_len >= 0 and bias_len != w_shape[0]:
        raise ValueError("cconv: bias length does not match the number of filters")
    if not _element_strides(out_shape, out_byte_strides, itemsize, out_strides):
        args.p.output_strides = out_strides
    _fill_stage(&args.p, out_shape, out_strides, residual_shape, residual_byte_strides,
                itemsize, residual, stage)
    args.p.input_dtype = input_dtype
    args.p.padding_mode = <cconv_padding_mode>padding_mode
    args.p.padding_value = padding_value
    if packed is not None:
        args.p.packed_weights = packed.ptr
    args.input = input
    args.reference = reference
    cdef cconv_status status = _run_core(runner, args, &args.p.run, _conv2d_work(&args.p))
    if status != CCONV_OK:
        _raise_for(status)
    return 0


def conv2d_f32(const float[:, :, :, :] input, const float[:, :, :, ::1] weight,
               const float[::1] bias, float[:, :, :, :] out, tuple geometry,
               int threads, int simd, bint reference=False,
               const float[:, :, :, :] residual=None, tuple stage=None,
               int padding_mode=0, double padding_value=0.0, PackedWeights packed=None):
    """out = conv2d(input, weight) + bias for float32 arrays (no empty axes): input and out of
    any strides (an NHWC array seen through its axes runs the channels-last kernels), weight
    and bias C-contiguous, residual laid out as out.

    geometry = (stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right,
                dilation_h, dilation_w, groups); simd is an index from simd_paths();
    padding_mode is a cconv_padding_mode number (0: the constant padding_value); packed: the
    weights and bias packed by conv2d_pack for calls like this one (None: packed per call where
    a path needs it)."""
    cdef _Conv2dArgs args
    args.weight, args.out = &weight[0, 0, 0, 0], &out[0, 0, 0, 0]
    args.bias = &bias[0] if bias is not None else NULL
    _conv2d(&args, _conv2d_f32, &input[0, 0, 0, 0], input.shape, input.strides, sizeof(float),
            CCONV_DTYPE_SAME, weight.shape, bias.shape[0] if bias is not None else -1,
            out.shape, out.strides, sizeof(float),
            residual.shape if residual is not None else NULL,
            residual.strides if residual is not None else NULL,
            &residual[0, 0, 0, 0] if residual is not None else NULL,
            geometry, threads, simd, reference, stage, padding_mode, padding_value,
            packed)


def conv2d_f64(const double[:, :, :, :] input, const double[:, :, :, ::1] weight,
               const double[::1] bias, double[:, :, :, :] out, tuple geometry,
               int threads, int simd, bint reference=False,
               const double[:, :, :, :] residual=None, tuple stage=None,
               int padding_mode=0, double padding_value=0.0, PackedWeights packed=None):
    """The float64 twin of conv2d_f32."""
    cdef _Conv2dArgs args
    args.weight, args.out = &weight[0, 0, 0, 0], &out[0, 0, 0, 0]
    args.bias = &bias[0] if bias is not None else NULL
    _conv2d(&args, _conv2d_f64, &input[0, 0, 0, 0], input.shape, input.strides, sizeof(double),
            CCONV_DTYPE_SAME, weight.shape, bias.shape[0] if bias is not None else -1,
            out.shape, out.strides, sizeof(double),
            residual.shape if residual is not None else NULL,
            residual.strides if residual is not None else NULL,
            &residual[0, 0, 0, 0] if residual is not None else NULL,
            geometry, threads, simd, reference, stage, padding_mode, padding_value,
            packed)


def conv2d_converting(input, const _real[:, :, :, ::1] weight, const _real[::1] bias,
                      _real[:, :, :, :] out, tuple geometry, int threads, int simd,
                      bint reference=False, const _real[:, :, :, :] residual=None,
                      tuple stage=None, int padding_mode=0, double padding_value=0.0,
                      PackedWeights packed=None):
    """conv2d_f32/_f64 (by the weight's type) of a 4-D input of another element type: uint8,
    int8, uint16 or int16 (or float32 with float64 weights), converted as the C core packs it."""
    import numpy
    arr = numpy.asarray(input)
    if arr.ndim != 4 or arr.dtype.char not in _INPUT_DTYPES or (
            arr.dtype.char == "f" and _real is float) or not arr.dtype.isnative:
        raise ValueError(f"cconv: an input of dtype {arr.dtype} is not converted by the C core")
    if arr.size == 0:
        raise ValueError("cconv: empty input")
    if not arr.flags.aligned:
        raise ValueError("cconv: the input is not aligned")
    # Its first element's address (arr stays referenced, so alive, through the call).
    cdef size_t address = arr.__array_interface__["data"][0]
    cdef Py_ssize_t strides[4]
    cdef Py_ssize_t shape[4]
    for i in range(4):
        shape[i] = arr.shape[i]
        strides[i] = arr.strides[i]
    cdef _Conv2dArgs args
    args.weight, args.out = &weight[0, 0, 0, 0], &out[0, 0, 0, 0]
    args.bias = &bias[0] if bias is not None else NULL
    _conv2d(&args, _conv2d_f32 if _real is float else _conv2d_f64, <const void *>address, shape,
            strides, arr.itemsize, <cconv_dtype><int>_INPUT_DTYPES[arr.dtype.char],
            weight.shape, bias.shape[0] if bias is not None else -1, out.shape, out.strides,
            sizeof(_real), residual.shape if residual is not None else NULL,
            residual.strides if residual is not None else NULL,
            &residual[0, 0, 0, 0] if residual is not None else NULL,
            geometry, threads, simd, reference, stage, padding_mode, padding_value,
            packed)


# ------------------------------------------------------------------------------------------------
# conv_transpose2d (and conv2d's input gradient)

cdef int _fill_transpose(cconv_conv_transpose2d_params *p, const Py_ssize_t *shape_in,
                         const Py_ssize_t *shape_w, const Py_ssize_t *shape_out, tuple geometry,
                         int threads, int simd, const Py_ssize_t *byte_strides,
                         Py_ssize_t itemsize, int64_t *strides) except -1:
    """Fills p from the (N, C, H, W) input, (C, O/groups, kH, kW) weight and (N, O, OH, OW)
    output shapes; geometry = (stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w,
    groups)."""
    memset(p, 0, sizeof(cconv_conv_transpose2d_params))
    p.batch, p.in_channels, p.in_height, p.in_width = (
        shape_in[0], shape_in[1], shape_in[2], shape_in[3])
    (p.stride_h, p.stride_w, p.pad_top, p.pad_left, p.dilation_h, p.dilation_w,
     p.groups) = geometry
    p.out_channels, p.kernel_height, p.kernel_width = shape_out[1], shape_w[2], shape_w[3]
    p.out_height, p.out_width = shape_out[2], shape_out[3]
    for i in range(4):
        if shape_in[i] <= 1:
            strides[i] = 0
        elif byte_strides[i] % itemsize:
            raise ValueError("cconv: input strides are not whole elements")
        else:
            strides[i] = byte_strides[i] // itemsize
    p.input_strides = strides
    p.run.threads = threads
    p.run.simd = simd
    if (shape_out[0] != shape_in[0] or shape_w[0] != shape_in[1] or p.groups < 1
            or shape_w[1] * p.groups != shape_out[1]):
        raise ValueError("cconv: input, weight and out shapes are inconsistent")
    return 0


cdef double _transpose_work(const cconv_conv_transpose2d_params *p) noexcept:
    """Multiply-adds plus elements read and written (for _run_core)."""
    cdef double inputs = <double>p.batch * p.in_channels * p.in_height * p.in_width
    return (inputs * (p.out_channels // p.groups) * p.kernel_height * p.kernel_width + inputs
            + <double>p.batch * p.out_channels * p.out_height * p.out_width)


cdef struct _TransposeArgs:
    cconv_conv_transpose2d_params p
    const void *input
    const void *weight
    const void *bias
    void *out
    bint reference


cdef cconv_status _transpose_f32(const void *args) noexcept nogil:
    cdef const _TransposeArgs *a = <const _TransposeArgs *>args
    if a.reference:
        return cconv_conv_transpose2d_ref_f32(&a.p, <const float *>a.input,
                                              <const float *>a.weight, <const float *>a.bias,
                                              <float *>a.out)
    return cconv_conv_transpose2d_f32(&a.p, <const float *>a.input, <const float *>a.weight,
                                      <const float *>a.bias, <float *>a.out)


cdef cconv_status _transpose_f64(const void *args) noexcept nogil:
    cdef const _TransposeArgs *a = <const _TransposeArgs *>args
    if a.reference:
        return cconv_conv_transpose2d_ref_f64(&a.p, <const double *>a.input,
                                              <const double *>a.weight, <const double *>a.bias,
                                              <double *>a.out)
    return cconv_conv_transpose2d_f64(&a.p, <const double *>a.input, <const double *>a.weight,
                                      <const double *>a.bias, <double *>a.out)


def conv_transpose2d_f32(const float[:, :, :, :] input, const float[:, :, :, ::1] weight,
                         const float[::1] bias, float[:, :, :, :] out, tuple geometry,
                         int threads, int simd, bint reference=False,
                         TransposePackedWeights packed=None):
    """out = conv_transpose2d(input, weight) + bias for float32 arrays with no empty axis but
    possibly C: input and out of any strides, weight (C, O/groups, kH, kW) and bias
    C-contiguous;
    geometry = (stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w, groups);
    packed: the weights and bias packed by conv_transpose2d_pack (None: per call)."""
    cdef _TransposeArgs args
    cdef int64_t strides[4]
    cdef int64_t out_strides[4]
    _fill_transpose(&args.p, input.shape, weight.shape, out.shape, geometry, threads, simd,
                    input.strides, sizeof(float), strides)
    if not _element_strides(out.shape, out.strides, sizeof(float), out_strides):
        args.p.output_strides = out_strides
    if bias is not None and bias.shape[0] != out.shape[1]:
        raise ValueError("cconv: bias length does not match the output channels")
    args.input = &input[0, 0, 0, 0] if input.size else NULL
    args.weight = &weight[0, 0, 0, 0] if weight.size else NULL
    args.out = &out[0, 0, 0, 0]
    args.bias = &bias[0] if bias is not None else NULL
    args.reference = reference
    if packed is not None:
        args.p.packed_weights = packed.ptr
    cdef cconv_status status = _run_core(_transpose_f32, &args, &args.p.run,
                                         _transpose_work(&args.p))
    if status != CCONV_OK:
        _raise_for(status)


def conv_transpose2d_f64(const double[:, :, :, :] input, const double[:, :, :, ::1] weight,
                         const double[::1] bias, double[:, :, :, :] out, tuple geometry,
                         int threads, int simd, bint reference=False,
                         TransposePackedWeights packed=None):
    """The float64 twin of conv_transpose2d_f32."""
    cdef _TransposeArgs args
    cdef int64_t strides[4]
    cdef int64_t out_strides[4]
    _fill_transpose(&args.p, input.shape, weight.shape, out.shape, geometry, threads, simd,
                    input.strides, sizeof(double), strides)
    if not _element_strides(out.shape, out.strides, sizeof(double), out_strides):
        args.p.output_strides = out_strides
    if bias is not None and bias.shape[0] != out.shape[1]:
        raise ValueError("cconv: bias length does not match the output channels")
    args.input = &input[0, 0, 0, 0] if input.size else NULL
    args.weight = &weight[0, 0, 0, 0] if weight.size else NULL
    args.out = &out[0, 0, 0, 0]
    args.bias = &bias[0] if bias is not None else NULL
    args.reference = reference
    if packed is not None:
        args.p.packed_weights = packed.ptr
    cdef cconv_status status = _run_core(_transpose_f64, &args, &args.p.run,
                                         _transpose_work(&args.p))
    if status != CCONV_OK:
        _raise_for(status)


@cython.auto_pickle(False)
cdef class TransposePackedWeights:
    """A transposed convolution's weights (and bias) packed once by the C core
    (cconv_conv_transpose2d_pack_*); released with this object, shareable across threads."""
    cdef cconv_conv_transpose2d_packed *ptr

    def __dealloc__(self):
        cconv_conv_transpose2d_packed_destroy(self.ptr)

    @property
    def nbytes(self):
        """Bytes of packed weights."""
        return cconv_conv_transpose2d_packed_bytes(self.ptr)


def conv_transpose2d_pack(input, const _real[:, :, :, ::1] weight, const _real[::1] bias, out,
                          tuple geometry, int threads, int simd):
    """TransposePackedWeights of weight (C, O/groups, kH, kW) and bias (float32 or float64) for
    conv_transpose2d_f32/_f64 calls with this geometry, packed as for an input and an out laid
    out as these (4-D NCHW-ordered views; their contents are not read); None when there is
    nothing to pack."""
    cdef Py_ssize_t si[4]
    cdef Py_ssize_t so[4]
    cdef Py_ssize_t in_strides[4]
    cdef Py_ssize_t out_strides[4]
    cdef int64_t in_elems[4]
    cdef int64_t out_elems[4]
    for i in range(4):
        si[i], so[i] = input.shape[i], out.shape[i]
        in_strides[i], out_strides[i] = input.strides[i], out.strides[i]
    cdef cconv_conv_transpose2d_params p
    _fill_transpose(&p, si, weight.shape, so, geometry, threads, simd, in_strides,
                    input.itemsize, in_elems)
    if not _element_strides(so, out_strides, out.itemsize, out_elems):
        p.output_strides = out_elems
    if bias is not None and bias.shape[0] != so[1]:
        raise ValueError("cconv: bias length does not match the output channels")
    cdef const _real *w = (&weight[0, 0, 0, 0] if weight.shape[0] and weight.shape[1]
                          and weight.shape[2] and weight.shape[3] else NULL)
    cdef const _real *b = &bias[0] if bias is not None and bias.shape[0] else NULL
    cdef cconv_conv_transpose2d_packed *made = NULL
    cdef cconv_status status
    with nogil:
        if _real is float:
            status = cconv_conv_transpose2d_pack_f32(&p, w, b, &made)
        else:
            status = cconv_conv_transpose2d_pack_f64(&p, w, b, &made)
    if status != CCONV_OK:
        _raise_for(status)
    if made == NULL:
        return None
    cdef TransposePackedWeights packed = TransposePackedWeights.__new__(TransposePackedWeights)
    packed.ptr = made
    return packed


# ------------------------------------------------------------------------------------------------
# conv2d's weight gradient

cdef int _fill_weight_grad(cconv_conv2d_weight_params *p, const Py_ssize_t *shape_in,
                           const Py_ssize_t *shape_gy, const Py_ssize_t *shape_w, tuple geometry,
                           int threads, int simd, const Py_ssize_t *byte_strides,
                           Py_ssize_t itemsize, int64_t *strides) except -1:
    """Fills p from the (N, C, H, W) input, (N, O, OH, OW) grad_output and (O, C/groups, kH, kW)
    grad_weight shapes; geometry = (stride_h, stride_w, pad_top, pad_left, dilation_h,
    dilation_w, groups).  byte_strides NULL: no input strides (a shape-only query)."""
    memset(p, 0, sizeof(cconv_conv2d_weight_params))
    p.batch, p.in_channels, p.in_height, p.in_width = (
        shape_in[0], shape_in[1], shape_in[2], shape_in[3])
    (p.stride_h, p.stride_w, p.pad_top, p.pad_left, p.dilation_h, p.dilation_w,
     p.groups) = geometry
    p.out_channels, p.kernel_height, p.kernel_width = shape_w[0], shape_w[2], shape_w[3]
    p.out_height, p.out_width = shape_gy[2], shape_gy[3]
    if byte_strides != NULL:
        for i in range(4):
            if shape_in[i] <= 1:
                strides[i] = 0
            elif byte_strides[i] % itemsize:
                raise ValueError("cconv: input strides are not whole elements")
            else:
                strides[i] = byte_strides[i] // itemsize
        p.input_strides = strides
    p.run.threads = threads
    p.run.simd = simd
    if (shape_gy[0] != shape_in[0] or shape_gy[1] != shape_w[0] or p.groups < 1
            or shape_w[1] * p.groups != shape_in[1]):
        raise ValueError("cconv: input, grad_output and grad_weight shapes are inconsistent")
    return 0


cdef double _weight_grad_work(const cconv_conv2d_weight_params *p) noexcept:
    """Multiply-adds plus elements read and written (for _run_core)."""
    cdef double outputs = <double>p.batch * p.out_channels * p.out_height * p.out_width
    return (outputs * (p.in_channels // p.groups) * p.kernel_height * p.kernel_width + outputs
            + <double>p.batch * p.in_channels * p.in_height * p.in_width)


cdef struct _WeightGradArgs:
    cconv_conv2d_weight_params p
    const void *input
    const void *grad_output
    void *grad_weight
    bint reference


cdef cconv_status _weight_grad_f32(const void *args) noexcept nogil:
    cdef const _WeightGradArgs *a = <const _WeightGradArgs *>args
    if a.reference:
        return cconv_conv2d_weight_ref_f32(&a.p, <const float *>a.input,
                                           <const float *>a.grad_output, <float *>a.grad_weight)
    return cconv_conv2d_weight_f32(&a.p, <const float *>a.input, <const float *>a.grad_output,
                                   <float *>a.grad_weight)


cdef cconv_status _weight_grad_f64(const void *args) noexcept nogil:
    cdef const _WeightGradArgs *a = <const _WeightGradArgs *>args
    if a.reference:
        return cconv_conv2d_weight_ref_f64(&a.p, <const double *>a.input,
                                           <const double *>a.grad_output,
                                           <double *>a.grad_weight)
    return cconv_conv2d_weight_f64(&a.p, <const double *>a.input,
                                   <const double *>a.grad_output, <double *>a.grad_weight)


def conv2d_weight_f32(const float[:, :, :, :] input, const float[:, :, :, ::1] grad_output,
                      float[:, :, :, ::1] grad_weight, tuple geometry, int threads, int simd,
                      bint reference=False):
    """grad_weight = conv2d's weight gradient for float32 arrays: input of any strides,
    grad_output and grad_weight C-contiguous; geometry = (stride_h, stride_w, pad_top, pad_left,
    dilation_h, dilation_w, groups)."""
    cdef _WeightGradArgs args
    cdef int64_t strides[4]
    _fill_weight_grad(&args.p, input.shape, grad_output.shape, grad_weight.shape, geometry,
                      threads, simd, input.strides, sizeof(float), strides)
    args.input = &input[0, 0, 0, 0] if input.size else NULL
    args.grad_output = &grad_output[0, 0, 0, 0] if grad_output.size else NULL
    args.grad_weight = &grad_weight[0, 0, 0, 0] if grad_weight.size else NULL
    args.reference = reference
    cdef cconv_status status = _run_core(_weight_grad_f32, &args, &args.p.run,
                                         _weight_grad_work(&args.p))
    if status != CCONV_OK:
        _raise_for(status)


def conv2d_weight_f64(const double[:, :, :, :] input, const double[:, :, :, ::1] grad_output,
                      double[:, :, :, ::1] grad_weight, tuple geometry, int threads, int simd,
                      bint reference=False):
    """The float64 twin of conv2d_weight_f32."""
    cdef _WeightGradArgs args
    cdef int64_t strides[4]
    _fill_weight_grad(&args.p, input.shape, grad_output.shape, grad_weight.shape, geometry,
                      threads, simd, input.strides, sizeof(double), strides)
    args.input = &input[0, 0, 0, 0] if input.size else NULL
    args.grad_output = &grad_output[0, 0, 0, 0] if grad_output.size else NULL
    args.grad_weight = &grad_weight[0, 0, 0, 0] if grad_weight.size else NULL
    args.reference = reference
    cdef cconv_status status = _run_core(_weight_grad_f64, &args, &args.p.run,
                                         _weight_grad_work(&args.p))
    if status != CCONV_OK:
        _raise_for(status)


def conv2d_weight_workspace_bytes(tuple in_shape, tuple gy_shape, tuple w_shape,
                                  tuple geometry, int threads, int simd, size_t elem_size):
    """Temporary bytes (all threads) conv2d_weight_f32/f64 allocate; elem_size 4 or 8."""
    cdef Py_ssize_t si[4]
    cdef Py_ssize_t sg[4]
    cdef Py_ssize_t sw[4]
    for i in range(4):
        si[i], sg[i], sw[i] = in_shape[i], gy_shape[i], w_shape[i]
    cdef cconv_conv2d_weight_params p
    _fill_weight_grad(&p, si, sg, sw, geometry, threads, simd, NULL, 0, NULL)
    cdef size_t nbytes = 0
    cdef cconv_status status = cconv_conv2d_weight_workspace_bytes(&p, elem_size, &nbytes)
    if status != CCONV_OK:
        _raise_for(status)
    return nbytes


def output_size(int64_t size, int64_t kernel, int64_t stride, int64_t pad_before,
                int64_t pad_after, int64_t dilation):
    """The C core's output-size formula; -1 when the arguments are invalid or overflow."""
    return cconv_conv2d_output_size(size, kernel, stride, pad_before, pad_after, dilation)


@cython.auto_pickle(False)
cdef class PackedWeights:
    """Weights (and bias) packed once by the C core (cconv_conv2d_pack_*) for repeated conv2d
    calls; released with this object.  Read-only once made: calls on several threads may share
    it.  Not picklable (a pickled layer packs again: see cconv/_layer.py)."""
    cdef cconv_conv2d_packed *ptr

    def __dealloc__(self):
        cconv_conv2d_packed_destroy(self.ptr)

    @property
    def nbytes(self):
        """Bytes of packed weights and bias."""
        return cconv_conv2d_packed_bytes(self.ptr)


def conv2d_pack(input, const _real[:, :, :, ::1] weight, const _real[::1] bias, out,
                tuple geometry, int threads, int simd, int input_dtype=0):
    """PackedWeights of weight and bias (float32 or float64, the computation's type) for
    conv2d_f32/_f64/converting calls on an input and an out array laid out as these (4-D
    NCHW-ordered views of any strides; their contents are not read), or None when such calls
    read the weights in place and pack nothing.  The packing is a copy."""
    cdef Py_ssize_t si[4]
    cdef Py_ssize_t so[4]
    cdef Py_ssize_t in_strides[4]
    cdef Py_ssize_t out_strides[4]
    cdef int64_t in_elems[4]
    cdef int64_t out_elems[4]
    for i in range(4):
        si[i], so[i] = input.shape[i], out.shape[i]
        in_strides[i], out_strides[i] = input.strides[i], out.strides[i]
    cdef cconv_conv2d_params p
    _fill(&p, si, weight.shape, so, geometry, threads, simd, in_strides, input.itemsize,
          in_elems)
    if bias is not None and bias.shape[0] != weight.shape[0]:
        raise ValueError("cconv: bias length does not match the number of filters")
    if not _element_strides(so, out_strides, out.itemsize, out_elems):
        p.output_strides = out_elems
    p.input_dtype = <cconv_dtype>input_dtype
    cdef const _real *w = (&weight[0, 0, 0, 0] if weight.shape[0] and weight.shape[1]
                          and weight.shape[2] and weight.shape[3] else NULL)
    cdef const _real *b = &bias[0] if bias is not None and bias.shape[0] else NULL
    cdef cconv_conv2d_packed *made = NULL
    cdef cconv_status status
    with nogil:
        if _real is float:
            status = cconv_conv2d_pack_f32(&p, w, b, &made)
        else:
            status = cconv_conv2d_pack_f64(&p, w, b, &made)
    if status != CCONV_OK:
        _raise_for(status)
    if made == NULL:
        return None
    cdef PackedWeights packed = PackedWeights.__new__(PackedWeights)
    packed.ptr = made
    return packed


def kernels_used(input, tuple w_shape, out, tuple geometry, int simd, size_t elem_size,
                 int input_dtype=0, int padding_mode=0):
    """Which kernels conv2d runs for an input and an out array of these shapes and strides
    (4-D arrays; their contents are not read): see cconv_conv2d_kernels_used."""
    cdef Py_ssize_t si[4]
    cdef Py_ssize_t sw[4]
    cdef Py_ssize_t so[4]
    cdef Py_ssize_t in_strides[4]
    cdef Py_ssize_t out_strides[4]
    cdef int64_t in_elems[4]
    cdef int64_t out_elems[4]
    for i in range(4):
        si[i], sw[i], so[i] = input.shape[i], w_shape[i], out.shape[i]
        in_strides[i], out_strides[i] = input.strides[i], out.strides[i]
    cdef cconv_conv2d_params p
    _fill(&p, si, sw, so, geometry, 1, simd, in_strides, input.itemsize, in_elems)
    if not _element_strides(so, out_strides, out.itemsize, out_elems):
        p.output_strides = out_elems
    p.input_dtype = <cconv_dtype>input_dtype
    p.padding_mode = <cconv_padding_mode>padding_mode
    cdef const char *name = cconv_conv2d_kernels_used(&p, elem_size)
    if name == NULL:
        raise ValueError("cconv: invalid conv2d parameters")
    return name.decode()


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


# ------------------------------------------------------------------------------------------------
# Configuration

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


# ------------------------------------------------------------------------------------------------
# Pooling: one runner for every pooling entry point, picked by an operation number, the dtype and
# whether the reference kernel is wanted; the same GIL policy as conv2d (_run_core).

# Operation numbers (cconv/_pool.py passes them).
cdef enum:
    _MAX_POOL2D = 0
    _AVG_POOL2D = 1
    _AVG_POOL2D_BACKWARD = 2
    _ADAPTIVE_AVG_POOL2D = 3
    _ADAPTIVE_MAX_POOL2D = 4
    _ADAPTIVE_AVG_POOL2D_BACKWARD = 5
    _MAX_POOL2D_BACKWARD = 6

MAX_POOL2D = _MAX_POOL2D
AVG_POOL2D = _AVG_POOL2D
AVG_POOL2D_BACKWARD = _AVG_POOL2D_BACKWARD
ADAPTIVE_AVG_POOL2D = _ADAPTIVE_AVG_POOL2D
ADAPTIVE_MAX_POOL2D = _ADAPTIVE_MAX_POOL2D
ADAPTIVE_AVG_POOL2D_BACKWARD = _ADAPTIVE_AVG_POOL2D_BACKWARD
MAX_POOL2D_BACKWARD = _MAX_POOL2D_BACKWARD
# A channels-last array (channel stride 1) with at least this many channels runs the
# channels-last loops (the input forward, grad_input backward); fewer, the planar ones.
POOL_CL_MIN_CHANNELS = CCONV_POOL_CL_MIN_CHANNELS

cdef struct _PoolArgs:
    cconv_pool2d_params p            # windowed operations
    cconv_adaptive_pool2d_params a   # adaptive operations and max_pool2d_backward
    const void *src                  # input forward, grad_output backward
    void *dst                        # output forward, grad_input backward
    int64_t *indices                 # written by max forward (or NULL), read by max backward
    int op
    bint f64
    bint reference


cdef cconv_status _pool_f32(const _PoolArgs *g) noexcept nogil:
    cdef const float *s = <const float *>g.src
    cdef float *d = <float *>g.dst
    if g.op == _MAX_POOL2D:
        return (cconv_max_pool2d_ref_f32 if g.reference else cconv_max_pool2d_f32)(
            &g.p, s, d, g.indices)
    if g.op == _AVG_POOL2D:
        return (cconv_avg_pool2d_ref_f32 if g.reference else cconv_avg_pool2d_f32)(&g.p, s, d)
    if g.op == _AVG_POOL2D_BACKWARD:
        return (cconv_avg_pool2d_backward_ref_f32 if g.reference
                else cconv_avg_pool2d_backward_f32)(&g.p, s, d)
    if g.op == _ADAPTIVE_AVG_POOL2D:
        return (cconv_adaptive_avg_pool2d_ref_f32 if g.reference
                else cconv_adaptive_avg_pool2d_f32)(&g.a, s, d)
    if g.op == _ADAPTIVE_MAX_POOL2D:
        return (cconv_adaptive_max_pool2d_ref_f32 if g.reference
                else cconv_adaptive_max_pool2d_f32)(&g.a, s, d, g.indices)
    if g.op == _ADAPTIVE_AVG_POOL2D_BACKWARD:
        return (cconv_adaptive_avg_pool2d_backward_ref_f32 if g.reference
                else cconv_adaptive_avg_pool2d_backward_f32)(&g.a, s, d)
    if g.op == _MAX_POOL2D_BACKWARD:
        return (cconv_max_pool2d_backward_ref_f32 if g.reference
                else cconv_max_pool2d_backward_f32)(&g.a, s, g.indices, d)
    return CCONV_ERR_INVALID_ARGUMENT


cdef cconv_status _pool_f64(const _PoolArgs *g) noexcept nogil:
    cdef const double *s = <const double *>g.src
    cdef double *d = <double *>g.dst
    if g.op == _MAX_POOL2D:
        return (cconv_max_pool2d_ref_f64 if g.reference else cconv_max_pool2d_f64)(
            &g.p, s, d, g.indices)
    if g.op == _AVG_POOL2D:
        return (cconv_avg_pool2d_ref_f64 if g.reference else cconv_avg_pool2d_f64)(&g.p, s, d)
    if g.op == _AVG_POOL2D_BACKWARD:
        return (cconv_avg_pool2d_backward_ref_f64 if g.reference
                else cconv_avg_pool2d_backward_f64)(&g.p, s, d)
    if g.op == _ADAPTIVE_AVG_POOL2D:
        return (cconv_adaptive_avg_pool2d_ref_f64 if g.reference
                else cconv_adaptive_avg_pool2d_f64)(&g.a, s, d)
    if g.op == _ADAPTIVE_MAX_POOL2D:
        return (cconv_adaptive_max_pool2d_ref_f64 if g.reference
                else cconv_adaptive_max_pool2d_f64)(&g.a, s, d, g.indices)
    if g.op == _ADAPTIVE_AVG_POOL2D_BACKWARD:
        return (cconv_adaptive_avg_pool2d_backward_ref_f64 if g.reference
                else cconv_adaptive_avg_pool2d_backward_f64)(&g.a, s, d)
    if g.op == _MAX_POOL2D_BACKWARD:
        return (cconv_max_pool2d_backward_ref_f64 if g.reference
                else cconv_max_pool2d_backward_f64)(&g.a, s, g.indices, d)
    return CCONV_ERR_INVALID_ARGUMENT


cdef cconv_status _pool_run(const void *args) noexcept nogil:
    cdef const _PoolArgs *g = <const _PoolArgs *>args
    return _pool_f64(g) if g.f64 else _pool_f32(g)


cdef int _pool_strides(const Py_ssize_t *shape, const Py_ssize_t *byte_strides,
                       Py_ssize_t itemsize, int64_t *strides) except -1:
    """The element strides of a 4-D pooling array."""
    for i in range(4):
        # An axis of extent 1 is never stepped along, whatever its stride says.
        if shape[i] <= 1:
            strides[i] = 0
        elif byte_strides[i] % itemsize:
            raise ValueError("cconv: strides are not whole elements")
        else:
            strides[i] = byte_strides[i] // itemsize
    return 0


cdef int _pool_call(_PoolArgs *g, const Py_ssize_t *src_shape, const Py_ssize_t *src_strides,
                    const Py_ssize_t *dst_shape, const Py_ssize_t *dst_strides,
                    const Py_ssize_t *idx_shape, const Py_ssize_t *idx_strides,
                    Py_ssize_t itemsize, int threads, int simd,
                    double taps_per_output) except -1:
    """Fills g's shapes, strides and run options from src (read through its strides), dst
    (written through its strides) and the indices (idx_strides NULL: none; written laid out as
    dst forward, read through their own strides by max_pool2d_backward), then runs it under the
    GIL policy.  g.op, .src, .dst, .indices, .f64, .reference and the windowed geometry must be
    set."""
    cdef int64_t in_strides[4]
    cdef int64_t out_strides[4]
    cdef int64_t index_strides[4]
    _pool_strides(src_shape, src_strides, itemsize, in_strides)
    _pool_strides(dst_shape, dst_strides, itemsize, out_strides)
    if idx_strides != NULL:
        _pool_strides(idx_shape, idx_strides, sizeof(int64_t), index_strides)
        if g.op != _MAX_POOL2D_BACKWARD:
            for i in range(4):
                if index_strides[i] != out_strides[i]:
                    raise ValueError("cconv: indices must be laid out as the output")
    cdef bint backward = g.op in (_AVG_POOL2D_BACKWARD, _ADAPTIVE_AVG_POOL2D_BACKWARD,
                                  _MAX_POOL2D_BACKWARD)
    cdef const Py_ssize_t *in_shape = dst_shape if backward else src_shape
    cdef const Py_ssize_t *out_shape = src_shape if backward else dst_shape
    if in_shape[0] != out_shape[0] or in_shape[1] != out_shape[1]:
        raise ValueError("cconv: pooling input and output shapes are inconsistent")
    cdef cconv_run_options *run
    if g.op in (_MAX_POOL2D, _AVG_POOL2D, _AVG_POOL2D_BACKWARD):
        g.p.batch, g.p.channels, g.p.in_height, g.p.in_width = (
            in_shape[0], in_shape[1], in_shape[2], in_shape[3])
        g.p.out_height, g.p.out_width = out_shape[2], out_shape[3]
        g.p.input_strides = in_strides
        g.p.output_strides = out_strides
        run = &g.p.run
    else:
        g.a.batch, g.a.channels, g.a.in_height, g.a.in_width = (
            in_shape[0], in_shape[1], in_shape[2], in_shape[3])
        g.a.out_height, g.a.out_width = out_shape[2], out_shape[3]
        g.a.input_strides = in_strides
        g.a.output_strides = out_strides
        g.a.indices_strides = index_strides if idx_strides != NULL else NULL
        run = &g.a.run
    run.threads = threads
    run.simd = simd
    # Work: every tap read and every input element touched, and every output written.
    cdef double outputs = <double>out_shape[0] * out_shape[1] * out_shape[2] * out_shape[3]
    cdef double work = (outputs * (taps_per_output + 1)
                        + <double>in_shape[0] * in_shape[1] * in_shape[2] * in_shape[3])
    cdef cconv_status status = _run_core(_pool_run, g, run, work)
    if status != CCONV_OK:
        _raise_for(status)
    return 0


def _check_indices(indices, shape):
    if indices is not None and tuple(indices.shape[:4]) != tuple(shape[:4]):
        raise ValueError("cconv: indices must have the shape of the pooled array")


def pool2d(int op, const _real[:, :, :, :] src, _real[:, :, :, :] dst,
           int64_t[:, :, :, :] indices, tuple geometry, int threads, int simd,
           bint reference=False):
    """One windowed pooling call (no empty arrays), every array of any strides (an NHWC array
    seen through its axes runs the channels-last loops), the indices laid out as dst.  op:
    MAX_POOL2D (indices written, or None), AVG_POOL2D or AVG_POOL2D_BACKWARD (src is grad_output
    (N, C, OH, OW), dst grad_input (N, C, H, W)).

    geometry = (kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_bottom, pad_left,
                pad_right, dilation_h, dilation_w, ceil_mode, count_include_pad, divisor)."""
    if op not in (_MAX_POOL2D, _AVG_POOL2D, _AVG_POOL2D_BACKWARD):
        raise ValueError(f"cconv: {op} is not a windowed pooling operation")
    if op != _MAX_POOL2D and indices is not None:
        raise ValueError("cconv: only max pooling writes indices")
    _check_indices(indices, dst.shape)
    cdef _PoolArgs g
    (g.p.kernel_height, g.p.kernel_width, g.p.stride_h, g.p.stride_w, g.p.pad_top,
     g.p.pad_bottom, g.p.pad_left, g.p.pad_right, g.p.dilation_h, g.p.dilation_w,
     g.p.ceil_mode, g.p.count_include_pad, g.p.divisor) = geometry
    g.src, g.dst = &src[0, 0, 0, 0], &dst[0, 0, 0, 0]
    g.indices = &indices[0, 0, 0, 0] if indices is not None else NULL
    g.op, g.f64, g.reference = op, _real is double, reference
    _pool_call(&g, src.shape, src.strides, dst.shape, dst.strides,
               indices.shape if indices is not None else NULL,
               indices.strides if indices is not None else NULL, sizeof(_real), threads, simd,
               <double>g.p.kernel_height * g.p.kernel_width)


def adaptive_pool2d(int op, const _real[:, :, :, :] src, _real[:, :, :, :] dst,
                    int64_t[:, :, :, :] indices, int threads, int simd,
                    bint reference=False):
    """One adaptive pooling call (no empty arrays), arrays as for pool2d:
    ADAPTIVE_AVG_POOL2D, ADAPTIVE_MAX_POOL2D (indices written, or None) or
    ADAPTIVE_AVG_POOL2D_BACKWARD (src is grad_output, dst grad_input)."""
    if op not in (_ADAPTIVE_AVG_POOL2D, _ADAPTIVE_MAX_POOL2D, _ADAPTIVE_AVG_POOL2D_BACKWARD):
        raise ValueError(f"cconv: {op} is not an adaptive pooling operation")
    if op != _ADAPTIVE_MAX_POOL2D and indices is not None:
        raise ValueError("cconv: only max pooling writes indices")
    _check_indices(indices, dst.shape)
    cdef _PoolArgs g
    g.src, g.dst = &src[0, 0, 0, 0], &dst[0, 0, 0, 0]
    g.indices = &indices[0, 0, 0, 0] if indices is not None else NULL
    g.op, g.f64, g.reference = op, _real is double, reference
    _pool_call(&g, src.shape, src.strides, dst.shape, dst.strides,
               indices.shape if indices is not None else NULL,
               indices.strides if indices is not None else NULL, sizeof(_real), threads, simd,
               1.0)


def max_pool2d_backward(const _real[:, :, :, :] grad_output, const int64_t[:, :, :, :] indices,
                        _real[:, :, :, :] grad_input, int threads, int simd,
                        bint reference=False):
    """grad_input (zeroed, then each grad_output element added at its index) for windowed and
    adaptive max pooling; no empty arrays; every array of any strides."""
    _check_indices(indices, grad_output.shape)
    cdef _PoolArgs g
    g.src, g.dst = &grad_output[0, 0, 0, 0], &grad_input[0, 0, 0, 0]
    g.indices = <int64_t *>&indices[0, 0, 0, 0]   # only read by the backward entry points
    g.op, g.f64, g.reference = _MAX_POOL2D_BACKWARD, _real is double, reference
    _pool_call(&g, grad_output.shape, grad_output.strides, grad_input.shape, grad_input.strides,
               indices.shape, indices.strides, sizeof(_real), threads, simd, 1.0)


def pool_output_size(int64_t size, int64_t kernel, int64_t stride, int64_t pad_before,
                     int64_t pad_after, int64_t dilation, bint ceil_mode):
    """The C core's pooling output-size rule; -1 when the arguments are invalid or overflow."""
    return cconv_pool2d_output_size(size, kernel, stride, pad_before, pad_after, dilation,
                                    ceil_mode)


# ------------------------------------------------------------------------------------------------
# conv2d by Winograd's minimal filtering (the private cconv/_winograd.py calls these)

cdef struct _WinogradArgs:
    _Conv2dArgs base   # first, so that _conv2d's runner receives this struct's address
    int tile
    const void *u      # the transformed weights (winograd_weights), or NULL


cdef cconv_status _winograd_f32(const void *args) noexcept nogil:
    cdef const _WinogradArgs *a = <const _WinogradArgs *>args
    if a.u != NULL:
        return cconv_conv2d_winograd_given_f32(&a.base.p, a.tile, a.base.input,
                                               <const float *>a.base.weight,
                                               <const float *>a.u, <const float *>a.base.bias,
                                               <float *>a.base.out)
    return cconv_conv2d_winograd_f32(&a.base.p, a.tile, a.base.input,
                                     <const float *>a.base.weight, <const float *>a.base.bias,
                                     <float *>a.base.out)


cdef cconv_status _winograd_f64(const void *args) noexcept nogil:
    cdef const _WinogradArgs *a = <const _WinogradArgs *>args
    if a.u != NULL:
        return cconv_conv2d_winograd_given_f64(&a.base.p, a.tile, a.base.input,
                                               <const double *>a.base.weight,
                                               <const double *>a.u,
                                               <const double *>a.base.bias,
                                               <double *>a.base.out)
    return cconv_conv2d_winograd_f64(&a.base.p, a.tile, a.base.input,
                                     <const double *>a.base.weight, <const double *>a.base.bias,
                                     <double *>a.base.out)


cdef size_t _winograd_u_elems(cconv_conv2d_params *p, Py_ssize_t o, Py_ssize_t c_per_group,
                              Py_ssize_t kh, Py_ssize_t kw, int groups, int simd, int tile,
                              size_t elem_size):
    """Fills p with the weight shape, groups and SIMD path (what U depends on; a 1x1 image
    padded by 1 makes the rest valid) and returns U's element count (0: no such U)."""
    memset(p, 0, sizeof(cconv_conv2d_params))
    p.batch = 1
    p.in_channels = c_per_group * groups
    p.out_channels = o
    p.groups = groups
    p.kernel_height, p.kernel_width = kh, kw
    p.in_height = p.in_width = p.out_height = p.out_width = 1
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1
    p.stride_h = p.stride_w = p.dilation_h = p.dilation_w = 1
    p.run.threads = 1
    p.run.simd = simd
    return cconv_conv2d_winograd_weights_elems(p, tile, elem_size)


def winograd_weights(const _real[:, :, :, ::1] weight, int groups, int simd, int tile):
    """(U, finite): the weights transformed for F(tile x tile, 3x3) once, for conv2d_winograd's
    `u` (see cconv_conv2d_winograd_weights_f32); U is a 1-D array of the weight's dtype, and
    finite False when a weight or transformed value is not finite (then U must not be used)."""
    import numpy
    cdef cconv_conv2d_params p
    cdef size_t elems = _winograd_u_elems(&p, weight.shape[0], weight.shape[1], weight.shape[2],
                                          weight.shape[3], groups, simd, tile, sizeof(_real))
    if elems == 0:
        raise ValueError("cconv: these weights have no Winograd transform")
    u = numpy.empty(elems, numpy.float32 if _real is float else numpy.float64)
    cdef _real[::1] uv = u
    cdef int finite = 0
    cdef cconv_status status
    if _real is float:
        status = cconv_conv2d_winograd_weights_f32(&p, tile, &weight[0, 0, 0, 0], &uv[0],
                                                   &finite)
    else:
        status = cconv_conv2d_winograd_weights_f64(&p, tile, &weight[0, 0, 0, 0], &uv[0],
                                                   &finite)
    if status != CCONV_OK:
        _raise_for(status)
    return u, bool(finite)


def conv2d_winograd(input, const _real[:, :, :, ::1] weight, const _real[::1] bias,
                    _real[:, :, :, :] out, tuple geometry, int threads, int simd, int tile,
                    const _real[:, :, :, :] residual=None, tuple stage=None,
                    int padding_mode=0, double padding_value=0.0, const _real[::1] u=None):
    """conv2d through Winograd's F(tile x tile, 3x3) (tile 2 or 4), float32 or float64 by the
    weight's type: a 4-D non-empty input of that type, or of one the C core converts as it packs
    (uint8, int8, uint16, int16; float32 with float64 weights), of any strides; out and residual
    as for conv2d_f32.  u: winograd_weights's U of these weights, groups, simd and tile (finite),
    so that the weights are not transformed again."""
    import numpy
    arr = numpy.asarray(input)
    cdef cconv_dtype dtype = CCONV_DTYPE_SAME
    cdef bint single = _real is float
    if arr.ndim != 4 or arr.size == 0:
        raise ValueError("cconv: the input must be a non-empty 4-D array")
    if arr.dtype != (numpy.float32 if single else numpy.float64):
        if arr.dtype.char not in _INPUT_DTYPES or (
                arr.dtype.char == "f" and single) or not arr.dtype.isnative:
            raise ValueError(f"cconv: an input of dtype {arr.dtype} is not converted by the C core")
        dtype = <cconv_dtype><int>_INPUT_DTYPES[arr.dtype.char]
    if not arr.flags.aligned:
        raise ValueError("cconv: the input is not aligned")
    # Its first element's address (arr stays referenced, so alive, through the call).
    cdef size_t address = arr.__array_interface__["data"][0]
    cdef Py_ssize_t strides[4]
    cdef Py_ssize_t shape[4]
    for i in range(4):
        shape[i] = arr.shape[i]
        strides[i] = arr.strides[i]
    cdef _WinogradArgs args
    args.tile = tile
    args.u = NULL
    cdef cconv_conv2d_params up
    if u is not None:
        if <size_t>u.shape[0] != _winograd_u_elems(&up, weight.shape[0], weight.shape[1],
                                                   weight.shape[2], weight.shape[3],
                                                   geometry[8], simd, tile, sizeof(_real)):
            raise ValueError("cconv: u does not fit these weights")
        args.u = &u[0]
    args.base.weight, args.base.out = &weight[0, 0, 0, 0], &out[0, 0, 0, 0]
    args.base.bias = &bias[0] if bias is not None else NULL
    _conv2d(&args.base, _winograd_f32 if _real is float else _winograd_f64,
            <const void *>address, shape, strides, arr.itemsize, dtype, weight.shape,
            bias.shape[0] if bias is not None else -1, out.shape, out.strides, sizeof(_real),
            residual.shape if residual is not None else NULL,
            residual.strides if residual is not None else NULL,
            &residual[0, 0, 0, 0] if residual is not None else NULL,
            geometry, threads, simd, False, stage, padding_mode, padding_value)


def winograd_workspace_bytes(tuple in_shape, tuple w_shape, tuple out_shape, tuple geometry,
                             int threads, int simd, size_t elem_size, int tile):
    """Temporary bytes (all threads) conv2d_winograd allocates for this call; elem_size 4 or 8."""
    cdef Py_ssize_t si[4]
    cdef Py_ssize_t sw[4]
    cdef Py_ssize_t so[4]
    for i in range(4):
        si[i], sw[i], so[i] = in_shape[i], w_shape[i], out_shape[i]
    cdef cconv_conv2d_params p
    _fill(&p, si, sw, so, geometry, threads, simd)
    cdef size_t nbytes = 0
    cdef cconv_status status = cconv_conv2d_winograd_workspace_bytes(&p, tile, elem_size, &nbytes)
    if status != CCONV_OK:
        _raise_for(status)
    return nbytes
