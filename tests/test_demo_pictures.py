"""The demo with an image file and --save: what it reads, what it draws, and what it says
without its optional extra (Pillow and matplotlib, `pip install "cconv[demo]"`).

The tests that draw or read images skip without the extra; .ci/run installs it in a venv of its
own and fails if any of them is skipped.  The tests of the missing extra hide Pillow and
matplotlib, so they run everywhere.
"""

import subprocess
import sys

import numpy as np
import pytest

from cconv import _demo
from cconv._demo import builtin_filters, builtin_image
from cconv.oracle import conv2d_oracle

EXTRA = 'pip install "cconv[demo]"'


def _needs_pillow():
    return pytest.importorskip("PIL.Image", reason=f"Pillow missing ({EXTRA})")


def _needs_extra():
    pytest.importorskip("matplotlib", reason=f"matplotlib missing ({EXTRA})")
    return _needs_pillow()


def _photo_like(height=40, width=56):
    """A smooth colour scene with edges in it, (H, W, 3) uint8, every channel different."""
    y, x = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    r = 0.5 + 0.4 * np.sin(6 * x) * np.cos(4 * y)
    g = np.where((x - 0.6) ** 2 + (y - 0.4) ** 2 < 0.05, 0.9, 0.2 + 0.5 * y)
    b = np.where(x < 0.3, 0.8, 0.1 + 0.3 * x)
    return np.round(np.stack([r, g, b], axis=-1) * 255).astype(np.uint8)


def _write(path, pixels, **save_options):
    """Save an array with Pillow: (H, W) gray, (H, W, 3) RGB, (H, W, 4) RGBA by its shape."""
    Image = _needs_pillow()
    Image.fromarray(pixels).save(path, **save_options)
    return str(path)


def _drawn_figure(monkeypatch):
    """Run the demo's drawing for real, and keep the figure it drew for the test to inspect."""
    from cconv import _demo_picture
    kept = []
    draw = _demo_picture.feature_map_figure

    def keep(*args, **kwargs):
        kept.append(draw(*args, **kwargs))
        return kept[-1]

    monkeypatch.setattr(_demo_picture, "feature_map_figure", keep)
    return kept


def _panels(fig):
    return {ax.get_label(): ax for ax in fig.axes if ax.get_label()}


def _panel_pixels(png, fig, ax):
    """The part of the saved picture inside `ax`, (h, w, 3) uint8, its frame cut off."""
    # Display pixels at the figure's dpi, y upwards; the file was written at another dpi.
    x0, y0, x1, y1 = ax.get_window_extent().extents
    height, width = png.shape[:2]
    scale = width / (fig.get_figwidth() * fig.dpi)
    top, bottom = round(height - y1 * scale) + 3, round(height - y0 * scale) - 3
    left, right = round(x0 * scale) + 3, round(x1 * scale) - 3
    assert 20 < bottom - top < height / 3 and 20 < right - left < width / 3
    return png[top:bottom, left:right, :3]


# ------------------------------------------------------------------ with Pillow and matplotlib

# The feature maps each kind of file must give: RGB as is, gray copied into all three channels,
# RGBA without its alpha (which varies, so that a blend with it would show).
def _rgb_file(tmp_path):
    pixels = _photo_like()
    return _write(tmp_path / "photo.png", pixels), pixels.transpose(2, 0, 1) / 255


def _gray_file(tmp_path):
    pixels = _photo_like()[..., 1]
    return _write(tmp_path / "gray.png", pixels), np.stack([pixels] * 3) / 255


def _rgba_file(tmp_path):
    rgb = _photo_like()
    alpha = np.linspace(0, 255, rgb.shape[0] * rgb.shape[1]).reshape(rgb.shape[:2])
    pixels = np.dstack([rgb, alpha.astype(np.uint8)])
    return _write(tmp_path / "rgba.png", pixels), rgb.transpose(2, 0, 1) / 255


@pytest.mark.parametrize("make_file", [_rgb_file, _gray_file, _rgba_file],
                         ids=["rgb", "gray", "rgba"])
