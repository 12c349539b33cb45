"""bench_networks.py's own logic (it is never run as a test): a worker process answers over its
pipe, the machine-quiet wait ends, the tables print every library and the thread ratios."""

import pathlib

import numpy as np
import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"
pytestmark = pytest.mark.skipif(not (BENCHMARKS / "bench_networks.py").exists(),
                                reason="tests run outside the source tree")


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_networks
    return bench_networks


def test_a_cconv_worker_sets_up_and_times_a_network(bench):
    worker = bench.Worker(bench.IMPLS[0], threads=1)
    try:
        reply = worker.ask(cmd="setup", network="mobilenet_v2", batch=1, weights=None)
        logits = np.asarray(reply["logits"])
        assert logits.shape == (1, 1000) and np.isfinite(logits).all()
        reply = worker.ask(cmd="time", network="mobilenet_v2", batch=1, calls=2)
        assert len(reply["seconds"]) == 2 and all(s > 0 for s in reply["seconds"])
        assert "error" in worker.ask(cmd="time", network="resnet18", batch=1, calls=1)
    finally:
        worker.close()
    assert worker.proc.returncode == 0


def test_the_quiet_wait_ends(bench):
    waited, quiet = bench.wait_for_quiet_machine(0.3, window_s=0.05)
    assert waited < 1.0 and quiet in (True, False)


def test_tables_show_every_library_and_the_thread_ratios(bench, capsys):
    args = bench.parse_args(["--networks", "resnet18", "--batches", "1"])
    row = {key: {"ms": ms, "relative_error": 0.0, "others": 0.05}
           for key, ms in [("cconv", 40.0), ("torch", 50.0), ("ort", 30.0)]}
    faster = {key: dict(entry, ms=entry["ms"] / 2) for key, entry in row.items()}
    impls = [i for i in bench.IMPLS if i.key in row]
    bench.print_tables({("resnet18", 1, 1): row, ("resnet18", 1, 2): faster}, impls, args)
    out = capsys.readouterr().out
    assert "| ResNet-18 | 1 | 1 | 40.0 ms | 50.0 ms | 30.0 ms | 0.75x | 1.25x | 5% |" in out
    assert "| ResNet-18 | 1 | 0.50x | 0.50x | 0.50x |" in out
