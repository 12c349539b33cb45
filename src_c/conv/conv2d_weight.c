/* conv2d's weight gradient: the parameter check, the plan (slabs, tiles, work items) and the
 * driver template instantiated for float and double.  See conv2d_weight_template.h. */
#include <stdlib.h>
#include <string.h>

#include "cconv.h"
#include "conv2d_kernels.h"
#include "runtime/aligned_alloc.h"
#include "runtime/checked_math.h"
#include "runtime/thread_pool.h"
#include "runtime/transpose.h"

/* Channels-last input kept at once (a "chunk" of slabs): small enough to stay in L2/L3 while
 * every work item reads it, and within the temporary-memory budget of a backward call. */
#define CCONV_WGRAD_CHUNK_BYTES ((int64_t)4 << 20)

cconv_status cconv_conv2d_weight_check(const cconv_conv2d_weight_params *p)
{
    if (!p) return CCONV_ERR_INVALID_ARGUMENT;
    if (p->batch < 0 || p->in_channels < 0 || p->in_height < 0 || p->in_width < 0 ||
        p->out_channels < 0 || p->out_height < 0 || p->out_width < 0 || p->groups < 1 ||
        p->kernel_height < 1 || p->kernel_width < 1 || p->stride_h < 1 || p->stride_w < 1 ||
        p->dilation_h < 1 || p->dilation_w < 1 || p->pad_top < 0 || p->pad_left < 0)
        return CCONV_ERR_INVALID_ARGUMENT;
    if (p->in_channels % p->groups != 0 || p->out_channels % p->groups != 0)
        return CCONV_ERR_INVALID_ARGUMENT;
    const int64_t in_dims[] = {p->batch, p->in_channels, p->in_height, p->in_width,
                               (int64_t)sizeof(double)};
    const int64_t w_dims[] = {p->out_channels, p->in_channels / p->groups, p->kernel_height,
                              p->kernel_width, (int64_t)sizeof(double)};
    const int64_t out_dims[] = {p->batch, p->out_channels, p->out_height, p->out_width,
                                (int64_t)sizeof(double)};
    int64_t bytes;
    if (!cconv_mul_all(in_dims, 5, &bytes) || (uint64_t)bytes > (uint64_t)SIZE_MAX ||
        !cconv_mul_all(w_dims, 5, &bytes) || (uint64_t)bytes > (uint64_t)SIZE_MAX ||
        !cconv_mul_all(out_dims, 5, &bytes) || (uint64_t)bytes > (uint64_t)SIZE_MAX)
        return CCONV_ERR_OVERFLOW;
    /* Nothing is read when an array is empty (the gradient is then zeros). */
    if (p->batch == 0 || p->in_channels == 0 || p->out_channels == 0 || p->in_height == 0 ||
        p->in_width == 0 || p->out_height == 0 || p->out_width == 0)
        return CCONV_OK;
    /* The rows and columns the gradient reads: (OH - 1) * stride + (kH - 1) * dilation + 1,
     * starting pad_top before the image. */
    int64_t span, t;
    const int64_t last_y = p->out_height > 0 ? p->out_height - 1 : 0;
    const int64_t last_x = p->out_width > 0 ? p->out_width - 1 : 0;
    if (!cconv_mul(p->dilation_h, p->kernel_height - 1, &span) ||
        !cconv_mul(p->stride_h, last_y, &t) || !cconv_add(t, span, &t) ||
        !cconv_add(t, p->pad_top, &t) || !cconv_add(t, 1, &t) ||
        !cconv_mul(p->dilation_w, p->kernel_width - 1, &span) ||
        !cconv_mul(p->stride_w, last_x, &t) || !cconv_add(t, span, &t) ||
        !cconv_add(t, p->pad_left, &t) || !cconv_add(t, 1, &t))
        return CCONV_ERR_OVERFLOW;
    return CCONV_OK;
}

/* The plan of one call.  The output rows of each image are cut into bands; a "slab" is the
 * input rows one band reads, zero-padded and channels-last: slab[r][q][c] = input[n, c,
 * y0 * stride_h - pad_top + r, q - pad_left].  A chunk of slabs is packed, then every work item
 * (group, kernel tap, block of input channels, block of output channels) runs the micro-kernel
 * once per slab of the chunk and adds the tile into its own accumulator. */
typedef struct wgrad_plan {
    int64_t Cg, Og;
    int64_t band_rows, bands;  /* output rows per slab, slabs per image */
    int64_t slab_cols;         /* Wp: (OW - 1) * stride_w + (kW - 1) * dilation_w + 1 */
    int64_t slab_rows;         /* of a full band */
    int64_t row_step;          /* elements between the slab rows of successive output rows */
    int64_t slab_stride;       /* elements between slabs in the chunk buffer */
    int64_t slabs_per_chunk;
    int64_t mr, nv, nr;        /* micro-kernel tile: mr output channels x nr columns */
    /* The columns along the vectors: input channels, or, when `folded`, (kernel column, input
     * channel) pairs, which are contiguous in a channels-last slab too when groups == 1 and
     * dilation_w == 1: layers with fewer channels than a vector has lanes (an RGB first layer)
     * then still fill the vectors.  Each item runs every tap (item_taps of them: kH * kW, or
     * kH folded) for its block of columns. */
    int folded;
    int64_t columns;           /* Cg, or kW * Cg folded */
    int64_t item_taps;         /* kH * kW, or kH folded */
    int64_t c_blocks, o_blocks, items;
    int threads;
    ptrdiff_t *tap_offsets;    /* OW entries: x * stride_w * C */
} wgrad_plan;

