"""conv2d by FFT: every configuration conv2d takes, computed as products of spectra.

The steps, per work item (a chunk of images times one output tile, see cconv/_fft_plan.py):
gather the tile's padded input block straight from the caller's array, converted to the
computation dtype (the border mode decides what the padding pixels read; the image is never padded
or converted whole), one real 2-D FFT per recast input channel, per frequency the sum over each
group's channels of input spectrum times conjugate kernel spectrum (the conjugate makes it a
correlation, like conv2d, without flipping the kernel), one inverse FFT per output feature map, and
the output stage (bias, residual, activation) on the tile as it is written.  The kernel spectra are
computed once per call, in float64.

Work items run on `plan.workers` Python threads: pocketfft and NumPy's loops release the GIL.
Each item reads only the input and writes only its own output pixels, and its arithmetic does not
depend on which thread runs it, so the result is the same bits at any thread count.

Unlike the direct path, an FFT spreads every value over its whole tile: the error of an output
is relative to the magnitudes in its tile, not to its own window (see the README), and a NaN or
an infinity anywhere in a tile's input makes the whole tile NaN (as in scipy.signal.fftconvolve).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._args import ACTIVATION_NONE, Geometry, apply_activation
from ._border_index import inside_range, source_index
from ._fft_backend import Backend
from ._fft_plan import FFTPlan, phase_axes, work_items
from ._pad import PADDING_MODES

_NO_STAGE = (ACTIVATION_NONE, 0.0, 0.0)


def conv2d_fft(x, w, b, geom: Geometry, padding_mode="zeros", padding_value=0.0,
               dtype=np.float64, threads=1, *, residual=None, stage=_NO_STAGE, out=None,
               plan: FFTPlan | None = None, backend: Backend | None = None):
    """conv2d of an (N, C, H, W)-ordered input by FFT, into `out` (or a new array).

    Parameters
    ----------
    x : numpy.ndarray
        (N, C, H, W) in that axis order: an NCHW array, or the NCHW-ordered view of a
        channels-last one (``np.moveaxis(a, -1, 1)``); any strides, any real dtype (integers
        are converted a tile at a time).
    w : numpy.ndarray
        (O, C/groups, kH, kW).
    b : numpy.ndarray or None
        (O,).
    geom : cconv._args.Geometry
        The resolved configuration (``cconv._args.resolve``) of these shapes.
    padding_mode : str
        A padding_mode name (cconv._pad.PADDING_MODES); "zeros" pads with `padding_value`.
    padding_value : float
        The constant of padding_mode="zeros".
    dtype : float32 or float64
        The computation dtype, the dtype of the result.
    threads : int
        Threads to use (>= 1).
    residual : numpy.ndarray, optional
        (N, O, OH, OW)-ordered, added before the activation.
    stage : (kind, alpha, beta)
        The resolved activation (``cconv._args.resolve_activation``).
    out : numpy.ndarray, optional
        (N, O, OH, OW)-ordered, of `dtype`, written in place (a channels-last view is fine);
        it must not overlap `x`, `w`, `b` or `residual`.
    plan, backend
        The tiling and the FFT library; by default those the cost model picks.

    Returns
    -------
    numpy.ndarray
        `out`, or a new C-contiguous (N, O, OH, OW) array.

    Examples
    --------
    >>> import numpy as np
    >>> from cconv._args import resolve
    >>> from cconv._fft import conv2d_fft
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 3, 3))
    >>> y = conv2d_fft(x, w, None, resolve(x.shape, w.shape, padding=1), "replicate")
    >>> np.round(y[0, 0], 6)
    array([[ 15.,  24.,  33.,  39.],
           [ 51.,  45.,  54.,  75.],
           [ 87.,  81.,  90., 111.],
           [111., 120., 129., 135.]])
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, "
                         f"got {padding_mode!r}")
    g = geom
    if out is None:
        out = np.empty(g.out_shape, dtype)
    if out.size == 0:
        return out
    if padding_mode != "zeros":
        for axis, size, before, after in (("height", g.in_height, g.pad_top, g.pad_bottom),
                                          ("width", g.in_width, g.pad_left, g.pad_right)):
            if size == 0 and before + after:
                raise ValueError(f"padding_mode {padding_mode!r} cannot pad an empty input "
                                 f"{axis}: it has no pixel to repeat")
    bias = None if b is None else np.asarray(b).astype(dtype).reshape(-1, 1, 1)
    if g.in_channels == 0:
        # No channels: every output pixel sums no kernel, so it is 0 before the output stage.
        out[...] = 0
        _output_stage(out, bias, residual, stage)
        return out
    if backend is None or plan is None:
        from . import _method  # the cost model picks the library and the tiles
        if backend is None:
            backend = _method.preferred_backend(dtype)
        if plan is None:
            plan = _method.fft_plan(g, dtype, threads, backend)
    _FFTConvolution(x, w, g, padding_mode, padding_value, dtype, plan, backend, out,
                    (bias, residual, stage)).run()
    return out


