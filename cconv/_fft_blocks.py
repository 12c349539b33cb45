"""The FFT path's input blocks: each tile's padded input, gathered straight from the caller's array.

An FFT tile needs the padded input under it, converted to the computation dtype.  Padding or
converting the whole image first would double the memory of a big one, so each block is gathered
from the input as it is needed: a strided slice for the part inside the image (the stride phases of
cconv/_fft_plan.py are strided slices too), the border mode's pixels for the strips around it
(cconv/_border_index.py says which input pixel each reads, or that it is the constant), and zeros
past the padded extent, where only zero kernel taps reach.
"""

from __future__ import annotations

import numpy as np

from ._border_index import inside_range, source_index


class AxisMap:
    """Which input index each of `length` padded coordinates (first + u) * stride + phase
    reads along one axis, as runs: [0, inside_start) border, [inside_start, inside_end) the
    input (read by inside_slice), [inside_end, zero_start) border, [zero_start, length) past
    the padded extent."""

    __slots__ = ("source", "inside_start", "inside_end", "zero_start", "inside_slice")

    def __init__(self, first, length, stride, phase, size, pad_before, pad_after, mode):
        positions = (first + np.arange(length)) * stride + phase
        self.source = source_index(positions, size, pad_before, pad_after, mode)
        self.inside_start, self.inside_end = inside_range(positions, size, pad_before)
        self.zero_start = int(np.searchsorted(positions, size + pad_before + pad_after))
        if self.inside_end > self.inside_start:
            src = self.source
            self.inside_slice = slice(int(src[self.inside_start]),
                                      int(src[self.inside_end - 1]) + 1, stride)
        else:
            self.inside_slice = slice(0, 0)


class BlockGatherer:
    """Gathers the blocks of one call; the index maps of each tile row and column are computed
    once and shared by the tiles along it (whole lists are read or added to a dict: atomic
    operations, so the threads of a call need no lock)."""

    def __init__(self, x, geom, plan, mode, fill):
        self.x, self.geom, self.plan, self.mode, self.fill = x, geom, plan, mode, fill
        self.maps: dict = {}

    def axis_maps(self, axis: str, first: int, length: int) -> list[AxisMap]:
        key = (axis, first, length)
        maps = self.maps.get(key)
        if maps is None:
            g = self.geom
            if axis == "rows":
                maps = [AxisMap(first, length, g.stride_h, t, g.in_height, g.pad_top,
                                g.pad_bottom, self.mode) for t in self.plan.rows.phases]
            else:
                maps = [AxisMap(first, length, g.stride_w, t, g.in_width, g.pad_left,
                                g.pad_right, self.mode) for t in self.plan.cols.phases]
            self.maps[key] = maps
        return maps

    def gather(self, block, n0, n1, i0, j0):
        """Fills block, (images, C, row phases, column phases, length_h, length_w), with the
        padded input of the tile whose first output is (i0, j0): for each pair of used phases
        (th, tw), the padded pixels ((i0 + u) * stride_h + th, (j0 + v) * stride_w + tw).
        Returns the row and column maps."""
        length_h, length_w = block.shape[-2:]
        row_maps = self.axis_maps("rows", i0, length_h)
        col_maps = self.axis_maps("cols", j0, length_w)
        x = self.x[n0:n1]
        for a, rmap in enumerate(row_maps):
            for c, cmap in enumerate(col_maps):
                self.fill_plane(block[:, :, a, c], x, rmap, cmap)
        return row_maps, col_maps

    def fill_plane(self, dst, x, rows: AxisMap, cols: AxisMap) -> None:
        """dst[..., u, v] = the padded pixel (rows.source[u], cols.source[v]): a strided slice of
        x for the inside, the constant or a gather for the border strips, 0 past the padded
        extent (each a run of rows or columns: [0, inside) border, [inside) the input, then
        border, then zero)."""
        ra, rb, rz = rows.inside_start, rows.inside_end, rows.zero_start
        ca, cb, cz = cols.inside_start, cols.inside_end, cols.zero_start
        if rb > ra and cb > ca:
            dst[..., ra:rb, ca:cb] = x[..., rows.inside_slice, cols.inside_slice]
        if self.mode == "zeros":
            for r0, r1 in ((0, ra), (rb, rz)):
                if r1 > r0:
                    dst[..., r0:r1, :cz] = self.fill
            for c0, c1 in ((0, ca), (cb, cz)):
                if c1 > c0 and rb > ra:
                    dst[..., ra:rb, c0:c1] = self.fill
        else:
            r, c = rows.source, cols.source
            for r0, r1 in ((0, ra), (rb, rz)):
                if r1 > r0:
                    dst[..., r0:r1, :cz] = x[..., r[r0:r1, None], c[None, :cz]]
            for c0, c1 in ((0, ca), (cb, cz)):
                if c1 > c0 and rb > ra:
                    dst[..., ra:rb, c0:c1] = x[..., rows.inside_slice, c[c0:c1]]
        if rz < dst.shape[-2]:
            dst[..., rz:, :] = 0
        if cz < dst.shape[-1]:
            dst[..., :, cz:] = 0
