# C declarations of the cconv core (src_c/include/cconv.h), all callable without the GIL.
from libc.stdint cimport int64_t

cdef extern from "cconv.h" nogil:
    ctypedef enum cconv_status:
        CCONV_OK
        CCONV_ERR_INVALID_ARGUMENT
        CCONV_ERR_OVERFLOW
        CCONV_ERR_NO_MEMORY
        CCONV_ERR_UNSUPPORTED_SIMD
        CCONV_ERR_INTERRUPTED

    ctypedef int (*cconv_poll_fn)(void *context) noexcept nogil

    ctypedef struct cconv_run_options:
        int threads
        int simd
        cconv_poll_fn poll
        void *poll_context
        void (*handoff)(void *) noexcept nogil
        double handoff_seconds

    ctypedef enum cconv_activation:
        CCONV_ACTIVATION_NONE
        CCONV_ACTIVATION_RELU
        CCONV_ACTIVATION_RELU6
        CCONV_ACTIVATION_LEAKY_RELU
        CCONV_ACTIVATION_CLAMP

    ctypedef enum cconv_padding_mode:
        CCONV_PAD_ZEROS
        CCONV_PAD_REFLECT
        CCONV_PAD_REPLICATE
        CCONV_PAD_CIRCULAR
        CCONV_PAD_SYMMETRIC

    ctypedef enum cconv_dtype:
        CCONV_DTYPE_SAME
        CCONV_DTYPE_F32
        CCONV_DTYPE_U8
        CCONV_DTYPE_I8
        CCONV_DTYPE_U16
        CCONV_DTYPE_I16

    ctypedef struct cconv_conv2d_packed:
        pass

    ctypedef struct cconv_conv2d_params:
        int64_t batch, in_channels, in_height, in_width, out_channels
        int64_t kernel_height, kernel_width
        int64_t stride_h, stride_w
        int64_t pad_top, pad_bottom, pad_left, pad_right
        int64_t dilation_h, dilation_w
        int64_t groups
        int64_t out_height, out_width
        const int64_t *input_strides
        const int64_t *output_strides
        cconv_dtype input_dtype
        cconv_padding_mode padding_mode
        double padding_value
        const void *residual
        cconv_activation activation
        double activation_alpha, activation_beta
        const cconv_conv2d_packed *packed_weights
        cconv_run_options run

    int64_t cconv_conv2d_output_size(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t)
    cconv_status cconv_conv2d_check(const cconv_conv2d_params *)
    cconv_status cconv_conv2d_f32(const cconv_conv2d_params *, const void *, const float *,
                                  const float *, float *)
    cconv_status cconv_conv2d_f64(const cconv_conv2d_params *, const void *, const double *,
                                  const double *, double *)
    const char *cconv_conv2d_kernels_used(const cconv_conv2d_params *, size_t)
    cconv_status cconv_conv2d_pack_f32(const cconv_conv2d_params *, const float *, const float *,
                                       cconv_conv2d_packed **)
    cconv_status cconv_conv2d_pack_f64(const cconv_conv2d_params *, const double *,
                                       const double *, cconv_conv2d_packed **)
    size_t cconv_conv2d_packed_bytes(const cconv_conv2d_packed *)
    void cconv_conv2d_packed_destroy(cconv_conv2d_packed *)
    cconv_status cconv_conv2d_ref_f32(const cconv_conv2d_params *, const void *, const float *,
                                      const float *, float *)
    cconv_status cconv_conv2d_ref_f64(const cconv_conv2d_params *, const void *,
                                      const double *, const double *, double *)
    ctypedef struct cconv_conv_transpose2d_packed:
        pass

    ctypedef struct cconv_conv_transpose2d_params:
        int64_t batch, in_channels, in_height, in_width
        int64_t out_channels, kernel_height, kernel_width
        int64_t stride_h, stride_w
        int64_t pad_top, pad_left
        int64_t dilation_h, dilation_w
        int64_t groups
        int64_t out_height, out_width
        const int64_t *input_strides
        const int64_t *output_strides
        const cconv_conv_transpose2d_packed *packed_weights
        cconv_run_options run

    cconv_status cconv_conv_transpose2d_pack_f32(const cconv_conv_transpose2d_params *,
                                                 const float *, const float *,
                                                 cconv_conv_transpose2d_packed **)
    cconv_status cconv_conv_transpose2d_pack_f64(const cconv_conv_transpose2d_params *,
                                                 const double *, const double *,
                                                 cconv_conv_transpose2d_packed **)
    size_t cconv_conv_transpose2d_packed_bytes(const cconv_conv_transpose2d_packed *)
    void cconv_conv_transpose2d_packed_destroy(cconv_conv_transpose2d_packed *)
    cconv_status cconv_conv_transpose2d_check(const cconv_conv_transpose2d_params *)
    cconv_status cconv_conv_transpose2d_f32(const cconv_conv_transpose2d_params *, const float *,
                                            const float *, const float *, float *)
    cconv_status cconv_conv_transpose2d_f64(const cconv_conv_transpose2d_params *,
                                            const double *, const double *, const double *,
                                            double *)
    cconv_status cconv_conv_transpose2d_ref_f32(const cconv_conv_transpose2d_params *,
                                                const float *, const float *, const float *,
                                                float *)
    cconv_status cconv_conv_transpose2d_ref_f64(const cconv_conv_transpose2d_params *,
                                                const double *, const double *, const double *,
                                                double *)
    ctypedef struct cconv_conv2d_weight_params:
        int64_t batch, in_channels, in_height, in_width
        int64_t out_channels, kernel_height, kernel_width
        int64_t stride_h, stride_w
        int64_t pad_top, pad_left
        int64_t dilation_h, dilation_w
        int64_t groups
        int64_t out_height, out_width
        const int64_t *input_strides
        cconv_run_options run

    cconv_status cconv_conv2d_weight_f32(const cconv_conv2d_weight_params *, const float *,
                                         const float *, float *)
    cconv_status cconv_conv2d_weight_f64(const cconv_conv2d_weight_params *, const double *,
                                         const double *, double *)
    cconv_status cconv_conv2d_weight_ref_f32(const cconv_conv2d_weight_params *, const float *,
                                             const float *, float *)
    cconv_status cconv_conv2d_weight_ref_f64(const cconv_conv2d_weight_params *,
                                             const double *, const double *, double *)
    cconv_status cconv_conv2d_weight_workspace_bytes(const cconv_conv2d_weight_params *, size_t,
                                                     size_t *)
    int cconv_simd_count()
    const char *cconv_simd_name(int)
    int cconv_simd_supported(int)
    int cconv_simd_find(const char *)
    int cconv_simd_best()
    int cconv_max_threads()
    const char *cconv_status_message(cconv_status)
    cconv_status cconv_conv2d_workspace_bytes(const cconv_conv2d_params *, size_t,
                                              size_t *)


