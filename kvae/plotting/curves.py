import numpy as np

from kvae.plotting._figure import finish, new_figure


def interpolation_curves(result, path=None):
    """Plot the Rouge-L curves of `kvae.probes.interpolation_smoothness` against lambda.

    Args:
        result: dict with `lambdas`, `rouge_to_a`, `rouge_to_b` and optionally `average` (arrays of one length).
        path: where to save the PNG, or None.

    Returns:
        matplotlib Figure with one Axes.

    Example:
        >>> result = kvae.probes.interpolation_smoothness(model, pairs)  # doctest: +SKIP
        >>> interpolation_curves(result, path="smoothness.png")  # doctest: +SKIP
    """
    try:
        lambdas = np.asarray(result["lambdas"], dtype=np.float64)
        curves = {key: np.asarray(result[key], dtype=np.float64) for key in ("rouge_to_a", "rouge_to_b")}
    except (KeyError, TypeError) as e:
        raise ValueError("`result` must be the dict returned by kvae.probes.interpolation_smoothness.") from e
    if "average" in result:
        curves["average"] = np.broadcast_to(np.asarray(result["average"], dtype=np.float64), lambdas.shape)
    for key, values in curves.items():
        if values.shape != lambdas.shape or lambdas.ndim != 1:
            raise ValueError(f"`result[{key!r}]` has shape {values.shape}; `lambdas` has {lambdas.shape} (1-D).")
    styles = {
        "rouge_to_a": ("Rouge-L F1 to sentence a", "tab:blue", "-o"),
        "rouge_to_b": ("Rouge-L F1 to sentence b", "tab:orange", "-s"),
        "average": ("average", "black", "--"),
    }
    figure = new_figure((6.0, 4.0))
    ax = figure.subplots()
    for key, values in curves.items():
        label, color, style = styles[key]
        ax.plot(lambdas, values, style, color=color, label=label, markersize=4)
    ax.set_xlim(lambdas.min(), lambdas.max())
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("interpolation lambda (0: a, 1: b)")
    ax.set_ylabel("Rouge-L F1")
    ax.set_title("Interpolation smoothness")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return finish(figure, path)
