"""Tests for kvae.plotting: every function writes a PNG of the figure's size and draws what it says.

Backend independent (run under KERAS_BACKEND=tensorflow, jax and torch); matplotlib renders with Agg, no window.
"""

import matplotlib

matplotlib.use("Agg")

import keras
import matplotlib.image
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from threadpoolctl import threadpool_limits

from kvae.metrics import active_units
from kvae.plotting import aggregate_posterior, image_grid, interpolation_curves, tsne, unit_boxplots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def check_png(figure, path):
    """`path` is a PNG whose pixel size is the figure's (100 dpi); returns the image read back."""
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 1000
    image = matplotlib.image.imread(path)
    width, height = np.round(figure.get_size_inches() * 100).astype(int)
    assert image.shape == (height, width, 4)
    assert image[..., :3].std() > 0.01  # something is drawn
    return image


def posterior(n=200, seed=0):
    """Means with variances 1, ~0, 4, ~0 per unit (units 0 and 2 active) and log-variances."""
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=(n, 4)) * np.array([1.0, 0.001, 2.0, 0.0])
    log_var = rng.normal(-1.0, 0.3, size=(n, 4))
    return mean, log_var


# --------------------------------------------------------------------------------------------- unit box plots
def test_unit_boxplots_png_and_colours(tmp_path):
    mean, log_var = posterior()
    path = tmp_path / "nested" / "units.png"
    figure = unit_boxplots(mean, log_var, path=path)
    assert isinstance(figure, Figure)
    check_png(figure, path)
    top, bottom = figure.axes
    for ax in (top, bottom):
        colours = [to_rgba(p.get_facecolor()) for p in ax.patches]
        assert len(colours) == 4
        assert colours[0] == colours[2] != colours[1] == colours[3]
    legend = [t.get_text() for t in top.get_legend().get_texts()]
    assert legend == ["active", "inactive"]
    active_colour = to_rgba(top.patches[0].get_facecolor())
    handles = top.get_legend().legend_handles
    assert to_rgba(handles[0].get_facecolor()) == active_colour
    assert top.get_title().startswith(f"{active_units(mean)} of 4")


def test_unit_boxplots_threshold_and_isotropic_log_var():
    mean, _ = posterior()
    log_var = np.full((len(mean), 1), -2.0)  # isotropic: one log-variance per example
    figure = unit_boxplots(keras.ops.convert_to_tensor(mean), log_var, threshold=2.0)
    colours = [to_rgba(p.get_facecolor()) for p in figure.axes[0].patches]
    assert colours[2] != colours[0] == colours[1] == colours[3]  # only unit 2 (variance 4) is above 2
    with pytest.raises(ValueError, match="threshold"):
        unit_boxplots(mean, log_var, threshold=-1)
    with pytest.raises(ValueError, match="log_var"):
        unit_boxplots(mean, log_var[:, [0, 0]])


def test_unit_boxplots_variance_panel_is_exp_log_var():
    mean, log_var = posterior(n=50)
    figure = unit_boxplots(mean, log_var)
    bottom = figure.axes[1]
    assert bottom.get_yscale() == "log"
    box = bottom.patches[1].get_path().vertices[:, 1]  # the box spans the quartiles of exp(log_var[:, 1])
    np.testing.assert_allclose([box.min(), box.max()], np.percentile(np.exp(log_var[:, 1]), [25, 75]), rtol=1e-6)


# ------------------------------------------------------------------------------------------ aggregate posterior
def scatter(ax, label):
    (found,) = [c for c in ax.collections if c.get_label() == label]
    return np.asarray(found.get_offsets())


def test_aggregate_posterior_picks_the_two_most_active_units(tmp_path):
    rng = np.random.default_rng(1)
    mean = rng.normal(size=(100, 5)) * np.array([0.3, 2.0, 0.1, 3.0, 1.0])  # variances ranked: 3, 1, 4, 0, 2
    log_var = np.full((100, 5), -30.0)  # tiny variance: samples on the means
    path = tmp_path / "holes.png"
    figure = aggregate_posterior(mean, log_var, samples_per_example=3, path=path)
    check_png(figure, path)
    (ax,) = figure.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("z[3]", "z[1]")
    np.testing.assert_allclose(scatter(ax, "posterior means"), mean[:, [3, 1]])
    samples = scatter(ax, "aggregated posterior samples")
    assert samples.shape == (300, 2)
    np.testing.assert_allclose(samples, np.tile(mean[:, [3, 1]], (3, 1)), atol=1e-5)
    assert len(ax.get_legend().get_texts()) == 3