# The thread pool's clock (src_c/runtime/thread_pool.h, internal to the C core but linked in).
cdef extern from "runtime/thread_pool.h" nogil:
    double cconv_monotonic_time()


# Pooling (src_c/include/cconv.h, "Pooling").
cdef extern from "cconv.h" nogil:
    ctypedef struct cconv_pool2d_params:
        int64_t batch, channels, in_height, in_width
        int64_t kernel_height, kernel_width
        int64_t stride_h, stride_w
        int64_t pad_top, pad_bottom, pad_left, pad_right
        int64_t dilation_h, dilation_w
        int ceil_mode
        int count_include_pad
        int64_t divisor
        int64_t out_height, out_width
        const int64_t *input_strides
        const int64_t *output_strides
        cconv_run_options run

    ctypedef struct cconv_adaptive_pool2d_params:
        int64_t batch, channels, in_height, in_width
        int64_t out_height, out_width
        const int64_t *input_strides
        const int64_t *output_strides
        const int64_t *indices_strides
        cconv_run_options run

    int64_t cconv_pool2d_output_size(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int)
    cconv_status cconv_pool2d_check(const cconv_pool2d_params *)
    cconv_status cconv_adaptive_pool2d_check(const cconv_adaptive_pool2d_params *)
    cconv_status cconv_max_pool2d_backward_check(const cconv_adaptive_pool2d_params *)

    cconv_status cconv_max_pool2d_f32(const cconv_pool2d_params *, const float *, float *,
                                      int64_t *)
    cconv_status cconv_max_pool2d_f64(const cconv_pool2d_params *, const double *, double *,
                                      int64_t *)
    cconv_status cconv_avg_pool2d_f32(const cconv_pool2d_params *, const float *, float *)
    cconv_status cconv_avg_pool2d_f64(const cconv_pool2d_params *, const double *, double *)
    cconv_status cconv_avg_pool2d_backward_f32(const cconv_pool2d_params *, const float *,
                                               float *)
    cconv_status cconv_avg_pool2d_backward_f64(const cconv_pool2d_params *, const double *,
                                               double *)
    cconv_status cconv_adaptive_avg_pool2d_f32(const cconv_adaptive_pool2d_params *,
                                               const float *, float *)
    cconv_status cconv_adaptive_avg_pool2d_f64(const cconv_adaptive_pool2d_params *,
                                               const double *, double *)
    cconv_status cconv_adaptive_max_pool2d_f32(const cconv_adaptive_pool2d_params *,
                                               const float *, float *, int64_t *)
    cconv_status cconv_adaptive_max_pool2d_f64(const cconv_adaptive_pool2d_params *,
                                               const double *, double *, int64_t *)
    cconv_status cconv_adaptive_avg_pool2d_backward_f32(const cconv_adaptive_pool2d_params *,
                                                        const float *, float *)
    cconv_status cconv_adaptive_avg_pool2d_backward_f64(const cconv_adaptive_pool2d_params *,
                                                        const double *, double *)
    cconv_status cconv_max_pool2d_backward_f32(const cconv_adaptive_pool2d_params *,
                                               const float *, const int64_t *, float *)
    cconv_status cconv_max_pool2d_backward_f64(const cconv_adaptive_pool2d_params *,
                                               const double *, const int64_t *, double *)

    cconv_status cconv_max_pool2d_ref_f32(const cconv_pool2d_params *, const float *, float *,
                                          int64_t *)
    cconv_status cconv_max_pool2d_ref_f64(const cconv_pool2d_params *, const double *,
                                          double *, int64_t *)
    cconv_status cconv_avg_pool2d_ref_f32(const cconv_pool2d_params *, const float *, float *)
    cconv_status cconv_avg_pool2d_ref_f64(const cconv_pool2d_params *, const double *,
                                          double *)
    cconv_status cconv_avg_pool2d_backward_ref_f32(const cconv_pool2d_params *, const float *,
                                                   float *)
    cconv_status cconv_avg_pool2d_backward_ref_f64(const cconv_pool2d_params *, const double *,
                                                   double *)
    cconv_status cconv_adaptive_avg_pool2d_ref_f32(const cconv_adaptive_pool2d_params *,
                                                   const float *, float *)
    cconv_status cconv_adaptive_avg_pool2d_ref_f64(const cconv_adaptive_pool2d_params *,
                                                   const double *, double *)
    cconv_status cconv_adaptive_max_pool2d_ref_f32(const cconv_adaptive_pool2d_params *,
                                                   const float *, float *, int64_t *)
    cconv_status cconv_adaptive_max_pool2d_ref_f64(const cconv_adaptive_pool2d_params *,
                                                   const double *, double *, int64_t *)
    cconv_status cconv_adaptive_avg_pool2d_backward_ref_f32(
        const cconv_adaptive_pool2d_params *, const float *, float *)
    cconv_status cconv_adaptive_avg_pool2d_backward_ref_f64(
        const cconv_adaptive_pool2d_params *, const double *, double *)
    cconv_status cconv_max_pool2d_backward_ref_f32(const cconv_adaptive_pool2d_params *,
                                                   const float *, const int64_t *, float *)
    cconv_status cconv_max_pool2d_backward_ref_f64(const cconv_adaptive_pool2d_params *,
                                                   const double *, const int64_t *, double *)


