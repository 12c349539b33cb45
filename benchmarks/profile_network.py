"""Where a whole-network forward pass spends its time: cconv layer by layer next to ONNX Runtime's
own profile of the same network, at one thread.

    python benchmarks/profile_network.py resnet18 [--batch 1] [--repeat 20]
    python benchmarks/profile_network.py mobilenet_v2 --batch 8

cconv's side: the example's forward pass (examples/resnet18.py, mobilenet_v2.py) runs with its
``cconv`` replaced by a stand-in that times every call (conv2d, max_pool2d, adaptive_avg_pool2d);
what is left of the pass (the classifier's matmul, reshapes) is "NumPy". ONNX Runtime's side: its
session profiler (``enable_profiling``) on the ONNX export of the same weights; its fused Conv
nodes (conv + bias + add + ReLU) are matched to cconv's calls by input and weight shape, in
order, and its layout changes (ReorderInput/ReorderOutput to and from its blocked NCHWc layout)
are listed apart. Both run in this process at 1 thread (ONNX Runtime's ``intra_op_num_threads``,
cconv's ``threads=1``, NumPy's BLAS held to 1 thread with threadpoolctl), interleaved; each
figure is the median over the repetitions. Needs PyTorch (for the weights), onnx, onnxruntime.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np

import cconv

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


class TimedCconv:
    """Stands in for the cconv module inside an example: each call is timed and recorded."""

    def __init__(self, names_by_weight: dict):
        self.names = names_by_weight
        self.calls = []

    def __getattr__(self, attr):
        fn = getattr(cconv, attr)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            result = fn(*args, **kwargs)
            seconds = time.perf_counter() - start
            self.calls.append(describe_call(attr, args, kwargs, result, self.names, seconds))
            return result
        return timed


def describe_call(op, args, kwargs, result, names, seconds) -> dict:
    x = args[0]
    entry = {"op": op, "input": tuple(x.shape), "output": tuple(result.shape),
             "seconds": seconds, "mflop": 0.0}
    if op == "conv2d":
        w = args[1]
        o, depth, kh, kw = w.shape
        groups = kwargs.get("groups", 1)
        stride = kwargs.get("stride", 1)
        kind = (f"depthwise {kh}x{kw}" if groups > 1 else f"conv {kh}x{kw}")
        kind += f"/{stride}" if stride != 1 else ""
        extras = [kwargs["activation"]] if kwargs.get("activation") else []
        extras += ["+residual"] if kwargs.get("residual") is not None else []
        entry.update(name=names.get(id(w), "?"), kind=kind, extras=" ".join(extras),
                     weight=tuple(w.shape),
                     mflop=2 * result.size * depth * kh * kw / 1e6)
    else:
        entry.update(name=op, kind=op, extras="", weight=None)
    return entry


def load_example(network: str):
    sys.path.insert(0, str(EXAMPLES))
    import importlib
    return importlib.import_module(network)


def cconv_profile(example, params, x, repeat):
    """Per call of the forward pass: the median seconds, with the call's description."""
    names = {id(w): name for name, (w, _) in params.items()}
    timer = TimedCconv(names)
    real = example.cconv
    runs, totals = [], []
    try:
        example.cconv = timer
        for _ in range(repeat + 1):  # the first pass is a warm-up
            timer.calls = []
            start = time.perf_counter()
            example.forward(params, x, threads=1)
            totals.append(time.perf_counter() - start)
            runs.append(timer.calls)
    finally:
        example.cconv = real
    runs, totals = runs[1:], totals[1:]
    calls = runs[0]
    for i, call in enumerate(calls):
        call["ms"] = 1e3 * statistics.median(run[i]["seconds"] for run in runs)
    glue = statistics.median(total - sum(c["seconds"] for c in run)
                             for run, total in zip(runs, totals))
    return calls, 1e3 * statistics.median(totals), 1e3 * glue


def ort_profile(onnx_path, x, repeat):
    """ONNX Runtime's kernel time per node (median ms over the runs), in execution order."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.enable_profiling = True
    options.profile_file_prefix = os.path.join(os.path.dirname(onnx_path), "ort_profile")
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    totals = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        session.run(None, {"input": x})
        totals.append(time.perf_counter() - start)
    with open(session.end_profiling()) as f:
        events = json.load(f)
    per_node = collections.OrderedDict()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            per_node.setdefault(e["name"], {"op": e["args"].get("op_name"),
                                            "shapes": e["args"].get("input_type_shape", []),
                                            "us": []})["us"].append(e["dur"])
    nodes = []
    for name, node in per_node.items():
        shapes = [tuple(next(iter(s.values()))) for s in node["shapes"]]
        nodes.append({"name": name, "op": node["op"], "shapes": shapes,
                      "ms": statistics.median(node["us"][1:] or node["us"]) / 1e3})
    return nodes, 1e3 * statistics.median(totals[1:])


def match_ort(calls, nodes):
    """ONNX Runtime's ms for each cconv call: Conv nodes by (input shape, weight shape) in
    order, the pools by op; the rest of ORT's nodes are returned apart."""
    queues = collections.defaultdict(collections.deque)
    for node in nodes:
        if node["op"] in ("Conv", "FusedConv") and len(node["shapes"]) >= 2:
            queues[("conv2d", node["shapes"][0], node["shapes"][1])].append(node)
        elif node["op"] == "MaxPool":
            queues[("max_pool2d",)].append(node)
        elif node["op"] in ("GlobalAveragePool", "ReduceMean"):
            queues[("adaptive_avg_pool2d",)].append(node)
        else:
            queues[("other",)].append(node)
    for call in calls:
        key = (("conv2d", call["input"], call["weight"]) if call["op"] == "conv2d"
               else (call["op"],))
        call["ort_ms"] = queues[key].popleft()["ms"] if queues.get(key) else None
    return [node for queue in queues.values() for node in queue]


