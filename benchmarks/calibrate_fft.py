"""Measure the constants of method="auto"'s cost model (cconv/_method.py) on this machine.

    python benchmarks/calibrate_fft.py [--quick] [--threads N]

Prints the constants in cconv/_method.py's syntax, to paste over the ones there, then checks
the model: for a few convolutions, the FFT path's estimated and measured times side by side.
Each probe is timed as the fastest of several samples (each sample enough back-to-back calls to
last 20 ms): on a shared machine the fastest sample is the one least disturbed by other
processes, and both paths are measured the same way.  Run it on a quiet machine; the line at the
end says how much of the machine other processes used meanwhile (a few minutes in all).

What each constant comes from:

- DIRECT_MACS_PER_S: cconv.conv2d(method="direct") on a one-channel 1024 x 1024 image with
  15x15 and 31x31 kernels ("depth1": filters one kernel deep, as in one-channel and depthwise
  layers) and on 16 -> 16 channels of 128 x 128 with 7x7 and 11x11 kernels ("dense"), at one
  thread: multiply-adds per second, the *fastest* of the kernel sizes (so the model never
  underestimates the direct path).  DIRECT_THREAD_GAIN: the least gain of the float32 probes at
  `--threads` threads (each thread gain from samples taken while no other process runs).
- FFT_S_PER_POINT_LOG: a transform of an n-point square as the FFT path runs it, per point and
  per log2(n), for every FFT library installed: conv2d_fft on one-channel pictures of 2 x 2 and
  4 x 4 tiles of that size (1 and 2 x 2 for the largest; 3x3 kernel), the cost of one more tile
  less its products, gathering and writing, halved (a forward and an inverse transform).  Measured in place, a transform is
  slower than alone when its arrays leave the caches (2x at 2**20 points), and small tiles carry
  the Python work of an item.
- SPECTRUM_S_PER_MAC: a complex multiply-add of two spectra, per element.
- GATHER_S_PER_POINT, OUTPUT_S_PER_POINT: copying a block of the input into the FFT's buffer
  (converting float32), and writing an output tile with its bias, per point.
- FFT_THREAD_GAIN: the FFT path at `--threads` threads against one thread on 16 tiles.
- FLOAT32_ERROR_PER_LOG2: the largest |float32 FFT - exact| / (sum of |x| |w| over the window),
  per log2 of the FFT points, over uniform, normal and image-like inputs with kernels of 15 to
  127 taps (exact: the float64 FFT path, whose own error is a billion times smaller).
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

import cconv
from cconv import _method
from cconv._args import resolve
from cconv._fft import conv2d_fft
from cconv._fft_backend import backend as fft_backend

from machine_info import OtherLoad


def fastest(fn, samples=7, min_sample_s=0.02) -> float:
    """Seconds per call: the fastest of `samples` samples of back-to-back calls."""
    fn()
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        took = time.perf_counter() - start
        if took >= min_sample_s:
            break
        calls = max(calls * 2, int(calls * min_sample_s / max(took, 1e-9)) + 1)
    best = took / calls
    for _ in range(samples - 1):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def others_busy(seconds=0.2) -> float:
    """Share of the machine that other processes used over the next `seconds`."""
    load = OtherLoad().start()
    time.sleep(seconds)
    return load.share() or 0.0


def thread_gain(one, many, threads: int, rounds: int = 8) -> float:
    """(speed at `threads` threads / speed at one - 1) / (threads - 1), each time the fastest
    sample taken while no other process runs: a build or test run that takes a core for a
    moment would make the threads look useless.  Up to `rounds` tries of a few seconds."""
    best_one = best_many = math.inf
    for _ in range(rounds):
        start = time.perf_counter()
        while others_busy() > 0.05 and time.perf_counter() - start < 30:
            pass
        best_one = min(best_one, fastest(one, samples=3))
        best_many = min(best_many, fastest(many, samples=3))
    return (best_one / best_many - 1) / (threads - 1)


def direct_rates(threads: int, quick: bool) -> tuple[dict, float]:
    rng = np.random.default_rng(0)
    rates, gains = {}, []
    probes = {
        "depth1": [((1, 1, 1024, 1024), (1, 1, k, k)) for k in (15, 31)],
        "dense": [((1, 16, 128, 128), (16, 16, k, k)) for k in (7, 11)],
    }
    for dtype in (np.float32, np.float64):
        for kind, shapes in probes.items():
            best = 0.0
            for xs, ws in shapes[:1] if quick else shapes:
                x = rng.random(xs).astype(dtype)
                w = rng.random(ws).astype(dtype)
                g = resolve(xs, ws, padding="same")
                macs = (g.batch * g.out_channels * g.out_height * g.out_width
                        * g.in_channels * g.kernel_height * g.kernel_width)
                t1 = fastest(lambda: cconv.conv2d(x, w, padding="same", method="direct",
                                                  threads=1), samples=3 if quick else 5)
                best = max(best, macs / t1)
                if threads > 1 and dtype == np.float32:
                    gains.append(thread_gain(
                        lambda: cconv.conv2d(x, w, padding="same", method="direct", threads=1),
                        lambda: cconv.conv2d(x, w, padding="same", method="direct",
                                             threads=threads), threads, 2 if quick else 4))
            rates[(np.dtype(dtype).name, kind)] = best
    return rates, (min(gains) if gains else _method.DIRECT_THREAD_GAIN)


def transform_table(quick: bool) -> dict:
    from cconv._fft_plan import FFTPlan, phase_axes
    rng = np.random.default_rng(1)
    table = {}
    once = []
    names = ["numpy"]
    try:
        fft_backend("scipy")
        names.insert(0, "scipy")
    except ImportError:
        print("# SciPy is not installed: only numpy.fft measured", file=sys.stderr)
    for name in names:
        lib = fft_backend(name)
        for dtype in (np.float32, np.float64):
            row = []
            for log2n in _method.FFT_LOG2_POINTS:
                side = 2 ** (log2n // 2)
                w = rng.random((1, 1, 3, 3)).astype(dtype)
                took = {}
                # The cost of one more tile: pictures of m x m and 2m x 2m tiles, so that what
                # a call costs once (its buffers' first touch, the kernel's spectrum) cancels.
                for tiles in (1, 2) if log2n > 18 else (2, 4):
                    x = rng.random((1, 1, tiles * (side - 2), tiles * (side - 2))).astype(dtype)
                    g = resolve(x.shape, w.shape)
                    rows, cols = phase_axes(g)
                    plan = FFTPlan(rows, cols, side, side, side - 2, side - 2, 1, 1)
                    took[tiles * tiles] = fastest(
                        lambda: conv2d_fft(x, w, None, g, dtype=dtype, plan=plan, backend=lib),
                        samples=3 if quick else 5)
                (few, t_few), (many, t_many) = sorted(took.items())
                per_item = (t_many - t_few) / (many - few)
                t = _method.plan_terms(g, plan, dtype, lib.name)  # per item of the larger
                transform = (per_item - t["spectra"] - t["gather"] - t["output"]) / 2
                row.append(max(transform, 0.0) / (side * side * log2n))
                # What is left of the smaller call is what a call costs once.
                once.append((side * side, t_few - few * per_item - t["kernels"], dtype))
            table[(name, np.dtype(dtype).name)] = tuple(row)
    return table, once


def fit_call(once) -> tuple[float, float]:
    """CALL_S + CALL_S_PER_BYTE * (bytes of a thread's buffers): least squares over what each
    probe's smaller call cost beyond its tiles, non-negative."""
    from cconv._fft_plan import FFTPlan, phase_axes
    rows = []
    for points, cost, dtype in once:
        side = int(round(points ** 0.5))
        g = resolve((1, 1, side, side), (1, 1, 3, 3))
        r, c = phase_axes(g)
        plan = FFTPlan(r, c, side, side, side - 2, side - 2, 1, 1)
        saved = _method.CALL_S, _method.CALL_S_PER_BYTE
        _method.CALL_S, _method.CALL_S_PER_BYTE = 0.0, 1.0
        buffers = _method.plan_terms(g, plan, dtype, "scipy")["call"]
        _method.CALL_S, _method.CALL_S_PER_BYTE = saved
        rows.append((1.0, buffers, cost))
    a = np.array([r[:2] for r in rows])
    y = np.array([r[2] for r in rows])
    (c0, c1), *_ = np.linalg.lstsq(a, y, rcond=None)
    if c1 < 0:
        c0, c1 = float(max(np.mean(y), 0.0)), 0.0
    if c0 < 0:
        c0, c1 = 0.0, float(max(np.dot(a[:, 1], y) / np.dot(a[:, 1], a[:, 1]), 0.0))
    return float(c0), float(c1)


def elementwise(quick: bool) -> tuple[dict, dict, dict]:
    rng = np.random.default_rng(2)
    mac, gather, output = {}, {}, {}
    for dtype, ctype in ((np.float32, np.complex64), (np.float64, np.complex128)):
        name = np.dtype(dtype).name
        shape = (4, 512, 257)
        a = (rng.random(shape) + 1j * rng.random(shape)).astype(ctype)
        k = (rng.random(shape) + 1j * rng.random(shape)).astype(ctype)
        acc = a.copy()
        term = np.empty_like(a)

        def multiply_add():
            np.multiply(a, k, out=term)
            np.add(acc, term, out=acc)

        mac[name] = (fastest(lambda: a * k) + fastest(multiply_add)) / 2 / a.size
        image = rng.random((2048, 2048)).astype(np.float32)
        block = np.empty((1024, 1024), dtype)
        gather[name] = fastest(lambda: block.__setitem__(Ellipsis, image[7:1031, 9:1033])) \
            / block.size
        result = rng.random((1, 1, 1100, 1100)).astype(dtype)
        out = np.empty((1, 1, 2048, 2048), dtype)
        bias = np.ones((1, 1, 1), dtype)

        def write():
            tile = out[:, :, 5:1029, 3:1027]
            np.copyto(tile, result[..., :1024, :1024])
            tile += bias

        output[name] = fastest(write) / (1024 * 1024)
    return mac, gather, output


def fft_thread_gain(threads: int) -> float:
    """On 16 tiles of 512 x 512: enough work items for the threads."""
    if threads <= 1:
        return _method.FFT_THREAD_GAIN
    from cconv._fft_plan import FFTPlan, phase_axes
    rng = np.random.default_rng(3)
    x = rng.random((1, 1, 1928, 1928)).astype(np.float32)
    w = rng.random((1, 1, 31, 31)).astype(np.float32)
    g = resolve(x.shape, w.shape, padding="same")
    rows, cols = phase_axes(g)
    one = FFTPlan(rows, cols, 512, 512, 482, 482, 1, 1)
    many = one._replace(workers=threads)
    return thread_gain(lambda: conv2d_fft(x, w, None, g, dtype=np.float32, plan=one),
                       lambda: conv2d_fft(x, w, None, g, dtype=np.float32, plan=many), threads)


def float32_error(quick: bool) -> float:
    rng = np.random.default_rng(4)
    worst = 0.0
    images = {
        "uniform": lambda s: rng.random(s),
        "normal": lambda s: rng.standard_normal(s),
        # A smooth picture with an offset and noise, as photos are.
        "image": lambda s: 128 + 100 * np.sin(np.arange(s[-1]) / 37.0)[None, None, None, :]
        * np.cos(np.arange(s[-2]) / 23.0)[None, None, :, None] + rng.integers(0, 20, s),
    }
    sizes = (256, 1024) if quick else (256, 1024, 2048)
    for image in images.values():
        for size in sizes:
            for k in (15, 63, 127):
                x = np.asarray(image((1, 1, size, size)), dtype=np.float64)
                w = rng.random((1, 1, k, k)) - (0.3 if k == 63 else 0.0)
                g = resolve(x.shape, w.shape, padding="same")
                plan = _method.fft_plan(g, np.float32, 1, fft_backend())
                got = conv2d_fft(x.astype(np.float32), w.astype(np.float32), None, g,
                                 dtype=np.float32, plan=plan)
                exact = conv2d_fft(x, w, None, g, dtype=np.float64)
                bound = conv2d_fft(np.abs(x), np.abs(w), None, g, dtype=np.float64)
                ratio = float(np.max(np.abs(got - exact) / bound))
                worst = max(worst, ratio / math.log2(plan.fft_h * plan.fft_w))
    return worst


def check_model(threads: int) -> None:
    rng = np.random.default_rng(5)
    print("\n# model check: FFT path, estimated and measured ms (fastest sample)")
    print(f"# {'case':<40} {'threads':>7} {'est':>8} {'meas':>8}  direct est")
    cases = [((1, 1, 1024, 1024), (1, 1, 31, 31), 1), ((1, 1, 3000, 4000), (1, 1, 63, 63), 1),
             ((1, 3, 1024, 1024), (3, 1, 15, 15), 3), ((1, 1, 1024, 1024), (1, 1, 127, 127), 1),
             ((4, 8, 64, 64), (8, 8, 9, 9), 1)]
    for xs, ws, groups in cases:
        x = rng.random(xs).astype(np.float32)
        w = rng.random(ws).astype(np.float32)
        g = resolve(xs, ws, padding="same", groups=groups)
        for t in sorted({1, threads}):
            plan = _method.fft_plan(g, np.float32, t, fft_backend())
            est = _method.plan_seconds(g, plan, np.float32, t, fft_backend().name)
            meas = fastest(lambda: conv2d_fft(x, w, None, g, dtype=np.float32, threads=t,
                                              plan=plan), samples=3)
            direct = _method.direct_seconds(g, np.float32, t)
            print(f"# {str(xs) + ' * ' + str(ws) + f' g{groups}':<40} {t:>7} "
                  f"{est * 1e3:>8.2f} {meas * 1e3:>8.2f}  {direct * 1e3:.2f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2,
                        help="thread count for the thread gains (default 2)")
    parser.add_argument("--quick", action="store_true", help="fewer probes and samples")
    args = parser.parse_args(argv)
    load = OtherLoad().start()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rates, direct_gain = direct_rates(args.threads, args.quick)
    mac, gather, output = elementwise(args.quick)
    # The transforms are measured in place, net of the per-point terms just measured.
    _method.SPECTRUM_S_PER_MAC, _method.GATHER_S_PER_POINT = mac, gather
    _method.OUTPUT_S_PER_POINT = output
    table, once = transform_table(args.quick)
    _method.FFT_S_PER_POINT_LOG = table
    call_s, call_s_per_byte = fit_call(once)
    _method.CALL_S, _method.CALL_S_PER_BYTE = call_s, call_s_per_byte
    fft_gain = fft_thread_gain(args.threads)
    _method.FFT_THREAD_GAIN = fft_gain
    _method.DIRECT_MACS_PER_S, _method.DIRECT_THREAD_GAIN = rates, direct_gain
    _method._PLANS.clear()
    error = float32_error(args.quick)
    import scipy
    print(f"# Measured by benchmarks/calibrate_fft.py on {started}: NumPy {np.__version__}, "
          f"SciPy {scipy.__version__}, cconv {cconv.__version__} "
          f"({cconv.get_config()['simd']}), gains at {args.threads} threads.")
    print("DIRECT_MACS_PER_S = {")
    for key, value in rates.items():
        print(f"    {key!r}: {value:.3g},")
    print("}")
    print(f"DIRECT_THREAD_GAIN = {direct_gain:.2f}")
    print(f"FFT_LOG2_POINTS = {_method.FFT_LOG2_POINTS}")
    print("FFT_S_PER_POINT_LOG = {")
    for key, row in table.items():
        print(f"    {key!r}: ({', '.join(f'{v:.3g}' for v in row)}),")
    print("}")
    print(f"SPECTRUM_S_PER_MAC = {{{', '.join(f'{k!r}: {v:.3g}' for k, v in mac.items())}}}")
    print(f"GATHER_S_PER_POINT = {{{', '.join(f'{k!r}: {v:.3g}' for k, v in gather.items())}}}")
    print(f"OUTPUT_S_PER_POINT = {{{', '.join(f'{k!r}: {v:.3g}' for k, v in output.items())}}}")
    print(f"FFT_THREAD_GAIN = {fft_gain:.2f}")
    print(f"CALL_S = {call_s:.3g}")
    print(f"CALL_S_PER_BYTE = {call_s_per_byte:.3g}")
    print(f"FLOAT32_ERROR_PER_LOG2 = {error:.3g}")
    check_model(args.threads)
    share = load.share()
    if share is not None:
        print(f"# other processes used {share:.0%} of the machine meanwhile"
              + (": rerun on a quiet machine" if share > 0.10 else ""))


if __name__ == "__main__":
    main()