def _output_stage(tile, bias, residual, stage) -> None:
    """Bias, residual and activation on an output tile, in place, as the direct path's output
    stage applies them."""
    if bias is not None:
        tile += bias
    if residual is not None:
        tile += residual.astype(tile.dtype, copy=False)
    if stage[0] != ACTIVATION_NONE:
        apply_activation(tile, stage)


def _outside(out: int, stride: int, dilation: int, kernel: int, pad_before: int,
             size: int) -> np.ndarray:
    """Which outputs along one axis have no kernel tap inside the input (only padding)."""
    first = np.arange(out) * stride - pad_before  # the input index of each window's first tap
    taps = first[:, None] + np.arange(kernel)[None, :] * dilation
    return ~((taps >= 0) & (taps < size)).any(axis=1)


def _phase_taps(axis) -> list[tuple[int, int, int]]:
    """(first offset, count, step) of each used phase's taps along one axis: the offsets of one
    phase are evenly spaced (dilation / gcd(stride, dilation) apart)."""
    runs = []
    for phase in axis.phases:
        offsets = [q for t, q in zip(axis.taps_phase, axis.taps_offset) if t == phase]
        step = offsets[1] - offsets[0] if len(offsets) > 1 else 1
        runs.append((offsets[0], len(offsets), step))
    return runs


def _tap_sums(a: np.ndarray, axis: int, first: int, count: int, step: int,
              length: int) -> np.ndarray:
    """sum over m < count of a[..., i + first + m * step, ...] along `axis`, for i < length:
    a running sum over each residue class modulo `step`, differenced."""
    a = np.moveaxis(a, axis, -1)
    run = np.zeros(a.shape[:-1] + (a.shape[-1] + step,), np.int32)
    for r in range(step):
        np.cumsum(a[..., r::step], axis=-1, out=run[..., r + step::step])
    end = first + count * step
    return np.moveaxis(run[..., end:end + length] - run[..., first:first + length], -1, axis)


def phase_kernels(w: np.ndarray, geom: Geometry) -> np.ndarray:
    """The kernels of the stride-1 recasting, float64, (O, C/groups * phases, kh', kw'): for
    each input channel c and pair of used phases (th, tw), channel c * phases + index of the
    pair, holding each tap of w at its offset inside its phase."""
    rows, cols = phase_axes(geom)
    o, depth = w.shape[:2]
    kernels = np.zeros((o, depth, len(rows.phases), len(cols.phases), rows.kernel, cols.kernel))
    ph = np.searchsorted(rows.phases, rows.taps_phase)[:, None]
    pw = np.searchsorted(cols.phases, cols.taps_phase)[None, :]
    qh = np.asarray(rows.taps_offset)[:, None]
    qw = np.asarray(cols.taps_offset)[None, :]
    kernels[:, :, ph, pw, qh, qw] = np.asarray(w, dtype=np.float64)
    return kernels.reshape(o, -1, rows.kernel, cols.kernel)


