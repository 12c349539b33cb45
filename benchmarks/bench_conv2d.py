"""Time cconv.conv2d against its peers on the layer table of issues 3 and 11.

    python benchmarks/bench_conv2d.py [--threads N] [--dtype float32|float64] [--repeat R]
                                      [--layers SUBSTRING ...] [--json PATH]

cconv and every installed peer (PyTorch, ONNX Runtime, OpenCV filter2D for one-channel layers,
NumPy im2col+matmul) run each layer at the same thread count, interleaved round-robin after a
warm-up; the median of the repetitions is reported. Each peer's result is checked against cconv's
once per layer. See benchmarks/README.md for the columns. Needs only NumPy and cconv; every peer
is optional and skipped with a note when missing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

import cconv
import cconv._conv
from cconv._args import resolve
from cconv._winograd import winograd_suits

from conv_layers import DENSE_3X3, make_arrays, select
from conv_peers import ALL, isolated_call
from interleaved_timing import interleaved_medians
from isolated_timing import IsolatedRunner
from machine_info import OtherLoad, describe, openblas_notes, thread_limits
from peak import measure_peak

PEER_KEYS = ("torch", "ort", "cv2", "numpy")
# Issue 3's limit on temporary memory per call: max(8 MB, 25% of the output's size).
WORKSPACE_FLOOR_BYTES = 8 * 2**20


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for every implementation (default 1)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                        help="dtype of every row except the 'float64' row, which is always "
                             "float64 (default float32)")
    parser.add_argument("--repeat", type=int, default=15,
                        help="interleaved repetitions per layer; the median is reported "
                             "(default 15; fewer, not below 3, when a layer is very slow)")
    parser.add_argument("--layers", nargs="+", metavar="SUBSTRING",
                        help="run only the layers whose name contains one of these")
    parser.add_argument("--ceiling", type=float, default=None, metavar="GFLOPS",
                        help="float32 peak of one core for the %%ceil column, float64 then uses "
                             "half (default: both peaks measured on this machine at the start, "
                             "from compute-bound one-thread calls: see benchmarks/peak.py)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    parser.add_argument("--no-bias", action="store_true",
                        help="call every implementation without a bias (default: with one)")
    parser.add_argument("--min-sample-ms", type=float, default=5.0,
                        help="each timing sample repeats the call until it lasts this long "
                             "(default 5 ms)")
    parser.add_argument("--max-idle-wait-ms", type=float, default=200.0,
                        help="before each sample, wait up to this long for worker threads "
                             "still spinning after the previous library's call (default 200)")
    parser.add_argument("--in-process", action="store_true",
                        help="time every library in this one process (default: each in a "
                             "worker process of its own, waiting for an idle machine before each "
                             "sample: see isolated_timing.py)")
    parser.add_argument("--layer-budget-s", type=float, default=12.0,
                        help="rough time per layer for all repetitions (default 12 s)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    if args.ceiling is not None and args.ceiling <= 0:
        parser.error("--ceiling must be > 0")
    return args


def peaks_per_core(args):
    """({dtype name: peak GFLOP/s of one core}, lines saying where the figures come from)."""
    if args.ceiling is not None:
        return ({"float32": args.ceiling, "float64": args.ceiling / 2},
                [f"peak of one core from --ceiling: float32 {args.ceiling:.1f} GFLOP/s, float64 "
                 f"{args.ceiling / 2:.1f} (half)"])
    peaks = {name: measure_peak(name) for name in ("float32", "float64")}
    lines = ["peak of one core, measured here (best GFLOP/s of compute-bound calls at 1 thread, "
             "benchmarks/peak.py):"]
    lines += [f"  {peak.describe()}" for peak in peaks.values()]
    lines += [f"  note: {note}" for note in peaks["float32"].notes]
    return {name: peak.gflops for name, peak in peaks.items()}, lines


def workspace(layer, dtype, threads):
    """(bytes, note) from cconv._conv.workspace_bytes, or (None, why) when it is not there."""
    fn = getattr(cconv._conv, "workspace_bytes", None)
    if fn is None:
        return None, "cconv._conv.workspace_bytes does not exist in this build"
    try:
        return int(fn(layer.input_shape, layer.weight_shape, layer.stride, layer.pad,
                      layer.dilation, layer.groups, threads, dtype)), None
    except Exception as exc:  # report, do not abort the benchmark
        return None, f"workspace_bytes failed: {type(exc).__name__}: {exc}"


def check(out, ref, dtype):
    """(matches, max abs difference) of a peer's output against cconv's."""
    out = np.asarray(out)
    if out.shape != ref.shape:
        return False, None
    diff = float(np.max(np.abs(out.astype(np.float64) - ref))) if ref.size else 0.0
    scale = max(1.0, float(np.max(np.abs(ref)))) if ref.size else 1.0
    tol = 1e-3 if dtype == np.float32 else 1e-9
    return bool(np.allclose(out, ref, rtol=tol, atol=tol * scale)), diff


def time_isolated(layer, args, impls, dtype):
    """(reference result, {key: callable-like results}, medians, details, notes) with each
    implementation in its own worker process."""
    specs = {impl.key: (isolated_call, (impl.key, layer, dtype.name, args.threads,
                                        not args.no_bias))
             for impl in impls if impl.missing is None and impl.applies(layer)}
    notes = []
    with IsolatedRunner(specs) as runner:
        for key, why in runner.errors.items():
            if key == "cconv":
                raise RuntimeError(f"cconv could not run {layer.name}: {why}")
            notes.append(f"{key}: {why}")
        results = {key: runner.result(key) for key in runner.keys()}
        medians, details = runner.medians(args.repeat, args.min_sample_ms / 1e3,
                                          args.max_idle_wait_ms / 1e3, args.layer_budget_s)
    return results, medians, details, notes


def run_layer(layer, args, impls):
    load = OtherLoad().start()
    dtype = layer.resolved_dtype(args.dtype)
    if not args.in_process:
        outputs, medians, details, notes = time_isolated(layer, args, impls, dtype)
        ref = np.asarray(outputs["cconv"], dtype=np.float64)
        checks = {}
        for key in [k for k in outputs if k != "cconv"]:
            checks[key] = check(outputs[key], ref, dtype)
            if not checks[key][0]:
                notes.append(f"{key}: result DIFFERS from cconv (max abs diff "
                             f"{checks[key][1]}); left out of the ratios")
        return summarise_layer(layer, args, impls, dtype, medians, details, checks, notes,
                               load, not args.no_bias)
    x, w, b = make_arrays(layer, dtype, with_bias=not args.no_bias)
    fns, notes = {}, []
    for impl in impls:
        if impl.missing is not None or not impl.applies(layer):
            continue
        try:
            prepared = impl.prepare(layer, x, w, b, args.threads)
        except Exception as exc:  # a peer failing is a note, not the end of the benchmark
            if impl.key == "cconv":
                raise
            prepared = f"failed to set up: {type(exc).__name__}: {exc}"
        if isinstance(prepared, str):
            notes.append(f"{impl.key}: {prepared}")
        else:
            fns[impl.key] = prepared

    ref = np.asarray(fns["cconv"](), dtype=np.float64)
    checks = {}
    for key in [k for k in fns if k != "cconv"]:
        try:
            checks[key] = check(fns[key](), ref, dtype)
        except Exception as exc:
            notes.append(f"{key}: failed: {type(exc).__name__}: {exc}")
            del fns[key]
            continue
        if not checks[key][0]:
            notes.append(f"{key}: result DIFFERS from cconv (max abs diff {checks[key][1]}); "
                         "left out of the ratios")

    medians, details = interleaved_medians(
        fns, repeat=args.repeat, min_sample_s=args.min_sample_ms / 1e3,
        budget_s=args.layer_budget_s, max_idle_wait_s=args.max_idle_wait_ms / 1e3,
        settle_s={i.key: i.settle_s(args.threads) for i in impls if i.key in fns})
    return summarise_layer(layer, args, impls, dtype, medians, details, checks, notes, load,
                           b is not None)


def summarise_layer(layer, args, impls, dtype, medians, details, checks, notes, load, bias):
    """The row of one layer from its timings."""
    ws_bytes, ws_note = workspace(layer, dtype, args.threads)
    out_bytes = math.prod(layer.output_shape) * dtype.itemsize
    ws_limit = max(WORKSPACE_FLOOR_BYTES, out_bytes // 4)
    t = medians["cconv"]
    gflops = layer.flops / t / 1e9
    ceiling = args.peaks[dtype.name] * args.threads
    valid = {k: v for k, v in medians.items() if k == "cconv" or checks[k][0]}
    ratios = {k: valid[k] / t for k in PEER_KEYS if k in valid}
    best = [i.key for i in impls if i.best_peer and i.key in valid]
    best_key = min(best, key=valid.get) if best else None
    return {
        "name": layer.name,
        "shape": layer.describe(),
        "input_shape": layer.input_shape,
        "weight_shape": layer.weight_shape,
        "stride": layer.stride, "padding": layer.pad, "dilation": layer.dilation,
        "groups": layer.groups,
        "dtype": dtype.name,
        # The Winograd tile method="auto" computes this layer with (0: another method).
        "winograd_tile": winograd_suits(resolve(layer.input_shape, layer.weight_shape,
                                                layer.stride, layer.pad, layer.dilation,
                                                layer.groups), dtype),
        "bias": bias,
        "flops": layer.flops,
        "ms": {k: v * 1e3 for k, v in medians.items()},
        "gflops": {k: layer.flops / v / 1e9 for k, v in medians.items()},
        "cconv_gflops": gflops,
        "ceiling_gflops": ceiling,
        "pct_ceiling": 100.0 * gflops / ceiling,
        "ratio": ratios,
        "best_peer": best_key,
        "ratio_best": valid[best_key] / t if best_key else None,
        "matches_cconv": {k: c[0] for k, c in checks.items()},
        "max_abs_diff": {k: c[1] for k, c in checks.items()},
        "workspace_bytes": ws_bytes,
        "workspace_limit_bytes": ws_limit,
        "workspace_note": ws_note,
        "timing": details,
        "other_load": load.share(),
        "notes": notes,
    }


def fmt_ms(ms):
    return f"{ms:.4g}" if ms >= 0.001 else f"{ms:.2g}"


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


HEADER = (f"{'layer':<16} {'shape':<31} {'MFLOP':>8} {'ms':>8} {'GFLOP/s':>8} {'%ceil':>6} "
          f"{'temp MB':>8} " + " ".join(f"{k:>7}" for k in PEER_KEYS)
          + f" {'best':>12} {'others':>6}")


def row_line(r):
    ws = "n/a" if r["workspace_bytes"] is None else f"{r['workspace_bytes'] / 2**20:.3g}"
    if r["workspace_bytes"] is not None and r["workspace_bytes"] > r["workspace_limit_bytes"]:
        ws += "!"
    best = "-" if r["best_peer"] is None else f"{r['ratio_best']:.2f}x {r['best_peer']}"
    others = "?" if r["other_load"] is None else f"{100 * r['other_load']:.0f}%"
    return (f"{r['name']:<16} {r['shape']:<31} {r['flops'] / 1e6:>8.1f} "
            f"{fmt_ms(r['ms']['cconv']):>8} {r['cconv_gflops']:>8.1f} {r['pct_ceiling']:>5.1f}% "
            f"{ws:>8} " + " ".join(f"{fmt_ratio(r['ratio'].get(k)):>7}" for k in PEER_KEYS)
            + f" {best:>12} {others:>6}")


def print_ms_table(results, keys):
    print("\nmilliseconds per call (median), and GFLOP/s, of every implementation:")
    print(f"{'layer':<16} {'dtype':<8}" + "".join(f" {k:>17}" for k in keys))
    for r in results:
        cells = []
        for k in keys:
            if k in r["ms"]:
                mark = "" if r["matches_cconv"].get(k, True) else "!"
                cells.append(f"{fmt_ms(r['ms'][k]) + mark:>9} {r['gflops'][k]:>6.1f}G")
            else:
                cells.append(f"{'-':>17}")
        print(f"{r['name']:<16} {r['dtype']:<8}" + "".join(f" {c}" for c in cells))


def geomean(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, 0
    return math.exp(sum(math.log(v) for v in values) / len(values)), len(values)


def summarise(results, threads):
    """The geometric means and issue 11's targets, as far as the layers that ran allow."""
    best_gm, best_n = geomean([r["ratio_best"] for r in results])
    torch_gm, torch_n = geomean([r["ratio"].get("torch") for r in results])
    summary = {"geomean_vs_best_peer": best_gm, "geomean_vs_best_peer_layers": best_n,
               "geomean_vs_torch": torch_gm, "geomean_vs_torch_layers": torch_n}
    lines = []
    if best_gm is not None:
        lines.append((f"geomean best peer time / cconv time over {best_n} layers: {best_gm:.3f}x",
                      best_gm >= 1.3, ">= 1.3x"))
    if torch_gm is not None:
        lines.append((f"geomean PyTorch time / cconv time over {torch_n} layers: {torch_gm:.3f}x",
                      torch_gm >= 2.0, ">= 2x"))
    with_best = [r for r in results if r["ratio_best"] is not None]
    if with_best:
        worst = min(with_best, key=lambda r: r["ratio_best"])
        below = sorted(r["name"] for r in with_best if r["ratio_best"] < 1.0)
        lines.append((f"slowest layer vs its best peer: {worst['name']} "
                      f"{worst['ratio_best']:.2f}x ({worst['best_peer']}); below 1.0x: "
                      f"{', '.join(below) or 'none'}", worst["ratio_best"] >= 1.0, ">= 1.0x"))
    winograd = [r for r in results if r["winograd_tile"] and "ort" in r["ratio"]]
    if winograd:
        low = min(winograd, key=lambda r: r["ratio"]["ort"])
        lines.append((f"dense 3x3 stride-1 layers (Winograd under method='auto') vs ONNX "
                      f"Runtime, slowest: {low['name']} {low['ratio']['ort']:.2f}x",
                      low["ratio"]["ort"] >= 1.4, ">= 1.4x"))
    dense = [r for r in results if r["name"] in DENSE_3X3]
    if dense:
        low = min(dense, key=lambda r: r["pct_ceiling"])
        lines.append((f"dense 3x3 lowest % of ceiling ({threads} thread(s)): {low['name']} "
                      f"{low['pct_ceiling']:.1f}% (Winograd layers can pass 100%: the FLOP "
                      "count is the direct one)", low["pct_ceiling"] >= 85.0, ">= 85%"))
    for r in results:
        if r["name"] == "float64" and r["dtype"] == "float64":
            lines.append((f"float64 layer: {r['cconv_gflops']:.1f} GFLOP/s",
                          r["cconv_gflops"] >= 100.0 * threads, f">= {100 * threads} GFLOP/s"))
        if r["name"] == "image 1ch" and "cv2" in r["ratio"]:
            lines.append((f"single-channel image vs OpenCV filter2D: {r['ratio']['cv2']:.2f}x",
                          r["ratio"]["cv2"] >= 1.0, ">= 1.0x"))
        if r["name"] == "tiny call":
            us = r["ms"]["cconv"] * 1e3
            lines.append((f"tiny call end to end: {us:.2f} us", us <= 4.0, "<= 4 us"))
    print("\nsummary (issue 11 targets, and issue 3's ceiling targets; a target at 2 threads "
          "scales the ceiling by the threads):")
    for text, ok, target in lines:
        print(f"  [{'met ' if ok else 'MISS'}] {text}   (target {target})")
    summary["targets"] = [{"what": t, "met": ok, "target": tg} for t, ok, tg in lines]
    return summary