def test_the_picture_shows_the_files_feature_maps_the_filters_and_conv2d_of_them(
        make_file, tmp_path, monkeypatch, capsys):
    Image = _needs_extra()
    path, expected_input = make_file(tmp_path)
    picture = tmp_path / "feature_maps.png"
    drawn = _drawn_figure(monkeypatch)

    assert _demo.main([path, "--save", str(picture), "--no-preview"]) == 0
    out = capsys.readouterr().out
    assert "3 feature maps (R, G, B) of 40 x 56 pixels" in out
    assert f"picture : {picture}" in out

    names, weight = builtin_filters()
    expected_output = conv2d_oracle(expected_input, weight, padding=1)
    panels = _panels(drawn[0])
    np.testing.assert_allclose(panels["image"].images[0].get_array(),
                               expected_input.transpose(1, 2, 0), atol=1e-6)
    for c in range(3):
        np.testing.assert_allclose(panels[f"input {c}"].images[0].get_array(),
                                   expected_input[c], atol=1e-6)
    for i in range(len(names)):
        assert names[i] in panels[f"output {i}"].get_title()
        np.testing.assert_allclose(panels[f"output {i}"].images[0].get_array(),
                                   expected_output[i], atol=1e-5)
        for c in range(3):
            np.testing.assert_array_equal(panels[f"kernel {i} {c}"].images[0].get_array(),
                                          weight[i, c])

    # The file: a picture of sensible size, whose panels hold what the arrays say.
    with Image.open(picture) as saved:
        assert saved.format == "PNG"
        assert 900 <= saved.width <= 2500 and 900 <= saved.height <= 2000, saved.size
        png = np.asarray(saved.convert("RGB"))
    fig = drawn[0]
    red = _panel_pixels(png, fig, panels["input 0"]).astype(float)
    assert red[..., 1:].max() <= 2, "the R feature map is drawn black to red"
    assert abs(red[..., 0].mean() - 255 * expected_input[0].mean()) < 10
    for i in range(len(names)):
        output_panel = _panel_pixels(png, fig, panels[f"output {i}"])
        varies = np.ptp(expected_output[i]) > 0.05   # red minus green of a gray image is 0
        assert (output_panel.std() > 5) == varies, f"output map {i}"


def test_the_built_in_image_is_drawn_with_save_and_the_text_stays(tmp_path, monkeypatch,
                                                                  capsys):
    _needs_extra()
    picture = tmp_path / "builtin.png"
    drawn = _drawn_figure(monkeypatch)
    assert _demo.main(["--no-preview"]) == 0
    plain = capsys.readouterr().out
    assert _demo.main(["--no-preview", "--save", str(picture)]) == 0
    with_picture = capsys.readouterr().out

    def steady(text):       # the timing line differs from run to run
        return [line for line in text.splitlines() if not line.startswith("time    :")]
    assert steady(with_picture) == steady(plain) + [
        f"picture : {picture} (input feature maps -> filters -> output feature maps)"]
    assert picture.stat().st_size > 10_000
    panels = _panels(drawn[0])
    np.testing.assert_allclose(panels["output 4"].images[0].get_array(),
                               conv2d_oracle(builtin_image(), builtin_filters()[1],
                                             padding=1)[4], atol=1e-5)


def test_stride_and_padding_reach_the_picture(tmp_path, monkeypatch):
    _needs_extra()
    drawn = _drawn_figure(monkeypatch)
    path, expected_input = _rgb_file(tmp_path)
    assert _demo.main([path, "--stride", "2", "--padding", "valid", "--no-preview",
                       "--save", str(tmp_path / "p.png")]) == 0
    expected = conv2d_oracle(expected_input, builtin_filters()[1], stride=2)
    got = _panels(drawn[0])["output 1"].images[0].get_array()
    assert got.shape == expected.shape[1:] == (19, 27)
    np.testing.assert_allclose(got, expected[1], atol=1e-5)


def test_large_images_are_downscaled_to_max_side(tmp_path, capsys):
    _needs_pillow()
    from cconv._demo_image import read_image
    pixels = np.zeros((300, 600, 3), np.uint8)
    pixels[:, 300:] = (200, 100, 50)
    path = _write(tmp_path / "wide.png", pixels)

    image = read_image(path)
    assert image.pixels.shape == (3, 128, 256) and image.pixels.dtype == np.float32
    assert image.file_shape == (300, 600) and image.downscaled
    # Downscaling keeps the colours: the right half is still (200, 100, 50) away from the edge.
    np.testing.assert_allclose(image.pixels[:, 64, 200], np.array([200, 100, 50]) / 255,
                               atol=1e-6)
    assert read_image(path, max_side=1000).pixels.shape == (3, 300, 600)

    assert _demo.main([path, "--max-side", "64", "--no-preview"]) == 0
    out = capsys.readouterr().out
    assert "wide.png, 300 x 600 pixels, mode RGB, downscaled to 32 x 64" in out
    assert "5 output feature maps of 32 x 64 pixels" in out


def test_photos_are_turned_upright_as_their_exif_orientation_says(tmp_path):
    Image = _needs_pillow()
    from cconv._demo_image import read_image
    pixels = _photo_like(40, 56)
    exif = Image.Exif()
    exif[0x0112] = 6                    # "rotate 90 degrees clockwise to view"
    path = _write(tmp_path / "phone.jpg", pixels, exif=exif)
    image = read_image(path)
    assert image.pixels.shape == (3, 56, 40) and image.file_shape == (56, 40)
    # Rotated clockwise: the file's left column is now the top row.
    top_row = image.pixels[:, 0, :].T * 255
    np.testing.assert_allclose(top_row, pixels[::-1, 0, :], atol=40)   # JPEG loses a little


def test_sixteen_bit_gray_images_are_stretched_to_the_unit_range(tmp_path):
    _needs_pillow()
    from cconv._demo_image import read_image
    ramp = np.linspace(1000, 60000, 20 * 30).reshape(20, 30).astype(np.uint16)
    path = _write(tmp_path / "deep.png", ramp)
    image = read_image(path)
    assert image.gray
    expected = (ramp - 1000.0) / 59000
    for c in range(3):
        np.testing.assert_allclose(image.pixels[c], expected, atol=1e-4)


