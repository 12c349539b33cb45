"""The public API's contract: dtypes, input forms, out=, every error, empty sizes, threads,
configuration, the output-shape helper and the demo."""

import os
import subprocess
import sys

import numpy as np
import pytest

import cconv
from cconv.oracle import conv2d_oracle
from conftest import HAVE_TORCH, assert_matches_oracle, needs_torch


def _data(rng, dtype=np.float64, shape=(2, 3, 7, 6), wshape=(4, 3, 3, 3)):
    return rng.standard_normal(shape).astype(dtype), rng.standard_normal(wshape).astype(dtype)


# ---------------------------------------------------------------- dtypes

@pytest.mark.parametrize("xdt, wdt, bdt, expected", [
    (np.float32, np.float32, None, np.float32),
    (np.float32, np.float32, np.float32, np.float32),
    (np.float32, np.float32, np.float64, np.float64),
    (np.float32, np.float64, None, np.float64),
    (np.float64, np.float32, None, np.float64),
    (np.int64, np.float32, None, np.float64),
    (np.int32, np.int8, None, np.float64),
    (np.uint8, np.float64, None, np.float64),
    (np.bool_, np.float32, None, np.float32),
    (np.float16, np.float32, None, np.float32),
    (np.float16, np.float16, None, np.float32),
    # NumPy's promotion: small integers with float32 stay float32, int32 and up go to float64.
    (np.uint8, np.float32, None, np.float32),
    (np.int8, np.float32, np.float32, np.float32),
    (np.uint16, np.float32, None, np.float32),
    (np.int16, np.float32, None, np.float32),
    (np.int32, np.float32, None, np.float64),
    (np.uint8, np.float16, None, np.float32),
    (np.uint8, np.int64, None, np.float64),
])
def test_dtype_promotion(xdt, wdt, bdt, expected, rng):
    x = (rng.standard_normal((1, 2, 5, 5)) * 3).astype(xdt)
    w = (rng.standard_normal((3, 2, 3, 3)) * 3).astype(wdt)
    b = None if bdt is None else rng.standard_normal(3).astype(bdt)
    out = cconv.conv2d(x, w, b)
    assert out.dtype == expected
    assert_matches_oracle(out, x, w, b)


@pytest.mark.parametrize("bad", [np.complex64, np.complex128, object, "U3", "S3", np.longdouble])
def test_unsupported_dtypes_raise_type_error(bad, rng):
    if bad is np.longdouble and np.dtype(np.longdouble).itemsize == 8:
        pytest.skip("longdouble is float64 on this platform")
    x, w = _data(rng)
    xb = x.astype(bad) if bad not in ("U3", "S3") else np.full(x.shape, "1", dtype=bad)
    with pytest.raises(TypeError, match="input has dtype"):
        cconv.conv2d(xb, w)
    wb = w.astype(bad) if bad not in ("U3", "S3") else np.full(w.shape, "1", dtype=bad)
    with pytest.raises(TypeError, match="weight has dtype"):
        cconv.conv2d(x, wb)


def test_nested_lists_and_scalars_bias(rng):
    x = [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]  # (1, 3, 3): one feature map, unbatched
    w = [[[[1, 0], [0, -1]]]]
    out = cconv.conv2d(x, w, bias=[0.5])
    np.testing.assert_array_equal(out, [[[1 - 5 + 0.5, 2 - 6 + 0.5], [4 - 8 + 0.5, 5 - 9 + 0.5]]])
    assert out.dtype == np.float64


# ---------------------------------------------------------------- memory layouts

