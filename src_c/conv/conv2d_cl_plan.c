/* Geometry and work split of a channels-last conv2d call; see conv2d_cl_plan.h. */
#include <stdlib.h>
#include <string.h>

#include "conv/conv2d_cl_plan.h"
#include "runtime/checked_math.h"

/* Target size of one thread's packed band (as for the planar driver: a quarter of an L2). */
#define CCONV_CL_BAND_BUDGET_BYTES ((int64_t)256 * 1024)
/* Largest packed band a thread may allocate. */
#define CCONV_CL_BAND_LIMIT_BYTES ((int64_t)1 << 30)
/* Largest per-thread buffer of gathered border taps. */
#define CCONV_CL_GATHER_LIMIT_BYTES ((int64_t)4 << 20)
/* A block's packed weights are read once per tile of the band: they should stay in L2. */
#define CCONV_CL_BLOCK_BUDGET_BYTES (192.0 * 1024)

/* Fewer output positions than this: the weights' repacking would cost more than it saves. */
#define CCONV_CL_MIN_POSITIONS 128.0

static int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0); }
static int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

int cconv_conv2d_cl_suits(const cconv_conv2d_params *p, int64_t vl)
{
    const int64_t *in = p->input_strides, *out = p->output_strides;
    const int channels_last_in = in && p->in_channels > 1 && in[1] == 1;
    const int channels_last_out = out && p->out_channels > 1 && out[1] == 1;
    if (!channels_last_in && !channels_last_out) return 0;
    const int64_t group_in = p->in_channels / p->groups, group_out = p->out_channels / p->groups;
    /* Vectors over output channels: enough of them to fill most of a vector (narrower groups
     * are left to the planar kernels, which vectorise over positions whatever the layout). */
    if (group_in == 1 && p->groups > 1) return p->out_channels >= vl;
    /* The dense kernels read weights repacked once per call: a pass over all of them that
     * costs about as much as computing 100 positions with them.  Layers with fewer positions
     * (7 x 7 x 512) run the planar kernels, which read the weights in place. */
    const double positions = (double)p->batch * (double)p->out_height * (double)p->out_width;
    return 2 * group_out >= vl && positions >= CCONV_CL_MIN_POSITIONS;
}

