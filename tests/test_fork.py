"""Across fork: a child process of a parent that has run threaded calls computes the same results,
at any thread count (os.fork, a multiprocessing Pool with the fork start method, forks of forks).

Each scenario runs in a fresh interpreter with a time limit, so a hang fails the test instead of
stopping the suite."""

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")

_SETUP = """
import os, sys, multiprocessing
import numpy as np
import cconv

rng = np.random.default_rng(7)
x = rng.standard_normal((4, 16, 40, 40)).astype(np.float32)
w = rng.standard_normal((24, 16, 3, 3)).astype(np.float32)
dw = rng.standard_normal((16, 1, 3, 3)).astype(np.float32)

def layers(threads):
    # (Winograd's transforms come from the scratch cache, which a fork copies with its lock.)
    return [cconv.conv2d(x, w, padding=1, threads=threads),
            cconv.conv2d(x, w, padding=1, threads=threads, method="winograd"),
            cconv.conv2d(x, dw, stride=2, padding=1, groups=16, threads=threads),
            cconv.conv2d(x[0, :1], w[:1, :1], threads=threads)]

def same(a, b):
    return all(np.array_equal(p, q) for p, q in zip(a, b))

parent = layers(4)           # starts the thread pool's helpers in the parent
"""


def _run(body, tmp_path, timeout=90):
    code = textwrap.dedent(_SETUP) + textwrap.dedent(body)
    # Run outside the source tree, whose unbuilt cconv/ would shadow the installed package.
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, cwd=tmp_path)
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


def test_child_of_os_fork_computes_at_every_thread_count(tmp_path):
    out = _run("""
        pid = os.fork()
        if pid == 0:
            ok = all(same(layers(t), parent) for t in (1, 2, 3, 8, None))
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        assert same(layers(4), parent)       # the parent's pool still works
        print("ok")
    """, tmp_path)
    assert out.strip() == "ok"


def test_multiprocessing_pool_with_fork_start_method(tmp_path):
    out = _run("""
        def work(threads):
            return same(layers(threads), parent)

        with multiprocessing.get_context("fork").Pool(3) as pool:
            results = pool.map(work, [1, 2, 4, None, 2, 3])
        assert all(results), results
        print("ok")
    """, tmp_path)
    assert out.strip() == "ok"


def test_fork_of_a_fork_and_calls_from_several_threads_in_the_child(tmp_path):
    out = _run("""
        import threading

        def grandchild():
            pid = os.fork()
            if pid == 0:
                os._exit(0 if same(layers(2), parent) else 5)
            return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

        pid = os.fork()
        if pid == 0:
            results = []
            threads = [threading.Thread(target=lambda: results.append(same(layers(2), parent)))
                       for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            ok = len(results) == 4 and all(results) and grandchild() == 0
            os._exit(0 if ok else 4)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        print("ok")
    """, tmp_path)
    assert out.strip() == "ok"


def test_fork_while_another_thread_is_inside_a_call(tmp_path):
    """A fork taken while some thread of the parent runs a threaded call: the child's pool must
    not wait for that call's helpers, which do not exist in the child."""
    out = _run("""
        import threading, time

        big = rng.standard_normal((16, 32, 64, 64)).astype(np.float32)
        wbig = rng.standard_normal((32, 32, 3, 3)).astype(np.float32)
        stop = threading.Event()

        def busy():
            while not stop.is_set():
                cconv.conv2d(big, wbig, padding=1, threads=4)

        t = threading.Thread(target=busy)
        t.start()
        time.sleep(0.2)
        codes = []
        for _ in range(5):
            pid = os.fork()
            if pid == 0:
                os._exit(0 if same(layers(3), parent) else 6)
            codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
            time.sleep(0.05)
        stop.set()
        t.join()
        assert codes == [0] * 5, codes
        print("ok")
    """, tmp_path)
    assert out.strip() == "ok"
