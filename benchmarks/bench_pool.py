"""Time cconv's pooling against PyTorch (and ONNX Runtime's MaxPool/AveragePool), side by side.

    python benchmarks/bench_pool.py [--threads N] [--repeat R] [--rows SUBSTRING ...]
                                    [--layout {nchw,nhwc,both}] [--json PATH]

The target rows are ResNet's pools, max and average pooling 3x3 stride 2 padding 1 and 2x2
stride 2, on (1, 64, 112, 112) and (1, 256, 56, 56) float32; two more rows, max pooling that also
returns indices (what training needs) and global average pooling, are for information.  Every
implementation runs each row at the same thread count, interleaved round-robin after a warm-up
(benchmarks/interleaved_timing.py); the median is reported, and each peer's result is checked
against cconv's once per row.  Needs only NumPy and cconv; each peer is optional.

The channels-last table (benchmarks/pool_nhwc_rows.py) times the same layers, and three
gradients, with data_format="NHWC", against the same layer in NCHW and PyTorch's channels_last,
interleaved; its target is NHWC at least 0.9x the NCHW speed on every row.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
from dataclasses import dataclass, field

import numpy as np

import cconv

import pool_nhwc_rows
from interleaved_timing import interleaved_medians
from machine_info import OtherLoad, describe, openblas_notes, thread_limits

TARGET = 1.5  # cconv at least this many times faster than PyTorch on the target rows


@dataclass
class Row:
    name: str
    shape: tuple
    op: str                    # "max", "avg", "max+indices" or "global avg"
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    target: bool = True
    kwargs: dict = field(default_factory=dict)

    def describe(self):
        n, c, h, w = self.shape
        if self.op == "global avg":
            return f"{n},{c},{h},{w} -> 1x1"
        return f"{n},{c},{h},{w} {self.kernel}x{self.kernel}/{self.stride} p{self.padding}"


ROWS = [
    Row("max 3x3/2 112", (1, 64, 112, 112), "max", 3, 2, 1),
    Row("max 3x3/2 56", (1, 256, 56, 56), "max", 3, 2, 1),
    Row("max 2x2/2 112", (1, 64, 112, 112), "max", 2, 2, 0),
    Row("max 2x2/2 56", (1, 256, 56, 56), "max", 2, 2, 0),
    Row("avg 3x3/2 112", (1, 64, 112, 112), "avg", 3, 2, 1),
    Row("avg 3x3/2 56", (1, 256, 56, 56), "avg", 3, 2, 1),
    Row("avg 2x2/2 112", (1, 64, 112, 112), "avg", 2, 2, 0),
    Row("avg 2x2/2 56", (1, 256, 56, 56), "avg", 2, 2, 0),
    Row("max+idx 3x3/2 112", (1, 64, 112, 112), "max+indices", 3, 2, 1, target=False),
    Row("global avg 7", (1, 512, 7, 7), "global avg", target=False),
    Row("global avg 56", (1, 256, 56, 56), "global avg", target=False),
]


def prepare_cconv(row, x, threads):
    if row.op == "max":
        return lambda: cconv.max_pool2d(x, row.kernel, row.stride, row.padding, threads=threads)
    if row.op == "max+indices":
        return lambda: cconv.max_pool2d(x, row.kernel, row.stride, row.padding,
                                        return_indices=True, threads=threads)[0]
    if row.op == "avg":
        return lambda: cconv.avg_pool2d(x, row.kernel, row.stride, row.padding, threads=threads)
    return lambda: cconv.adaptive_avg_pool2d(x, 1, threads=threads)


def prepare_torch(torch, row, x):
    F = torch.nn.functional
    xt = torch.from_numpy(x)
    if row.op == "max":
        return lambda: F.max_pool2d(xt, row.kernel, row.stride, row.padding).numpy()
    if row.op == "max+indices":
        return lambda: F.max_pool2d(xt, row.kernel, row.stride, row.padding,
                                    return_indices=True)[0].numpy()
    if row.op == "avg":
        return lambda: F.avg_pool2d(xt, row.kernel, row.stride, row.padding).numpy()
    return lambda: F.adaptive_avg_pool2d(xt, 1).numpy()


def prepare_ort(ort, onnx, row, x, threads):
    """An InferenceSession of one MaxPool / AveragePool / GlobalAveragePool node, or a string
    saying why there is none."""
    helper = onnx.helper
    if row.op == "max+indices":
        return "ONNX Runtime's MaxPool returns flat indices over the whole tensor: not timed"
    if row.op == "global avg":
        node = helper.make_node("GlobalAveragePool", ["x"], ["y"])
    else:
        node = helper.make_node(
            "MaxPool" if row.op == "max" else "AveragePool", ["x"], ["y"],
            kernel_shape=[row.kernel] * 2, strides=[row.stride] * 2, pads=[row.padding] * 4,
            **({} if row.op == "max" else {"count_include_pad": 1}))
    elem = helper.np_dtype_to_tensor_dtype(x.dtype)
    graph = helper.make_graph([node], "pool", [helper.make_tensor_value_info("x", elem,
                                                                             list(x.shape))],
                              [helper.make_tensor_value_info("y", elem, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return lambda: session.run(None, {"x": x})[0]


class _Peer:
    """A peer library for machine_info's helpers: key, version, thread limit."""

    def __init__(self, key, module):
        self.key, self.missing, self.lib, self.onnx = key, None, None, None
        try:
            self.lib = importlib.import_module(module)
        except Exception as exc:  # ImportError, or a broken install raising anything else
            self.missing = f"{key} skipped: cannot import {module} ({exc})"

    def version(self):
        return getattr(self.lib, "__version__", None)

    def set_threads(self, threads):
        if self.key == "torch" and self.lib is not None:
            self.lib.set_num_threads(threads)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for every library")
    parser.add_argument("--repeat", type=int, default=15, help="interleaved repetitions per row "
                        "(the median is reported; default 15)")
    parser.add_argument("--rows", nargs="+", metavar="SUBSTRING",
                        help="run only the rows whose name contains one of these")
    parser.add_argument("--min-sample-ms", type=float, default=5.0,
                        help="each timing sample repeats the call until it lasts this long")
    parser.add_argument("--row-budget-s", type=float, default=8.0,
                        help="rough time per row for all repetitions (default 8 s)")
    parser.add_argument("--layout", choices=("nchw", "nhwc", "both"), default="both",
                        help="the NCHW table (against PyTorch and ONNX Runtime), the NHWC one "
                        "(against the same layer in NCHW and PyTorch channels_last), or both")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.repeat < 1:
        parser.error("--threads and --repeat must be >= 1")
    return args


