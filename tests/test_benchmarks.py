"""The benchmark scripts' own logic (they are never run as tests): the ceiling of the %ceil column
is measured on the machine the benchmark runs on unless --ceiling gives it."""

import pathlib

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"
pytestmark = pytest.mark.skipif(not (BENCHMARKS / "bench_conv2d.py").exists(),
                                reason="tests run outside the source tree")


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_conv2d
    return bench_conv2d


def test_ceiling_defaults_to_a_measured_peak(bench, monkeypatch):
    args = bench.parse_args([])
    assert args.ceiling is None
    calls = []

    def fake_peak(dtype):
        calls.append(dtype)
        import peak
        return peak.Peak(dtype, 50.0 if dtype == "float64" else 100.0,
                         [("probe", 50.0 if dtype == "float64" else 100.0)])

    monkeypatch.setattr(bench, "measure_peak", fake_peak)
    peaks, lines = bench.peaks_per_core(args)
    assert calls == ["float32", "float64"]
    assert peaks == {"float32": 100.0, "float64": 50.0}
    assert "measured here" in lines[0] and "float32 100.0 GFLOP/s" in lines[1]


def test_ceiling_option_overrides_the_measurement(bench, monkeypatch):
    monkeypatch.setattr(bench, "measure_peak", lambda dtype: pytest.fail("measured anyway"))
    peaks, lines = bench.peaks_per_core(bench.parse_args(["--ceiling", "200"]))
    assert peaks == {"float32": 200.0, "float64": 100.0}
    assert "--ceiling" in lines[0]
    with pytest.raises(SystemExit):
        bench.parse_args(["--ceiling", "0"])


def test_measure_peak_reports_each_probe(bench):
    import peak

    result = peak.measure_peak("float32", min_time_s=0.01)
    assert len(result.probes) >= 2
    assert result.gflops == max(g for _, g in result.probes) > 0
    assert "GFLOP/s" in result.describe() and "cconv 1x1 conv" in result.describe()
