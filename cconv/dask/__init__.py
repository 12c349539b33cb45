"""cconv on Dask arrays: images larger than memory, batches larger than one machine.

``cconv.dask.conv2d``, ``conv_transpose2d``, ``max_pool2d`` and ``avg_pool2d`` take a Dask array
chunked along N, H and W and return a lazy Dask array whose ``compute()`` equals the cconv
function on the whole array (bit for bit, with conv2d's direct method), on any Dask scheduler.
Each task computes one output chunk from its input chunk and the halo its windows need,
taken from its neighbours by dask.array.overlap; the borders of the
whole array (every padding mode) are built from the whole array, never from a chunk.  Inside a
task cconv runs one thread unless ``threads=`` says otherwise.

Needs Dask: ``pip install "cconv[dask]"``.  ``import cconv`` never imports Dask or this module.
"""

try:
    import dask.array  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a venv without Dask
    raise ImportError(
        f"cconv.dask needs Dask's arrays ({exc}); install them with: pip install \"cconv[dask]\""
    ) from exc

from ._conv import conv2d
from ._conv_transpose import conv_transpose2d
from ._pool import avg_pool2d, max_pool2d

__all__ = ["conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d"]
