import numpy as np

from kvae.checks import check_int


def interpolation_smoothness(model, pairs, steps=11, **decode_kwargs):
    """Rouge-L F1 of interpolated sentences to both ends, along the interpolation (averaged over pairs).

    For each pair (a, b), `model.interpolate(a, b, steps)` decodes `steps` points between the two posterior means;
    the sentence at lambda_i (lambdas = linspace(0, 1, steps)) is scored with `kvae.metrics.rouge(..., n="l")`
    against a and against b. A smooth latent space gives curves that cross gradually rather than jump.

    Args:
        model: a text model with `interpolate(text_a, text_b, steps, **decode_kwargs)` -> list of `steps` str.
        pairs: non-empty sequence of (sentence_a, sentence_b).
        steps: points per interpolation, >= 2 (both ends included).
        **decode_kwargs: passed to `model.interpolate` (e.g. `max_length=20`).

    Returns:
        dict of NumPy arrays of shape (steps,): `lambdas`, `rouge_to_a`, `rouge_to_b` (means over pairs) and
        `average` = (rouge_to_a + rouge_to_b) / 2; plus `sentences`, the decoded sentences (one list per pair).

    Example:
        >>> result = interpolation_smoothness(model, list(zip(test[:50], test[50:100])))  # doctest: +SKIP
        >>> kvae.plotting.interpolation_curves(result)  # doctest: +SKIP
    """
    from kvae.metrics import rouge

    steps = check_int(steps, "steps", minimum=2)
    pairs = list(pairs)
    if not pairs:
        raise ValueError("`pairs` must hold at least one (sentence_a, sentence_b) pair.")
    to_a, to_b, decoded = np.zeros((len(pairs), steps)), np.zeros((len(pairs), steps)), []
    for p, pair in enumerate(pairs):
        if isinstance(pair, str) or len(pair) != 2:
            raise ValueError(f"`pairs[{p}]` must be a (sentence_a, sentence_b) pair, got {pair!r}.")
        a, b = pair
        sentences = list(model.interpolate(a, b, steps, **decode_kwargs))
        if len(sentences) != steps:
            raise ValueError(f"`model.interpolate` returned {len(sentences)} sentences for steps={steps}.")
        for i, sentence in enumerate(sentences):
            to_a[p, i] = rouge([a], [sentence], n="l")["f1"]
            to_b[p, i] = rouge([b], [sentence], n="l")["f1"]
        decoded.append(sentences)
    rouge_to_a, rouge_to_b = to_a.mean(axis=0), to_b.mean(axis=0)
    return {
        "lambdas": np.linspace(0.0, 1.0, steps),
        "rouge_to_a": rouge_to_a,
        "rouge_to_b": rouge_to_b,
        "average": (rouge_to_a + rouge_to_b) / 2.0,
        "sentences": decoded,
    }
