"""conv2d with data_format="NHWC" against the same layer in NCHW, on issue 3's layer table.

    python benchmarks/bench_layout.py [--threads N] [--repeat R] [--layers SUBSTRING ...]

For every layer: cconv NCHW and cconv NHWC (the same numbers, channels last), and PyTorch's
channels_last memory format where torch is installed, at the same thread count, interleaved
round-robin in one process, the median of the repetitions; the kernels the NHWC call runs
(channels-last or planar) are named.  Issue 10's target: NHWC at least 0.9x the NCHW speed on
every layer, faster where channels-last suits the arithmetic (1x1, depthwise).
"""

from __future__ import annotations

import argparse
import math

import numpy as np

import cconv
from cconv import _core, _simd
from cconv._args import resolve

from conv_layers import make_arrays, select
from interleaved_timing import interleaved_medians
from machine_info import OtherLoad, cpu_model, usable_cores


def kernels_used(layer, x_nhwc, dtype):
    g = resolve(layer.input_shape, layer.weight_shape, layer.stride, layer.pad, layer.dilation,
                layer.groups)
    out = np.empty((g.batch, g.out_height, g.out_width, g.out_channels), dtype)
    return _core.kernels_used(x_nhwc.transpose(0, 3, 1, 2), layer.weight_shape,
                              out.transpose(0, 3, 1, 2), g.core_tuple, _simd.ACTIVE,
                              dtype.itemsize)


def torch_channels_last(layer, x, w, b, threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    xt = torch.from_numpy(x).contiguous(memory_format=torch.channels_last)
    wt = torch.from_numpy(w).contiguous(memory_format=torch.channels_last)
    bt = None if b is None else torch.from_numpy(b)

    def run():
        with torch.no_grad():
            return torch.nn.functional.conv2d(xt, wt, bt, layer.stride, layer.pad,
                                              layer.dilation, layer.groups)
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--layers", nargs="+", metavar="SUBSTRING")
    parser.add_argument("--layer-budget-s", type=float, default=6.0)
    args = parser.parse_args(argv)
    print(f"{cpu_model()}, {usable_cores()} usable cores; cconv {cconv.__version__}, "
          f"simd {_simd.ACTIVE_NAME}")
    print(f"threads={args.threads}, median of up to {args.repeat} interleaved samples\n")
    print(f"{'layer':<16} {'NCHW ms':>9} {'NHWC ms':>9} {'NHWC/NCHW':>10} {'torch CL ms':>12} "
          f"{'vs torch':>9} {'others':>6}  NHWC kernels")
    ratios = []
    for layer in select(args.layers):
        dtype = layer.resolved_dtype("float32")
        x, w, b = make_arrays(layer, dtype, with_bias=True)
        xh = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        load = OtherLoad().start()
        fns = {
            "nchw": lambda: cconv.conv2d(x, w, b, layer.stride, layer.pad, layer.dilation,
                                         layer.groups, threads=args.threads),
            "nhwc": lambda: cconv.conv2d(xh, w, b, layer.stride, layer.pad, layer.dilation,
                                         layer.groups, data_format="NHWC",
                                         threads=args.threads),
        }
        torch_fn = torch_channels_last(layer, x, w, b, args.threads)
        if torch_fn is not None:
            fns["torch"] = torch_fn
        a, c = fns["nchw"](), fns["nhwc"]()
        scale = float(np.abs(a).max()) or 1.0
        assert np.allclose(c.transpose(0, 3, 1, 2), a, rtol=1e-3, atol=1e-4 * scale), layer
        medians, _ = interleaved_medians(fns, repeat=args.repeat, min_sample_s=0.005,
                                         budget_s=args.layer_budget_s)
        ratio = medians["nchw"] / medians["nhwc"]
        ratios.append(ratio)
        torch_ms = f"{medians['torch'] * 1e3:.3f}" if "torch" in medians else "-"
        vs_torch = f"{medians['torch'] / medians['nhwc']:.2f}x" if "torch" in medians else "-"
        share = load.share()
        others = "?" if share is None else f"{100 * share:.0f}%"
        print(f"{layer.name:<16} {medians['nchw'] * 1e3:>9.3f} {medians['nhwc'] * 1e3:>9.3f} "
              f"{ratio:>9.2f}x {torch_ms:>12} {vs_torch:>9} {others:>6}  "
              f"{kernels_used(layer, xh, dtype)}")
    gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print(f"\ngeomean NCHW time / NHWC time: {gm:.2f}x; lowest {min(ratios):.2f}x "
          f"(target >= 0.9x on every layer)")


if __name__ == "__main__":
    main()