def run_row(row, args, torch, ort_pair):
    x = np.random.default_rng(0).standard_normal(row.shape).astype(np.float32)
    fns = {"cconv": prepare_cconv(row, x, args.threads)}
    notes = []
    if torch is not None:
        fns["torch"] = prepare_torch(torch, row, x)
    if ort_pair is not None:
        made = prepare_ort(*ort_pair, row, x, args.threads)
        if isinstance(made, str):
            notes.append(made)
        else:
            fns["ort"] = made
    ref = fns["cconv"]()
    for key in [k for k in fns if k != "cconv"]:
        if not np.allclose(fns[key](), ref, rtol=1e-5, atol=1e-6):
            notes.append(f"{key}: result DIFFERS from cconv's; left out")
            del fns[key]
    settle = {"ort": 0.05}  # ONNX Runtime's pool keeps spinning after a call
    medians, _ = interleaved_medians(fns, repeat=args.repeat, min_sample_s=args.min_sample_ms
                                     / 1e3, budget_s=args.row_budget_s, settle_s=settle)
    ms = {k: v * 1e3 for k, v in medians.items()}
    ratio = {k: ms[k] / ms["cconv"] for k in ms if k != "cconv"}
    return {"name": row.name, "shape": row.describe(), "target": row.target, "ms": ms,
            "ratio": ratio, "notes": notes}


def run_nhwc_row(row, args, torch):
    """One channels-last row: cconv NHWC, the same layer in NCHW, PyTorch channels_last."""
    fns = pool_nhwc_rows.prepare(row, args.threads, torch)
    notes = []
    ref = fns["cconv"]()
    for key in [k for k in fns if k != "cconv"]:
        if not np.allclose(fns[key](), ref, rtol=1e-5, atol=1e-6):
            notes.append(f"{key}: result DIFFERS from cconv NHWC's; left out")
            del fns[key]
    medians, _ = interleaved_medians(fns, repeat=args.repeat, min_sample_s=args.min_sample_ms
                                     / 1e3, budget_s=args.row_budget_s)
    ms = {k: v * 1e3 for k, v in medians.items()}
    ratio = {k: ms[k] / ms["cconv"] for k in ms if k != "cconv"}
    return {"name": row.name, "shape": row.describe(), "layout": "NHWC", "ms": ms,
            "ratio": ratio, "notes": notes}


