"""Threads, memory and interrupts: concurrent calls equal serial ones, repeated calls do not grow
the process, failures mid-call leak nothing, and Ctrl-C stops a long call within about a second."""

import os
import signal
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

import cconv
from cconv import _conv, _simd
from conftest import assert_matches_oracle

needs_proc = pytest.mark.skipif(
    not os.path.exists("/proc/self/statm") or os.environ.get("CCONV_UNDER_SANITIZER") == "1",
    reason="resident memory is read from /proc/self/statm, and a sanitizer's quarantine keeps "
           "freed memory resident")


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# (input shape, weight shape, dtype, params): deliberately all different.
THREAD_CONFIGS = [
    ((2, 3, 17, 19), (5, 3, 3, 3), np.float32, dict(padding=1)),
    ((1, 8, 20, 20), (8, 1, 3, 3), np.float64, dict(groups=8, padding="same")),
    ((3, 4, 15, 11), (6, 4, 5, 3), np.float32, dict(stride=2, dilation=(1, 2))),
    ((1, 16, 12, 12), (32, 16, 1, 1), np.float64, dict()),
    ((4, 6, 9, 9), (6, 3, 3, 3), np.float32, dict(groups=2, padding=((0, 2), (1, 0)))),
    ((1, 1, 64, 48), (2, 1, 7, 7), np.float64, dict(padding=3, stride=(1, 3))),
    ((2, 5, 10, 13), (7, 5, 2, 4), np.float32, dict(dilation=2, padding=2)),
    ((5, 2, 8, 8), (3, 2, 3, 3), np.float64, dict(stride=(3, 1))),
]


def _operands(i):
    shape_x, shape_w, dtype, params = THREAD_CONFIGS[i]
    rng = np.random.default_rng(100 + i)
    x = rng.standard_normal(shape_x).astype(dtype)
    w = rng.standard_normal(shape_w).astype(dtype)
    b = rng.standard_normal(shape_w[0]).astype(dtype)
    return x, w, b, params


@pytest.mark.parametrize("inner_threads", [1, None], ids=["threads=1", "threads=default"])
def test_eight_python_threads_match_serial(inner_threads):
    operands = [_operands(i) for i in range(len(THREAD_CONFIGS))]
    serial = [cconv.conv2d(x, w, b, threads=inner_threads, **p) for x, w, b, p in operands]
    for got, (x, w, b, p) in zip(serial, operands):
        assert_matches_oracle(got, x, w, b, **p)

    start = threading.Barrier(len(operands))
    results = [[] for _ in operands]
    errors = []

    def worker(i):
        x, w, b, p = operands[i]
        try:
            start.wait()
            for _ in range(20):
                results[i].append(cconv.conv2d(x, w, b, threads=inner_threads, **p))
        except BaseException as exc:            # reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(operands))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    for i, runs in enumerate(results):
        assert len(runs) == 20
        for got in runs:
            # Same path, same arithmetic order: bit-identical, not merely close.
            np.testing.assert_array_equal(got, serial[i])


def test_threads_share_one_out_free_input():
    """Many threads reading the same input and weight concurrently (read-only sharing)."""
    x, w, b, p = _operands(0)
    x.flags.writeable = False
    want = cconv.conv2d(x, w, b, **p)
    outs = [np.empty_like(want) for _ in range(8)]

    def worker(out):
        for _ in range(10):
            cconv.conv2d(x, w, b, out=out, **p)

    threads = [threading.Thread(target=worker, args=(o,)) for o in outs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for out in outs:
        np.testing.assert_array_equal(out, want)


@needs_proc
def test_20000_calls_grow_rss_by_less_than_10_mb():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 3, 10, 10)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    out = np.empty((1, 4, 10, 10), np.float32)
    bad_w = np.ones((4, 2, 3, 3), np.float32)

    def one_round(i):
        kind = i % 5
        if kind == 0:
            cconv.conv2d(x, w, b, padding=1)
        elif kind == 1:
            cconv.conv2d(x, w, None, padding=1, out=out)
        elif kind == 2:
            cconv.conv2d(x[0], w.astype(np.float64), b, stride=2)
        elif kind == 3:
            cconv.conv2d(x, w, b, padding="same", threads=1)
        else:
            try:                                  # the error path must not leak either
                cconv.conv2d(x, bad_w, b)
            except ValueError:
                pass

    for i in range(1000):                          # warm up caches, allocator pools, OpenMP
        one_round(i)
    before = _rss_bytes()
    for i in range(20000):
        one_round(i)
    grown = _rss_bytes() - before
    assert grown < 10 * 2**20, f"resident memory grew by {grown / 2**20:.1f} MB"


