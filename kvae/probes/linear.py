from kvae.probes._classifier import evaluate_probe


def linear_probe(features, labels, seeds=(0, 1, 2, 3, 4), test_size=0.2, train_fraction=1.0):
    """Accuracy and macro-F1 of a logistic regression predicting `labels` from `features` (e.g. posterior means).

    For each seed: a stratified train / test split (`test_size`), optionally a few-shot subsample of the training
    split (`train_fraction`), features standardised on the training examples, then scikit-learn
    `LogisticRegression(max_iter=1000)`. Standard deviations are over seeds (population, ddof=0).

    Args:
        features: (N, D) array, e.g. `model.encode(x)`.
        labels: (N,) class labels (at least two classes, two examples each).
        seeds: seeds of the splits and subsamples (one run per seed).
        test_size: fraction (or number) of examples held out for testing.
        train_fraction: fraction of the training split used, in (0, 1] (few-shot: 0.001, 0.01, 0.1). The subsample
            has `round(train_fraction * n_train)` examples but at least one per class.

    Returns:
        dict: `accuracy_mean`, `accuracy_std`, `f1_mean`, `f1_std` (floats), `accuracies`, `f1s` (one per seed)
        and `train_sizes` (training examples used per seed).

    Example:
        >>> result = linear_probe(model.encode(x), y, train_fraction=0.01)  # doctest: +SKIP
        >>> result["accuracy_mean"], result["accuracy_std"]  # doctest: +SKIP
    """
    from sklearn.linear_model import LogisticRegression

    return evaluate_probe(
        lambda seed: LogisticRegression(max_iter=1000, random_state=seed),
        features,
        labels,
        seeds,
        test_size,
        train_fraction,
    )
