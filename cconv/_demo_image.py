"""Reading an image file for the demo: any file Pillow opens, as 3 feature maps (R, G, B).

Pillow is an optional extra (`pip install "cconv[demo]"`), so it is imported inside the function
that needs it: cconv itself depends on NumPy only.  Without Pillow, `read_image` raises
ImportError and the demo says how to get it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Longest side of the image the demo convolves and draws.  A phone photo (4000 x 3000) would be
# 12 M pixels a feature map: quick for conv2d, but slow to draw and no clearer in a picture a few
# hundred pixels wide.
DEFAULT_MAX_SIDE = 256

# Pillow modes with one gray feature map; all others are converted to RGB.  The 16-bit and float
# ones have no fixed white, so they are stretched from their minimum to their maximum.
_GRAY_MODES = {"1", "L", "LA", "La"}
_WIDE_GRAY_MODES = {"I", "F", "I;16", "I;16L", "I;16B", "I;16N"}
_EXIF_ORIENTATION = 0x0112


class ImageReadError(Exception):
    """The file could not be read as an image; the message says why, in a user's words."""


@dataclass(frozen=True)
class DemoImage:
    """An image file as the demo convolves it."""

    pixels: np.ndarray                  # (3, H, W) float32 in [0, 1]: the R, G, B feature maps
    mode: str                           # Pillow's mode of the file: "RGB", "L", "RGBA", ...
    file_shape: tuple[int, int]         # (H, W) of the file's picture, upright, not downscaled

    @property
    def gray(self) -> bool:
        return self.mode in _GRAY_MODES or self.mode in _WIDE_GRAY_MODES

    @property
    def downscaled(self) -> bool:
        return self.pixels.shape[1:] != self.file_shape


def read_image(path: str, max_side: int = DEFAULT_MAX_SIDE) -> DemoImage:
    """Read `path` as (3, H, W) float32 in [0, 1], its longest side at most `max_side` pixels.

    Gray images are copied into all three channels so that the demo's depth-3 filters apply to
    them; an alpha channel is dropped.  Raises ImportError without Pillow and ImageReadError for
    a file that is missing or is not an image Pillow reads.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            mode = img.mode
            # Phone photos store "rotate me" in EXIF (orientations 5 to 8 turn by 90 degrees)
            # instead of rotating their pixels.
            quarter_turn = img.getexif().get(_EXIF_ORIENTATION) in (5, 6, 7, 8)
            file_shape = (img.width, img.height) if quarter_turn else (img.height, img.width)
            # JPEG can decode at 1/2, 1/4 or 1/8 size: a big photo then opens in a fraction of
            # the time.  Other formats ignore the request.
            img.draft(mode, (max_side, max_side))
            img = ImageOps.exif_transpose(img)
            planes = _as_rgb_planes(img, mode, max_side)
    except FileNotFoundError:
        raise ImageReadError(f"cannot read {path}: no such file") from None
    except IsADirectoryError:
        raise ImageReadError(f"cannot read {path}: it is a folder, not an image file") from None
    except PermissionError:
        raise ImageReadError(f"cannot read {path}: permission denied") from None
    except UnidentifiedImageError:
        raise ImageReadError(f"cannot read {path}: not an image file that Pillow knows "
                             "(PNG, JPEG, GIF, TIFF, BMP, WebP, ...)") from None
    except Image.DecompressionBombError as exc:
        raise ImageReadError(f"cannot read {path}: {exc}") from None
    # Broken or truncated files surface from Pillow's decoders as any of these.
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageReadError(f"cannot read {path} as an image: {exc}") from None
    return DemoImage(planes, mode, file_shape)


def _as_rgb_planes(img, mode: str, max_side: int) -> np.ndarray:
    """The opened image as (3, H, W) float32 in [0, 1], downscaled to `max_side`."""
    from PIL import Image

    if mode in _WIDE_GRAY_MODES:
        img = img.convert("F")      # Pillow resizes 32-bit float images, not 16-bit ones
    elif mode in _GRAY_MODES:
        img = img.convert("L")      # drops the alpha of LA
    elif mode in ("P", "PA"):
        img = img.convert("RGBA").convert("RGB")    # a palette's transparency goes via RGBA
    else:
        img = img.convert("RGB")    # drops the alpha of RGBA; converts CMYK, YCbCr, ...
    width, height = img.size
    if max(width, height) > max_side:
        scale = max_side / max(width, height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        img = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    pixels = np.asarray(img, dtype=np.float32)
    if img.mode == "F":
        low, high = float(pixels.min()), float(pixels.max())
        pixels = (pixels - low) / (high - low) if high > low else np.zeros_like(pixels)
    else:
        pixels = pixels / 255
    if pixels.ndim == 2:
        return np.ascontiguousarray(np.broadcast_to(pixels, (3, *pixels.shape)))
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))
