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
from ._fft_backend import Backend
from ._fft_blocks import BlockGatherer
from ._fft_plan import FFTPlan, phase_axes, work_items
from ._fft_zero_windows import ZeroWindows
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
    array([[ 15.,  21.,  30.,  36.],
           [ 39.,  45.,  54.,  60.],
           [ 75.,  81.,  90.,  96.],
           [ 99., 105., 114., 120.]])
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
        self.geom, self.dtype, self.plan, self.backend, self.out = geom, dtype, plan, backend, out
        self.bias, self.residual, self.stage = output_stage
        self.groups = geom.groups
        fill = dtype.type(padding_value)
        self.blocks = BlockGatherer(x, geom, plan, padding_mode, fill)
        self.zeros = ZeroWindows(geom, plan, padding_mode, fill)
        kernels = phase_kernels(w, geom)
        o, depth = kernels.shape[:2]
        # Conjugate spectra: the products are then correlations, as conv2d computes.
        spectra = np.conj(backend.rfft2(kernels, (plan.fft_h, plan.fft_w), 1))
        self.complex = np.dtype(np.complex64 if dtype == np.float32 and backend.keeps_float32
                                else np.complex128)
        # (groups, filters per group, depth, fft_h, fft_w // 2 + 1)
        self.spectra = spectra.astype(self.complex).reshape(self.groups, o // self.groups, depth,
                                                            *spectra.shape[-2:])
        self.stop = threading.Event()
        self.local = threading.local()  # each thread's buffers, reused by its items
        # Outputs whose window lies wholly in a constant border: the direct path gives exactly
        # the constant times the filter's sum, an FFT only something close; they are written
        # exactly (rows or columns of them appear with padding wider than the kernel).
        self.outside_rows = self.zeros.taps_rows == 0
        self.outside_cols = self.zeros.taps_cols == 0
        self.border_value = None
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

    def buffers(self) -> _Buffers:
        found = getattr(self.local, "buffers", None)
        if found is None:
            found = self.local.buffers = _Buffers(self.geom, self.plan, self.dtype,
                                                  self.complex)
        return found

    def item(self, item) -> None:
        if self.stop.is_set():
            return
        n0, n1, i0, j0 = item
        g, plan = self.geom, self.plan
        nb = n1 - n0
        rows = min(plan.tile_h, g.out_height - i0)
        cols = min(plan.tile_w, g.out_width - j0)
        length_h, length_w = rows + plan.rows.kernel - 1, cols + plan.cols.kernel - 1
        buffers = self.buffers()
        block = buffers.block[:nb]
        gathered = block[..., :length_h, :length_w]
        row_maps, col_maps = self.blocks.gather(gathered, n0, n1, i0, j0)
        # The rest of the FFT size is zero padding (it holds the last tile's data otherwise).
        if length_h < plan.fft_h:
            block[..., length_h:, :] = 0
        if length_w < plan.fft_w:
            block[..., :length_h, length_w:] = 0
        zero_windows = self.zeros.zero_windows(gathered, (i0, rows, row_maps),
                                               (j0, cols, col_maps))
        spectrum = buffers.spectrum[:nb]
        self.backend.forward_into(block.reshape(nb, -1, plan.fft_h, plan.fft_w), spectrum, 1)
        product = self.multiply(spectrum.reshape(nb, self.groups, -1, *spectrum.shape[-2:]),
                                buffers, nb)
        result = buffers.result[:nb]
        self.backend.inverse_into(product.reshape(nb, g.out_channels, *product.shape[-2:]),
                                  result, 1)
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

    def multiply(self, spectrum: np.ndarray, buffers: _Buffers, nb: int) -> np.ndarray:
        """Per frequency, each filter's sum over its group's channels of input spectrum times
        kernel spectrum: (images, groups, channels, ...) -> (images, groups, filters, ...), in
        the thread's product buffer."""
        kernels = self.spectra
        depth, filters = kernels.shape[2], kernels.shape[1]
        product = buffers.product[:nb].reshape(nb, self.groups, filters, *kernels.shape[-2:])
        if depth == 1:
            np.multiply(spectrum, kernels[None, :, :, 0], out=product)
        elif filters * depth < 64:
            # Few channels: a multiply-add per channel, each over the whole tile.
            np.multiply(spectrum[:, :, None, 0], kernels[None, :, :, 0], out=product)
            term = buffers.term(product.shape)
            for c in range(1, depth):
                np.multiply(spectrum[:, :, None, c], kernels[None, :, :, c], out=term)
                product += term
        else:
            # Many: per frequency an (images x depth) @ (depth x filters) matrix product.
            a = np.moveaxis(spectrum, (3, 4), (0, 1))  # (fh, fw, images, groups, depth)
            a = np.swapaxes(a, 2, 3)  # (fh, fw, groups, images, depth)
            k = np.moveaxis(kernels, (3, 4), (0, 1))  # (fh, fw, groups, filters, depth)
            sums = np.matmul(a, np.swapaxes(k, -1, -2))  # (fh, fw, groups, images, filters)
            np.copyto(product, np.moveaxis(sums, (0, 1, 2), (3, 4, 1)))
        return product


class _Buffers:
    """One thread's arrays for its work items, allocated at its first item: the block, its
    spectrum, the product and the inverse transform (see Backend.forward_into for why)."""

    def __init__(self, geom, plan, dtype, complex_dtype):
        nb, fft_h, fft_w = plan.batch_chunk, plan.fft_h, plan.fft_w
        bins = fft_w // 2 + 1
        real = np.float32 if complex_dtype == np.complex64 else np.float64
        self.block = np.empty((nb, geom.in_channels, len(plan.rows.phases),
                               len(plan.cols.phases), fft_h, fft_w), dtype)
        self.spectrum = np.empty((nb, geom.in_channels * plan.phase_channels, fft_h, bins),
                                 complex_dtype)
        self.product = np.empty((nb, geom.out_channels, fft_h, bins), complex_dtype)
        self.result = np.empty((nb, geom.out_channels, fft_h, fft_w), real)
        self._term = None

    def term(self, shape) -> np.ndarray:
        if self._term is None or self._term.shape != shape:
            self._term = np.empty(shape, self.product.dtype)
        return self._term