# The channel count from which pooling runs its channels-last loops (src_c/pool/pool2d_common.h,
# internal to the C core), for the tests to walk both loops.
cdef extern from "pool/pool2d_common.h" nogil:
    int CCONV_POOL_CL_MIN_CHANNELS


# conv2d by Winograd's minimal filtering (src_c/include/cconv.h).
cdef extern from "cconv.h" nogil:
    cconv_status cconv_conv2d_winograd_check(const cconv_conv2d_params *, int)
    cconv_status cconv_conv2d_winograd_f32(const cconv_conv2d_params *, int, const void *,
                                           const float *, const float *, float *)
    cconv_status cconv_conv2d_winograd_f64(const cconv_conv2d_params *, int, const void *,
                                           const double *, const double *, double *)
    cconv_status cconv_conv2d_winograd_workspace_bytes(const cconv_conv2d_params *, int, size_t,
                                                       size_t *)
    size_t cconv_conv2d_winograd_weights_elems(const cconv_conv2d_params *, int, size_t)
    cconv_status cconv_conv2d_winograd_weights_f32(const cconv_conv2d_params *, int,
                                                   const float *, float *, int *)
    cconv_status cconv_conv2d_winograd_weights_f64(const cconv_conv2d_params *, int,
                                                   const double *, double *, int *)
    cconv_status cconv_conv2d_winograd_given_f32(const cconv_conv2d_params *, int, const void *,
                                                 const float *, const float *, const float *,
                                                 float *)
    cconv_status cconv_conv2d_winograd_given_f64(const cconv_conv2d_params *, int, const void *,
                                                 const double *, const double *,
                                                 const double *, double *)
