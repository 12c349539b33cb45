"""The shape of an FFT convolution: a strided, dilated conv2d recast as a stride-1 one, and the
tiles it is computed in.

Stride and dilation.  Output row i reads padded input rows i * stride + p * dilation for the taps
p = 0 .. kH-1.  Writing p * dilation = q * stride + t (0 <= t < stride), that row is row i + q of
the *phase* t of the padded input, its rows t, t + stride, t + 2 * stride, ...  So a strided,
dilated convolution is a stride-1 convolution of the phases, each a channel of its own, with a
kernel per phase that holds the taps of that phase at offsets q (zeros between them when the
dilation is not a multiple of the stride).  The FFTs then have the size of the *output* (plus the
kernel), not of the stride-1 output that a stride would throw most of away; phases that no tap
reads (dilation 2, stride 2: only t = 0) are left out.  With stride 1 there is one phase and the
kernel is the dilated kernel, zeros between its taps.

Tiles.  The output is cut into tiles of tile_h x tile_w pixels (overlap-save, as
scipy.signal.oaconvolve does): each tile's input block, tile + kernel - 1 pixels, is transformed
at an FFT size of fft_h x fft_w, a size pocketfft is fast at, so that memory stays bounded
however large the image, and a batch of images is split into chunks of batch_chunk.  The sizes
are chosen by the cost model (cconv/_method.py); this module only describes them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._args import Geometry


class PhaseAxis(NamedTuple):
    """One axis of the stride-1 recasting."""

    phases: tuple[int, ...]  # the phases t that some tap reads, increasing
    taps_phase: tuple[int, ...]  # the phase of tap p
    taps_offset: tuple[int, ...]  # the offset q of tap p inside its phase
    kernel: int  # rows (columns) of each phase's kernel: max offset + 1


def phase_axis(kernel: int, stride: int, dilation: int) -> PhaseAxis:
    """How the taps of one axis fall on the phases of its stride."""
    taps = np.arange(kernel) * dilation
    phase, offset = taps % stride, taps // stride
    return PhaseAxis(tuple(sorted(set(phase.tolist()))), tuple(phase.tolist()),
                     tuple(offset.tolist()), int(offset.max()) + 1)


class FFTPlan(NamedTuple):
    """A tiling of one FFT convolution (every number an int)."""

    rows: PhaseAxis
    cols: PhaseAxis
    fft_h: int
    fft_w: int
    tile_h: int  # output rows of a tile: fft_h - rows.kernel + 1, at most the output height
    tile_w: int
    batch_chunk: int  # images per work item
    # Threads over the work items, each transforming with one thread: pocketfft's own threads
    # made one big transform no faster on the development machine.
    workers: int

    @property
    def phase_channels(self) -> int:
        """Channels of the recast input per input channel: one per pair of used phases."""
        return len(self.rows.phases) * len(self.cols.phases)


def phase_axes(geom: Geometry) -> tuple[PhaseAxis, PhaseAxis]:
    return (phase_axis(geom.kernel_height, geom.stride_h, geom.dilation_h),
            phase_axis(geom.kernel_width, geom.stride_w, geom.dilation_w))


def tile_counts(geom: Geometry, plan: FFTPlan) -> tuple[int, int, int]:
    """(batch chunks, tile rows, tile columns)."""
    return (-(-geom.batch // plan.batch_chunk), -(-geom.out_height // plan.tile_h),
            -(-geom.out_width // plan.tile_w))


def work_items(geom: Geometry, plan: FFTPlan) -> list[tuple[int, int, int, int]]:
    """(first image, end image, first output row, first output column) of every work item."""
    return [(n0, min(n0 + plan.batch_chunk, geom.batch), i0, j0)
            for n0 in range(0, geom.batch, plan.batch_chunk)
            for i0 in range(0, geom.out_height, plan.tile_h)
            for j0 in range(0, geom.out_width, plan.tile_w)]
