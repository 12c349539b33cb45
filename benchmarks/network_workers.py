"""The worker processes of bench_networks.py: one library each, driven over a pipe.

Each library runs in a process of its own, as a user's program would have it: its thread pools,
its BLAS and its allocator meet nobody else's. The parent (bench_networks.py) starts

    python benchmarks/network_workers.py --library cconv|torch|ort --threads N [--blas-threads 1]

and sends one JSON command per line on stdin; the worker answers one JSON line on stdout:

    {"cmd": "setup", "network": "resnet18", "batch": 8, "weights": DIR}  -> {"logits": [[...]]}
    {"cmd": "time", "network": ..., "batch": ..., "calls": K}           -> {"seconds": [...]}
    {"cmd": "quit"}

"time" makes one untimed forward pass first (it wakes the library's sleeping worker threads, so
that every sample measures passes run back to back, as a program runs them), then K timed ones.
The weights come from files that `--prepare DIR` writes once (needs PyTorch): a state_dict as
``{network}.npz`` for cconv and PyTorch, and ``{network}.onnx`` for ONNX Runtime, so that every
library computes the same network; without them, cconv uses its seeded random initialisation.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pathlib
import sys
import time

import numpy as np

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
IMAGE_SIZE = 224


def images(batch: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(
        (batch, 3, IMAGE_SIZE, IMAGE_SIZE)).astype(np.float32)


def weights_file(directory, network: str, suffix: str):
    path = pathlib.Path(directory or "") / f"{network}{suffix}"
    return str(path) if directory and path.exists() else None


class CconvRunner:
    """examples/resnet18.py or mobilenet_v2.py, NumPy's BLAS as the user has it unless
    `blas_threads` asks threadpoolctl to limit it (around each forward pass)."""

    def __init__(self, threads: int, blas_threads: int | None):
        sys.path.insert(0, str(EXAMPLES))
        self.threads = threads
        self.limit = None
        if blas_threads is not None:
            from threadpoolctl import threadpool_limits
            self.limit = lambda: threadpool_limits(limits=blas_threads, user_api="blas")

    def prepare(self, network, batch, weights_dir):
        import importlib
        example = importlib.import_module(network)
        params = example.build_params(weights_file(weights_dir, network, ".npz"))
        x = images(batch)
        if self.limit is None:
            return lambda: example.forward(params, x, threads=self.threads)

        def limited():
            with self.limit():
                return example.forward(params, x, threads=self.threads)
        return limited


class TorchRunner:
    def __init__(self, threads: int, blas_threads: int | None):
        import torch
        torch.set_num_threads(threads)
        torch.set_num_interop_threads(1)
        sys.path.insert(0, str(EXAMPLES))
        self.torch = torch

    def prepare(self, network, batch, weights_dir):
        import torch_networks
        model = torch_networks.NETWORKS[network]().eval()
        with np.load(weights_file(weights_dir, network, ".npz")) as data:
            model.load_state_dict({k: self.torch.from_numpy(data[k]) for k in data.files},
                                  strict=False)  # the .npz has no num_batches_tracked
        x = self.torch.from_numpy(images(batch))

        def run():
            with self.torch.inference_mode():
                return model(x).numpy()
        return run


class OrtRunner:
    def __init__(self, threads: int, blas_threads: int | None):
        import onnxruntime as ort
        self.ort = ort
        self.options = ort.SessionOptions()
        self.options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.options.intra_op_num_threads = threads
        self.options.inter_op_num_threads = 1
        self.options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL

    def prepare(self, network, batch, weights_dir):
        session = self.ort.InferenceSession(weights_file(weights_dir, network, ".onnx"),
                                            self.options, providers=["CPUExecutionProvider"])
        feed = {"input": images(batch)}
        return lambda: session.run(None, feed)[0]


RUNNERS = {"cconv": CconvRunner, "torch": TorchRunner, "ort": OrtRunner}


def serve(runner) -> None:
    """Answer the parent's commands until "quit" or the end of stdin."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever a library prints goes to stderr, never into the protocol
    forwards = {}
    for line in sys.stdin:
        command = json.loads(line)
        key = (command.get("network"), command.get("batch"))
        try:
            if command["cmd"] == "quit":
                break
            if command["cmd"] == "setup":
                forwards[key] = runner.prepare(*key, command.get("weights"))
                logits = forwards[key]()
                reply = {"logits": np.asarray(logits, dtype=np.float64).tolist()}
            elif command["cmd"] == "time":
                reply = {"seconds": time_calls(forwards[key], command["calls"])}
            else:
                reply = {"error": f"unknown command {command['cmd']!r}"}
        except Exception as exc:  # reported to the parent, which skips this library
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        protocol.write(json.dumps(reply) + "\n")


def time_calls(forward, calls: int) -> list[float]:
    """One untimed pass (wakes the threads), then `calls` timed ones, the collector off."""
    forward()
    gc.disable()
    try:
        seconds = []
        for _ in range(calls):
            start = time.perf_counter()
            forward()
            seconds.append(time.perf_counter() - start)
        return seconds
    finally:
        gc.enable()


def prepare_weights(directory: str) -> None:
    """{network}.npz and {network}.onnx of seeded PyTorch modules (BatchNorms randomised as a
    trained network's), for every library to load."""
    import warnings

    sys.path.insert(0, str(EXAMPLES))
    import torch_networks
    for network in torch_networks.NETWORKS:
        model = torch_networks.make_network(network, seed=0)
        state = {k: v for k, v in torch_networks.numpy_state_dict(model).items()
                 if not k.endswith("num_batches_tracked")}
        np.savez(os.path.join(directory, f"{network}.npz"), **state)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch_networks.export_onnx(model, os.path.join(directory, f"{network}.onnx"),
                                           IMAGE_SIZE)
        except ImportError as exc:  # onnx is not installed: ONNX Runtime will be skipped
            print(f"no ONNX file: {exc}", file=sys.stderr)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", choices=sorted(RUNNERS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--blas-threads", type=int, default=None)
    parser.add_argument("--prepare", metavar="DIR", help="write the weight files and exit")
    args = parser.parse_args(argv)
    if args.prepare:
        prepare_weights(args.prepare)
        return
    serve(RUNNERS[args.library](args.threads, args.blas_threads))


if __name__ == "__main__":
    main()
