/* Geometry and work split of a conv2d call; see conv2d_plan.h for the band layout. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/checked_math.h"
#include "conv/conv2d_plan.h"

/* Target size of one thread's packed band: about a quarter of a typical 1-2 MB L2, so the band,
 * the weights being streamed and the output tile stay in L2 together. */
#define CCONV_BAND_BUDGET_BYTES ((int64_t)256 * 1024)
/* Largest packed band a thread may allocate. */
#define CCONV_BAND_LIMIT_BYTES ((int64_t)1 << 30)

/* Outputs per thread below which a per-plane kernel call does not start more threads. */
#define CCONV_PLANE_MIN_OUTPUTS 4096.0

static int64_t round_up(int64_t a, int64_t b) { return cconv_ceil_div(a, b) * b; }

void cconv_conv2d_plan_basics(cconv_conv2d_plan *plan, const cconv_conv2d_params *p)
{
    memset(plan, 0, sizeof(*plan));
    plan->batch = p->batch;
    plan->in_channels = p->in_channels;
    plan->in_height = p->in_height;
    plan->in_width = p->in_width;
    plan->out_channels = p->out_channels;
    plan->groups = p->groups;
    plan->group_in_channels = p->in_channels / p->groups;
    plan->group_out_channels = p->out_channels / p->groups;
    plan->out_height = p->out_height;
    plan->out_width = p->out_width;
    plan->kernel_width = p->kernel_width;
    /* With an empty input no element is read, and C * H * W may not fit in 64 bits. */
    const int empty = p->batch == 0 || p->in_channels == 0 || p->in_height == 0 ||
                      p->in_width == 0;
    const int64_t H = empty ? 0 : p->in_height, W = empty ? 0 : p->in_width;
    if (p->input_strides) {
        plan->in_stride_n = p->input_strides[0];
        plan->in_stride_c = p->input_strides[1];
        plan->in_stride_h = p->input_strides[2];
        plan->in_stride_w = p->input_strides[3];
    } else {
        plan->in_stride_n = p->in_channels * H * W;
        plan->in_stride_c = H * W;
        plan->in_stride_h = W;
        plan->in_stride_w = 1;
    }
    /* Strides along an axis of extent 1 never move: they do not break contiguity. */
    plan->in_contiguous = (p->batch <= 1 || plan->in_stride_n == p->in_channels * H * W) &&
                          (p->in_channels <= 1 || plan->in_stride_c == H * W) &&
                          (H <= 1 || plan->in_stride_h == W) && (W <= 1 || plan->in_stride_w == 1);

    plan->input_dtype = p->input_dtype;
    plan->padding_mode = p->padding_mode;
    plan->padding_value = p->padding_value;

    cconv_conv2d_plan_layout(plan, p);
}

void cconv_conv2d_plan_layout(cconv_conv2d_plan *plan, const cconv_conv2d_params *p)
{
    /* For non-empty outputs, whose element count the check has bounded. */
    const int64_t OH = p->out_height, OW = p->out_width;
    if (p->output_strides) {
        plan->out_stride_n = p->output_strides[0];
        plan->out_stride_c = p->output_strides[1];
        plan->out_stride_h = p->output_strides[2];
        plan->out_stride_w = p->output_strides[3];
    } else {
        plan->out_stride_n = p->out_channels * OH * OW;
        plan->out_stride_c = OH * OW;
        plan->out_stride_h = OW;
        plan->out_stride_w = 1;
    }
    plan->out_rows_contiguous = (OH <= 1 || plan->out_stride_h == OW) &&
                                (OW <= 1 || plan->out_stride_w == 1);

    plan->residual = p->residual;
    plan->slope = 1.0;
    plan->lo = -HUGE_VAL;
    plan->hi = HUGE_VAL;
    switch (p->activation) {
    case CCONV_ACTIVATION_RELU: plan->lo = 0.0; break;
    case CCONV_ACTIVATION_RELU6: plan->lo = 0.0; plan->hi = 6.0; break;
    case CCONV_ACTIVATION_LEAKY_RELU: plan->slope = p->activation_alpha; break;
    case CCONV_ACTIVATION_CLAMP: plan->lo = p->activation_alpha; plan->hi = p->activation_beta;
        break;
    default: break;
    }
    plan->staged = p->residual != NULL || p->activation != CCONV_ACTIVATION_NONE;
}

static int compare_int64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The distinct values (k * dilation) % stride for k < kernel, ascending, into phases (room for
 * `kernel` values); returns how many. */
int64_t cconv_conv2d_used_phases(int64_t kernel, int64_t dilation, int64_t stride,
                                 int64_t *phases)
{
    for (int64_t k = 0; k < kernel; k++) phases[k] = (k * dilation) % stride;
    qsort(phases, (size_t)kernel, sizeof(int64_t), compare_int64);
    int64_t count = 0;
    for (int64_t k = 0; k < kernel; k++) {
        if (count == 0 || phases[k] != phases[count - 1]) phases[count++] = phases[k];
    }
    return count;
}

