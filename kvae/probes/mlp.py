from kvae.probes._classifier import evaluate_probe


def mlp_probe(features, labels, seeds=(0, 1, 2, 3, 4), test_size=0.2, train_fraction=1.0):
    """Like `linear_probe`, with a two-hidden-layer perceptron (128, 128; scikit-learn `MLPClassifier`).

    The network (ReLU, Adam, at most 500 epochs) is seeded with each seed, so runs are reproducible.

    Args:
        features: (N, D) array, e.g. `model.encode(x)`.
        labels: (N,) class labels.
        seeds: seeds of the splits, subsamples and network initialisations.
        test_size: fraction (or number) of examples held out for testing.
        train_fraction: fraction of the training split used, in (0, 1] (at least one example per class).

    Returns:
        dict: `accuracy_mean`, `accuracy_std`, `f1_mean`, `f1_std`, `accuracies`, `f1s`, `train_sizes`
        (see `linear_probe`).

    Example:
        >>> mlp_probe(model.encode(x), y)["f1_mean"]  # doctest: +SKIP
    """
    from sklearn.neural_network import MLPClassifier

    return evaluate_probe(
        lambda seed: MLPClassifier(hidden_layer_sizes=(128, 128), max_iter=500, random_state=seed),
        features,
        labels,
        seeds,
        test_size,
        train_fraction,
    )
