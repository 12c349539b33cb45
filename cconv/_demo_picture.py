"""The demo's picture: input feature maps -> filters -> output feature maps, side by side.

It draws one conv2d call the way CNN explanations do: the input's feature maps (R, G, B) in a
column on the left, each filter as a row of kernels (one per input channel) in the middle, and
on the right the output feature map each filter makes, in the same row as its filter.

matplotlib is an optional extra (`pip install "cconv[demo]"`), so it is imported inside the
functions: without it they raise ImportError and the demo says how to get it.  They use
matplotlib's object API without pyplot, so no window or GUI backend is ever involved.

Every panel's Axes carries a label ("image", "input 0", "kernel 2 1" for filter 2's kernel on
channel 1, "output 2") by which the tests find it and compare what it shows with conv2d.
"""

from __future__ import annotations

import numpy as np

_CHANNEL_NAMES = ("R", "G", "B")
_CHANNEL_COLOURS = ("red", "green", "blue")
# Diverging, so that the sign of a weight or an output pixel shows: red positive, blue negative,
# white zero.  Edge filters give both signs.
_SIGNED_CMAP = "RdBu_r"
# Inches.  One filter row holds its kernels and its output map, with their titles.
_ROW_HEIGHT = 1.9
_PANEL_HEIGHT = 1.45
_ARROW_WIDTH = 0.45
_DPI = 120


def feature_map_figure(image: np.ndarray, names: list[str], weight: np.ndarray,
                       result: np.ndarray, title: str):
    """A matplotlib Figure of `image` (C, H, W), the filters `weight` (O, C, kH, kW) named
    `names`, and `result` (O, OH, OW), the output feature maps conv2d made of them."""
    from matplotlib.figure import Figure

    channels, height, width = image.shape
    filters = weight.shape[0]
    # Sizes from the image's shape, with the aspect ratio bounded so that a panorama or a
    # sliver still gives a figure of sensible proportions (imshow keeps the true aspect).
    aspect = min(max(width / height, 0.5), 3.0)
    out_aspect = min(max(result.shape[2] / result.shape[1], 0.5), 3.0)
    rows_height = filters * _ROW_HEIGHT
    input_panel = rows_height / (channels + 1) - 0.4
    widths = [input_panel * aspect + 0.5, _ARROW_WIDTH,
              channels * 1.0 + 0.3, _ARROW_WIDTH,
              _PANEL_HEIGHT * out_aspect + 1.3]
    fig = Figure(figsize=(sum(widths), rows_height + 1.3), layout="constrained")
    fig.suptitle(title, fontsize=11)
    fig.supxlabel(f"Each output map: every kernel of its filter slides over its own input map, "
                  f"and the {channels} results are summed;\nthe kernels are not flipped "
                  "(cross-correlation, as in CNNs).  Red: positive, blue: negative, white: zero;"
                  "\na map with no negative value is drawn in gray (black: zero).", fontsize=8.5)
    inputs, arrow_in, kernels, arrow_out, outputs = fig.subfigures(1, 5, width_ratios=widths)

    _draw_inputs(inputs, image)
    _draw_arrow(arrow_in)
    _draw_filters(kernels, names, weight)
    _draw_arrow(arrow_out)
    _draw_outputs(outputs, names, result)
    return fig


def write_picture(fig, path: str) -> None:
    """Write the figure to `path`, in the format its suffix names (.png, .svg, .pdf, ...)."""
    fig.savefig(path, dpi=_DPI)


def _draw_inputs(subfig, image: np.ndarray) -> None:
    from matplotlib.colors import LinearSegmentedColormap

    channels, height, width = image.shape
    subfig.suptitle(f"input: {channels} feature maps\nof {height} x {width}", fontsize=10)
    axes = subfig.subplots(channels + 1, 1)
    axes[0].imshow(np.clip(image.transpose(1, 2, 0), 0, 1))
    _name_panel(axes[0], "image", "the image (RGB)")
    for c in range(channels):
        # Black to the channel's own colour, on the fixed [0, 1] scale of the pixels, so that
        # the three planes compare at a glance.
        colour = _CHANNEL_COLOURS[c] if c < len(_CHANNEL_COLOURS) else "white"
        cmap = LinearSegmentedColormap.from_list(f"black-{colour}", ["black", colour])
        axes[c + 1].imshow(image[c], cmap=cmap, vmin=0.0, vmax=1.0)
        _name_panel(axes[c + 1], f"input {c}", f"{_channel_name(c)}: channel {c}")