@pytest.mark.parametrize("layout", ["transposed", "negative_stride", "strided_slice", "fortran",
                                    "read_only", "big_endian", "broadcast"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_any_memory_layout(layout, dtype, rng):
    base, w = _data(rng, dtype, shape=(2, 3, 9, 8))
    if layout == "transposed":
        x = np.ascontiguousarray(base.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    elif layout == "negative_stride":
        x = base[:, ::-1, ::-1, ::-1]
    elif layout == "strided_slice":
        x = np.repeat(base, 2, axis=3)[:, :, :, ::2]
    elif layout == "fortran":
        x = np.asfortranarray(base)
    elif layout == "read_only":
        x = base.copy()
        x.flags.writeable = False
        w = w.copy()
        w.flags.writeable = False
    elif layout == "big_endian":
        x = base.astype(base.dtype.newbyteorder(">"))
        w = w.astype(w.dtype.newbyteorder(">"))
    else:
        x = np.broadcast_to(base[:, :, :1, :], base.shape)
    out = cconv.conv2d(x, w, padding=1, stride=(1, 2))
    assert out.dtype == dtype
    assert_matches_oracle(out, x, w, padding=1, stride=(1, 2))


# ---------------------------------------------------------------- out=

def test_out_is_filled_and_returned(rng):
    x, w = _data(rng, np.float32)
    out = np.full((2, 4, 5, 4), np.nan, dtype=np.float32)
    result = cconv.conv2d(x, w, out=out)
    assert result is out
    assert_matches_oracle(out, x, w)


def test_out_unbatched(rng):
    x, w = _data(rng, np.float64)
    out = np.empty((4, 5, 4))
    assert cconv.conv2d(x[0], w, out=out) is out
    assert_matches_oracle(out, x[0], w)


@pytest.mark.parametrize("make, message", [
    (lambda: np.empty((2, 4, 5, 5), np.float32), "out has shape"),
    (lambda: np.empty((2, 4, 5, 4), np.float64), "out has dtype"),
    (lambda: np.empty((2, 4, 5, 4), ">f4"), "out has dtype"),
    (lambda: np.empty((2, 4, 4, 5), np.float32).transpose(0, 1, 3, 2), "C-contiguous"),
    (lambda: np.empty((2, 4, 5, 8), np.float32)[..., ::2], "C-contiguous"),
])
def test_bad_out_raises(make, message, rng):
    x, w = _data(rng, np.float32)
    with pytest.raises(ValueError, match=message):
        cconv.conv2d(x, w, out=make())


def test_out_that_is_not_an_ndarray_is_a_type_error(rng):
    x, w = _data(rng, np.float32)
    with pytest.raises(TypeError, match="out must be a numpy.ndarray, got list"):
        cconv.conv2d(x, w, out=[[0.0]])


def test_read_only_out_raises(rng):
    x, w = _data(rng, np.float32)
    out = np.empty((2, 4, 5, 4), np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        cconv.conv2d(x, w, out=out)


def test_out_overlapping_input_gives_correct_result(rng):
    # 1x1 conv of 3 channels to 3 filters: out has the input's shape, so it can be the input.
    x = rng.standard_normal((1, 3, 6, 6))
    w = rng.standard_normal((3, 3, 1, 1))
    expected = conv2d_oracle(x, w)
    result = cconv.conv2d(x, w, out=x)
    assert result is x
    np.testing.assert_allclose(x, expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("xshape, wshape, kwargs, exc, message", [
    ((2, 3, 7, 6), (4, 2, 3, 3), {}, ValueError,
     r"weight has kernel depth 2 \(weight.shape\[1\]\) but input has 3 channels and groups=1"),
    ((2, 4, 7, 6), (4, 4, 3, 3), {"groups": 2}, ValueError,
     r"kernel depth 4 .* input has 4 channels and groups=2, so each filter needs depth 2"),
    ((2, 3, 7, 6), (4, 1, 3, 3), {"groups": 2}, ValueError,
     r"input has 3 channels, which groups=2 does not divide"),
    ((2, 4, 7, 6), (3, 2, 3, 3), {"groups": 2}, ValueError,
     r"weight has 3 filters \(weight.shape\[0\]\), which groups=2 does not divide"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"groups": 0}, ValueError, "groups must be >= 1, got 0"),
    ((2, 3, 2, 6), (4, 3, 3, 3), {}, ValueError,
     r"kernel height 3 spans 3 pixels, more than the padded input height 2 \(= 2 \+ padding 0 \+ 0\)"),
    ((2, 3, 7, 3), (4, 3, 3, 3), {"dilation": 2}, ValueError,
     r"kernel width 3 \(dilated by 2\) spans 5 pixels, more than the padded input width 3"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"stride": 0}, ValueError, "stride must be >= 1, got 0"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"stride": (1, -2)}, ValueError, r"stride\[1\] must be >= 1, got -2"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"stride": 1.0}, TypeError, "stride must be an int, got float"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"stride": True}, TypeError, "stride must be an int, got bool"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"stride": (1, 2, 3)}, ValueError,
     r"stride must be an int, a 1-element sequence or an \(h, w\) pair, got 3 values"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"dilation": 0}, ValueError, "dilation must be >= 1, got 0"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"padding": -1}, ValueError, "padding must be >= 0, got -1"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"padding": ((0, -1), (0, 0))}, ValueError,
     r"padding\[0\]\[1\] must be >= 0, got -1"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"padding": "full"}, ValueError, "got the string 'full'"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"padding": (1, 1, 1, 1)}, ValueError, "got 4 values"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"padding": 0.5}, TypeError, "padding must be an int, got float"),
    ((3, 7, 6), (4, 3, 3), {}, ValueError, r"weight must be 4-D \(O, C/groups, kH, kW\), got 3-D"),
    ((7, 6), (4, 3, 3, 3), {}, ValueError, r"input must be 3-D or 4-D .* got 2-D with shape \(7, 6\)"),
    ((1, 2, 3, 7, 6), (4, 3, 3, 3), {}, ValueError, "input must be 3-D or 4-D"),
    ((2, 3, 7, 6), (4, 3, 0, 3), {}, ValueError, "kernels must be at least 1x1, got kH=0"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"bias": np.zeros(3)}, ValueError,
     r"bias must have shape \(4,\), one value per filter, got shape \(3,\)"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"bias": np.zeros((4, 1))}, ValueError, "bias must have shape"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"threads": 0}, ValueError, "threads must be >= 1, got 0"),
    ((2, 3, 7, 6), (4, 3, 3, 3), {"threads": 1.5}, TypeError, "threads must be an int"),
])
def test_errors_name_argument_and_numbers(xshape, wshape, kwargs, exc, message):
    x = np.zeros(xshape)
    w = np.zeros(wshape)
    with pytest.raises(exc, match=message):
        cconv.conv2d(x, w, **kwargs)