/* Index of `phase` in the ascending list (it is there by construction). */
int64_t cconv_conv2d_phase_slot(const int64_t *phases, int64_t count, int64_t phase)
{
    int64_t lo = 0, hi = count - 1;
    while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (phases[mid] < phase) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* How many threads the work split provides for: the thread count, and at least two when the
 * call has a handoff, which may bring a helper in at threads = 1 (and needs several items to see
 * when to call it). */
int64_t cconv_conv2d_split_threads(const cconv_conv2d_params *p, int threads)
{
    return p->run.handoff && threads < 2 ? 2 : threads;
}

cconv_status cconv_conv2d_plan_init(cconv_conv2d_plan *plan, const cconv_conv2d_params *p,
                                    size_t elem_size, int64_t mr_max, int64_t nr, int64_t vl)
{
    cconv_conv2d_plan_basics(plan, p);
    /* A stride matters only between outputs: with a single output row (column) any stride at
     * least the padded size gives the same result, and the clamp keeps stride_h * stride_w
     * (the polyphase count) from overflowing when a caller passes a huge one. */
    const int64_t padded_h = p->in_height + p->pad_top + p->pad_bottom;
    const int64_t padded_w = p->in_width + p->pad_left + p->pad_right;
    plan->stride_h = (p->out_height == 1 && p->stride_h > padded_h) ? padded_h : p->stride_h;
    plan->stride_w = (p->out_width == 1 && p->stride_w > padded_w) ? padded_w : p->stride_w;
    plan->pad_top = p->pad_top;
    plan->pad_left = p->pad_left;
    plan->mr_max = mr_max;
    plan->nr = nr;
    plan->vl = vl;
    if (!cconv_mul(p->kernel_height, p->kernel_width, &plan->taps)) return CCONV_ERR_NO_MEMORY;

    /* Sub-image width; cconv_conv2d_check has bounded the padded sizes already. */
    const int64_t sh = plan->stride_h, sw = plan->stride_w;
    plan->sub_width = cconv_ceil_div(padded_w, sw);
    const int64_t extra_rows = (p->kernel_height - 1) * p->dilation_h / sh;

    /* One allocation: the row and column phase lists, then the tap offsets (int64_t entries,
     * at least as large and aligned as ptrdiff_t ones). */
    int64_t table_entries;
    if (!cconv_add(plan->taps, p->kernel_height, &table_entries) ||
        !cconv_add(table_entries, p->kernel_width, &table_entries) ||
        (uint64_t)table_entries > (uint64_t)(SIZE_MAX / sizeof(int64_t)))
        return CCONV_ERR_NO_MEMORY;
    plan->row_phases = (int64_t *)malloc((size_t)table_entries * sizeof(int64_t));
    if (!plan->row_phases) return CCONV_ERR_NO_MEMORY;
    plan->col_phases = plan->row_phases + p->kernel_height;
    plan->tap_offsets = (ptrdiff_t *)(plan->col_phases + p->kernel_width);
    plan->row_phase_count = cconv_conv2d_used_phases(p->kernel_height, p->dilation_h, sh, plan->row_phases);
    plan->col_phase_count = cconv_conv2d_used_phases(p->kernel_width, p->dilation_w, sw, plan->col_phases);
    int64_t phases;
    if (!cconv_mul(plan->row_phase_count, plan->col_phase_count, &phases)) goto overflow;

    /* Bytes per band row across the group's channels, then as many rows as fit the budget. */
    int64_t row_bytes;
    const int64_t row_dims[] = {plan->group_in_channels > 0 ? plan->group_in_channels : 1, phases,
                                plan->sub_width, (int64_t)elem_size};
    if (!cconv_mul_all(row_dims, 4, &row_bytes)) goto overflow;
    int64_t rows = CCONV_BAND_BUDGET_BYTES / (row_bytes > 0 ? row_bytes : 1) - extra_rows;
    if (rows < 1) rows = 1;
    if (rows > p->out_height) rows = p->out_height;
    if (rows < 1) rows = 1;
    plan->band_rows = rows;
    plan->bands = cconv_ceil_div(p->out_height, rows);
    plan->sub_rows = rows + extra_rows;
    if (!cconv_mul(plan->sub_rows, plan->sub_width, &plan->sub_size)) goto overflow;

    int64_t max_offset = 0;
    for (int64_t kh = 0; kh < p->kernel_height; kh++) {
        const int64_t dy = kh * p->dilation_h;
        for (int64_t kw = 0; kw < p->kernel_width; kw++) {
            const int64_t dx = kw * p->dilation_w;
            const int64_t sub_index =
                cconv_conv2d_phase_slot(plan->row_phases, plan->row_phase_count, dy % sh) *
                    plan->col_phase_count +
                cconv_conv2d_phase_slot(plan->col_phases, plan->col_phase_count, dx % sw);
            int64_t off;
            if (!cconv_mul(sub_index, plan->sub_size, &off)) goto overflow;
            off += (dy / sh) * plan->sub_width + dx / sw;
            plan->tap_offsets[kh * p->kernel_width + kw] = (ptrdiff_t)off;
            if (off > max_offset) max_offset = off;
        }
    }
    /* The plane must hold all sub-images and every position the last tile reads. */
    int64_t subs_total, tile_end;
    if (!cconv_mul(phases, plan->sub_size, &subs_total)) goto overflow;
    tile_end = round_up(rows * plan->sub_width, nr);
    {
        /* Row tiles (below) read from the last row's start up to its width rounded up to a
         * vector, which may pass the sub-image row when the rounding exceeds the padding. */
        const int64_t row_tile_end = (rows - 1) * plan->sub_width + round_up(p->out_width, vl);
        if (row_tile_end > tile_end) tile_end = row_tile_end;
    }
    int64_t needed = max_offset + tile_end;
    if (needed < subs_total) needed = subs_total;
    plan->plane_stride = round_up(needed, 16);
    int64_t band_bytes;
    /* The driver allocates at least one channel's plane (see conv2d_driver_template.h). */
    const int64_t band_dims[] = {plan->group_in_channels > 0 ? plan->group_in_channels : 1,
                                 plan->plane_stride, (int64_t)elem_size};
    if (!cconv_mul_all(band_dims, 3, &band_bytes) || (uint64_t)band_bytes > (uint64_t)SIZE_MAX / 2)
        goto overflow;
    /* A band is at least one output row wide; only strides far beyond the kernel with padding
     * or dilation far beyond the input make it this large, and refusing them beats calloc'ing
     * (and then filling) gigabytes per thread. */
    if (band_bytes > CCONV_BAND_LIMIT_BYTES) {
        cconv_conv2d_plan_free(plan);
        return CCONV_ERR_NO_MEMORY;
    }

    /* Work split.  Units of (image, group, band) come first; when they are too few to keep every
     * thread busy, each unit's output channels are cut into chunks too.  The split never changes
     * the arithmetic: each output's sum is computed by the same micro-kernel in the same order. */
    int threads = p->run.threads > 0 ? p->run.threads : cconv_max_threads();
    if (threads < 1) threads = 1;
    int64_t units;
    const int64_t unit_dims[] = {p->batch, p->groups, plan->bands};
    if (!cconv_mul_all(unit_dims, 3, &units)) goto overflow;
    const int64_t og = plan->group_out_channels;
    const int64_t max_chunks = og > 0 ? cconv_ceil_div(og, mr_max) : 1;
    int64_t chunks = 1;
    /* Four items per thread at least, so the last, shorter band or a descheduled thread leaves
     * little idle time; repacking a band for a second chunk costs far less than the kernels. */
    const int64_t split = cconv_conv2d_split_threads(p, threads);
    if (split > 1 && units < 4 * split) chunks = cconv_ceil_div(4 * split, units);
    if (chunks > max_chunks) chunks = max_chunks;
    plan->out_chunk = og > 0 ? round_up(cconv_ceil_div(og, chunks), mr_max) : mr_max;
    plan->out_chunks = og > 0 ? cconv_ceil_div(og, plan->out_chunk) : 1;
    if (!cconv_mul(units, plan->out_chunks, &plan->items)) goto overflow;
    if ((int64_t)threads > plan->items) threads = (int)(plan->items > 0 ? plan->items : 1);
    plan->threads = threads;

    /* Tiles along output rows (x0 = 0, nr, ... < out_width, the last one rounded up to a vector)
     * store straight into the output: no tile buffer, no copy.  Flattened tiles (j0 = 0, nr, ...
     * over whole band rows of sub_width) waste the sub_width - out_width columns instead and go
     * through the tile buffer.  Row tiles win whenever a rounded-up row is no longer than a
     * sub-image row, unless rows are so narrow that row tiles would be a fraction of the main
     * tile: a 4 x 1-vector tile loads 5 values per 4 FMAs, a 4 x 4-vector one 8 per 16. */
    plan->row_tiles = round_up(p->out_width, vl) <= plan->sub_width &&
                      2 * round_up(p->out_width, vl) >= nr;

    /* Stride 1 without padding: the sub-image is the input channel itself (sub_width = in_width,
     * the same tap offsets), so tiles read it in place and nothing is packed, except a tile whose
     * reads would pass the end of its channel (the last ones of the last band), which reads the
     * packed band instead. */
    plan->in_place = sh == 1 && sw == 1 && p->pad_top == 0 && p->pad_bottom == 0 &&
                     p->pad_left == 0 && p->pad_right == 0 && plan->in_contiguous &&
                     p->input_dtype == CCONV_DTYPE_SAME;
    plan->max_offset = max_offset;

    /* A work item's weights (out_chunk filters) against its band: the larger streams once in the
     * outer loop. Small images with many channels (7x7x512) have far more weights than input. */
    {
        const double chunk_weights = (double)plan->out_chunk * (double)plan->group_in_channels *
                                     (double)plan->taps;
        const double band_input = (double)plan->group_in_channels * (double)plan->plane_stride;
        plan->weights_outer = chunk_weights > band_input;
    }

    /* What the driver allocates: per thread the band and one tile; once the tap offsets. */
    plan->band_bytes = (size_t)(plan->group_in_channels > 0 ? plan->group_in_channels : 1) *
                       (size_t)plan->plane_stride * elem_size;
    plan->tile_bytes = (size_t)(mr_max * nr) * elem_size;
    const size_t per_thread = cconv_aligned_footprint(plan->band_bytes) +
                              cconv_aligned_footprint(plan->tile_bytes);
    plan->workspace_bytes = (size_t)threads * per_thread + (size_t)table_entries * sizeof(int64_t);
    return CCONV_OK;

overflow:
    /* The parameters passed cconv_conv2d_check, so what does not fit here is the driver's own
     * scratch (a band for a huge stride, dilation or padding): a memory limit, not bad input. */
    cconv_conv2d_plan_free(plan);
    return CCONV_ERR_NO_MEMORY;
}

cconv_status cconv_conv2d_plan_init_planes(cconv_conv2d_plan *plan, const cconv_conv2d_params *p,
                                           int64_t planes_per_item)
{
    cconv_conv2d_plan_basics(plan, p);
    plan->stride_h = p->stride_h;
    plan->stride_w = p->stride_w;
    plan->pad_top = p->pad_top;
    plan->pad_left = p->pad_left;
    if (!cconv_mul(p->kernel_height, p->kernel_width, &plan->taps)) return CCONV_ERR_NO_MEMORY;
    plan->out_chunk = plan->out_chunks = 1;

    int threads = p->run.threads > 0 ? p->run.threads : cconv_max_threads();
    if (threads < 1) threads = 1;
    /* A unit: up to planes_per_item consecutive output planes of one image. */
    plan->dw_units_per_image = cconv_ceil_div(p->out_channels, planes_per_item);
    int64_t units, planes;
    if (!cconv_mul(p->batch, plan->dw_units_per_image, &units) ||
        !cconv_mul(p->batch, p->out_channels, &planes))
        return CCONV_ERR_NO_MEMORY;
    /* Four items per thread at least (as in cconv_conv2d_plan_init), from row ranges when the
     * planes are too few. */
    int64_t bands = 1;
    const int64_t split = cconv_conv2d_split_threads(p, threads);
    if (split > 1 && units < 4 * split) bands = cconv_ceil_div(4 * split, units);
    if (bands > p->out_height) bands = p->out_height;
    if (bands < 1) bands = 1;
    plan->band_rows = cconv_ceil_div(p->out_height, bands);
    if (plan->band_rows < 1) plan->band_rows = 1;
    plan->bands = cconv_ceil_div(p->out_height, plan->band_rows);
    if (!cconv_mul(units, plan->bands, &plan->items)) return CCONV_ERR_NO_MEMORY;
    if ((int64_t)threads > plan->items) threads = (int)(plan->items > 0 ? plan->items : 1);
    /* Starting a parallel region costs about as much as a few thousand outputs of these kernels:
     * small calls stay on the calling thread. */
    const double outputs = (double)planes * (double)p->out_height * (double)p->out_width;
    if ((double)threads * CCONV_PLANE_MIN_OUTPUTS > outputs)
        threads = outputs >= 2 * CCONV_PLANE_MIN_OUTPUTS ? (int)(outputs / CCONV_PLANE_MIN_OUTPUTS)
                                                        : 1;
    plan->threads = threads;
    return CCONV_OK;
}

int cconv_conv2d_input_planes_contiguous(const cconv_conv2d_params *p)
{
    if (!p->input_strides) return 1;
    return (p->in_height <= 1 || p->input_strides[2] == p->in_width) &&
           (p->in_width <= 1 || p->input_strides[3] == 1);
}

void cconv_conv2d_plan_free(cconv_conv2d_plan *plan)
{
    free(plan->row_phases); /* the tap offsets and phase lists are one block */
    plan->row_phases = plan->col_phases = NULL;
    plan->tap_offsets = NULL;
}
