"""cconv.dask: every operation on Dask arrays against cconv on the whole array, bit for bit.

Random configurations and random chunkings (uneven, of size 1, smaller than the halo, one chunk,
empty chunks) on the synchronous scheduler; the halo plans' arithmetic; the output chunk rule;
the whole array's borders in every padding mode; threads inside tasks; out= and keywords passed
on; memory on the threaded scheduler and streaming through Zarr (measured in subprocesses).  The
distributed scheduler's tests are in test_dask_distributed.py.  Every test name holds "dask".
"""

import doctest
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

import cconv  # noqa: E402
import cconv.dask  # noqa: E402
from cconv.dask import _axis, _conv, _conv_transpose, _kernels, _pool  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MODES = ["zeros", "reflect", "replicate", "circular", "symmetric"]
# conv2d's direct method, where this cconv has the method argument (the only bitwise one).
DIRECT = {"method": "direct"} if "method" in cconv.conv2d.__code__.co_varnames else {}


@pytest.fixture(autouse=True)
def _synchronous_dask():
    """One thread, in order: failures point at one task."""
    with dask.config.set(scheduler="synchronous"):
        yield


def same_bits(a, b) -> bool:
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def random_chunks(rng, size: int) -> tuple:
    """A chunking of `size` rows: one chunk, all 1, regular, uneven, or with an empty chunk."""
    kind = rng.integers(6)
    if kind == 0 or size == 1:
        return (size,)
    if kind == 1:
        return (1,) * size
    if kind == 2:
        step = int(rng.integers(1, size))
        return (step,) * (size // step) + ((size % step,) if size % step else ())
    cuts = sorted(set(rng.integers(1, size, int(rng.integers(1, min(size, 6))))))
    chunks = tuple(np.diff([0, *cuts, size]).tolist())
    if kind == 5:
        at = int(rng.integers(len(chunks) + 1))
        chunks = chunks[:at] + (0,) + chunks[at:]
    return chunks


def random_padding(rng, kernel, stride, dilation):
    kind = rng.integers(5)
    if kind == 0:
        return "same"
    if kind == 1:
        return "valid"
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if kind == 2:
        return int(rng.integers(0, min(span) + 1))
    if kind == 3:
        return (int(rng.integers(0, span[0] + 1)), int(rng.integers(0, span[1] + 1)))
    return ((int(rng.integers(0, span[0] + 2)), int(rng.integers(0, span[0] + 2))),
            (int(rng.integers(0, span[1] + 2)), int(rng.integers(0, span[1] + 2))))


def chunked(rng, x, channels_last: bool, merge_channels: bool = False):
    """x as a Dask array in random chunks along N, H and W (and C)."""
    chunks = [random_chunks(rng, s) for s in x.shape]
    c_axis = x.ndim - 1 if channels_last else x.ndim - 3
    if merge_channels:
        chunks[c_axis] = (x.shape[c_axis],)
    return da.from_array(x, chunks=tuple(chunks))


def conv2d_case(rng):
    """A random conv2d configuration and its input (small, for speed)."""
    fmt = ["NCHW", "NHWC"][rng.integers(2)]
    dtype = [np.float32, np.float64, np.uint8][rng.integers(3)]
    channels = int(rng.choice([1, 2, 3, 4, 8]))
    groups = int(rng.choice([g for g in (1, 2, channels) if channels % g == 0]))
    filters = groups * int(rng.choice([1, 2, 3, 8]))
    kernel = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    dilation = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    size = [int(rng.integers(d * (k - 1) + 1, 30)) for k, d in zip(kernel, dilation)]
    padding = random_padding(rng, kernel, stride, dilation)
    mode = MODES[rng.integers(len(MODES))]
    shape = (int(rng.integers(1, 4)), channels, *size)
    if fmt == "NHWC":
        shape = (shape[0], size[0], size[1], channels)
    x = (rng.random(shape) * 200).astype(dtype) if dtype == np.uint8 else \
        rng.standard_normal(shape).astype(dtype)
    if rng.random() < 0.2:
        x = x[0]  # unbatched
    weight = rng.standard_normal((filters, channels // groups, *kernel)).astype(
        np.float64 if dtype == np.float64 else np.float32)
    params = dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
                  padding_mode=mode, data_format=fmt)
    if mode == "zeros" and rng.random() < 0.3:
        params["padding_value"] = float(rng.choice([0.5, -1.0, 3.25]))
    if rng.random() < 0.3:
        params["activation"] = ["relu", ("clamp", -0.5, 0.5), ("leaky_relu", 0.2)][
            rng.integers(3)]
    bias = rng.standard_normal(filters).astype(weight.dtype) if rng.random() < 0.6 else None
    return x, weight, bias, params


@pytest.mark.parametrize("seed", range(48))
def test_dask_conv2d_random_chunkings_equal_the_whole_array_bitwise(seed):
    rng = np.random.default_rng(seed)
    x, weight, bias, params = conv2d_case(rng)
    whole = cconv.conv2d(x, weight, bias, **params, **DIRECT)
    residual = None
    if rng.random() < 0.3:
        residual = rng.standard_normal(whole.shape).astype(whole.dtype)
        whole = cconv.conv2d(x, weight, bias, residual=residual, **params, **DIRECT)
    xd = chunked(rng, x, params["data_format"] == "NHWC")
    rd = None if residual is None else chunked(rng, residual, params["data_format"] == "NHWC")
    y = cconv.dask.conv2d(xd, weight, bias, residual=rd, **params, **DIRECT)
    assert y.shape == whole.shape and y.dtype == whole.dtype
    assert same_bits(y.compute(), whole), (params, xd.chunks)


def _hypothesis():
    """hypothesis and its strategies, or a skip where it is not installed."""
    return pytest.importorskip("hypothesis"), pytest.importorskip("hypothesis.strategies")


def _chunks_strategy(st, size: int):
    """Chunkings of `size` rows: any cut points (so uneven ones, ones of size 1, ones smaller
    than the halo and a single chunk all come up)."""
    if size == 1:
        return st.just((1,))
    return st.sets(st.integers(1, size - 1), max_size=min(size - 1, 6)).map(
        lambda cuts: tuple(np.diff([0, *sorted(cuts), size]).tolist()))


def test_dask_conv2d_hypothesis_sweep_equals_the_whole_array_bitwise():
    """A bounded random sweep by hypothesis (it shrinks a failure to a small case): shapes,
    kernel sizes, strides, dilations, every padding form and mode, groups, NCHW and NHWC with
    C chunked, the batch chunked, against cconv.conv2d on the whole array."""
    hypothesis, st = _hypothesis()

    @st.composite
    def cases(draw):
        fmt = draw(st.sampled_from(["NCHW", "NHWC"]))
        channels = draw(st.sampled_from([1, 2, 3, 4]))
        groups = draw(st.sampled_from([g for g in (1, 2, channels) if channels % g == 0]))
        filters = groups * draw(st.sampled_from([1, 2]))
        kernel = (draw(st.integers(1, 7)), draw(st.integers(1, 7)))
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
        span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
        size = [draw(st.integers(s, s + 24)) for s in span]
        padding = draw(st.one_of(
            st.sampled_from(["same", "valid"]), st.integers(0, min(span)),
            st.tuples(st.integers(0, span[0]), st.integers(0, span[1])),
            st.tuples(st.tuples(st.integers(0, span[0] + 1), st.integers(0, span[0] + 1)),
                      st.tuples(st.integers(0, span[1] + 1), st.integers(0, span[1] + 1)))))
        mode = draw(st.sampled_from(MODES))
        batch = draw(st.integers(1, 3))
        shape = (batch, channels, *size) if fmt == "NCHW" else (batch, *size, channels)
        chunks = tuple(draw(_chunks_strategy(st, n)) for n in shape)
        dtype = draw(st.sampled_from([np.float32, np.float64]))
        seed = draw(st.integers(0, 2**32 - 1))
        return fmt, groups, filters, kernel, stride, dilation, padding, mode, shape, chunks, \
            dtype, seed

    @hypothesis.settings(max_examples=100, deadline=None, derandomize=True,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(cases())
    def check(case):
        fmt, groups, filters, kernel, stride, dilation, padding, mode, shape, chunks, dtype, \
            seed = case
        rng = np.random.default_rng(seed)
        x = rng.standard_normal(shape).astype(dtype)
        channels = shape[1] if fmt == "NCHW" else shape[3]
        w = rng.standard_normal((filters, channels // groups, *kernel)).astype(dtype)
        b = rng.standard_normal(filters).astype(dtype)
        params = dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
                      padding_mode=mode, data_format=fmt, **DIRECT)
        try:
            whole = cconv.conv2d(x, w, b, **params)
        except ValueError:
            hypothesis.assume(False)  # e.g. a border wider than reflect allows
        y = cconv.dask.conv2d(da.from_array(x, chunks=chunks), w, b, **params)
        assert same_bits(y.compute(), whole), (params, chunks)

    check()


def test_dask_out_computes_into_numpy_and_zarr(tmp_path):
    """out= computes the lazy result into the caller's array, chunk by chunk, and returns it."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 40, 40)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    want = cconv.conv2d(x, w, padding=1, **DIRECT)
    out = np.full(want.shape, np.nan, np.float32)
    got = cconv.dask.conv2d(da.from_array(x, chunks=(1, 3, 16, 16)), w, padding=1, out=out,
                            **DIRECT)
    assert got is out and same_bits(out, want)
    with pytest.raises(TypeError, match="dtype"):
        cconv.dask.conv2d(da.from_array(x, chunks=16), w, padding=1,
                          out=np.empty(want.shape, np.float64))
    with pytest.raises(ValueError, match="shape"):
        cconv.dask.conv2d(da.from_array(x, chunks=16), w, out=out)
    values, indices = cconv.max_pool2d(x, 3, stride=2, return_indices=True)
    pair = (np.empty_like(values), None)
    assert cconv.dask.max_pool2d(da.from_array(x, chunks=(1, 1, 7, 9)), 3, stride=2,
                                 return_indices=True, out=pair) is pair
    assert same_bits(pair[0], values)
    zarr = pytest.importorskip("zarr")
    target = zarr.create_array(str(tmp_path / "y.zarr"), shape=want.shape, chunks=(1, 4, 16, 16),
                               dtype=np.float32)
    cconv.dask.conv2d(da.from_array(x, chunks=(1, 3, 16, 16)), w, padding=1, out=target,
                      **DIRECT)
    assert same_bits(target[...], want)


def test_dask_other_keywords_reach_each_chunks_cconv_call(monkeypatch):
    """Keyword arguments cconv.dask does not know by name (one a later cconv adds) go to
    cconv's call on each chunk unchanged, and cconv rejects the ones it does not take before
    any task runs."""
    x = da.ones((1, 1, 40, 40), chunks=20)
    with pytest.raises(TypeError, match="no_such_option"):
        cconv.dask.conv2d(x, np.ones((1, 1, 3, 3)), no_such_option=1)
    with pytest.raises(TypeError, match="no_such_option"):
        cconv.dask.max_pool2d(x, 2, no_such_option=1)
    seen = []
    real = cconv._conv.conv2d

    def later_cconv(*args, later_option=None, **kwargs):
        seen.append(later_option)
        return real(*args, **kwargs)

    monkeypatch.setattr(_conv._conv, "conv2d", later_cconv)
    y = cconv.dask.conv2d(x, np.ones((1, 1, 3, 3)), padding=1, later_option="on")
    assert same_bits(y.compute(), real(np.ones((1, 1, 40, 40)), np.ones((1, 1, 3, 3)),
                                        padding=1))
    assert len(seen) == 1 + 4 and set(seen) == {"on"}  # the probe and the four chunks


def test_dask_conv2d_chunk_rule():
    """Output chunk boundaries: min(ceil(b / stride), OH) of the input's, empty ones dropped."""
    x = da.zeros((1, 1, 100, 50), chunks=(1, 1, (30, 30, 30, 10), (7, 43)))
    w = np.ones((1, 1, 3, 3))
    assert cconv.dask.conv2d(x, w, padding="same").chunks[2:] == ((30, 30, 30, 10), (7, 43))
    assert cconv.dask.conv2d(x, w, padding=1, stride=2).chunks[2:] == ((15, 15, 15, 5),
                                                                        (4, 21))
    # "valid" loses two rows: the last chunk ends at OH.
    assert cconv.dask.conv2d(x, w).chunks[2:] == ((30, 30, 30, 8), (7, 41))
    # Padding wider than "same" adds outputs: the last chunk takes them.
    assert cconv.dask.conv2d(x, w, padding=2).chunks[2:] == ((30, 30, 30, 12), (7, 45))
    # Chunks smaller than the stride hold no output's start: no empty output chunks.
    ones = da.zeros((1, 1, 9, 9), chunks=1)
    assert cconv.dask.conv2d(ones, w, padding=1, stride=2).chunks[2:] == ((1,) * 5, (1,) * 5)
    # Regular input chunks give regular output chunks (what to_zarr needs).
    big = da.zeros((1, 1, 4096, 4096), chunks=1024)
    assert cconv.dask.conv2d(big, np.ones((1, 1, 7, 7)), padding="same").chunks[2] == (1024,) * 4
    assert cconv.dask.conv2d(big, np.ones((1, 1, 7, 7)), padding=3, stride=2).chunks[2] == \
        (512,) * 4
    assert cconv.dask.conv_transpose2d(big, np.ones((1, 1, 4, 4)), stride=2,
                                       padding=1).chunks[2] == (2048,) * 4
    assert cconv.dask.max_pool2d(big, 2).chunks[2] == (512,) * 4


@pytest.mark.parametrize("seed", range(200))
def test_dask_halo_plans_read_exactly_what_each_output_chunk_needs(seed):
    """Each block reads exactly its outputs' windows; the overlap depth is the widest halo any
    block needs (no wider); merged blocks are at least that deep; the rows a block reads lie
    inside its overlapped block."""
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 60))
    chunks = random_chunks(rng, size)
    kernel, dilation, stride = int(rng.integers(1, 8)), int(rng.integers(1, 4)), \
        int(rng.integers(1, 5))
    span = dilation * (kernel - 1) + 1
    before = int(rng.integers(0, span + 1))
    after = int(rng.integers(0, span + 1))
    if size + before + after < span:
        return
    out = (size + before + after - span) // stride + 1
    plan = _axis.plan_axis(size, chunks, out, stride,
                           _axis.forward_window(stride, before, span))
    assert sum(plan.source_chunks) == plan.extent[1] - plan.extent[0]
    assert sum(plan.out_chunks) == sum(plan.final_chunks) == out
    assert plan.extent[0] >= -before and plan.extent[1] <= size + after
    starts = np.cumsum((0,) + plan.out_chunks)
    edges = plan.extent[0] + np.cumsum((0,) + plan.source_chunks)
    need = [0, 0]
    for i, (o0, o1) in enumerate(zip(starts, starts[1:])):
        offset, count = plan.reads(i)
        if o1 == o0:
            assert count == 0
            continue
        lo, hi = o0 * stride - before, (o1 - 1) * stride - before + span
        assert plan.origins[i] + offset == lo and count == hi - lo
        need = [max(need[0], edges[i] - lo), max(need[1], hi - edges[i + 1])]
        overlapped_end = edges[i + 1] + (plan.depth[1] if i + 1 < len(plan.source_chunks) else 0)
        assert plan.origins[i] >= plan.extent[0] and hi <= overlapped_end
    if len(plan.source_chunks) > 1:
        assert plan.depth == (max(need[0], 0), max(need[1], 0))
        assert min(plan.source_chunks) >= max(plan.depth)
    else:
        assert plan.depth == (0, 0)


def test_dask_halo_is_as_wide_as_the_kernel_needs():
    """A 7-row kernel with "same" padding on 64-row chunks: 3 rows each side, chunks kept.
    Stride 2, padding 3: output 32 starts its window at row 64 - 3 = 61, three rows before its
    block, and output 31 ends its window at 31 * 2 - 3 + 7 = 66, two rows after its block; with
    chunks on odd boundaries (63, 127, 191) the windows start two rows before the blocks."""
    plan = _axis.plan_axis(256, (64,) * 4, 256, 1, _axis.forward_window(1, 3, 7))
    assert plan.depth == (3, 3) and plan.source_chunks == (67, 64, 64, 67)
    assert [plan.reads(i)[1] for i in range(4)] == [70] * 4
    plan = _axis.plan_axis(256, (64,) * 4, 128, 2, _axis.forward_window(2, 3, 7))
    assert plan.out_chunks == (32,) * 4 and plan.depth == (3, 2)
    plan = _axis.plan_axis(255, (63, 64, 64, 64), 128, 2, _axis.forward_window(2, 3, 7))
    assert plan.out_chunks == (32,) * 4 and plan.depth == (2, 3)
    assert plan.reads(1) == (0, 31 * 2 + 7)


@pytest.mark.parametrize("mode", MODES)
def test_dask_borders_are_the_whole_arrays_in_every_mode(mode):
    """A chunk edge inside the array is no border: reflect, replicate, symmetric and circular
    (which wraps around the whole array, not a chunk) as cconv.conv2d gives them; padding wider
    than a chunk, and wider than the array, too."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, 2, 13, 11))
    w = rng.standard_normal((3, 2, 5, 5))
    for padding in (2, ((4, 0), (0, 4)), ((13, 1), (12, 9)) if mode != "reflect" else 4):
        whole = cconv.conv2d(x, w, padding=padding, padding_mode=mode, **DIRECT)
        for chunks in ((1, 2, 3, 4), (1, 2, 1, 1), (1, 2, 13, 11), (1, 2, (12, 1), (1, 10))):
            y = cconv.dask.conv2d(da.from_array(x, chunks=chunks), w, padding=padding,
                                  padding_mode=mode, **DIRECT)
            assert same_bits(y.compute(), whole), (padding, chunks)


@pytest.mark.parametrize("mode", ["reflect", "symmetric"])
def test_dask_mirrored_borders_beside_an_empty_chunk(mode):
    """The mirrored border rows next to an empty chunk (Dask's slicing with a negative step
    returns nothing on an axis with empty chunks: those chunks are dropped first)."""
    x = np.arange(2 * 11 * 9, dtype=np.float64).reshape(1, 2, 11, 9)
    w = np.arange(2 * 5 * 3, dtype=np.float64).reshape(1, 2, 5, 3)
    xd = da.from_array(x, chunks=(1, 2, (2, 2, 2, 4, 0, 1), (0, 4, 5)))
    y = cconv.dask.conv2d(xd, w, padding=3, dilation=(2, 1), padding_mode=mode, **DIRECT)
    assert same_bits(y.compute(), cconv.conv2d(x, w, padding=3, dilation=(2, 1),
                                               padding_mode=mode, **DIRECT))


@pytest.mark.parametrize("seed", range(3))
def test_dask_channels_last_small_chunks_run_the_whole_arrays_kernels(seed):
    """Dense NHWC filters sum taps-then-channels in the channels-last kernels and
    channels-then-taps in the planar ones; chunks too small for the channels-last kernels get
    zero images added (see _kernels), so even chunks of one pixel give the whole call's bits."""
    rng = np.random.default_rng(100 + seed)
    channels, filters = int(rng.choice([4, 8, 16])), int(rng.choice([16, 32]))
    x = rng.standard_normal((2, 9, 11, channels)).astype(np.float32)
    w = rng.standard_normal((filters, channels, 3, 3)).astype(np.float32)
    whole = cconv.conv2d(x, w, padding=1, data_format="NHWC", **DIRECT)
    for chunks in ((1, 1, 1, channels), (2, 3, 2, channels), (1, 9, 1, channels)):
        y = cconv.dask.conv2d(da.from_array(x, chunks=chunks), w, padding=1,
                              data_format="NHWC", **DIRECT)
        assert same_bits(y.compute(), whole), chunks
    # The transposed convolution runs conv2d's kernels on each stride phase: the same rule.
    wt = rng.standard_normal((channels, filters, 3, 3)).astype(np.float32)
    whole = cconv.conv_transpose2d(x, wt, stride=2, padding=1, data_format="NHWC")
    y = cconv.dask.conv_transpose2d(da.from_array(x, chunks=(1, 2, 3, channels)), wt, stride=2,
                                    padding=1, data_format="NHWC")
    assert same_bits(y.compute(), whole)
    threshold = _kernels.channels_last_threshold(channels, filters, 1, "<f4")
    assert threshold is not None and threshold > 1
    assert _kernels.batch_copies(1, 9 * 11 * 2, threshold) == threshold
    assert _kernels.batch_copies(threshold, 10 ** 6, threshold) == 1
    assert _kernels.batch_copies(1, threshold - 1, threshold) == 1


def test_dask_channel_chunks_are_merged():
    """Every filter reads all channels of its group: C-chunks become one chunk (both layouts)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 10, 10)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    y = cconv.dask.conv2d(da.from_array(x, chunks=(1, 2, 5, 5)), w, padding=1, groups=2)
    assert y.chunks[1] == (4,)
    assert same_bits(y.compute(), cconv.conv2d(x, w, padding=1, groups=2))
    xt = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    y = cconv.dask.conv2d(da.from_array(xt, chunks=(1, 5, 5, 1)), w, padding=1, groups=2,
                          data_format="NHWC")
    assert y.chunks[3] == (4,)
    assert same_bits(y.compute(), cconv.conv2d(xt, w, padding=1, groups=2, data_format="NHWC"))


@pytest.mark.parametrize("seed", range(24))
def test_dask_conv_transpose2d_random_chunkings_equal_the_whole_array_bitwise(seed):
    rng = np.random.default_rng(1000 + seed)
    fmt = ["NCHW", "NHWC"][rng.integers(2)]
    channels = int(rng.choice([1, 2, 4, 8]))
    groups = int(rng.choice([g for g in (1, 2) if channels % g == 0]))
    per_group = int(rng.choice([1, 2, 8]))
    kernel = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    dilation = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    size = (int(rng.integers(1, 20)), int(rng.integers(1, 20)))
    padding = ((int(rng.integers(0, 3)), int(rng.integers(0, 3))),
               (int(rng.integers(0, 3)), int(rng.integers(0, 3))))
    output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
    shape = (int(rng.integers(1, 3)), channels, *size)
    if fmt == "NHWC":
        shape = (shape[0], *size, channels)
    dtype = [np.float32, np.float64][rng.integers(2)]
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((channels, per_group, *kernel)).astype(dtype)
    b = rng.standard_normal(per_group * groups).astype(dtype) if rng.random() < 0.5 else None
    params = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                  dilation=dilation, data_format=fmt)
    try:
        whole = cconv.conv_transpose2d(x, w, b, **params)
    except ValueError:
        return  # the padding crops the whole output away: nothing to compare
    y = cconv.dask.conv_transpose2d(chunked(rng, x, fmt == "NHWC"), w, b, **params)
    assert same_bits(y.compute(), whole), params


def _pool_reference(function, x, data_format, **params):
    """cconv's pooling of the whole array (through an NCHW view where cconv has no
    data_format)."""
    if data_format == "NCHW" or "data_format" in function.__code__.co_varnames:
        if data_format != "NCHW":
            params["data_format"] = data_format
        return function(x, **params)
    result = function(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), **params)
    flip = lambda a: np.ascontiguousarray(a.transpose(0, 2, 3, 1))  # noqa: E731
    return tuple(map(flip, result)) if isinstance(result, tuple) else flip(result)


@pytest.mark.parametrize("seed", range(32))
def test_dask_pooling_random_chunkings_equal_the_whole_array_bitwise(seed):
    rng = np.random.default_rng(2000 + seed)
    fmt = ["NCHW", "NHWC"][rng.integers(2)]
    kernel = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    padding = ((int(rng.integers(0, kernel[0] // 2 + 1)), int(rng.integers(0, kernel[0] // 2 + 1))),
               (int(rng.integers(0, kernel[1] // 2 + 1)), int(rng.integers(0, kernel[1] // 2 + 1))))
    ceil_mode = bool(rng.integers(2))
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(kernel[0], 25)),
             int(rng.integers(kernel[1], 25)))
    if fmt == "NHWC":
        shape = (shape[0], shape[2], shape[3], shape[1])
    x = rng.standard_normal(shape).astype([np.float32, np.float64][rng.integers(2)])
    x[rng.random(shape) < 0.05] = 0.5  # ties, for the indices
    xd = chunked(rng, x, fmt == "NHWC")
    if rng.integers(2):
        dilation = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        params = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation,
                      ceil_mode=ceil_mode, return_indices=True)
        try:
            want = _pool_reference(cconv.max_pool2d, x, fmt, **params)
        except ValueError:
            return
        got = cconv.dask.max_pool2d(xd, **params, data_format=fmt)
        assert same_bits(got[0].compute(), want[0]) and same_bits(got[1].compute(), want[1])
    else:
        params = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                      count_include_pad=bool(rng.integers(2)),
                      divisor_override=[None, 3][rng.integers(2)])
        try:
            want = _pool_reference(cconv.avg_pool2d, x, fmt, **params)
        except ValueError:
            return
        got = cconv.dask.avg_pool2d(xd, **params, data_format=fmt)
        assert same_bits(got.compute(), want), params


def test_dask_threads_inside_tasks_default_to_one(monkeypatch):
    """Dask runs tasks in parallel; each task's cconv call uses one thread unless threads= says
    otherwise."""
    seen = []
    real = cconv._conv.conv2d

    def spy(*args, **kwargs):
        seen.append(kwargs.get("threads"))
        return real(*args, **kwargs)

    monkeypatch.setattr(_conv._conv, "conv2d", spy)
    x = da.ones((1, 1, 40, 40), chunks=20)
    cconv.dask.conv2d(x, np.ones((1, 1, 3, 3)), padding=1).compute()
    assert seen and set(seen) == {1}
    seen.clear()
    cconv.dask.conv2d(x, np.ones((1, 1, 3, 3)), padding=1, threads=2).compute()
    assert seen and set(seen) == {2}


def test_dask_errors_are_cconvs_and_raised_before_any_task():
    x = da.ones((1, 3, 8, 8), chunks=4)
    with pytest.raises(ValueError, match="kernel depth 2"):
        cconv.dask.conv2d(x, np.ones((4, 2, 3, 3)))
    with pytest.raises(ValueError, match="padding_mode"):
        cconv.dask.conv2d(x, np.ones((4, 3, 3, 3)), padding_mode="wrap")
    with pytest.raises(ValueError, match="method"):
        cconv.dask.conv2d(x, np.ones((4, 3, 3, 3)), method="winograd")
    with pytest.raises(ValueError, match="residual"):
        cconv.dask.conv2d(x, np.ones((4, 3, 3, 3)), residual=da.ones((1, 4, 5, 5)))
    with pytest.raises(TypeError, match="complex"):
        cconv.dask.conv2d(x.astype(np.complex64), np.ones((4, 3, 3, 3)))
    with pytest.raises(ValueError, match="threads"):
        cconv.dask.conv2d(x, np.ones((4, 3, 3, 3)), threads=0)
    with pytest.raises(ValueError, match="kernel height 9"):
        cconv.dask.max_pool2d(x, 9)
    with pytest.raises(ValueError, match="output_padding"):
        cconv.dask.conv_transpose2d(x, np.ones((3, 1, 3, 3)), output_padding=1)


def test_dask_empty_arrays_and_numpy_inputs():
    w = np.ones((2, 3, 3, 3), np.float32)
    empty = da.zeros((0, 3, 8, 8), chunks=4, dtype=np.float32)
    assert cconv.dask.conv2d(empty, w).compute().shape == (0, 2, 6, 6)
    no_channels = da.zeros((1, 0, 8, 8), chunks=4, dtype=np.float32)
    y = cconv.dask.conv2d(no_channels, np.ones((2, 0, 3, 3), np.float32), np.ones(2, np.float32))
    assert same_bits(y.compute(), np.ones((1, 2, 6, 6), np.float32))
    x = np.random.default_rng(0).standard_normal((3, 9, 9)).astype(np.float32)
    assert same_bits(cconv.dask.conv2d(x, w, padding=1).compute(), cconv.conv2d(x, w, padding=1))


def test_dask_import_is_lazy_and_explains_a_missing_dask():
    """`import cconv` imports no Dask; without Dask, `import cconv.dask` says what to install."""
    check = textwrap.dedent("""
        import sys
        import cconv
        assert not any(m == "dask" or m.startswith("dask.") for m in sys.modules), "dask imported"
        sys.modules["dask"] = None  # as if Dask were not installed
        try:
            import cconv.dask
        except ImportError as exc:
            assert 'pip install "cconv[dask]"' in str(exc), exc
        else:
            raise AssertionError("cconv.dask imported without Dask")
    """)
    subprocess.run([sys.executable, "-c", check], check=True, cwd=pathlib.Path(__file__).parent)


@pytest.mark.parametrize("module", [cconv.dask._conv, cconv.dask._conv_transpose,
                                    cconv.dask._pool], ids=lambda m: m.__name__)
def test_dask_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.skipif(not README.exists(), reason="tests run outside the source tree")
def test_dask_readme_example_runs():
    """The first Python block of the README's Dask section runs as printed."""
    text = README.read_text()
    section = text[text.index("## Dask arrays"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, "README.md (cconv.dask example)", "exec"), {})


