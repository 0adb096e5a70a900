"""Figure creation, saving and array checks shared by the plotting functions (private)."""

import functools
import io
from pathlib import Path

import numpy as np

from kvae.checks import check_matrix, to_numpy

ACTIVE_COLOR = "tab:blue"
INACTIVE_COLOR = "tab:gray"
DPI = 100


@functools.cache
def _figure_class():
    from matplotlib.figure import Figure

    class InlineFigure(Figure):
        """A Figure that IPython displays as a PNG (no pyplot needed)."""

        def _repr_png_(self):
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
            return buffer.getvalue()

    return InlineFigure


def new_figure(figsize, **kwargs):
    """A Figure outside pyplot (no window, no global state); Agg renders it."""
    return _figure_class()(figsize=figsize, layout="constrained", **kwargs)


def finish(figure, path):
    """Save `figure` as a PNG at `path` if given (creating parent folders); return it."""
    if path is not None:
        path = Path(path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png", dpi=DPI)
    return figure


def as_matrix(values, name, n_rows=None):
    """`values` as a finite float64 array (N, D) (`kvae.checks.check_matrix`), with `n_rows` rows when given."""
    x = check_matrix(values, name, shape="(N, D)")
    if n_rows is not None and x.shape[0] != n_rows:
        raise ValueError(f"`{name}` must have {n_rows} rows, got shape {x.shape}.")
    return x


def as_log_var(log_var, mean):
    """`log_var` broadcast to the shape of `mean` ((N, D), (N, 1) or (N,) for an isotropic posterior)."""
    lv = to_numpy(log_var)
    if lv.ndim == 1:
        lv = lv[:, None]
    lv = as_matrix(lv, "log_var", n_rows=mean.shape[0])
    if lv.shape[1] not in (1, mean.shape[1]):
        raise ValueError(f"`log_var` must have shape {mean.shape}, ({mean.shape[0]}, 1) or ({mean.shape[0]},).")
    return np.broadcast_to(lv, mean.shape)
