/* Geometry, memory budget and work split of a Winograd conv2d call; see winograd_plan.h. */
#include <string.h>

#include "runtime/aligned_alloc.h"
#include "runtime/checked_math.h"
#include "conv/winograd_plan.h"

/* The floor of the temporary memory cap, shared with the direct paths' tests. */
#define CCONV_WINOGRAD_CAP_FLOOR ((int64_t)8 * 1024 * 1024)
/* What one participant's buffers (its segment's V and M, packed input, output rows) may take:
 * about half a typical L2, so a segment's transforms and products stay in cache between the
 * three steps of an item. */
#define CCONV_WINOGRAD_SLOT_BYTES ((int64_t)512 * 1024)
/* The largest o_chunk before the work split: a segment's M for more output channels than this
 * would crowd its V out of the cache. */
#define CCONV_WINOGRAD_MAX_CHUNK 256

static int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0); }
static int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

cconv_status cconv_winograd_supported(const cconv_conv2d_params *p, int m)
{
    cconv_status status = cconv_conv2d_check(p);
    if (status != CCONV_OK) return status;
    if (m != 2 && m != 4) return CCONV_ERR_INVALID_ARGUMENT;
    if (p->kernel_height != 3 || p->kernel_width != 3 || p->stride_h != 1 || p->stride_w != 1 ||
        p->dilation_h != 1 || p->dilation_w != 1)
        return CCONV_ERR_INVALID_ARGUMENT;
    return CCONV_OK;
}

size_t cconv_winograd_memory_cap(const cconv_conv2d_params *p, size_t elem_size)
{
    int64_t out_bytes;
    const int64_t dims[] = {p->batch, p->out_channels, p->out_height, p->out_width,
                            (int64_t)elem_size};
    if (!cconv_mul_all(dims, 5, &out_bytes)) return SIZE_MAX;
    const int64_t quarter = out_bytes / 4;
    const int64_t cap = quarter > CCONV_WINOGRAD_CAP_FLOOR ? quarter : CCONV_WINOGRAD_CAP_FLOOR;
    return (uint64_t)cap > (uint64_t)SIZE_MAX ? SIZE_MAX : (size_t)cap;
}

/* Bytes of one participant's buffers for segments of `seg` tiles and chunks whose M rows are
 * mc_stride long, or -1 on overflow. */
static int64_t slot_bytes(const cconv_winograd_plan *pl, int64_t seg, int64_t mc_stride,
                          int64_t elem)
{
    int64_t v, mm, pack, row;
    const int64_t vd[] = {pl->points, seg, pl->cg_pad, elem};
    const int64_t md[] = {pl->points, seg, mc_stride, elem};
    const int64_t run = min64(seg, pl->tiles_w);
    const int64_t pd[] = {pl->a, pl->m * run + 2, pl->lanes, elem};
    const int64_t rd[] = {pl->lanes, pl->m, pl->m * run, elem};
    if (!cconv_mul_all(vd, 4, &v) || !cconv_mul_all(md, 4, &mm) || !cconv_mul_all(pd, 4, &pack) ||
        !cconv_mul_all(rd, 4, &row))
        return -1;
    int64_t total = (int64_t)(cconv_aligned_footprint((size_t)v) +
                              cconv_aligned_footprint((size_t)mm) +
                              cconv_aligned_footprint((size_t)pack) +
                              cconv_aligned_footprint((size_t)row));
    return total < 0 ? -1 : total;
}