# --------------------------------------------------------------------------------- memory, Zarr
def _peak_growth_mb(script: str, *args) -> float:
    """Runs `script` in a fresh Python; it prints its peak resident memory growth in MB.

    The script calls start() just before its work and prints growth() after it: the peak
    resident memory (VmHWM) during the work less the resident memory (VmRSS) at its start.
    start() resets the kernel's peak (writing 5 to /proc/self/clear_refs), so that the imports'
    own peak cannot hide the work's."""
    prelude = textwrap.dedent("""
        import sys
        def _status_mb(field):
            with open("/proc/self/status") as status:
                line = next(l for l in status if l.startswith(field + ":"))
            return int(line.split()[1]) / 1024
        def start():
            global _before
            with open("/proc/self/clear_refs", "w") as clear:
                clear.write("5")
            _before = _status_mb("VmRSS")
        def growth():
            return _status_mb("VmHWM") - _before
    """)
    done = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(script), *args],
                          check=True, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    return float(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")
def test_dask_memory_stays_near_a_few_chunks_on_the_threaded_scheduler():
    """A 4096 x 4096 float32 image (64 MB) in 256 x 256 chunks, convolved and reduced on the
    threaded scheduler with 2 workers: the peak grows by a band of chunks, the tasks in flight
    and Dask's bookkeeping of some 2700 tasks (measured: 45 MB), under the image's size
    (examples/dask_big_image.py gives the 20k x 20k figure)."""
    growth = _peak_growth_mb("""
        import numpy as np, dask, dask.array as da, cconv.dask
        x = da.random.default_rng(0).random((1, 1, 4096, 4096), dtype=np.float32,
                                            chunks=(1, 1, 256, 256))
        y = cconv.dask.conv2d(x, np.ones((1, 1, 7, 7), np.float32) / 49, padding="same")
        total = y.sum()
        start()
        with dask.config.set(scheduler="threads", num_workers=2):
            total.compute()
        print(growth())
    """)
    assert growth < 56, f"peak memory grew by {growth:.1f} MB for a 64 MB image"


def _stream_through_zarr(tmp_path, rows: int, check: bool) -> float:
    """A rows x 2048 float32 Zarr store (512 x 512 chunks) -> cconv.dask.conv2d -> another Zarr
    store, in a fresh process on the threaded scheduler with 2 workers: its peak memory growth
    in MB (after checking, if asked, that the store holds exactly cconv.conv2d of the whole
    array)."""
    zarr = pytest.importorskip("zarr")
    source, target = str(tmp_path / f"in{rows}.zarr"), str(tmp_path / f"out{rows}.zarr")
    da.random.default_rng(rows).random((rows, 2048), dtype=np.float32, chunks=512).to_zarr(source)
    growth = _peak_growth_mb("""
        import numpy as np, dask, dask.array as da, cconv.dask
        image = da.from_zarr(sys.argv[1])[None, None]
        kernel = np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5) / 300
        y = cconv.dask.conv2d(image, kernel, padding="same", padding_mode="reflect")
        start()
        with dask.config.set(scheduler="threads", num_workers=2):
            y[0, 0].to_zarr(sys.argv[2])
        print(growth())
    """, source, target)
    if not check:
        return growth
    image = zarr.open_array(source, mode="r")[...]
    kernel = np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5) / 300
    want = cconv.conv2d(image[None, None], kernel, padding="same", padding_mode="reflect")
    assert same_bits(zarr.open_array(target, mode="r")[...], want[0, 0])
    return growth


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")
def test_dask_zarr_streams_through_without_growing_memory(tmp_path):
    """Zarr store -> cconv.dask.conv2d -> Zarr store: the process's peak memory grows by a band
    of chunks and the tasks in flight, not by the array: for a 128 MB array by less than
    two thirds of it, and by less than 3.5 times what a 16 MB one of the same width takes, 8
    times smaller (measured: 24 and 60 MB: dask.array.overlap's halo views keep some chunks
    alive until their neighbours' tasks have run)."""
    small = _stream_through_zarr(tmp_path, 2048, check=True)
    large = _stream_through_zarr(tmp_path, 16384, check=False)
    assert large < 85, f"peak memory grew by {large:.1f} MB streaming a 128 MB array"
    assert large < 3.5 * small, (f"peak memory growth went from {small:.1f} MB to {large:.1f} MB "
                                 f"for an array 8 times larger")