@pytest.mark.parametrize("one, both", [
    ({"stride": (2,)}, {"stride": 2}),
    ({"stride": [3]}, {"stride": (3, 3)}),
    ({"stride": np.array([2])}, {"stride": 2}),
    ({"dilation": (2,)}, {"dilation": 2}),
    ({"dilation": [np.int64(2)], "padding": [1]}, {"dilation": 2, "padding": 1}),
    ({"padding": (1,)}, {"padding": 1}),
    ({"padding": np.array([2])}, {"padding": (2, 2)}),
    ({"padding": ((1, 2),)}, {"padding": ((1, 2), (1, 2))}),
    ({"padding": [[0, 2]], "stride": (2,)}, {"padding": ((0, 2), (0, 2)), "stride": 2}),
], ids=str)
def test_one_element_sequences_mean_both_axes(one, both, rng):
    """As in PyTorch, stride=(2,) is stride=2; every public function reads them alike."""
    x = rng.standard_normal((2, 3, 9, 8))
    w = rng.standard_normal((4, 3, 3, 2))
    assert cconv.conv2d_output_shape(x.shape, w.shape, **one) == cconv.conv2d_output_shape(
        x.shape, w.shape, **both)
    np.testing.assert_array_equal(conv2d_oracle(x, w, **one), conv2d_oracle(x, w, **both))
    np.testing.assert_array_equal(cconv.conv2d(x, w, **one), cconv.conv2d(x, w, **both))


@needs_torch
def test_one_element_sequences_match_pytorch(rng):
    import torch
    import torch.nn.functional as F

    x = rng.standard_normal((1, 2, 11, 10))
    w = rng.standard_normal((3, 2, 3, 3))
    theirs = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=(2,), padding=(1,),
                      dilation=(2,)).numpy()
    ours = cconv.conv2d(x, w, stride=(2,), padding=(1,), dilation=(2,))
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_output_shape_helper_raises_the_same(rng):
    with pytest.raises(ValueError, match="kernel depth 2"):
        cconv.conv2d_output_shape((1, 3, 5, 5), (4, 2, 3, 3))