class _FFTConvolution:
    """One call's state: the kernel spectra, shared by the work items, and the items' steps."""

    def __init__(self, x, w, geom, padding_mode, padding_value, dtype, plan, backend, out,
                 output_stage):
        self.x, self.geom, self.mode, self.dtype = x, geom, padding_mode, dtype
        self.bias, self.residual, self.stage = output_stage
        self.fill = dtype.type(padding_value)
        self.plan, self.backend, self.out = plan, backend, out
        self.groups = geom.groups
        self.shape = (plan.fft_h, plan.fft_w)
        kernels = phase_kernels(w, geom)
        o, depth = kernels.shape[:2]
        # Conjugate spectra: the products are then correlations, as conv2d computes.
        spectra = np.conj(backend.rfft2(kernels, self.shape, plan.fft_workers * plan.workers))
        if dtype == np.float32 and backend.keeps_float32:
            spectra = spectra.astype(np.complex64)
        # (groups, filters per group, depth, fft_h, fft_w // 2 + 1)
        self.spectra = spectra.reshape(self.groups, o // self.groups, depth, *spectra.shape[-2:])
        self.stop = threading.Event()
        # Outputs whose window lies wholly in a constant border: the direct path gives exactly
        # the constant times the filter's sum (0 for zeros), an FFT only something close; they
        # are written exactly (rows or columns of them appear with padding wider than the
        # kernel).
        self.outside_rows = _outside(geom.out_height, geom.stride_h, geom.dilation_h,
                                     geom.kernel_height, geom.pad_top, geom.in_height)
        self.outside_cols = _outside(geom.out_width, geom.stride_w, geom.dilation_w,
                                     geom.kernel_width, geom.pad_left, geom.in_width)
        self.border_value = None
        self.row_taps = _phase_taps(plan.rows)
        self.col_taps = _phase_taps(plan.cols)
        if padding_mode == "zeros" and (self.outside_rows.any() or self.outside_cols.any()):
            self.border_value = (padding_value * np.asarray(w, dtype=np.float64).sum(
                axis=(1, 2, 3))).astype(dtype).reshape(-1, 1, 1)

    def run(self) -> None:
        items = work_items(self.geom, self.plan)
        workers = min(self.plan.workers, len(items))
        if workers <= 1:
            for item in items:
                self.item(item)
            return
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(self.item, item) for item in items]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                # Ctrl-C, or an error in one item: the items not started yet do nothing.
                self.stop.set()
                for future in futures:
                    future.cancel()
                raise

    def item(self, item) -> None:
        if self.stop.is_set():
            return
        n0, n1, i0, j0 = item
        g, plan = self.geom, self.plan
        rows = min(plan.tile_h, g.out_height - i0)
        cols = min(plan.tile_w, g.out_width - j0)
        block = self.gather(n0, n1, i0, j0, rows + plan.rows.kernel - 1,
                            cols + plan.cols.kernel - 1)
        zero_windows = self.zero_windows(block, rows, cols)
        workers = plan.fft_workers
        spectrum = self.backend.rfft2(block, self.shape, workers)
        del block
        nb = n1 - n0
        spectrum = spectrum.reshape(nb, self.groups, -1, *spectrum.shape[-2:])
        product = self.multiply(spectrum)
        del spectrum
        result = self.backend.irfft2(
            product.reshape(nb, g.out_channels, *product.shape[-2:]), self.shape, workers)
        tile = self.out[n0:n1, :, i0:i0 + rows, j0:j0 + cols]
        np.copyto(tile, result[..., :rows, :cols], casting="same_kind")
        if self.border_value is not None:
            tile[..., self.outside_rows[i0:i0 + rows], :] = self.border_value
            tile[..., self.outside_cols[j0:j0 + cols]] = self.border_value
        if zero_windows is not None:
            by_group = tile.reshape(nb, self.groups, -1, rows, cols)
            np.copyto(by_group, 0, where=zero_windows[:, :, None])
        residual = self.residual
        _output_stage(tile, self.bias, None if residual is None else
                      residual[n0:n1, :, i0:i0 + rows, j0:j0 + cols], self.stage)

    def zero_windows(self, block: np.ndarray, rows: int, cols: int) -> np.ndarray | None:
        """Which outputs of the tile see only zeros, (images, groups, rows, cols), or None when
        none can.

        The direct path gives such an output exactly 0, the FFT a rounding error of the tile's
        magnitude (the black part of a picture next to a bright one, zero padding around a
        smaller image): they are set to 0 exactly.  A block with fewer zeros than a kernel has
        taps has no such window (the common case, decided by one count); else the nonzero
        pixels under each window's taps are counted with running sums along each axis, per
        phase, over the taps' offsets (a strided run when the kernel is dilated)."""
        g = self.geom
        taps = g.kernel_height * g.kernel_width
        if block.size - np.count_nonzero(block) < taps:
            return None
        nonzero = block != 0
        plan = self.plan
        nb = block.shape[0]
        nonzero = nonzero.reshape(nb, g.in_channels, len(plan.rows.phases),
                                  len(plan.cols.phases), *block.shape[-2:])
        seen = np.zeros((nb, g.in_channels, rows, cols), np.int32)
        for a, (r0, rn, rstep) in enumerate(self.row_taps):
            across = _tap_sums(nonzero[:, :, a], -2, r0, rn, rstep, rows)
            for c, (c0, cn, cstep) in enumerate(self.col_taps):
                seen += _tap_sums(across[:, :, c], -1, c0, cn, cstep, cols)
        found = seen.reshape(nb, self.groups, -1, rows, cols).sum(axis=2) == 0
        return found if found.any() else None

    def multiply(self, spectrum: np.ndarray) -> np.ndarray:
        """Per frequency, each filter's sum over its group's channels of input spectrum times
        kernel spectrum: (images, groups, channels, ...) -> (images, groups, filters, ...)."""
        kernels = self.spectra
        depth, filters = kernels.shape[2], kernels.shape[1]
        if depth == 1:
            return spectrum * kernels[None, :, :, 0]
        if filters * depth < 64:
            # Few channels: a multiply-add per channel, each over the whole tile.
            product = spectrum[:, :, None, 0] * kernels[None, :, :, 0]
            term = np.empty_like(product)
            for c in range(1, depth):
                np.multiply(spectrum[:, :, None, c], kernels[None, :, :, c], out=term)
                product += term
            return product
        # Many: per frequency a (images x depth) @ (depth x filters) matrix product.
        a = np.moveaxis(spectrum, (3, 4), (0, 1))  # (fh, fw, images, groups, depth)
        a = np.swapaxes(a, 2, 3)  # (fh, fw, groups, images, depth)
        k = np.moveaxis(kernels, (3, 4), (0, 1))  # (fh, fw, groups, filters, depth)
        product = np.matmul(a, np.swapaxes(k, -1, -2))  # (fh, fw, groups, images, filters)
        return np.ascontiguousarray(np.moveaxis(product, (0, 1, 2), (3, 4, 1)))

    def gather(self, n0, n1, i0, j0, length_h, length_w) -> np.ndarray:
        """The padded input block of output tile (i0, j0), (images, C * phases, length_h,
        length_w), in the computation dtype: for each pair of used phases (th, tw), the padded
        pixels ((i0 + u) * stride_h + th, (j0 + v) * stride_w + tw)."""
        g, plan, x = self.geom, self.plan, self.x[n0:n1]
        prows, pcols = plan.rows.phases, plan.cols.phases
        block = np.empty((n1 - n0, g.in_channels, len(prows), len(pcols), length_h, length_w),
                         self.dtype)
        row_maps = [_AxisMap(i0, length_h, g.stride_h, th, g.in_height, g.pad_top,
                             g.pad_bottom, self.mode) for th in prows]
        col_maps = [_AxisMap(j0, length_w, g.stride_w, tw, g.in_width, g.pad_left,
                             g.pad_right, self.mode) for tw in pcols]
        for a, rmap in enumerate(row_maps):
            for c, cmap in enumerate(col_maps):
                self.fill_plane(block[:, :, a, c], x, rmap, cmap)
        return block.reshape(n1 - n0, -1, length_h, length_w)

    def fill_plane(self, dst, x, rows: _AxisMap, cols: _AxisMap) -> None:
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


class _AxisMap:
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