def print_profile(calls, cconv_total, numpy_ms, nodes_left, ort_total, args):
    print(f"\n{args.network}, batch {args.batch}, {args.size}x{args.size}, float32, 1 thread: "
          f"cconv forward {cconv_total:.2f} ms, ONNX Runtime {ort_total:.2f} ms "
          f"(ratio ORT/cconv {ort_total / cconv_total:.2f}x)\n")
    print("| # | layer | op | input -> output | MFLOP | cconv ms | GFLOP/s | ORT ms | "
          "cconv - ORT ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for i, c in enumerate(calls):
        ort_ms = c.get("ort_ms")
        gflops = f"{c['mflop'] / c['ms']:.0f}" if c["mflop"] else ""
        ort_cells = "- | -" if ort_ms is None else f"{ort_ms:.3f} | {c['ms'] - ort_ms:+.3f}"
        shapes = "x".join(map(str, c["input"][1:])) + " -> " + "x".join(map(str, c["output"][1:]))
        print(f"| {i} | {c['name']} | {c['kind']} {c['extras']} | {shapes} | {c['mflop']:.0f} | "
              f"{c['ms']:.3f} | {gflops} | {ort_cells} |")
    print(f"| | (NumPy: classifier matmul, reshapes, Python) | | | | {numpy_ms:.3f} | | | |")

    by_kind = collections.OrderedDict()
    for c in calls:
        k = by_kind.setdefault(c["kind"], {"n": 0, "ms": 0.0, "ort": 0.0, "mflop": 0.0})
        k["n"] += 1
        k["ms"] += c["ms"]
        k["ort"] += c.get("ort_ms") or 0.0
        k["mflop"] += c["mflop"]
    others = collections.defaultdict(float)
    for node in nodes_left:
        others[node["op"]] += node["ms"]
    print("\nBy kind of layer (sums over the forward pass):\n")
    print("| kind | layers | MFLOP | cconv ms | share of cconv's pass | ORT ms | cconv - ORT ms |")
    print("|---|---|---|---|---|---|---|")
    for kind, k in sorted(by_kind.items(), key=lambda kv: -kv[1]["ms"]):
        print(f"| {kind} | {k['n']} | {k['mflop']:.0f} | {k['ms']:.2f} | "
              f"{100 * k['ms'] / cconv_total:.0f}% | {k['ort']:.2f} | {k['ms'] - k['ort']:+.2f} |")
    print(f"| NumPy (classifier, glue) | | | {numpy_ms:.2f} | {100 * numpy_ms / cconv_total:.0f}% "
          f"| {sum(others.values()):.2f} (ORT's other nodes: "
          + ", ".join(f"{op} {ms:.2f}" for op, ms in sorted(others.items(), key=lambda kv: -kv[1]))
          + ") | |")
    worst = sorted((c for c in calls if c.get("ort_ms") is not None),
                   key=lambda c: c["ort_ms"] - c["ms"])[:8]
    print("\nWhere cconv loses most against ONNX Runtime: " + "; ".join(
        f"{c['name']} ({c['kind']}) {c['ms'] - c['ort_ms']:+.3f} ms" for c in worst
        if c["ms"] > c["ort_ms"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("network", choices=["resnet18", "mobilenet_v2"])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits
    import torch

    torch.set_num_threads(1)
    example = load_example(args.network)
    import torch_networks
    model = torch_networks.make_network(args.network, seed=0)
    params = example.build_params(model.state_dict())
    x = np.random.default_rng(0).standard_normal(
        (args.batch, 3, args.size, args.size)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(limits=1, user_api="blas"):
        onnx_path = os.path.join(tmp, f"{args.network}.onnx")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch_networks.export_onnx(model, onnx_path, args.size)
        del model
        # Interleaved halves, so that a drift of the machine hits both alike.
        half = max(1, args.repeat // 2)
        calls_a, total_a, glue_a = cconv_profile(example, params, x, half)
        nodes_a, ort_a = ort_profile(onnx_path, x, half)
        calls_b, total_b, glue_b = cconv_profile(example, params, x, half)
        nodes_b, ort_b = ort_profile(onnx_path, x, half)
    for a, b in zip(calls_a, calls_b):
        a["ms"] = (a["ms"] + b["ms"]) / 2
    for a, b in zip(nodes_a, nodes_b):
        a["ms"] = (a["ms"] + b["ms"]) / 2
    left = match_ort(calls_a, nodes_a)
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"cconv {cconv.get_config()['simd']}")
    print_profile(calls_a, (total_a + total_b) / 2, (glue_a + glue_b) / 2, left,
                  (ort_a + ort_b) / 2, args)


if __name__ == "__main__":
    main()