def test_oversized_shapes_are_rejected_before_allocation():
    huge = np.broadcast_to(np.zeros((1, 1, 1, 1), np.float32), (1, 1, 2**31, 2**29))
    with pytest.raises(ValueError, match="the input has 1152921504606846976 elements"):
        cconv.conv2d(huge, np.zeros((1, 1, 1, 1), np.float32))
    wide = np.broadcast_to(np.zeros((1, 1, 1, 1), np.float32), (1, 1, 2**31, 2**20))
    with pytest.raises(ValueError, match="the output would have"):
        cconv.conv2d(wide, np.zeros((2**20, 1, 1, 1), np.float32))
    with pytest.raises((ValueError, MemoryError)):
        cconv.conv2d(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 1, 1)), padding=10**12)


# ---------------------------------------------------------------- empty sizes

def test_empty_batch_gives_empty_output(rng):
    x = np.zeros((0, 3, 7, 6), np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    out = cconv.conv2d(x, w, padding=1)
    assert out.shape == (0, 4, 7, 6) and out.dtype == np.float32


def test_no_filters_gives_empty_output():
    assert cconv.conv2d(np.zeros((2, 3, 5, 5)), np.zeros((0, 3, 3, 3))).shape == (2, 0, 3, 3)


def test_zero_channels_or_pixels_sum_only_padding():
    w0 = np.zeros((2, 0, 3, 3))
    out = cconv.conv2d(np.zeros((1, 0, 4, 4)), w0, bias=[1.0, 2.0], padding=1)
    assert out.shape == (1, 2, 4, 4)
    np.testing.assert_array_equal(out[0, 1], np.full((4, 4), 2.0))
    out = cconv.conv2d(np.zeros((1, 1, 0, 3)), np.ones((2, 1, 1, 1)), bias=[3.0, 4.0], padding=1)
    assert out.shape == (1, 2, 2, 5)
    np.testing.assert_array_equal(out[0, 0], np.full((2, 5), 3.0))


@pytest.mark.parametrize("xshape, wshape, kwargs, expected", [
    # "same" pads an empty axis with nothing: ceil(0 / stride) = 0 outputs along it.
    ((2, 3, 0, 8), (4, 3, 3, 3), {"padding": "same"}, (2, 4, 0, 8)),
    ((2, 3, 0, 8), (4, 3, 3, 3), {"padding": "same", "stride": 2}, (2, 4, 0, 4)),
    ((3, 9, 0), (4, 3, 5, 2), {"padding": "same", "dilation": 2}, (4, 9, 0)),
    # An empty axis that padding does not fill gives an empty output axis.
    ((1, 2, 5, 0), (3, 2, 1, 1), {}, (1, 3, 5, 0)),
    ((1, 2, 0, 7), (3, 2, 3, 3), {"padding": (0, 1)}, (1, 3, 0, 7)),
    ((1, 2, 0, 7), (3, 2, 3, 3), {"padding": ((1, 1), (0, 0))}, (1, 3, 0, 5)),
    # Padding alone holds the kernel: floor((0 + before + after - span) / stride) + 1 outputs.
    ((1, 2, 0, 7), (3, 2, 3, 3), {"padding": ((1, 2), (0, 0))}, (1, 3, 1, 5)),
    ((1, 2, 0, 7), (3, 2, 3, 3), {"padding": 2, "stride": 2}, (1, 3, 1, 5)),
])
def test_empty_spatial_axis(xshape, wshape, kwargs, expected, monkeypatch):
    from cconv import _conv

    x = np.ones(xshape)
    w = np.ones(wshape)
    b = np.arange(1.0, wshape[0] + 1)
    assert cconv.conv2d_output_shape(xshape, wshape, **kwargs) == expected
    assert conv2d_oracle(x, w, b, **kwargs).shape == expected

    def no_c_call(*args):
        raise AssertionError("an input with no pixels reached the C core")

    # The C core refuses a kernel larger than the padded input (output size -1): such calls,
    # and any with nothing to read, must be answered before it.
    monkeypatch.setitem(_conv._CORE, np.dtype(np.float64), no_c_call)
    out = cconv.conv2d(x, w, b, **kwargs)
    assert out.shape == expected
    # Every output pixel sums only zero padding: it holds the bias of its filter.
    np.testing.assert_array_equal(out, np.broadcast_to(b.reshape(-1, 1, 1), expected))


def test_empty_axis_beside_a_too_small_axis_is_still_an_error():
    with pytest.raises(ValueError, match=r"kernel width 3 spans 3 pixels, more than the padded "
                                         r"input width 2 \(= 2 \+ padding 0 \+ 0\)"):
        cconv.conv2d(np.ones((1, 2, 0, 2)), np.ones((3, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"kernel height 3 spans 3 pixels, more than the padded "
                                         r"input height 2 \(= 2 \+ padding 0 \+ 0\)"):
        cconv.conv2d_output_shape((1, 2, 2, 0), (3, 2, 3, 3))


# ---------------------------------------------------------------- output shape helper

@pytest.mark.parametrize("in_shape, w_shape, kwargs, expected", [
    ((1, 3, 224, 224), (64, 3, 7, 7), {"stride": 2, "padding": 3}, (1, 64, 112, 112)),
    ((3, 32, 32), (16, 3, 5, 5), {"padding": "same"}, (16, 32, 32)),
    ((1, 3, 10, 10), (4, 3, 3, 3), {"padding": "same", "stride": 3}, (1, 4, 4, 4)),
    ((1, 3, 11, 10), (4, 3, 4, 2), {"padding": "same", "stride": 2}, (1, 4, 6, 5)),
    ((1, 3, 10, 10), (4, 3, 3, 3), {"padding": "valid", "dilation": 2}, (1, 4, 6, 6)),
    ((2, 6, 9, 9), (6, 1, 3, 3), {"groups": 6, "padding": ((0, 2), (1, 0))}, (2, 6, 9, 8)),
])
def test_conv2d_output_shape(in_shape, w_shape, kwargs, expected):
    assert cconv.conv2d_output_shape(in_shape, w_shape, **kwargs) == expected
    out = cconv.conv2d(np.ones(in_shape, np.float32), np.ones(w_shape, np.float32), **kwargs)
    assert out.shape == expected


def test_same_padding_puts_the_odd_pixel_bottom_right():
    # 4x4 kernel, stride 1: total padding 3 -> top/left 1, bottom/right 2.
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 0, 0] = 1.0
    k = np.zeros((1, 1, 4, 4))
    k[0, 0, 1, 1] = 1.0  # output (y, x) reads input (y - 1 + 1, x - 1 + 1) = (y, x)
    out = cconv.conv2d(x, k, padding="same")
    np.testing.assert_array_equal(out, x)


# ---------------------------------------------------------------- threads and config

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_results_identical_whatever_the_thread_count(dtype, rng):
    x = rng.standard_normal((2, 16, 23, 19)).astype(dtype)
    w = rng.standard_normal((24, 16, 3, 3)).astype(dtype)
    b = rng.standard_normal(24).astype(dtype)
    ref = cconv.conv2d(x, w, b, padding=1, threads=1)
    for threads in (2, 3, 4, 7):
        np.testing.assert_array_equal(cconv.conv2d(x, w, b, padding=1, threads=threads), ref)


def test_get_config_and_show_config(capsys):
    config = cconv.get_config()
    assert config["simd"] in config["simd_paths"]
    assert "generic" in config["simd_paths"]
    assert isinstance(config["max_threads"], int) and config["max_threads"] >= 1
    cconv.show_config()
    printed = capsys.readouterr().out
    assert config["simd"] in printed and f"max_threads={config['max_threads']}" in printed


def test_forced_simd_path_and_unknown_name(tmp_path):
    code = "import cconv; print(cconv.get_config()['simd'])"
    env = dict(os.environ, CCONV_SIMD="generic")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "generic"
    env["CCONV_SIMD"] = "sse9"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode != 0
    assert "CCONV_SIMD=sse9: unknown SIMD path 'sse9'" in done.stderr


def test_import_cconv_makes_the_oracle_reachable(tmp_path):
    # A fresh interpreter: in this one the tests have imported cconv.oracle themselves.
    code = ("import sys, cconv; assert 'cconv.oracle' in sys.modules; "
            "print(cconv.oracle.conv2d_oracle([[[1.0]]], [[[[2.0]]]]).tolist())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[[[2.0]]]"


def test_import_beside_a_folder_named_cconv(tmp_path):
    """Python run in a folder that holds a folder named cconv without an __init__.py (such as the
    folder that holds a clone named cconv) must still import the installed cconv, not that
    folder as an empty namespace package.  This is what breaks with setuptools' default
    editable install (an import hook behind the path finder); pyproject.toml's package-dir
    makes `pip install -e` put the project root on sys.path instead, where the regular package
    wins over the namespace folder."""
    (tmp_path / "cconv" / "src_c").mkdir(parents=True)
    code = "import cconv; print(cconv.conv2d_output_shape((1, 1, 3, 3), (1, 1, 3, 3)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1, 1, 1, 1)"


def test_demo_runs(tmp_path):
    # Run outside the source tree so the installed package is the one imported.
    done = subprocess.run([sys.executable, "-m", "cconv", "--no-preview"], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 feature maps" in done.stdout
    assert "5 filters of depth 3" in done.stdout
    assert "5 output feature maps of 48 x 64" in done.stdout


# ---------------------------------------------------------------- PyTorch cross-check

@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_pytorch_on_random_configurations(dtype):
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(123)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for _ in range(150):
        groups = int(rng.choice([1, 2, 3]))
        c = groups * int(rng.integers(1, 5))
        o = groups * int(rng.integers(1, 5))
        kh, kw = (int(v) for v in rng.integers(1, 6, size=2))
        stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 3, size=2))
        padding = tuple(int(v) for v in rng.integers(0, 3, size=2))
        h = max(int(rng.integers(1, 24)), dilation[0] * (kh - 1) + 1)
        w = max(int(rng.integers(1, 24)), dilation[1] * (kw - 1) + 1)
        x = rng.standard_normal((int(rng.integers(1, 3)), c, h, w)).astype(dtype)
        wt = rng.standard_normal((o, c // groups, kh, kw)).astype(dtype)
        b = rng.standard_normal(o).astype(dtype) if rng.random() < 0.5 else None
        ours = cconv.conv2d(x, wt, b, stride, padding, dilation, groups)
        theirs = F.conv2d(torch.from_numpy(x), torch.from_numpy(wt),
                          None if b is None else torch.from_numpy(b),
                          stride, padding, dilation, groups).numpy()
        scale = np.abs(theirs).max() + 1e-30
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale)


@needs_torch
@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
def test_same_padding_matches_pytorch_at_stride_1():
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(5)
    for kh, kw, d in [(3, 3, 1), (4, 2, 1), (5, 4, 2), (2, 2, 3)]:
        x = rng.standard_normal((1, 2, 9, 8))
        w = rng.standard_normal((3, 2, kh, kw))
        theirs = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding="same",
                          dilation=d).numpy()
        np.testing.assert_allclose(cconv.conv2d(x, w, padding="same", dilation=d), theirs,
                                   rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- the repeated-call fast path

def test_repeated_calls_take_the_cached_plan_and_still_check_everything(rng):
    from cconv import _conv

    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    _conv._PLAN_CACHE.clear()
    first = cconv.conv2d(x, w, padding=1)
    assert len(_conv._PLAN_CACHE) == 1
    again = cconv.conv2d(x, w, padding=1)
    np.testing.assert_array_equal(first, again)
    assert_matches_oracle(again, x, w, padding=1)
    # Values that compare equal to the cached ones but are invalid must still be refused.
    with pytest.raises(TypeError, match="padding must be an int, got bool"):
        cconv.conv2d(x, w, padding=True)
    with pytest.raises(TypeError, match="stride must be an int, got bool"):
        cconv.conv2d(x, w, stride=True, padding=1)
    with pytest.raises(TypeError, match="threads must be an int, got bool"):
        cconv.conv2d(x, w, padding=1, threads=True)
    # Same shapes, other dtypes or layouts: not the cached float32 plan.
    assert cconv.conv2d(x.astype(np.float64), w, padding=1).dtype == np.float64
    xt = np.asfortranarray(x)
    assert_matches_oracle(cconv.conv2d(xt, w, padding=1), x, w, padding=1)
    unbatched = cconv.conv2d(x[0], w, padding=1)
    np.testing.assert_array_equal(cconv.conv2d(x[0], w, padding=1), unbatched)
    np.testing.assert_array_equal(unbatched, first[0])


def _tiny(dtype=np.float32):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((1, 3, 8, 8)).astype(dtype)
    w = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    return x, w, b


def _forms_of_the_tiny_call():
    """(id, dtype, call) for each spelling of the tiny call that the cached plan must replay.

    Each spelling shares the plan of the plain-int call conv2d(x, w, b, padding=1), except
    "same" (a plan per string, as its padding depends on the shapes), "valid" (the plan of
    padding=0) and threads=np.int64(1) (the plan of threads=1)."""
    one = np.int64(1)
    forms = [
        ("padding-pair", np.float32, lambda x, w, b: cconv.conv2d(x, w, b, padding=(1, 1))),
        ("padding-list", np.float32, lambda x, w, b: cconv.conv2d(x, w, b, padding=[1, 1])),
        ("padding-1-tuple", np.float32, lambda x, w, b: cconv.conv2d(x, w, b, padding=(1,))),
        ("padding-sides", np.float32,
         lambda x, w, b: cconv.conv2d(x, w, b, padding=((1, 1), (1, 1)))),
        ("padding-same", np.float32, lambda x, w, b: cconv.conv2d(x, w, b, padding="same")),
        ("padding-valid", np.float32, lambda x, w, b: cconv.conv2d(
            np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), w, b, padding="valid")),
        ("stride-pair", np.float32,
         lambda x, w, b: cconv.conv2d(x, w, b, stride=(1, 1), padding=1)),
        ("stride-1-list", np.float32, lambda x, w, b: cconv.conv2d(x, w, b, stride=[1], padding=1)),
        ("dilation-pair", np.float32,
         lambda x, w, b: cconv.conv2d(x, w, b, dilation=(1, np.int32(1)), padding=1)),
        ("np.int64-parameters", np.float32,
         lambda x, w, b: cconv.conv2d(x, w, b, stride=one, padding=one, dilation=one, groups=one)),
        ("np.uint8-padding", np.float32,
         lambda x, w, b: cconv.conv2d(x, w, b, padding=np.uint8(1))),
        ("list-bias", np.float64, lambda x, w, b: cconv.conv2d(x, w, b.tolist(), padding=1)),
        ("list-input", np.float64, lambda x, w, b: cconv.conv2d(x.tolist(), w, b, padding=1)),
        ("threads-np.int64", np.float32,
         lambda x, w, b: cconv.conv2d(x, w, b, padding=1, threads=np.int64(1))),
        ("out", np.float32,
         lambda x, w, b: cconv.conv2d(x, w, b, padding=1, out=np.empty((1, 4, 8, 8), x.dtype))),
        ("unbatched-out", np.float32,
         lambda x, w, b: cconv.conv2d(x[0], w, b, padding=1, out=np.empty((4, 8, 8), x.dtype))),
        # The C core reads any strides in place, so a strided input replays the plan too.
        ("channels-last-input", np.float32, lambda x, w, b: cconv.conv2d(
            np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2), w, b,
            padding=1)),
        ("reversed-rows-input", np.float32, lambda x, w, b: cconv.conv2d(
            np.ascontiguousarray(x[:, :, ::-1])[:, :, ::-1], w, b, padding=1)),
    ]
    if HAVE_TORCH:
        import torch
        forms.append(("torch-tensors", np.float32, lambda x, w, b: cconv.conv2d(
            torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), padding=1)))
    return forms