@pytest.mark.parametrize("kind, message", [
    ("missing", "cannot read {path}: no such file"),
    ("folder", "cannot read {path}: it is a folder, not an image file"),
    ("text", "cannot read {path}: not an image file that Pillow knows"),
    ("truncated", "cannot read {path} as an image:"),
    ("tiny", "gives a 2 x 5 image; the demo's 3x3 filters need at least 3 x 3 pixels"),
])
def test_a_file_that_cannot_be_used_is_a_clear_error(kind, message, tmp_path, capsys):
    _needs_pillow()
    path = tmp_path / kind
    if kind == "folder":
        path.mkdir()
    elif kind == "text":
        path.write_text("not a picture")
    elif kind == "truncated":
        whole = tmp_path / "whole.png"
        _write(whole, _photo_like())
        path.write_bytes(whole.read_bytes()[:400])
    elif kind == "tiny":
        _write(path.with_suffix(".png"), np.zeros((2, 5), np.uint8))
        path = path.with_suffix(".png")
    assert _demo.main([str(path), "--save", str(tmp_path / "p.png")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("python -m cconv: error: ")
    assert message.format(path=path) in captured.err
    assert not (tmp_path / "p.png").exists()


def test_a_picture_that_cannot_be_written_is_a_clear_error(tmp_path, capsys):
    _needs_extra()
    target = tmp_path / "no such folder" / "p.png"
    assert _demo.main(["--no-preview", "--save", str(target)]) == 1
    assert f"error: cannot write the picture {target}" in capsys.readouterr().err


def test_the_command_line_draws_a_picture(tmp_path):
    # The whole path, `python -m cconv photo.png --save ...`, in a process of its own, run
    # outside the source tree so that the installed package is the one imported.
    Image = _needs_extra()
    path, _ = _rgb_file(tmp_path)
    done = subprocess.run([sys.executable, "-m", "cconv", path, "--save", "maps.png"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "picture : maps.png" in done.stdout
    with Image.open(tmp_path / "maps.png") as saved:
        assert saved.width > 900


def test_help_names_the_extra_and_the_downscaling(capsys):
    with pytest.raises(SystemExit) as exit:
        _demo.main(["--help"])
    assert exit.value.code == 0
    text = " ".join(capsys.readouterr().out.split())    # as wrapped for any terminal width
    assert EXTRA in text
    assert "--max-side N an image file whose longest side is over N pixels is downscaled" in text
    assert "(default 256)" in text
    assert "--save PICTURE write a picture" in text


# ------------------------------------------------------------------ without the extra

def _hide(monkeypatch, *packages):
    """Make `import package` (and its submodules) fail as if it were not installed."""
    for name in list(sys.modules):
        if name.split(".")[0] in packages:
            monkeypatch.setitem(sys.modules, name, None)
    for package in packages:
        monkeypatch.setitem(sys.modules, package, None)


def test_without_the_extra_the_plain_demo_is_unchanged(monkeypatch, capsys):
    _hide(monkeypatch, "PIL", "matplotlib")
    assert _demo.main(["--no-preview"]) == 0
    captured = capsys.readouterr()
    assert "5 output feature maps of 48 x 64" in captured.out
    assert captured.err == ""


def test_without_the_extra_save_runs_the_text_demo_and_says_how_to_get_pictures(
        tmp_path, monkeypatch, capsys):
    _hide(monkeypatch, "PIL", "matplotlib")
    picture = tmp_path / "p.png"
    assert _demo.main(["--no-preview", "--save", str(picture)]) == 0
    captured = capsys.readouterr()
    assert "5 output feature maps of 48 x 64" in captured.out
    assert "no picture written: --save needs matplotlib" in captured.err
    assert EXTRA in captured.err
    assert not picture.exists()


def test_without_pillow_an_image_file_is_an_error_that_names_the_extra(
        tmp_path, monkeypatch, capsys):
    _hide(monkeypatch, "PIL", "matplotlib")
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff")            # never opened: Pillow is asked for first
    assert _demo.main([str(path), "--save", str(tmp_path / "p.png")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"reading the image file {path} needs Pillow, which is not installed" in captured.err
    assert EXTRA in captured.err


def test_with_pillow_but_without_matplotlib_the_file_is_read_and_the_note_given(
        tmp_path, monkeypatch, capsys):
    _needs_pillow()
    path, _ = _rgb_file(tmp_path)
    _hide(monkeypatch, "matplotlib")
    assert _demo.main([path, "--no-preview"]) == 0
    captured = capsys.readouterr()
    assert "5 output feature maps of 40 x 56" in captured.out
    assert EXTRA in captured.err and "--save" in captured.err
    assert _demo.main([path, "--no-preview", "--save", str(tmp_path / "p.png")]) == 0
    assert "no picture written" in capsys.readouterr().err


def test_importing_cconv_and_the_demo_imports_neither_pillow_nor_matplotlib(tmp_path):
    code = ("import sys, cconv, cconv._demo, cconv._demo_image, cconv._demo_picture; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PIL', 'matplotlib')))")
    # Run outside the checkout, so that the installed cconv is imported, not the source folder.
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