def _draw_filters(subfig, names: list[str], weight: np.ndarray) -> None:
    filters, channels, kh, kw = weight.shape
    subfig.suptitle(f"{filters} filters of depth {channels}\n"
                    f"(each {channels} kernels of {kh}x{kw})", fontsize=10)
    for i, row in enumerate(subfig.subfigures(filters, 1)):
        row.suptitle(f"filter {i}: {names[i]}", fontsize=9)
        axes = np.atleast_1d(row.subplots(1, channels))
        # One scale for the whole filter, so that its kernels compare with each other.
        scale = float(np.abs(weight[i]).max()) or 1.0
        for c, ax in enumerate(axes):
            kernel = weight[i, c]
            ax.imshow(kernel, cmap=_SIGNED_CMAP, vmin=-scale, vmax=scale,
                      interpolation="nearest")
            _name_panel(ax, f"kernel {i} {c}", f"on {_channel_name(c)}", fontsize=8)
            if kh * kw <= 25:
                _write_weights(ax, kernel, scale)


def _draw_outputs(subfig, names: list[str], result: np.ndarray) -> None:
    filters, height, width = result.shape
    subfig.suptitle(f"output: {filters} feature maps\nof {height} x {width}", fontsize=10)
    axes = np.atleast_1d(subfig.subplots(filters, 1))
    for i, ax in enumerate(axes):
        shown, extend = _show_map(ax, result[i])
        _name_panel(ax, f"output {i}", f"map {i}: {names[i]}", fontsize=8.5)
        bar = subfig.colorbar(shown, ax=ax, shrink=0.9, aspect=14, extend=extend)
        bar.ax.tick_params(labelsize=7)


def _show_map(ax, feature_map: np.ndarray):
    """imshow one output map; returns the image and which ends of its colour bar are clipped.

    A map with negative values gets the signed colours; one without (a blur of an image) is
    drawn in gray, black at zero, so that it looks like the picture it is.  The scale ends at
    the 99th percentile of |value|: in a photo a few strong edges would otherwise leave every
    other edge near white.  The colour bar's pointed ends show where values were clipped.
    """
    low, high = float(feature_map.min()), float(feature_map.max())
    scale = float(np.percentile(np.abs(feature_map), 99)) or max(-low, high) or 1.0
    if low < 0:
        shown = ax.imshow(feature_map, cmap=_SIGNED_CMAP, vmin=-scale, vmax=scale)
        clipped_low = low < -scale
    else:
        shown = ax.imshow(feature_map, cmap="gray", vmin=0.0, vmax=scale)
        clipped_low = False
    extend = {(False, False): "neither", (True, False): "min",
              (False, True): "max", (True, True): "both"}[(clipped_low, high > scale)]
    return shown, extend


def _draw_arrow(subfig) -> None:
    subfig.text(0.5, 0.5, "\u2192", fontsize=28, ha="center", va="center", color="0.35")


def _write_weights(ax, kernel: np.ndarray, scale: float) -> None:
    """Each weight's value on its cell, white on the dark ends of the colour map."""
    for (y, x), value in np.ndenumerate(kernel):
        colour = "white" if abs(value) > 0.6 * scale else "black"
        ax.text(x, y, f"{value:.2f}".replace("-0.00", "0.00"), ha="center", va="center",
                fontsize=6.5, color=colour)


def _name_panel(ax, label: str, title: str, fontsize: float = 9) -> None:
    ax.set_label(label)
    ax.set_title(title, fontsize=fontsize)
    ax.set_xticks([])
    ax.set_yticks([])


def _channel_name(c: int) -> str:
    return _CHANNEL_NAMES[c] if c < len(_CHANNEL_NAMES) else f"channel {c}"