cconv_status cconv_winograd_plan_init(cconv_winograd_plan *plan, const cconv_conv2d_params *p,
                                      int m, size_t elem_size, int64_t lanes, int64_t mr_max,
                                      int64_t nv_max, int64_t vl, int u_given)
{
    memset(plan, 0, sizeof(*plan));
    cconv_conv2d_plan_basics(&plan->base, p);
    plan->base.pad_top = p->pad_top; /* (not among the basics) */
    plan->base.pad_left = p->pad_left;
    const int64_t e = (int64_t)elem_size;
    plan->m = m;
    plan->a = m + 2;
    plan->points = plan->a * plan->a;
    plan->lanes = lanes;
    plan->cg = p->in_channels / p->groups;
    plan->og = p->out_channels / p->groups;
    plan->cg_pad = round_up(plan->cg, lanes);
    plan->tiles_h = ceil_div(p->out_height, m);
    plan->tiles_w = ceil_div(p->out_width, m);
    const int64_t td[] = {p->batch, plan->tiles_h, plan->tiles_w};
    if (!cconv_mul_all(td, 3, &plan->tiles)) return CCONV_ERR_NO_MEMORY;
    plan->mr = mr_max;
    plan->vl = vl;
    plan->nr = nv_max * vl;

    int threads = p->run.threads > 0 ? p->run.threads : cconv_max_threads();
    if (threads < 1) threads = 1;
    const int64_t cap = (int64_t)(cconv_winograd_memory_cap(p, elem_size) > (size_t)INT64_MAX
                                      ? INT64_MAX
                                      : (int64_t)cconv_winograd_memory_cap(p, elem_size));

    /* Passes over output channels: U of the whole group when it takes at most half the cap,
     * else of as many output channels as fit there (whole kernel tiles when possible). */
    int64_t per_o;
    const int64_t ud[] = {plan->points, plan->cg, e};
    if (!cconv_mul_all(ud, 3, &per_o)) return CCONV_ERR_NO_MEMORY;
    int64_t o_pass = plan->og;
    if (!u_given && per_o > 0 && round_up(plan->og, lanes) > (cap / 2) / per_o) {
        o_pass = (cap / 2) / per_o;
        o_pass = o_pass >= plan->nr ? o_pass / plan->nr * plan->nr : o_pass / lanes * lanes;
        if (o_pass < lanes) o_pass = lanes;
        if (o_pass > plan->og) o_pass = plan->og;
    }
    plan->o_pass = o_pass;
    plan->o_passes = ceil_div(plan->og, o_pass);
    plan->u_stride = round_up(o_pass, lanes);
    int64_t u_bytes;
    if (!cconv_mul(per_o, plan->u_stride, &u_bytes)) return CCONV_ERR_NO_MEMORY;
    if (u_given) u_bytes = 0; /* the caller's, not a temporary buffer */
    plan->u_bytes = (size_t)u_bytes;

    /* Chunks of output channels per item before the work split: the whole pass, up to a cap. */
    int64_t chunk = min64(o_pass, CCONV_WINOGRAD_MAX_CHUNK);
    chunk = chunk >= plan->nr ? chunk / plan->nr * plan->nr : round_up(chunk, lanes);
    if (chunk > o_pass) chunk = o_pass;

    /* Segment length: as many tiles as one participant's budget holds, with the
     * participants (threads, and one more for a handoff's helper) and U inside the cap. */
    const int64_t slots_for = (int64_t)threads + (p->run.handoff != NULL);
    int64_t left = cap - (int64_t)cconv_aligned_footprint((size_t)u_bytes);
    int64_t mc_stride = round_up(chunk, lanes);
    int64_t one = slot_bytes(plan, 1, mc_stride, e);
    if (one < 0) return CCONV_ERR_NO_MEMORY;
    while (left < one * slots_for && mc_stride > lanes) { /* many threads, huge channels */
        chunk = lanes;
        mc_stride = lanes;
        one = slot_bytes(plan, 1, mc_stride, e);
    }
    int64_t slots = slots_for;
    if (left < one * slots) {
        slots = left / one;
        if (slots < 1 + (p->run.handoff != NULL)) return CCONV_ERR_NO_MEMORY;
        threads = (int)(slots - (p->run.handoff != NULL));
    }
    int64_t budget = left / slots;
    if (budget > CCONV_WINOGRAD_SLOT_BYTES) budget = CCONV_WINOGRAD_SLOT_BYTES;
    int64_t seg = 1;
    while (seg < plan->tiles) {
        const int64_t bytes = slot_bytes(plan, seg + 1, mc_stride, e);
        if (bytes < 0 || bytes > budget) break;
        seg++;
    }
    /* With several threads, shorter segments first (down to one micro-kernel tile of rows):
     * items of whole segments never repeat an input transform, where chunks of output channels
     * (below) repeat it in each chunk, and each of them costs as much as a fair share of the
     * products when there are few output channels. */
    if (threads > 1 && ceil_div(plan->tiles, seg) < 4 * (int64_t)threads) {
        const int64_t want = round_up(ceil_div(plan->tiles, 4 * (int64_t)threads), plan->mr);
        if (want < seg) seg = want;
    }
    /* All tiles in one segment when they fit; else segments of whole micro-kernel tiles of
     * rows, as even as that allows. */
    if (seg >= plan->tiles) {
        plan->seg = plan->tiles;
    } else {
        if (seg > plan->mr) seg = seg / plan->mr * plan->mr;
        plan->seg = ceil_div(plan->tiles, ceil_div(plan->tiles, seg));
        if (plan->seg > plan->mr) plan->seg = min64(seg, round_up(plan->seg, plan->mr));
    }
    plan->segments = ceil_div(plan->tiles, plan->seg);
    plan->run_max = min64(plan->seg, plan->tiles_w);
    plan->cols = m * plan->run_max + 2;

    /* The split: four items per thread at least (so the last items and a descheduled thread
     * leave little idle time), from chunks of output channels when segments are too few; each
     * extra chunk of a segment repeats its input transform, which costs far less than the
     * products. */
    if (threads > 1 && plan->segments < 4 * (int64_t)threads) {
        const int64_t want = ceil_div(4 * (int64_t)threads, plan->segments);
        int64_t c = ceil_div(o_pass, want);
        c = c >= plan->nr ? round_up(c, plan->nr) : round_up(c, lanes);
        if (c < chunk) chunk = c;
    }
    if (chunk > o_pass) chunk = o_pass;
    plan->o_chunk = chunk;
    plan->o_chunks = ceil_div(o_pass, chunk);
    plan->mc_stride = round_up(chunk, lanes);

    /* Phase U: lane blocks of output channels, each over blocks of input channels when the
     * blocks are too few for the threads. */
    const int64_t lane_blocks = plan->u_stride / lanes;
    plan->u_cblocks = 1;
    if (threads > 1 && lane_blocks < 4 * (int64_t)threads)
        plan->u_cblocks = min64(plan->cg, ceil_div(4 * (int64_t)threads, lane_blocks));
    plan->u_cblock = ceil_div(plan->cg, plan->u_cblocks);
    plan->u_cblocks = ceil_div(plan->cg, plan->u_cblock);
    plan->threads = threads;

    /* Buffers: U once; per participant V, M, the packed input and the output rows. */
    int64_t v, mm, pack, row;
    const int64_t vd[] = {plan->points, plan->seg, plan->cg_pad, e};
    const int64_t md[] = {plan->points, plan->seg, plan->mc_stride, e};
    const int64_t pd[] = {plan->a, plan->cols, lanes, e};
    const int64_t rd[] = {lanes, m, m * plan->run_max, e};
    if (!cconv_mul_all(vd, 4, &v) || !cconv_mul_all(md, 4, &mm) || !cconv_mul_all(pd, 4, &pack) ||
        !cconv_mul_all(rd, 4, &row))
        return CCONV_ERR_NO_MEMORY;
    plan->v_bytes = (size_t)v;
    plan->m_bytes = (size_t)mm;
    plan->pack_bytes = (size_t)pack;
    plan->row_bytes = (size_t)row;
    const size_t per_slot = cconv_aligned_footprint(plan->v_bytes) +
                            cconv_aligned_footprint(plan->m_bytes) +
                            cconv_aligned_footprint(plan->pack_bytes) +
                            cconv_aligned_footprint(plan->row_bytes);
    const size_t slot_count = (size_t)threads + (p->run.handoff != NULL);
    plan->workspace_bytes = cconv_aligned_footprint(plan->u_bytes) + slot_count * per_slot;
    return CCONV_OK;
}