@pytest.mark.parametrize("form", [pytest.param(f, id=f[0]) for f in _forms_of_the_tiny_call()])
def test_every_spelling_of_a_cached_call_replays_the_plan(form, monkeypatch):
    """Ints in tuples, NumPy ints, lists, tensors and out= reach the cached plan: the full path
    (_conv2d) is not called again, and the answer is the plain-int call's."""
    from cconv import _conv

    _, dtype, call = form
    x, w, b = _tiny(dtype)
    monkeypatch.setattr(_conv, "_PLAN_CACHE", {})
    first = cconv.conv2d(x, w, b, padding=1)
    cconv.conv2d(x[0], w, b, padding=1)  # the unbatched plan too
    cconv.conv2d(x, w, b, padding="same")
    cconv.conv2d(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), w, b, padding=0)
    cconv.conv2d(x, w, b, padding=1, threads=1)
    assert len(_conv._PLAN_CACHE) == 5

    def full_path(*args, **kwargs):
        raise AssertionError("the call did not take the cached plan")

    monkeypatch.setattr(_conv, "_conv2d", full_path)
    got = call(x, w, b)
    assert len(_conv._PLAN_CACHE) == 5
    np.testing.assert_array_equal(got.reshape(first.shape), first)


def _look_alikes():
    """Arguments that compare (and often hash) equal to the cached call's, but that a fresh call
    refuses; the cache must refuse them with the same error."""
    cases = []
    for name in ("stride", "dilation", "groups"):
        cases += [(name, True), (name, np.True_), (name, 1.0), (name, np.float64(1.0)),
                  (name, np.timedelta64(1)), (name, np.array(1.0)), (name, 1 + 0j)]
    for name in ("stride", "dilation"):
        cases += [(name, (1, 1, 1)), (name, ()), (name, (True, 1)), (name, [1.0]),
                  (name, (1, True)), (name, (np.True_,)), (name, (0, 1)), (name, -1),
                  (name, [np.timedelta64(1)])]
    cases += [("groups", -1), ("groups", 0)]
    cases += [("padding", v) for v in (
        True, np.True_, 1.0, np.float32(1.0), -1, (1, 1, 1), (), (1, True), (True,), [1.0],
        ((1, 1), (1, True)), ((1, 1),) * 3, ((1, 1, 1),), "SAME", "Same", np.timedelta64(1),
        (-1, 1), ((1, -1),))]
    cases += [("threads", v) for v in (True, np.True_, 1.0, 0, -1, 2**40, np.timedelta64(1))]
    return [pytest.param(name, value, id=f"{name}={value!r}") for name, value in cases]


