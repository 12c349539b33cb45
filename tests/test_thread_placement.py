"""The pool's helpers move off a CPU that another thread of the same call runs on (Linux; see
helper_main in src_c/runtime/thread_pool.c), and always give themselves back every CPU they
could run on before: after calls made with pauses between them (when Linux tends to wake a helper
on the caller's CPU), every thread of the process may run exactly where the process may, and the
results are those of one thread.  The speed this buys is measured by
benchmarks/bench_idle_gaps.py, not here."""

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="thread affinity is read from /proc (Linux)")


def _run(code, tmp_path):
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


_BODY = """
    import os, time
    import numpy as np
    import cconv

    def masks():
        found = {}
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("Cpus_allowed_list:"):
                        found[int(tid)] = line.split(":", 1)[1].strip()
        return found

    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 64, 20, 20)).astype(np.float32)
    w = rng.standard_normal((64, 64, 3, 3)).astype(np.float32)
    one = cconv.conv2d(x, w, padding=1, threads=1, method="direct")
    before = masks()[os.getpid()]
    for i in range(40):
        if i % 4 == 0:
            time.sleep(0.02)
        for threads in (2, 3, None):
            got = cconv.conv2d(x, w, padding=1, threads=threads, method="direct")
            assert np.array_equal(got, one)
    after = masks()
    assert len(after) > 1, after                 # the pool's helpers exist
    assert set(after.values()) == {before}, (before, after)
    print("ok", before)
"""


def test_helpers_keep_the_process_affinity(tmp_path):
    assert _run(_BODY, tmp_path).startswith("ok")


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_helpers_keep_a_narrowed_affinity(tmp_path):
    """A process limited to some CPUs (taskset, a container) keeps that limit in every thread."""
    cpus = sorted(os.sched_getaffinity(0))[:2]
    code = f"import os; os.sched_setaffinity(0, {set(cpus)!r})\n" + textwrap.dedent(_BODY)
    out = _run(code, tmp_path)
    assert out.startswith("ok"), out
