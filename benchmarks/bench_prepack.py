"""What packing the weights once saves per layer: conv2d against a cconv.Conv2d object.

    python benchmarks/bench_prepack.py [--network resnet18 mobilenet_v2] [--layout nchw nhwc]
                                       [--batch 1] [--threads 1] [--repeat 15] [--budget 2]
                                       [--no-decoder]

The layers are the calls of the examples' forward passes (examples/resnet18.py,
mobilenet_v2.py) at 224x224, recorded as they run on a seeded random initialisation: every
conv2d call with its input, weight, bias, residual and parameters, repeated layers (same shapes
and parameters) once.  Each layer is timed as ``cconv.conv2d(x, w, b, ...)`` (its repeated-call
path: no argument resolution, but the channels-last kernels repack the weights every call) and
as ``layer(x)`` for ``layer = cconv.Conv2d(w, b, ...)`` (weights packed once), interleaved
round-robin in this process, the median of the repetitions each.  NHWC runs the same layer on
channels-last copies of its arrays (``data_format="NHWC"``); NCHW layers mostly run the planar
kernels, which read the weights in place, so there the object saves only the call overhead.
The "kernels" column names the path the call takes (see cconv_conv2d_kernels_used); "packing"
is the fastest of 20 packings of the layer's weights alone (what conv2d redoes every call on the
channels-last kernels, "-" where a call packs nothing): the saving to expect on a quiet machine,
where the two medians' difference is noisy.  A last table does the same for conv_transpose2d
against cconv.ConvTranspose2d on a few decoder layers (DCGAN, U-Net), which reorder their whole
weight into stride-phase kernels on every call.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

import cconv
from cconv import _core, _simd
from cconv._args import resolve
from cconv._layer import _layout_template

from interleaved_timing import interleaved_medians
from machine_info import OtherLoad, cpu_model, usable_cores

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


class _Recorder:
    """Stands in for the cconv module inside an example: records every conv2d call."""

    def __init__(self, names_by_weight: dict):
        self.names = names_by_weight
        self.calls = []

    def __getattr__(self, attr):
        fn = getattr(cconv, attr)
        if attr != "conv2d":
            return fn

        def recorded(x, weight, bias=None, **kwargs):
            self.calls.append((self.names.get(id(weight), "?"), x, weight, bias, kwargs))
            return fn(x, weight, bias, **kwargs)
        return recorded


def network_layers(network: str, batch: int) -> list:
    """[(name, x, w, b, kwargs)] of the network's distinct conv2d calls, in forward order."""
    sys.path.insert(0, str(EXAMPLES))
    import importlib
    example = importlib.import_module(network)
    params = example.build_params(seed=0)
    recorder = _Recorder({id(w): name for name, (w, _) in params.items()})
    x = np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float32)
    real, example.cconv = example.cconv, recorder
    try:
        example.forward(params, x, threads=1)
    finally:
        example.cconv = real
    seen, layers = set(), []
    for name, x, w, b, kwargs in recorder.calls:
        key = (x.shape, w.shape, tuple(sorted((k, repr(v)) for k, v in kwargs.items()
                                              if k not in ("residual", "threads"))),
               kwargs.get("residual") is not None)
        if key not in seen:
            seen.add(key)
            layers.append((name, x, w, b, kwargs))
    return layers


def _nhwc(a):
    return None if a is None else np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def kernels_used(x, w, kwargs, data_format):
    g = resolve(x.shape if data_format == "NCHW" else _nchw_shape(x.shape), w.shape,
                kwargs.get("stride", 1), kwargs.get("padding", 0), kwargs.get("dilation", 1),
                kwargs.get("groups", 1))
    if data_format == "NCHW":
        x4, out = x, np.empty(g.out_shape, np.float32)
    else:
        x4 = x.transpose(0, 3, 1, 2)
        out = np.empty((g.batch, g.out_height, g.out_width, g.out_channels),
                       np.float32).transpose(0, 3, 1, 2)
    return _core.kernels_used(x4, w.shape, out, g.core_tuple, _simd.ACTIVE, 4)


def pack_seconds(layer, x, repeat=20) -> float | None:
    """The fastest of `repeat` packings of the layer's weights for x's call (what conv2d does per
    call on the channels-last kernels), or None when that call packs nothing."""
    plan = next(iter(layer._plans.values()))
    (_, w, b, geometry, shape, dtype, n_threads, _, _, _, _, cl, simd, packed) = plan
    if packed is None:
        return None
    x4 = x.transpose(0, 3, 1, 2) if cl else x
    out4 = _layout_template(shape, dtype)
    out4 = out4.transpose(0, 3, 1, 2) if cl else out4
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        _core.conv2d_pack(x4, w, b, out4, geometry, n_threads, simd)
        best = min(best, time.perf_counter() - start)
    return best


def _nchw_shape(shape):
    return (shape[0], shape[3], shape[1], shape[2])


# Transposed convolutions (decoders have them, the two networks do not): DCGAN's generator and
# U-Net's up-sampling layers, (name, C, H, O, kernel, stride, padding).
DECODER = (("dcgan 512->256", 512, 4, 256, 4, 2, 1), ("dcgan 256->128", 256, 8, 128, 4, 2, 1),
           ("dcgan 128->64", 128, 16, 64, 4, 2, 1), ("dcgan 64->3", 64, 32, 3, 4, 2, 1),
           ("unet up 512->256", 512, 14, 256, 2, 2, 0),
           ("unet up 256->128", 256, 28, 128, 2, 2, 0),
           ("unet up 128->64", 128, 56, 64, 2, 2, 0))