def print_nhwc_table(rows, args, torch, results):
    print("\nchannels-last (data_format=\"NHWC\"): nhwc/nchw = cconv NCHW time / cconv NHWC time "
          "of the same layer\n(> 1: NHWC is faster); vs torch = PyTorch channels_last time / "
          "cconv NHWC time")
    print(f"{'row':<24} {'shape (NHWC)':<24} {'nhwc ms':>9} {'nchw ms':>9} {'torch ms':>9} "
          f"{'nhwc/nchw':>9} {'vs torch':>9}")
    for row in rows:
        r = run_nhwc_row(row, args, torch)
        results.append(r)
        cells = [f"{r['ms'].get(k, math.nan):>9.4g}" for k in ("cconv", "nchw", "torch")]
        ratios = [f"{r['ratio'][k]:.2f}x" if k in r["ratio"] else "-" for k in ("nchw", "torch")]
        print(f"{row.name:<24} {r['shape']:<24} {' '.join(cells)} {ratios[0]:>9} "
              f"{ratios[1]:>9}", flush=True)
    measured = [r for r in results if r.get("layout") == "NHWC" and "nchw" in r["ratio"]]
    if measured:
        worst = min(measured, key=lambda r: r["ratio"]["nchw"])
        met = worst["ratio"]["nchw"] >= pool_nhwc_rows.TARGET
        print(f"\nsummary: [{'met ' if met else 'MISS'}] slowest NHWC row vs the same layer in "
              f"NCHW: {worst['name']} {worst['ratio']['nchw']:.2f}x (target >= "
              f"{pool_nhwc_rows.TARGET}x at {args.threads} thread(s))")


def main(argv=None):
    args = parse_args(argv)
    chosen = (lambda name: not args.rows or any(s in name for s in args.rows))
    rows = [r for r in ROWS if chosen(r.name)] if args.layout != "nhwc" else []
    nhwc = [r for r in pool_nhwc_rows.nhwc_rows(ROWS) if chosen(r.name)] if (
        args.layout != "nchw") else []
    if not rows and not nhwc:
        sys.exit(f"no row name contains any of {args.rows}")
    peers = [_Peer("torch", "torch"), _Peer("ort", "onnxruntime")]
    onnx = None
    if peers[1].missing is None:
        try:
            onnx = peers[1].onnx = importlib.import_module("onnx")
        except Exception as exc:
            peers[1].missing = f"ort skipped: cannot import onnx ({exc})"
    torch = peers[0].lib if peers[0].missing is None else None
    ort_pair = (peers[1].lib, onnx) if peers[1].missing is None else None
    info = describe(peers, args)
    print(f"cconv pooling benchmark  {info['date_utc']}  {info['cpu_model']}, "
          f"{info['cores']} cores")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    print(f"cconv: simd={info['cconv_config']['simd']}   threads={args.threads} float32 "
          f"repeat={args.repeat}")
    for note in [p.missing for p in peers if p.missing] + openblas_notes():
        print(note)
    if args.threads > (os.cpu_count() or 1):
        print(f"note: --threads {args.threads} is more than the {os.cpu_count()} cores")
    print("ratios are peer time / cconv time (> 1: cconv is faster)\n")
    if rows:
        print(f"{'row':<18} {'shape':<24} {'cconv ms':>9} {'torch ms':>9} {'ort ms':>9} "
              f"{'vs torch':>9} {'vs ort':>8}")
    load = OtherLoad().start()
    results = []
    with thread_limits(args.threads, [p for p in peers if p.missing is None]):
        for row in rows:
            r = run_row(row, args, torch, ort_pair)
            results.append(r)
            cells = [f"{r['ms'].get(k, math.nan):>9.4g}" for k in ("cconv", "torch", "ort")]
            ratios = [f"{r['ratio'][k]:.2f}x" if k in r["ratio"] else "-"
                      for k in ("torch", "ort")]
            print(f"{row.name:<18} {r['shape']:<24} {' '.join(cells)} {ratios[0]:>9} "
                  f"{ratios[1]:>8}", flush=True)
        if nhwc:
            print_nhwc_table(nhwc, args, torch, results)
    for r in results:
        for n in r["notes"]:
            print(f"  note: {r['name']}: {n}")
    targets = [r for r in results if r.get("target") and "torch" in r["ratio"]]
    if targets:
        worst = min(targets, key=lambda r: r["ratio"]["torch"])
        met = worst["ratio"]["torch"] >= TARGET
        print(f"\nsummary: [{'met ' if met else 'MISS'}] slowest target row vs PyTorch: "
              f"{worst['name']} {worst['ratio']['torch']:.2f}x (target >= {TARGET}x at "
              f"{args.threads} thread(s))")
    share = load.share()
    if share is not None:
        print(f"other processes used {100 * share:.0f}% of the {info['cores']} cores during "
              f"this run")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "results": results}, f, indent=1)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