@pytest.mark.parametrize("name, value", _look_alikes())
def test_look_alikes_of_a_cached_call_raise_as_a_fresh_call_does(name, value, monkeypatch):
    from cconv import _conv

    x, w, b = _tiny()
    base = {"stride": 1, "padding": 1, "dilation": 1, "groups": 1, "threads": None}
    kwargs = dict(base, **{name: value})
    monkeypatch.setattr(_conv, "_PLAN_CACHE", {})
    with pytest.raises((TypeError, ValueError)) as fresh:
        cconv.conv2d(x, w, b, **kwargs)
    assert not _conv._PLAN_CACHE
    cconv.conv2d(x, w, b, **base)
    cconv.conv2d(x, w, b, padding=(1, 1), stride=(1,), threads=1)
    assert _conv._PLAN_CACHE
    with pytest.raises(fresh.type) as cached:
        cconv.conv2d(x, w, b, **kwargs)
    assert str(cached.value) == str(fresh.value)


@pytest.mark.parametrize("which", ["input-exactly", "input-before", "input-after", "weight",
                                   "bias"])
def test_cached_plan_with_out_overlapping_an_operand(which, monkeypatch):
    """out= takes the cached plan only when it shares no memory with what is read; otherwise the
    result is computed aside and copied, as on the full path.  (With the input 2 rows before
    out, writing out in place corrupts the rows still to be read.)"""
    from cconv import _conv

    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 4, 32, 32)).astype(np.float32)
    w = rng.standard_normal((4, 4, 1, 1)).astype(np.float32)  # out has the input's shape
    b = rng.standard_normal(4).astype(np.float32)
    expected = conv2d_oracle(x, w, b)
    monkeypatch.setattr(_conv, "_PLAN_CACHE", {})
    cconv.conv2d(x, w, b)                                     # caches the plan
    n = x.size
    pool = np.zeros(n + 192, np.float32)
    out = pool[64:64 + n].reshape(x.shape)
    place = {"input-exactly": slice(64, 64 + n), "input-before": slice(0, n),
             "input-after": slice(128, 128 + n), "weight": slice(70, 70 + w.size),
             "bias": slice(100, 100 + b.size)}[which]
    operands = {"input": x, "weight": w, "bias": b}
    name = which.split("-")[0]
    alias = pool[place].reshape(operands[name].shape)
    alias[...] = operands[name]
    operands[name] = alias
    got = cconv.conv2d(operands["input"], operands["weight"], operands["bias"], out=out)
    assert got is out
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