def _inject(monkeypatch, target, name):
    """Replaces target.name with a function that raises MemoryError, counting calls."""
    calls = []

    def fail(*args, **kwargs):
        calls.append(1)
        raise MemoryError(f"injected in {name}")

    monkeypatch.setattr(target, name, fail)
    return calls


@pytest.mark.parametrize("where", ["result-allocation", "cached-result-allocation",
                                   "c-core-call", "input-copy"])
def test_injected_memory_error_leaks_nothing(where, monkeypatch):
    """MemoryError raised mid-call (after some arrays already exist) frees everything, on the
    full path and on the replay of a cached plan."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 32, 32))           # float64: converted to float32 below
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    x32 = x.astype(np.float32)
    if hasattr(_conv, "_PLAN_CACHE"):                  # start from an empty cache of plans
        monkeypatch.setattr(_conv, "_PLAN_CACHE", {})
    if where == "cached-result-allocation":
        cconv.conv2d(x32, w, padding=1)                  # now the next call replays the plan
        assert len(_conv._PLAN_CACHE) == 1
        calls = _inject(monkeypatch, _conv.np, "empty")
        args = (x32, w)
    elif where == "result-allocation":
        calls = _inject(monkeypatch, _conv.np, "empty")
        args = (x32, w)
    elif where == "c-core-call":
        calls = []

        def fail(*args):
            calls.append(1)
            raise MemoryError("injected in the C core call")

        monkeypatch.setitem(_conv._CORE, np.dtype(np.float32), fail)
        monkeypatch.setitem(_conv._CORE, np.dtype(np.float64), fail)
        args = (x32, w)
    else:
        calls = _inject(monkeypatch, _conv.np, "require")
        args = (x, w)

    def attempt():
        with pytest.raises(MemoryError, match="injected"):
            cconv.conv2d(*args, padding=1)

    for _ in range(20):
        attempt()
    tracemalloc.start()
    try:
        base = tracemalloc.take_snapshot()
        for _ in range(300):
            attempt()
        grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(base, "filename"))
    finally:
        tracemalloc.stop()
    assert len(calls) == 320
    # A leaked 2x4x32x32 result or input copy would be >= 8 KB per call (2.4 MB in all).
    assert grown < 200_000, f"{grown} bytes still allocated after 300 failed calls"
    monkeypatch.undo()
    got = cconv.conv2d(x32, w, padding=1)
    assert_matches_oracle(got, x32, w, padding=1)


@needs_proc
def test_memory_error_from_the_c_core_leaks_nothing():
    """A real C-side MemoryError: a 2 x 4096 kernel dilated by 2**17 rows needs a packed band
    of more than 1 GiB, which the driver refuses after allocating its 64 KB tap table."""
    x = np.ones((1, 1, 1, 4096), np.float32)
    w = np.ones((1, 1, 2, 4096), np.float32)
    params = dict(dilation=(2**17, 1), padding=((2**17, 0), (0, 0)))
    assert cconv.conv2d_output_shape(x.shape, w.shape, **params) == (1, 1, 1, 1)

    def attempt():
        with pytest.raises(MemoryError, match=r"cconv: "):
            cconv.conv2d(x, w, **params)

    for _ in range(50):
        attempt()
    before = _rss_bytes()
    for _ in range(500):                          # a leaked tap table would be 32 MB here
        attempt()
    grown = _rss_bytes() - before
    assert grown < 10 * 2**20, f"resident memory grew by {grown / 2**20:.1f} MB"


def test_scratch_scales_with_the_output_rows_not_the_stride():
    """A stride of 4000 rows in a 4100 x 70000 image: two output rows, so the driver packs two
    bands of three input rows (the polyphase sub-images no tap reads are never packed)."""
    shape, wshape = (1, 1, 4100, 70000), (1, 1, 3, 3)
    assert _conv.workspace_bytes(shape, wshape, stride=(4000, 1), threads=1) < 4 * 2**20
    rng = np.random.default_rng(9)
    x = np.zeros(shape, np.float32)          # calloc'ed: only the rows written below get pages
    rows = [0, 1, 2, 4000, 4001, 4002]
    x[0, 0, rows] = rng.standard_normal((6, 70000)).astype(np.float32)
    w = rng.standard_normal(wshape).astype(np.float32)
    got = cconv.conv2d(x, w, stride=(4000, 1))
    assert got.shape == (1, 1, 2, 69998)
    assert_matches_oracle(got, x[:, :, rows], w, stride=(3, 1))


def test_broadcast_input_is_never_copied():
    """A 50000 x 50000 broadcast view (10 GB if made contiguous) with stride 25000 reads 2 x 2
    windows of 3 x 3 pixels: nothing the size of the input may be allocated."""
    rng = np.random.default_rng(10)
    row = rng.standard_normal(50000).astype(np.float32)
    x = np.broadcast_to(row, (1, 1, 50000, 50000))
    w = rng.standard_normal((2, 1, 3, 3)).astype(np.float32)
    tracemalloc.start()
    try:
        got = cconv.conv2d(x, w, stride=25000, padding=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20, f"{peak} bytes allocated"
    touched = np.r_[0:2, 24999:25002]                 # rows and columns the windows read
    small = x[:, :, touched][:, :, :, touched]
    assert_matches_oracle(got, small, w, stride=3, padding=((1, 0), (1, 0)))


def _median_call_seconds(call, samples):
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.skipif(os.environ.get("CCONV_UNDER_SANITIZER") == "1",
                    reason="a sanitizer's instrumentation changes the timings this test bounds")
def test_a_busy_python_thread_does_not_stall_calls(threads):
    """Beside a thread running pure Python (which holds the GIL whenever it can), a call must
    not wait for the GIL between its blocks of work: each wait lasts up to the switch interval
    (5 ms).  Short calls keep the GIL (nothing to wait for); longer ones take it back once at
    the end.  The bounds are loose for a shared 2-core machine; benchmarks/bench_busy_thread.py
    measures the ratios themselves."""
    rng = np.random.default_rng(3)
    tiny = (rng.standard_normal((1, 3, 8, 8)).astype(np.float32),
            rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    image = (rng.standard_normal((1, 1, 4000, 3000)).astype(np.float32),
             rng.standard_normal((1, 1, 5, 5)).astype(np.float32))
    cases = [("tiny", lambda: cconv.conv2d(*tiny, padding=1, threads=threads), 300),
             ("image", lambda: cconv.conv2d(*image, threads=threads), 15)]

    def measure():
        alone = {name: _median_call_seconds(call, n) for name, call, n in cases}
        stop = threading.Event()

        def spin():
            count = 0
            while not stop.is_set():
                count += 1

        spinner = threading.Thread(target=spin)
        spinner.start()
        try:
            busy = {name: _median_call_seconds(call, n) for name, call, n in cases}
        finally:
            stop.set()
            spinner.join()
        return alone, busy

    # Before, the image call waited for the GIL after every block of work: 18 ms alone, 1.2 s
    # beside the busy thread at threads=1 (60x), every time.  Other processes on a shared machine
    # can inflate one measurement (the spinner then shares a core with them): up to three tries,
    # the bounds must hold in one.
    for _ in range(3):
        alone, busy = measure()
        if (busy["tiny"] < 3 * alone["tiny"] + 1e-3
                and busy["image"] < 2 * alone["image"] + 0.015):
            break
    assert busy["tiny"] < 3 * alone["tiny"] + 1e-3, (alone, busy)
    assert busy["image"] < 2 * alone["image"] + 0.015, (alone, busy)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_calls_in_contended_mode_are_exact(threads, monkeypatch):
    """Once a thread has seen a busy neighbour hold the GIL, its short calls keep the GIL and its
    long ones take it back before they end, handing their last items to a pool thread (even at
    threads=1).  Whatever the mode, the results are bitwise those of a plain call."""
    from cconv import _core

    rng = np.random.default_rng(8)
    calls = [(rng.standard_normal((1, 16, 40, 40)).astype(np.float32),
              rng.standard_normal((16, 16, 3, 3)).astype(np.float32), dict(padding=1)),
             (rng.standard_normal((1, 1, 1500, 1200)), rng.standard_normal((2, 1, 5, 5)), {}),
             (rng.standard_normal((2, 24, 60, 60)).astype(np.float32),
              rng.standard_normal((24, 1, 3, 3)).astype(np.float32),
              dict(stride=2, padding=1, groups=24))]
    plain = [cconv.conv2d(x, w, threads=threads, **p) for x, w, p in calls]
    monkeypatch.setattr(_core._gil_state, "contended_until", time.monotonic() + 3600,
                        raising=False)
    # A short switch interval makes the second call long enough for a handoff.
    monkeypatch.setattr(sys, "getswitchinterval", lambda: 2e-4)
    handoffs = getattr(_core._gil_state, "handoffs", 0)
    stop = threading.Event()
    spinner = threading.Thread(target=lambda: [None for _ in iter(stop.is_set, True)])
    spinner.start()
    try:
        for _ in range(3):
            for (x, w, p), want in zip(calls, plain):
                np.testing.assert_array_equal(cconv.conv2d(x, w, threads=threads, **p), want)
    finally:
        stop.set()
        spinner.join()
    assert _core._gil_state.handoffs > handoffs


_GENERIC = _simd.path_index("generic")


def _generic_conv(x, w):
    """Single-threaded conv2d on the portable (slowest) path, padding 2."""
    return _conv._conv2d(x, w, None, 1, 2, 1, 1, None, 1, _GENERIC, False)


def _long_call_operands(seconds):
    """C-contiguous float32 operands for a conv2d on the generic path lasting about `seconds`
    here (calibrated, so it holds on fast and slow CPUs).  Contiguous and of the result dtype
    so the call goes straight to C: a conversion copy would delay the interrupt on its own."""
    rng = np.random.default_rng(4)
    w = rng.standard_normal((64, 64, 5, 5)).astype(np.float32)
    one = rng.standard_normal((1, 64, 64, 64)).astype(np.float32)
    _generic_conv(one, w)
    t0 = time.perf_counter()
    _generic_conv(one, w)
    per_image = max(time.perf_counter() - t0, 1e-4)
    batch = int(np.clip(seconds / per_image, 1, 512))
    x = np.ascontiguousarray(np.broadcast_to(one, (batch, 64, 64, 64)))
    return x, w, per_image * batch


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT from a thread is POSIX-only")
@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="signals reach only the main thread")
def test_ctrl_c_stops_a_long_call_within_a_second():
    x, w, expected = _long_call_operands(seconds=6.0)
    assert expected > 3.0
    fired = []

    def interrupt():
        fired.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(0.3, interrupt)
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            _generic_conv(x, w)
        stopped = time.perf_counter()
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, old)
    assert fired, "the call ended before the interrupt was sent"
    latency = stopped - fired[0]
    assert latency < 1.0, f"KeyboardInterrupt took {latency:.2f} s (call would take {expected:.1f})"
    # The library is still usable afterwards.
    got = cconv.conv2d(x[:1], w, padding=2)
    assert_matches_oracle(got, x[:1], w, padding=2)
