"""The halo arithmetic of one spatial axis: which output rows each block computes, which rows of
its source it reads, how wide the halos are, and the output's chunks.

Pure integer arithmetic, no Dask.  "Rows" stands for the positions along either spatial axis.
Positions are input coordinates: row 0 is the input's first row, negative rows and rows from
`size` on are border rows.

The output chunks follow the input chunks (see `output_bounds`): an input chunk boundary b
becomes the output boundary ceil(b / stride) for the windowed operations (conv2d, pooling: output
row y starts its window at input row y * stride - padding, so it goes with input row y * stride)
and b * stride for the transposed convolution (output row Y spreads from input row Y / stride);
both clamped to the output size, whose last chunk takes what is left; an input chunk that holds
no output's start (one smaller than the stride) gives no output chunk.  So a "same" convolution
keeps the input's chunks and a stride-2 one halves them.

A computation block is one input chunk extended by the border rows before the first and after
the last chunk.  Its halo is what its outputs read beyond it: the rows before it come from the
previous block and those after it from the next one (dask.array.overlap does the exchange), one
depth per side for every block of an axis, as overlap requires (the largest any block needs;
each block then reads exactly the rows its outputs need from its overlapped block).  A block smaller than that depth
cannot lend it whole, so such blocks are merged with their neighbours first; the output is then
rechunked to the chunks above, so that the rule holds whatever the input's chunks.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

# (first, end) of the output rows of a block -> (first, end) of the input rows they read.
Window = Callable[[int, int], "tuple[int, int]"]


class AxisPlan(NamedTuple):
    """How one spatial axis is cut into computation blocks."""

    extent: tuple[int, int]             # source rows [start, end): the input with its border rows
    source_chunks: tuple[int, ...]      # the computation blocks' rows, summing to the extent
    depth: tuple[int, int]              # halo rows every block gets from before / after it
    out_chunks: tuple[int, ...]         # output rows of each computation block
    final_chunks: tuple[int, ...]       # the output's chunks: output_bounds, empty ones dropped
    windows: tuple[tuple[int, int], ...]  # per block: the rows its outputs read ([lo, hi))
    origins: tuple[int, ...]            # per block: the row where its overlapped block starts

    def reads(self, block: int) -> tuple[int, int]:
        """(offset, count) of the rows that block's outputs read, clipped to the extent,
        within its overlapped block."""
        lo, hi = self.windows[block]
        lo, hi = max(lo, self.extent[0]), min(hi, self.extent[1])
        return lo - self.origins[block], max(hi - lo, 0)


def forward_window(stride: int, pad_before: int, span: int) -> Window:
    """Output rows [o0, o1) of a windowed operation (conv2d, pooling) read input rows
    [o0 * stride - pad_before, (o1 - 1) * stride - pad_before + span), span = dilation *
    (kernel - 1) + 1."""
    def window(o0: int, o1: int) -> tuple[int, int]:
        return o0 * stride - pad_before, (o1 - 1) * stride - pad_before + span
    return window


def transpose_window(stride: int, pad_before: int, reach: int) -> Window:
    """Input rows a transposed convolution reads for output rows [o0, o1), reach = dilation *
    (kernel - 1).  Output row Y is row Y + pad_before of the uncropped output, which input row x
    reaches through tap k when Y + pad_before = x * stride + k * dilation.  The rows are chosen
    so that a call on them alone, cropped by non-negative paddings, gives exactly these outputs:
    the first row x0 has x0 * stride <= o0 + pad_before and the last x1 has x1 * stride + reach >=
    o1 - 1 + pad_before (rows that reach nothing wanted are zeros, or inputs whose taps miss)."""
    def window(o0: int, o1: int) -> tuple[int, int]:
        first, last = o0 + pad_before, o1 - 1 + pad_before
        x0 = min(-(-(first - reach) // stride), first // stride)
        x1 = max(last // stride, -(-(last - reach) // stride))
        return x0, x1 + 1
    return window


def output_bounds(input_bounds: list[int], out_size: int, stride: int,
                  transposed: bool) -> list[int]:
    """The output's chunk boundaries from the input's (both start with 0 and end with the
    size): ceil(b / stride), or b * stride for a transposed convolution, clamped to the
    output size; the last output chunk ends at the output size."""
    inner = [min(b * stride if transposed else -(-b // stride), out_size)
             for b in input_bounds[1:-1]]
    return [0] + inner + [out_size]


def plan_axis(size: int, chunks: tuple[int, ...], out_size: int, stride: int, window: Window,
              *, transposed: bool = False, clip: bool = False) -> AxisPlan:
    """The plan of one axis of `size` rows in `chunks` (size >= 1).

    window(o0, o1) gives the input rows that output rows [o0, o1) read.  With clip=False the
    source is extended by border rows until it holds every window (the caller materialises
    them); with clip=True the source is the input alone and the rows a window reads outside it
    are left to the caller (the operation's own padding).
    """
    bounds = _bounds(chunks)
    out = output_bounds(bounds, out_size, stride, transposed)
    final_chunks = tuple(c for c in _sizes(out) if c)
    windows = [window(o0, o1) if o1 > o0 else None for o0, o1 in zip(out, out[1:])]
    if clip:
        extent = (0, size)
    else:
        extent = (min([0] + [w[0] for w in windows if w]),
                  max([size] + [w[1] for w in windows if w]))
    edges = [extent[0]] + bounds[1:-1] + [extent[1]]
    depth = _depth(edges, windows, extent)
    if len(edges) > 2 and min(_sizes(edges)) < max(depth):
        edges, out = _merge(edges, out, max(depth))
        windows = [window(o0, o1) if o1 > o0 else None for o0, o1 in zip(out, out[1:])]
        depth = _depth(edges, windows, extent)
    origins = tuple(e - (depth[0] if i else 0) for i, e in enumerate(edges[:-1]))
    return AxisPlan(extent, _sizes(edges), depth, _sizes(out), final_chunks,
                    tuple(w if w else (e, e) for w, e in zip(windows, edges)), origins)


def _bounds(chunks) -> list[int]:
    bounds = [0]
    for c in chunks:
        bounds.append(bounds[-1] + c)
    return bounds


def _sizes(bounds) -> tuple[int, ...]:
    return tuple(b - a for a, b in zip(bounds, bounds[1:]))


def _depth(edges, windows, extent) -> tuple[int, int]:
    """The widest halo any block needs before and after itself (one block: none)."""
    if len(edges) == 2:
        return 0, 0
    before = after = 0
    for start, end, w in zip(edges, edges[1:], windows):
        if w:
            before = max(before, start - max(w[0], extent[0]))
            after = max(after, min(w[1], extent[1]) - end)
    return before, after


def _merge(edges, out, least: int):
    """Merges neighbouring blocks (and their outputs) until each has at least `least` rows, or
    one block is left.  Merging only removes boundaries, and the halo a block needs depends on
    its own boundaries alone, so the merged blocks need no wider halos."""
    keep = [0]
    for i in range(1, len(edges) - 1):
        if edges[i] - edges[keep[-1]] >= least:
            keep.append(i)
    if edges[-1] - edges[keep[-1]] < least and len(keep) > 1:
        keep.pop()  # the rest is too short: it joins the block before it
    keep.append(len(edges) - 1)
    return [edges[i] for i in keep], [out[i] for i in keep]