def test_aggregate_posterior_given_units_and_sampling():
    mean, log_var = posterior(n=400)
    figure = aggregate_posterior(mean, np.zeros((400, 4)), units=(1, 3), seed=0)
    ax = figure.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("z[1]", "z[3]")
    samples = scatter(ax, "aggregated posterior samples")
    assert 0.8 < samples.std(axis=0).min() and samples.std(axis=0).max() < 1.2  # N(~0, 1) draws
    again = aggregate_posterior(mean, np.zeros((400, 4)), units=(1, 3), seed=0).axes[0]
    np.testing.assert_array_equal(scatter(again, "aggregated posterior samples"), samples)
    with pytest.raises(ValueError, match="two latent units"):
        aggregate_posterior(mean[:, :1], log_var[:, :1])
    with pytest.raises(ValueError, match="units"):
        aggregate_posterior(mean, log_var, units=(0, 4))
    with pytest.raises(ValueError, match="units"):
        aggregate_posterior(mean, log_var, units=(2, 2))


# ------------------------------------------------------------------------------------------------------ t-SNE
def test_tsne_png_legend_and_subsampling(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat(["cat", "dog"], 30)
    mean = rng.normal(size=(60, 3)) + 6.0 * (labels == "dog")[:, None]
    path = tmp_path / "tsne.png"
    figure = tsne(mean, labels, path=path)
    check_png(figure, path)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cat", "dog"]
    cat, dog = (scatter(ax, name) for name in ("cat", "dog"))
    assert cat.shape == dog.shape == (30, 2)
    # two well separated clusters stay apart in the map
    gap = np.linalg.norm(cat.mean(0) - dog.mean(0))
    assert gap > 2 * max(cat.std(0).max(), dog.std(0).max())
    small = tsne(mean, labels, max_points=20)
    assert sum(len(c.get_offsets()) for c in small.axes[0].collections) == 20
    with pytest.raises(ValueError, match="labels"):
        tsne(mean, labels[:-1])


# ------------------------------------------------------------------------------------------------- image grid
def test_image_grid_layout(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(6, 8, 8))
    path = tmp_path / "grid.png"
    figure = image_grid(images, rows=2, path=path, title="samples")
    check_png(figure, path)
    ax = figure.axes[0]
    canvas = ax.images[0].get_array()
    assert canvas.shape == (2 * 9 + 1, 3 * 9 + 1)  # 2 rows x 3 columns of 8x8 with 1-pixel lines
    np.testing.assert_allclose(canvas[1:9, 10:18], images[1])  # filled row by row
    assert ax.get_title() == "samples"


def test_image_grid_shapes_and_types(tmp_path):
    rng = np.random.default_rng(0)
    wide = image_grid(rng.uniform(size=(4, 10, 10)), rows=1, path=tmp_path / "wide.png")
    image = check_png(wide, tmp_path / "wide.png")
    assert image.shape[1] > 2 * image.shape[0]
    colour = image_grid(rng.uniform(size=(5, 6, 6, 3)))
    assert colour.axes[0].images[0].get_array().shape == (3 * 7 + 1, 2 * 7 + 1, 3)  # ceil(sqrt(5)) = 3 rows
    single_channel = image_grid(rng.integers(0, 256, size=(4, 5, 5, 1), dtype=np.uint8))
    assert single_channel.axes[0].images[0].get_array().max() <= 1.0
    with pytest.raises(ValueError, match="images"):
        image_grid(rng.uniform(size=(4, 5, 5, 2)))


# ------------------------------------------------------------------------------------------ interpolation curves
def test_interpolation_curves(tmp_path):
    result = {
        "lambdas": np.linspace(0, 1, 5),
        "rouge_to_a": np.array([1.0, 0.8, 0.5, 0.2, 0.0]),
        "rouge_to_b": np.array([0.0, 0.1, 0.4, 0.9, 1.0]),
    }
    result["average"] = (result["rouge_to_a"] + result["rouge_to_b"]) / 2
    path = tmp_path / "curves.png"
    figure = interpolation_curves(result, path=path)
    check_png(figure, path)
    lines = figure.axes[0].lines
    assert len(lines) == 3
    for line, key in zip(lines, ("rouge_to_a", "rouge_to_b", "average")):
        np.testing.assert_allclose(line.get_xdata(), result["lambdas"])
        np.testing.assert_allclose(line.get_ydata(), result[key])
    with pytest.raises(ValueError, match="interpolation_smoothness"):
        interpolation_curves({"lambdas": [0, 1]})


def test_figures_render_inline_as_png():
    """IPython displays a returned figure through `_repr_png_`, without pyplot."""
    figure = image_grid(np.zeros((2, 4, 4)))
    assert figure._repr_png_().startswith(PNG_MAGIC)
