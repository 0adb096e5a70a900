"""Figures for VAE analyses (matplotlib).

Every function returns a `matplotlib.figure.Figure` and, given `path`, also saves it there as a PNG (parent folders
are created). The figures are not registered with `pyplot`: no window opens and nothing accumulates, whatever the
matplotlib backend; in a notebook a returned figure displays inline (it renders itself as a PNG). Matplotlib is
imported only when a function is called.
"""

from kvae.plotting.curves import interpolation_curves
from kvae.plotting.embedding import tsne
from kvae.plotting.holes import aggregate_posterior
from kvae.plotting.images import image_grid
from kvae.plotting.units import unit_boxplots

__all__ = ["aggregate_posterior", "image_grid", "interpolation_curves", "tsne", "unit_boxplots"]