static int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0); }

static cconv_status wgrad_plan_init(wgrad_plan *pl, const cconv_conv2d_weight_params *p,
                                    const cconv_kernel_set *set, size_t elem_size,
                                    int64_t mr_max, int64_t nv_max, int64_t vl)
{
    memset(pl, 0, sizeof(*pl));
    pl->Cg = p->in_channels / p->groups;
    pl->Og = p->out_channels / p->groups;
    (void)set;
    pl->slab_cols = (p->out_width - 1) * p->stride_w + (p->kernel_width - 1) * p->dilation_w + 1;
    int64_t pixel_bytes, row_bytes;
    if (!cconv_mul(p->in_channels, (int64_t)elem_size, &pixel_bytes) ||
        !cconv_mul(pixel_bytes, pl->slab_cols, &row_bytes))
        return CCONV_ERR_NO_MEMORY;
    /* Output rows per band: as many as keep one slab within the chunk budget. */
    const int64_t extra = (p->kernel_height - 1) * p->dilation_h + 1;
    int64_t rows = (CCONV_WGRAD_CHUNK_BYTES / (row_bytes > 0 ? row_bytes : 1) - extra) /
                       p->stride_h + 1;
    if (rows > p->out_height) rows = p->out_height;
    if (rows < 1) rows = 1;
    pl->band_rows = rows;
    pl->bands = ceil_div(p->out_height, rows);
    pl->slab_rows = (rows - 1) * p->stride_h + extra;
    /* (Unused, and possibly too large to form, when a band has one row.) */
    pl->row_step = rows > 1 ? p->stride_h * pl->slab_cols * p->in_channels : 0;
    int64_t slab;
    if (!cconv_mul(pl->slab_rows, pl->slab_cols, &slab) ||
        !cconv_mul(slab, p->in_channels, &slab))
        return CCONV_ERR_NO_MEMORY;
    pl->slab_stride = slab;
    int64_t slab_bytes;
    if (!cconv_mul(slab, (int64_t)elem_size, &slab_bytes) || slab_bytes > ((int64_t)1 << 30))
        return CCONV_ERR_NO_MEMORY; /* one band row of a gigantic image */
    pl->slabs_per_chunk = CCONV_WGRAD_CHUNK_BYTES / (slab_bytes > 0 ? slab_bytes : 1);
    if (pl->slabs_per_chunk < 1) pl->slabs_per_chunk = 1;
    if (pl->slabs_per_chunk > p->batch * pl->bands) pl->slabs_per_chunk = p->batch * pl->bands;

    /* The tile: columns along the vectors (only as many vectors as there are columns), output
     * channels along the rows. */
    pl->folded = p->groups == 1 && p->dilation_w == 1 && pl->Cg < vl &&
                 p->kernel_width * pl->Cg <= nv_max * vl;
    pl->columns = pl->folded ? p->kernel_width * pl->Cg : pl->Cg;
    pl->item_taps = pl->folded ? p->kernel_height : p->kernel_height * p->kernel_width;
    pl->nv = ceil_div(pl->columns, vl);
    if (pl->nv > nv_max) pl->nv = nv_max;
    pl->nr = pl->nv * vl;
    pl->mr = mr_max;
    pl->c_blocks = ceil_div(pl->columns, pl->nr); /* 1 when folded */
    pl->o_blocks = ceil_div(pl->Og, pl->mr);
    const int64_t dims[] = {p->groups, pl->c_blocks, pl->o_blocks};
    if (!cconv_mul_all(dims, 3, &pl->items)) return CCONV_ERR_NO_MEMORY;
    int threads = p->run.threads > 0 ? p->run.threads : cconv_max_threads();
    if ((int64_t)threads > pl->items) threads = (int)pl->items;
    pl->threads = threads < 1 ? 1 : threads;

    pl->tap_offsets = (ptrdiff_t *)malloc((size_t)p->out_width * sizeof(ptrdiff_t));
    if (!pl->tap_offsets) return CCONV_ERR_NO_MEMORY;
    for (int64_t x = 0; x < p->out_width; x++)
        pl->tap_offsets[x] = (ptrdiff_t)(x * p->stride_w * p->in_channels);
    return CCONV_OK;
}

static void wgrad_plan_free(wgrad_plan *pl)
{
    free(pl->tap_offsets);
    pl->tap_offsets = NULL;
}

#define WG_T float
#define WG_SUFFIX f32
#define WG_SET(field) f32_##field
#include "conv2d_weight_template.h"
#undef WG_T
#undef WG_SUFFIX
#undef WG_SET

#define WG_T double
#define WG_SUFFIX f64
#define WG_SET(field) f64_##field
#include "conv2d_weight_template.h"
#undef WG_T
#undef WG_SUFFIX
#undef WG_SET

cconv_status cconv_conv2d_weight_workspace_bytes(const cconv_conv2d_weight_params *params,
                                                 size_t elem_size, size_t *bytes)
{
    if (!bytes) return CCONV_ERR_INVALID_ARGUMENT;
    *bytes = 0;
    if (elem_size == sizeof(float)) return wgrad_workspace_f32(params, bytes);
    if (elem_size == sizeof(double)) return wgrad_workspace_f64(params, bytes);
    return CCONV_ERR_INVALID_ARGUMENT;
}