cconv_status cconv_conv2d_cl_plan_init(cconv_conv2d_cl_plan *plan, const cconv_conv2d_params *p,
                                       size_t elem_size, int64_t mr, int64_t nv_max, int64_t vl,
                                       int64_t dwc3_nv_max)
{
    memset(plan, 0, sizeof(*plan));
    cconv_conv2d_plan_basics(&plan->common, p);
    const cconv_conv2d_plan *c = &plan->common;
    const int64_t C = p->in_channels, O = p->out_channels, G = p->groups;
    const int64_t OH = p->out_height, OW = p->out_width, sh = p->stride_h, sw = p->stride_w;
    plan->kernel_height = p->kernel_height;
    plan->kernel_width = p->kernel_width;
    plan->dilation_h = p->dilation_h;
    plan->dilation_w = p->dilation_w;
    plan->common.stride_h = sh;
    plan->common.stride_w = sw;
    plan->common.pad_top = p->pad_top;
    plan->common.pad_left = p->pad_left;
    if (!cconv_mul(p->kernel_height, p->kernel_width, &plan->taps)) return CCONV_ERR_NO_MEMORY;

    plan->depthwise = C / G == 1 && G > 1;
    plan->multiplier = plan->depthwise ? O / G : 1;
    plan->block_groups = plan->depthwise ? 1 : G;
    plan->group_out = plan->depthwise ? O : O / G;
    plan->reduce = plan->depthwise ? 1 : C / G;
    plan->vl = vl;
    plan->mr = mr;
    /* Depthwise 3-column layers read in place run the dwc3 kernels, whose blocks are at most
     * dwc3_nv_max vectors. */
    plan->dwc3 = plan->depthwise && p->kernel_width == 3 && p->dilation_w == 1 &&
                 (sw == 1 || sw == 2) && dwc3_nv_max > 0;
    if (plan->dwc3 && nv_max > dwc3_nv_max) nv_max = dwc3_nv_max;
    int64_t nv = ceil_div(plan->group_out, vl);
    if (nv > nv_max) nv = nv_max;
    /* Fewer vectors per block when a block's weights would not stay in L2 across the tiles. */
    const double vector_bytes = (double)plan->reduce * (double)plan->taps * (double)vl *
                                (double)elem_size;
    while (nv > 1 && (double)nv * vector_bytes > CCONV_CL_BLOCK_BUDGET_BYTES) nv--;
    plan->nv = nv;
    plan->block = nv * vl;
    plan->padded_out = round_up(plan->group_out, vl);
    plan->blocks = ceil_div(plan->group_out, plan->block);

    /* In place: nothing to convert or repeat, and channels adjacent.  The depthwise kernels
     * load whole vectors of channels, so they also need C to be a multiple of the vector (the
     * last block would read past the last pixel otherwise). */
    plan->in_place = p->input_dtype == CCONV_DTYPE_SAME && (C == 1 || c->in_stride_c == 1) &&
                     plan->multiplier == 1 && (!plan->depthwise || C % vl == 0);
    plan->gather = plan->in_place && (p->pad_top || p->pad_bottom || p->pad_left ||
                                      p->pad_right);
    plan->dwc3 = plan->dwc3 && plan->in_place;
    if (plan->in_place) {
        /* Position (y, x) has every tap inside when 0 <= y*sh - pad_top and
         * y*sh - pad_top + (kH-1)*dh < H, and the same along x. */
        const int64_t span_h = (p->kernel_height - 1) * p->dilation_h;
        const int64_t span_w1 = (p->kernel_width - 1) * p->dilation_w;
        plan->inner_y0 = ceil_div(p->pad_top, sh);
        plan->inner_y1 = p->in_height - span_h + p->pad_top > 0
                             ? ceil_div(p->in_height - span_h + p->pad_top, sh) : 0;
        plan->inner_x0 = ceil_div(p->pad_left, sw);
        plan->inner_x1 = p->in_width - span_w1 + p->pad_left > 0
                             ? ceil_div(p->in_width - span_w1 + p->pad_left, sw) : 0;
        /* Depthwise tiles gather every channel of their work item at once (one gather for all
         * its blocks); dense ones the group's input channels. */
    }
    if (plan->gather) {
        plan->gather_stride = plan->depthwise ? plan->padded_out : plan->reduce;
        int64_t elems;
        const int64_t gather_dims[] = {mr, plan->taps, plan->gather_stride};
        /* A buffer for the taps of huge kernels would not fit a cache: pack bands instead. */
        if (!cconv_mul_all(gather_dims, 3, &elems) ||
            elems > CCONV_CL_GATHER_LIMIT_BYTES / (int64_t)elem_size) {
            plan->in_place = plan->gather = 0;
        } else {
            plan->gather_elems = (size_t)(elems + vl);
        }
    }
    plan->packed_channels = plan->depthwise ? O : C;
    int64_t span_w;
    if (!cconv_mul(OW - 1, sw, &span_w) || !cconv_mul(p->kernel_width - 1, p->dilation_w,
                                                       &plan->packed_width) ||
        !cconv_add(span_w, plan->packed_width, &plan->packed_width))
        return CCONV_ERR_NO_MEMORY;
    plan->packed_width += 1;

    int64_t table_entries; /* row phases, tap offsets, gathered tap offsets */
    if (!cconv_add(2 * plan->taps, p->kernel_height, &table_entries) ||
        (uint64_t)table_entries > (uint64_t)(SIZE_MAX / sizeof(int64_t)))
        return CCONV_ERR_NO_MEMORY;
    plan->row_phases = (int64_t *)malloc((size_t)table_entries * sizeof(int64_t));
    if (!plan->row_phases) return CCONV_ERR_NO_MEMORY;
    plan->tap_offsets = (ptrdiff_t *)(plan->row_phases + p->kernel_height);
    plan->gather_taps = (ptrdiff_t *)(plan->row_phases + p->kernel_height + plan->taps);
    for (int64_t t = 0; t < plan->taps; t++)
        plan->gather_taps[t] = (ptrdiff_t)(t * plan->gather_stride);
    plan->row_phase_count =
        cconv_conv2d_used_phases(p->kernel_height, p->dilation_h, sh, plan->row_phases);
    const int64_t extra_rows = (p->kernel_height - 1) * p->dilation_h / sh;

    /* Bands: as many output rows as keep the packed band within budget (in place, the same
     * split, only to cut the work into items). */
    int64_t pixel_row;
    const int64_t row_dims[] = {plan->row_phase_count, plan->packed_width, plan->packed_channels,
                                (int64_t)elem_size};
    if (!cconv_mul_all(row_dims, 4, &pixel_row)) goto overflow;
    int64_t rows = CCONV_CL_BAND_BUDGET_BYTES / (pixel_row > 0 ? pixel_row : 1) - extra_rows;
    if (rows > OH) rows = OH;
    if (rows < 1) rows = 1;
    plan->band_rows = rows;
    plan->bands = ceil_div(OH, rows);
    plan->sub_rows = rows + extra_rows;
    const int64_t sub_dims[] = {plan->sub_rows, plan->packed_width, plan->packed_channels};
    if (!cconv_mul_all(sub_dims, 3, &plan->sub_size)) goto overflow;

    for (int64_t kh = 0; kh < p->kernel_height; kh++) {
        const int64_t dy = kh * p->dilation_h;
        for (int64_t kw = 0; kw < p->kernel_width; kw++) {
            const int64_t dx = kw * p->dilation_w;
            int64_t off;
            if (plan->in_place) {
                off = dy * c->in_stride_h + dx * c->in_stride_w;
            } else {
                const int64_t slot =
                    cconv_conv2d_phase_slot(plan->row_phases, plan->row_phase_count, dy % sh);
                int64_t within;
                if (!cconv_mul(slot, plan->sub_size, &off)) goto overflow;
                within = ((dy / sh) * plan->packed_width + dx) * plan->packed_channels;
                off += within;
            }
            plan->tap_offsets[kh * p->kernel_width + kw] = (ptrdiff_t)off;
        }
    }
    if (!plan->in_place) {
        int64_t band;
        /* slack: a depthwise block's last vector may read up to vl - 1 channels past the last
         * pixel of the band */
        if (!cconv_mul(plan->row_phase_count, plan->sub_size, &band) ||
            !cconv_add(band, vl, &band))
            goto overflow;
        if (band > CCONV_CL_BAND_LIMIT_BYTES / (int64_t)elem_size) {
            cconv_conv2d_cl_plan_free(plan);
            return CCONV_ERR_NO_MEMORY;
        }
        plan->band_elems = (size_t)band;
    }

    /* Work split: units of (image, band) and block groups, then chunks of blocks when those
     * are too few for four items per thread.  The split never changes an output's sum. */
    int threads = p->run.threads > 0 ? p->run.threads : cconv_max_threads();
    if (threads < 1) threads = 1;
    int64_t units;
    const int64_t unit_dims[] = {p->batch, plan->bands, plan->block_groups};
    if (!cconv_mul_all(unit_dims, 3, &units)) goto overflow;
    int64_t chunks = 1;
    const int64_t split = cconv_conv2d_split_threads(p, threads);
    if (split > 1 && units < 4 * split) chunks = ceil_div(4 * split, units);
    if (chunks > plan->blocks) chunks = plan->blocks;
    plan->chunk_blocks = ceil_div(plan->blocks, chunks);
    plan->chunks = ceil_div(plan->blocks, plan->chunk_blocks);
    if (!cconv_mul(units, plan->chunks, &plan->items)) goto overflow;
    if ((int64_t)threads > plan->items) threads = (int)(plan->items > 0 ? plan->items : 1);
    plan->threads = threads;

    int64_t weights;
    const int64_t weight_dims[] = {plan->block_groups, plan->padded_out, plan->reduce,
                                   plan->taps, (int64_t)elem_size};
    if (!cconv_mul_all(weight_dims, 5, &weights)) goto overflow;
    plan->weight_elems = (size_t)(weights / (int64_t)elem_size);
    plan->bias_elems = (size_t)(plan->block_groups * plan->padded_out);
    plan->tile_elems = (size_t)(mr * plan->block);
    const size_t per_thread = cconv_aligned_footprint(plan->band_elems * elem_size) +
                              cconv_aligned_footprint(plan->tile_elems * elem_size) +
                              cconv_aligned_footprint(plan->gather_elems * elem_size);
    plan->workspace_bytes = (size_t)threads * per_thread +
                            cconv_aligned_footprint(plan->weight_elems * elem_size) +
                            cconv_aligned_footprint(plan->bias_elems * elem_size) +
                            (size_t)table_entries * sizeof(int64_t);
    return CCONV_OK;

overflow:
    /* Checked parameters: what does not fit is the driver's own scratch, a memory limit. */
    cconv_conv2d_cl_plan_free(plan);
    return CCONV_ERR_NO_MEMORY;
}

void cconv_conv2d_cl_plan_free(cconv_conv2d_cl_plan *plan)
{
    free(plan->row_phases); /* the tap offsets share its block */
    plan->row_phases = NULL;
    plan->tap_offsets = plan->gather_taps = NULL;
}
