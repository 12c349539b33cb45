"""python -m cconv: convolve a small built-in RGB image with a bank of depth-3 filters."""

from ._demo import main

raise SystemExit(main())
