import math

import numpy as np

from kvae.checks import check_int
from kvae.plotting._figure import finish, new_figure

PAD = 1


def image_grid(images, rows=None, path=None, title=None):
    """A grid of images (e.g. samples or reconstructions), separated by one-pixel white lines.

    Args:
        images: (N, H, W) or (N, H, W, C) with C in {1, 3, 4}, floats in [0, 1] (clipped) or uint8 (scaled by
            1/255); grey-scale images are drawn with the grey colour map.
        rows: number of rows; default ceil(sqrt(N)). The grid has ceil(N / rows) columns, filled row by row.
        path: where to save the PNG, or None.
        title: figure title, or None.

    Returns:
        matplotlib Figure with one Axes (axis lines hidden).

    Example:
        >>> image_grid(model.sample(16), rows=2, title="samples")  # doctest: +SKIP
    """
    x = np.asarray(images)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[-1] not in (3, 4)) or 0 in x.shape:
        raise ValueError(f"`images` must have shape (N, H, W) or (N, H, W, C) with C in 1, 3, 4, got {x.shape}.")
    if x.dtype == np.uint8:
        x = x / 255.0
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError("`images` must contain only finite values.")
    x = np.clip(x, 0.0, 1.0)
    n, h, w = x.shape[:3]
    if rows is None:
        rows = math.ceil(math.sqrt(n))
    rows = min(check_int(rows, "rows"), n)
    cols = math.ceil(n / rows)

    canvas = np.ones((rows * (h + PAD) + PAD, cols * (w + PAD) + PAD) + x.shape[3:])
    for i in range(n):
        r, c = divmod(i, cols)
        top, left = PAD + r * (h + PAD), PAD + c * (w + PAD)
        canvas[top : top + h, left : left + w] = x[i]

    scale = min(1.0, 14.0 / max(cols, rows))  # about 1 inch per image, at most 14 inches
    figure = new_figure((max(1.5, cols * scale), max(1.5, rows * scale * h / w) + (0.4 if title else 0.0)))
    ax = figure.subplots()
    ax.imshow(canvas, cmap="gray" if x.ndim == 3 else None, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return finish(figure, path)
