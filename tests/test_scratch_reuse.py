"""Temporary buffers kept between calls (src_c/runtime/scratch_cache.c): a call that follows calls
which left NaN, infinities and other shapes' data in every kept buffer gives bitwise the results of
a call in a fresh process, on the Winograd path (transforms U, V, M) and on the direct path (packed
bands), at one and several threads, with partial lane blocks everywhere.  Buffers from 64 KB up are
kept; the shapes below make each of them that large."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cconv
from conftest import assert_matches_oracle

# (input shape, weight shape, padding, method): every buffer the call takes is at least 64 KB.
CASES = [
    ((1, 64, 30, 30), (64, 64, 3, 3), 1, "winograd"),
    ((2, 29, 23, 19), (37, 29, 3, 3), 1, "winograd"),    # partial lane blocks, odd tiles
    ((1, 64, 70, 66), (24, 64, 3, 3), 1, "direct"),      # packed band of about 1.2 MB
    ((1, 48, 61, 53), (19, 48, 5, 5), (2, 1), "direct"),
    ((1, 40, 90, 90), (40, 1, 7, 7), 3, "direct"),      # depthwise: multi-row kernels
]


def _arrays(case, seed=3):
    x_shape, w_shape, _, _ = case
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(x_shape).astype(np.float32),
            rng.standard_normal(w_shape).astype(np.float32),
            rng.standard_normal(w_shape[0]).astype(np.float32))


def _call(case, x, w, b, threads):
    _, w_shape, padding, method = case
    groups = x.shape[1] // w_shape[1]
    return cconv.conv2d(x, w, b, padding=padding, groups=groups, method=method,
                        threads=threads)


def _poison():
    """Calls that fill kept buffers with NaN and infinities, and with other shapes' data."""
    for case in CASES:
        x, w, b = _arrays(case, seed=11)
        for bad in (np.nan, np.inf, -np.inf):
            for threads in (1, 3):
                _call(case, np.full_like(x, bad), w, b, threads)
                _call(case, x, np.full_like(w, bad), b, threads)


@pytest.mark.parametrize("case", CASES, ids=[f"{c[3]}-{c[0]}-{c[1]}" for c in CASES])
def test_reused_buffers_give_the_first_calls_bits(case):
    x, w, b = _arrays(case)
    first = {t: _call(case, x, w, b, t) for t in (1, 2, 4)}
    assert_matches_oracle(first[1], x, w, b, padding=case[2],
                          groups=x.shape[1] // case[1][1])
    for _ in range(2):
        _poison()
        for t in (1, 2, 4):
            again = _call(case, x, w, b, t)
            np.testing.assert_array_equal(again, first[t])
            np.testing.assert_array_equal(again, first[1])


def test_reused_buffers_match_a_fresh_process(tmp_path):
    """The bits after many poisoned calls equal those of a process whose cache is empty."""
    here = {}
    _poison()
    for i, case in enumerate(CASES):
        x, w, b = _arrays(case)
        here[i] = _call(case, x, w, b, 2)
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(__import__('pathlib').Path(__file__).parent)!r})
        import numpy as np
        import test_scratch_reuse as t
        for i, case in enumerate(t.CASES):
            x, w, b = t._arrays(case)
            np.save(r"{tmp_path}/%d.npy" % i, t._call(case, x, w, b, 2))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for i in here:
        np.testing.assert_array_equal(here[i], np.load(tmp_path / f"{i}.npy"))
