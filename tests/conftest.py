"""Shared test helpers: the SIMD paths to walk, the tolerance check, optional PyTorch."""

import numpy as np
import pytest

import cconv
from cconv import _simd
from cconv._conv import _conv2d
from cconv.oracle import conv2d_oracle

USABLE_PATHS = _simd.usable_paths()

# Every implementation the tests compare against the oracle: each usable SIMD path of the fast
# driver, and the C reference kernel.
IMPLEMENTATIONS = [pytest.param(name, id=name) for name in USABLE_PATHS] + [
    pytest.param("reference", id="c-reference")]


def run_impl(impl, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
             threads=None, out=None, activation=None, residual=None, padding_mode="zeros",
             padding_value=0.0, data_format="NCHW"):
    """conv2d through one implementation: a SIMD path name or "reference" (the C ref kernel)."""
    simd = _simd.ACTIVE if impl == "reference" else _simd.path_index(impl)
    return _conv2d(input, weight, bias, stride, padding, dilation, groups, out, threads, simd,
                   impl == "reference", None, activation, residual, padding_mode, padding_value,
                   data_format)


def assert_matches_oracle(got, input, weight, bias=None, rtol=None, **params):
    """|got - oracle| <= rtol * oracle(|input|, |weight|, |bias|, |residual|): the error bound of
    a sum of products, so it is tight for every output however much cancellation there is (an
    activation only shrinks errors: each of them is 1-Lipschitz, or scales by a slope <= 1)."""
    ref = conv2d_oracle(input, weight, bias, **params)
    assert got.shape == ref.shape
    if rtol is None:
        rtol = 1e-4 if got.dtype == np.float32 else 1e-12
    x = np.abs(np.asarray(input, dtype=np.float64))
    w = np.abs(np.asarray(weight, dtype=np.float64))
    b = None if bias is None else np.abs(np.asarray(bias, dtype=np.float64))
    bound_params = dict(params, activation=None)
    if "padding_value" in params:
        bound_params["padding_value"] = abs(params["padding_value"])
    if params.get("residual") is not None:
        bound_params["residual"] = np.abs(np.asarray(params["residual"], dtype=np.float64))
    bound = conv2d_oracle(x, w, b, **bound_params)
    err = np.abs(got.astype(np.float64) - ref)
    worst = np.max(err - rtol * bound - 1e-300, initial=-1.0)
    assert worst <= 0, (
        f"max error {err.max():.3g} exceeds rtol {rtol} x bound (worst excess {worst:.3g})")


@pytest.fixture
def rng():
    return np.random.default_rng(20261126)


try:
    import torch  # noqa: F401
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False

needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not installed")


def pytest_report_header(config):
    return (f"cconv {cconv.__version__} from {cconv.__file__}; "
            f"simd={_simd.ACTIVE_NAME}, usable={USABLE_PATHS}, "
            f"max_threads={cconv.get_config()['max_threads']}")


# Hypothesis profiles (tests/test_properties.py): "fast" for every CI run, "nightly" for a long
# search.  Pick one with CCONV_HYPOTHESIS_PROFILE=fast|nightly (default fast).
try:
    import os as _os

    from hypothesis import HealthCheck, settings

    _COMMON = dict(deadline=None, print_blob=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    settings.register_profile("fast", max_examples=200, **_COMMON)
    settings.register_profile("nightly", max_examples=5000, **_COMMON)
    settings.load_profile(_os.environ.get("CCONV_HYPOTHESIS_PROFILE", "fast"))
except ImportError:  # hypothesis is a test extra; test_properties.py skips itself without it
    pass


# Lines that tests hand over (tests/test_external_cases.py: how many of PyTorch's and ONNX's own
# test cases pass, fail or are skipped) are printed at the end of the run.
EXTERNAL_SUMMARY = pytest.StashKey[list]()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = config.stash.get(EXTERNAL_SUMMARY, [])
    if lines:
        terminalreporter.section("external test cases")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_configure(config):
    """The suite's own markers, registered here too: CI runs a copy of tests/ outside the source
    tree, where pyproject.toml's list is not read."""
    config.addinivalue_line("markers", "slow: takes seconds (subprocesses, clusters)")
    config.addinivalue_line("markers", "distributed: starts a dask.distributed LocalCluster")
