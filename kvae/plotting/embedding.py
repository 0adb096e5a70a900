
import numpy as np

from kvae.checks import check_int
from kvae.plotting._figure import as_matrix, finish, new_figure

MAX_LEGEND_CLASSES = 20
EXACT_BELOW = 500  # exact gradients up to this many points (fast, and no OpenMP threads to contend for cores)


def tsne(mean, labels, path=None, seed=0, max_points=5000):
    """t-SNE map (scikit-learn `TSNE`, 2-D) of posterior means, coloured by label.

    Above `max_points` examples a random subset (seeded by `seed`) is embedded. Perplexity is 30, lowered to
    (n - 1) / 3 for small n; up to 500 points the gradients are exact, above that Barnes-Hut. Up to 20 classes get
    a legend, more a colour bar.

    Args:
        mean: (N, D) posterior means, N >= 4.
        labels: (N,) labels (any type), or None for one colour.
        path: where to save the PNG, or None.
        seed: seed of the subset and of t-SNE.
        max_points: largest number of points embedded.

    Returns:
        matplotlib Figure with one Axes.

    Example:
        >>> tsne(model.encode(x_test), y_test, path="tsne.png")  # doctest: +SKIP
    """
    import matplotlib
    from sklearn.manifold import TSNE

    mean = as_matrix(mean, "mean")
    n = mean.shape[0]
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim != 1 or labels.shape[0] != n:
            raise ValueError(f"`labels` must be 1-D with {n} entries, got shape {labels.shape}.")
    max_points = check_int(max_points, "max_points", minimum=4)
    if n < 4:
        raise ValueError(f"t-SNE needs at least 4 points, got {n}.")
    if n > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))
        mean = mean[keep]
        labels = None if labels is None else labels[keep]
        n = max_points
    perplexity = min(30.0, (n - 1) / 3.0)
    method = "exact" if n <= EXACT_BELOW else "barnes_hut"
    embedded = TSNE(n_components=2, perplexity=perplexity, init="pca", method=method, random_state=seed).fit_transform(
        mean
    )

    figure = new_figure((6.5, 5.5))
    ax = figure.subplots()
    if labels is None:
        ax.scatter(embedded[:, 0], embedded[:, 1], s=5)
    else:
        classes, codes = np.unique(labels, return_inverse=True)
        if len(classes) <= MAX_LEGEND_CLASSES:
            cmap = matplotlib.colormaps["tab10" if len(classes) <= 10 else "tab20"]
            for k, name in enumerate(classes):
                points = embedded[codes == k]
                ax.scatter(points[:, 0], points[:, 1], s=5, color=cmap(k), label=str(name))
            ax.legend(title="label", fontsize=8, markerscale=2, loc="best")
        else:
            scatter = ax.scatter(embedded[:, 0], embedded[:, 1], s=5, c=codes, cmap="viridis")
            figure.colorbar(scatter, ax=ax, label="label index")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"t-SNE of posterior means ({n} points)")
    return finish(figure, path)