def decoder_table(args, layout):
    """conv_transpose2d against a ConvTranspose2d object on the DECODER layers."""
    fmt = layout.upper()
    print(f"\n## decoder layers (conv_transpose2d), {fmt}")
    print("| layer | input | weight | conv_transpose2d µs | ConvTranspose2d µs | saving µs | "
          "saving % |")
    print("|---|---|---|---:|---:|---:|---:|")
    rng = np.random.default_rng(0)
    for name, c, h, o, k, stride, pad in DECODER:
        x = rng.standard_normal((args.batch, c, h, h)).astype(np.float32)
        w = (rng.standard_normal((c, o, k, k)) / np.sqrt(c * k * k)).astype(np.float32)
        b = rng.standard_normal(o).astype(np.float32)
        if fmt == "NHWC":
            x = _nhwc(x)
        layer = cconv.ConvTranspose2d(w, b, stride, pad, data_format=fmt, threads=args.threads)
        fns = {"function": lambda: cconv.conv_transpose2d(x, w, b, stride, pad, data_format=fmt,
                                                          threads=args.threads),
               "object": lambda: layer(x)}
        assert np.array_equal(fns["function"](), fns["object"]())
        medians, _ = interleaved_medians(fns, args.repeat, args.min_sample, args.budget)
        a, c_ = medians["function"] * 1e6, medians["object"] * 1e6
        print(f"| {name} | {'x'.join(map(str, x.shape[1:]))} | {'x'.join(map(str, w.shape))} | "
              f"{a:.0f} | {c_:.0f} | {a - c_:.0f} | {100 * (a - c_) / a:.1f} |", flush=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", nargs="+", default=["resnet18", "mobilenet_v2"],
                        choices=["resnet18", "mobilenet_v2"])
    parser.add_argument("--layout", nargs="+", default=["nchw", "nhwc"],
                        choices=["nchw", "nhwc"])
    parser.add_argument("--no-decoder", action="store_true",
                        help="skip the transposed-convolution table")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--budget", type=float, default=2.0,
                        help="rough seconds of timing per layer and layout")
    parser.add_argument("--min-sample", type=float, default=0.01,
                        help="seconds each timed sample lasts at least")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    load = OtherLoad().start()
    print(f"# conv2d vs cconv.Conv2d (weights packed once): batch {args.batch}, "
          f"{args.threads} thread(s), float32, 224x224; {cpu_model()}, {usable_cores()} usable "
          f"cores, SIMD path {_simd.ACTIVE_NAME}")
    print("# medians of interleaved samples; saving = conv2d - Conv2d")
    for network in args.network:
        layers = network_layers(network, args.batch)
        for layout in args.layout:
            fmt = layout.upper()
            print(f"\n## {network}, {fmt}")
            print(f"| layer | input | weight | kernels | conv2d µs | Conv2d µs | saving µs | "
                  f"saving % | packing µs |")
            print("|---|---|---|---|---:|---:|---:|---:|---:|")
            total = {"conv2d": 0.0, "Conv2d": 0.0}
            for name, x, w, b, kwargs in layers:
                kw = {k: v for k, v in kwargs.items() if k not in ("residual", "threads")}
                residual = kwargs.get("residual")
                if fmt == "NHWC":
                    x, residual = _nhwc(x), _nhwc(residual)
                layer = cconv.Conv2d(w, b, **kw, data_format=fmt, threads=args.threads)
                fns = {
                    "conv2d": lambda: cconv.conv2d(x, w, b, **kw, residual=residual,
                                                   data_format=fmt, threads=args.threads),
                    "Conv2d": lambda: layer(x, residual=residual),
                }
                assert np.array_equal(fns["conv2d"](), fns["Conv2d"]())
                medians, _ = interleaved_medians(fns, args.repeat, args.min_sample,
                                                 args.budget)
                a, c = medians["conv2d"] * 1e6, medians["Conv2d"] * 1e6
                packing = pack_seconds(layer, x)
                packing = "-" if packing is None else f"{packing * 1e6:.0f}"
                total["conv2d"] += a
                total["Conv2d"] += c
                print(f"| {name} | {'x'.join(map(str, x.shape[1:]))} | "
                      f"{'x'.join(map(str, w.shape))} | {kernels_used(x, w, kw, fmt)} | "
                      f"{a:.0f} | {c:.0f} | {a - c:.0f} | {100 * (a - c) / a:.1f} | {packing} |",
                      flush=True)
            a, c = total["conv2d"], total["Conv2d"]
            print(f"| **sum of the distinct layers** | | | | {a:.0f} | {c:.0f} | {a - c:.0f} | "
                  f"{100 * (a - c) / a:.1f} | |")
    if not args.no_decoder:
        for layout in args.layout:
            decoder_table(args, layout)
    share = load.share()
    if share is not None:
        print(f"\n# other processes used {100 * share:.0f}% of the machine's cores meanwhile: "
              f"timings are {'noisy' if share > 0.1 else 'fairly quiet'}")


if __name__ == "__main__":
    main()