def run_table(layers, args, impls, notes):
    """Print the header, then time and print each layer; (results, machine info)."""
    info = describe(impls, args)
    print(f"cconv benchmark  {info['date_utc']}  {info['cpu_model']}, {info['cores']} cores")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    print(f"cconv: simd={info['cconv_config']['simd']} "
          f"max_threads={info['cconv_config']['max_threads']}"
          f"   threads={args.threads} dtype={args.dtype} bias={not args.no_bias} "
          f"repeat={args.repeat}   "
          + ("every library in this process" if args.in_process
             else "each library in its own worker process, idle machine awaited per sample"))
    for note in notes:
        print(note)
    print("ratios are peer time / cconv time (> 1: cconv is faster); best = fastest of "
          "torch, ort, cv2 (cv2: one-channel layers only)\n")
    print(HEADER)
    results = []
    for layer in layers:
        result = run_layer(layer, args, impls)
        results.append(result)
        print(row_line(result), flush=True)
    return results, info


def main(argv=None):
    args = parse_args(argv)
    layers = select(args.layers)
    if not layers:
        sys.exit(f"no layer name contains any of {args.layers}")
    impls = [cls() for cls in ALL]
    # Measured before any peer runs, at one thread, so that no other pool competes with it.
    args.peaks, peak_lines = peaks_per_core(args)
    notes = peak_lines + [impl.missing for impl in impls if impl.missing] + openblas_notes()
    if args.threads > os.cpu_count():
        notes.append(f"note: --threads {args.threads} is more than the {os.cpu_count()} cores")
    load = OtherLoad().start()
    with thread_limits(args.threads, [i for i in impls if i.missing is None]):
        results, info = run_table(layers, args, impls, notes)
    other_load = load.share()
    layer_notes = [f"  {r['name']}: {n}" for r in results for n in r["notes"]]
    ws_notes = {r["workspace_note"] for r in results if r["workspace_note"]}
    if layer_notes or ws_notes:
        print("\nnotes:")
        for n in layer_notes:
            print(n)
        for n in sorted(ws_notes):
            print(f"  temp MB: {n}")
    print_ms_table(results, ["cconv"] + [k for k in PEER_KEYS
                                        if any(k in r["ms"] for r in results)])
    summary = summarise(results, args.threads)
    summary["other_load"] = other_load
    if other_load is not None:
        print(f"\nother processes used {100 * other_load:.0f}% of the {info['cores']} cores "
              "during this run" + ("" if other_load < 0.1 else
                                   ": the machine was not quiet, timings are inflated "
                                   "(threads > 1 most of all); rerun when it is"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "notes": notes, "results": results, "summary": summary},
                      f, indent=1)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
