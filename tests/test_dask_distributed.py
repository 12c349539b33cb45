"""cconv.dask on Dask's distributed scheduler: a LocalCluster of 2 worker processes computes what
cconv computes on the whole array, bit for bit, and recovers when a worker dies mid-task.

Select these with `pytest tests/test_dask_distributed.py` (or -m distributed); each test holds
"dask" in its name too.  One cluster serves the module (starting it is most of the time).
"""

import os
import sys

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import cconv  # noqa: E402
import cconv.dask  # noqa: E402

pytestmark = [pytest.mark.distributed, pytest.mark.slow]
# conv2d's direct method, where this cconv has the method argument (the only bitwise one).
DIRECT = {"method": "direct"} if "method" in cconv.conv2d.__code__.co_varnames else {}


def same_bits(a, b) -> bool:
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


@pytest.fixture(scope="module")
def client():
    """2 worker processes, one thread each, 1 GiB each; no dashboards."""
    import cloudpickle
    # Functions of this module travel by value: the workers cannot import it.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  memory_limit="1GiB", dashboard_address=None,
                                  worker_dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def test_dask_distributed_results_equal_the_whole_array(client):
    """conv2d (NHWC with C chunked, circular borders across chunks, the batch chunked), max
    pooling with indices and the transposed convolution, each computed by the cluster."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 50, 70, 4)).astype(np.float32)
    w = rng.standard_normal((6, 2, 5, 3)).astype(np.float32)
    params = dict(stride=(1, 2), padding="same", groups=2, padding_mode="circular",
                  data_format="NHWC", **DIRECT)
    y = cconv.dask.conv2d(da.from_array(x, chunks=(2, 17, 23, 3)), w, **params)
    assert same_bits(client.compute(y).result(), cconv.conv2d(x, w, **params))

    images = rng.standard_normal((2, 3, 61, 47))
    values, indices = cconv.dask.max_pool2d(da.from_array(images, chunks=(1, 2, 16, 9)), 3,
                                            stride=2, padding=1, return_indices=True)
    got_values, got_indices = client.compute([values, indices], sync=True)
    want_values, want_indices = cconv.max_pool2d(images, 3, stride=2, padding=1,
                                                 return_indices=True)
    assert same_bits(got_values, want_values) and same_bits(got_indices, want_indices)

    wt = rng.standard_normal((3, 2, 4, 4))
    up = cconv.dask.conv_transpose2d(da.from_array(images, chunks=(1, 3, 20, 20)), wt, stride=2,
                                     padding=1)
    assert same_bits(client.compute(up).result(),
                     cconv.conv_transpose2d(images, wt, stride=2, padding=1))


def _die_once(block, marker, block_id=None):
    """Kills the worker process running it, the first time it meets block (1, 1) (as a crash
    or an out-of-memory kill would): Dask must rerun what that worker held elsewhere."""
    if block_id[-2:] == (1, 1) and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return block


def test_dask_distributed_cluster_recovers_from_a_dead_worker(client, tmp_path):
    """A worker dies in the middle of a task, holding finished cconv results: Dask reruns its
    tasks on a worker (the nanny starts a new process) and the result is still exact."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 96, 96)).astype(np.float32)
    w = rng.standard_normal((4, 3, 5, 5)).astype(np.float32)
    want = cconv.conv2d(x, w, padding="same", padding_mode="circular", **DIRECT)
    y = cconv.dask.conv2d(da.from_array(x, chunks=(1, 3, 32, 32)), w, padding="same",
                          padding_mode="circular", **DIRECT)
    pids = set(client.run(os.getpid).values())
    marker = str(tmp_path / "died")
    survivor = y.map_blocks(_die_once, marker, dtype=y.dtype)
    assert same_bits(client.compute(survivor).result(timeout=60), want)
    assert os.path.exists(marker)
    client.wait_for_workers(2, timeout=30)
    assert set(client.run(os.getpid).values()) != pids  # a worker was replaced
