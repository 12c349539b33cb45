"""Outputs of the FFT path that must be exact: windows that see only zeros, or only a constant
border.

The direct path gives an output whose window reads only zeros exactly 0 (plus its bias), and one
that reads only a constant border exactly that constant times the filter's sum.  An FFT gives
them a rounding error of the magnitudes elsewhere in its tile instead (the black part of a picture
next to a bright one, zero padding wider than the kernel), which the tests' tolerance, relative to
each window's own magnitude, does not allow.  These helpers find such outputs, so that the FFT
path writes them exactly.
"""

from __future__ import annotations

import numpy as np


def taps_inside(out: int, stride: int, dilation: int, kernel: int, pad_before: int,
                 size: int) -> np.ndarray:
    """How many kernel taps of each output along one axis fall inside the input (0: the
    window sees only padding)."""
    first = np.arange(out) * stride - pad_before  # the input index of each window's first tap
    taps = first[:, None] + np.arange(kernel)[None, :] * dilation
    return ((taps >= 0) & (taps < size)).sum(axis=1)


def phase_taps(axis) -> list[tuple[int, int, int]]:
    """(first offset, count, step) of each used phase's taps along one axis: the offsets of one
    phase are evenly spaced (dilation / gcd(stride, dilation) apart)."""
    runs = []
    for phase in axis.phases:
        offsets = [q for t, q in zip(axis.taps_phase, axis.taps_offset) if t == phase]
        step = offsets[1] - offsets[0] if len(offsets) > 1 else 1
        runs.append((offsets[0], len(offsets), step))
    return runs


def tap_sums(a: np.ndarray, axis: int, first: int, count: int, step: int,
              length: int) -> np.ndarray:
    """sum over m < count of a[..., i + first + m * step, ...] along `axis`, for i < length:
    a running sum over each residue class modulo `step`, differenced."""
    a = np.moveaxis(a, axis, -1)
    run = np.zeros(a.shape[:-1] + (a.shape[-1] + step,), np.int32)
    for r in range(step):
        np.cumsum(a[..., r::step], axis=-1, out=run[..., r + step::step])
    end = first + count * step
    return np.moveaxis(run[..., end:end + length] - run[..., first:first + length], -1, axis)


class ZeroWindows:
    """Finds, per tile, the outputs whose window sees only zeros (see zero_windows)."""

    def __init__(self, geom, plan, mode, fill):
        self.geom, self.mode, self.fill = geom, mode, fill
        self.groups = geom.groups
        self.taps_rows = taps_inside(geom.out_height, geom.stride_h, geom.dilation_h,
                                     geom.kernel_height, geom.pad_top, geom.in_height)
        self.taps_cols = taps_inside(geom.out_width, geom.stride_w, geom.dilation_w,
                                     geom.kernel_width, geom.pad_left, geom.in_width)
        self.row_taps = phase_taps(plan.rows)
        self.col_taps = phase_taps(plan.cols)

    def zero_windows(self, block: np.ndarray, row_span, col_span) -> np.ndarray | None:
        """Which outputs of the tile see only zeros, (images, groups, rows, cols), or None when
        none can.  `block`: the gathered input, (images, C, row phases, column phases, rows,
        columns); `row_span`: (first output row, rows, the gather's row maps); `col_span` the
        same for the columns.

        The direct path gives such an output exactly 0, the FFT a rounding error of the tile's
        magnitude (the black part of a picture next to a bright one): they are set to 0
        exactly.  A window with t of its taps inside the input needs t zero pixels; a block
        with fewer zeros than the fewest taps inside of any window of the tile has no such
        window (the common case, decided by counting), else the nonzero pixels under each
        window's taps are counted with running sums along each axis, per phase, over the
        taps' offsets (a strided run when the kernel is dilated).  Windows that see only a
        zero border are written exactly elsewhere (border_value)."""
        g = self.geom
        (i0, rows, row_maps), (j0, cols, col_maps) = row_span, col_span
        nb, block6 = block.shape[0], block
        if self.mode == "zeros" and self.fill == 0:
            # The border's zeros alone make no such window: count the input's.
            zeros = 0
            for a, rmap in enumerate(row_maps):
                for c, cmap in enumerate(col_maps):
                    inside = block6[:, :, a, c, rmap.inside_start:rmap.inside_end,
                                    cmap.inside_start:cmap.inside_end]
                    zeros += inside.size - np.count_nonzero(inside)
            taps_rows = self.taps_rows[i0:i0 + rows]
            taps_cols = self.taps_cols[j0:j0 + cols]
            if not taps_rows.any() or not taps_cols.any():
                return None
            fewest = int(taps_rows[taps_rows > 0].min()) * int(taps_cols[taps_cols > 0].min())
        else:
            zeros = block.size - np.count_nonzero(block)
            fewest = g.kernel_height * g.kernel_width
        if zeros < fewest:
            return None
        nonzero = block6 != 0
        seen = np.zeros((nb, g.in_channels, rows, cols), np.int32)
        for a, (r0, rn, rstep) in enumerate(self.row_taps):
            across = tap_sums(nonzero[:, :, a], -2, r0, rn, rstep, rows)
            for c, (c0, cn, cstep) in enumerate(self.col_taps):
                seen += tap_sums(across[:, :, c], -1, c0, cn, cstep, cols)
        found = seen.reshape(nb, self.groups, -1, rows, cols).sum(axis=2) == 0
        return found if found.any() else None
