"""The one place the version lives: pyproject.toml reads it (setuptools dynamic version) and
``cconv.__version__`` re-exports it."""

__version__ = "0.1.0"
