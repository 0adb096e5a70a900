"""Classifier probes: how much label information the posterior means hold (`linear_probe`, `mlp_probe`, and `probe`,
which encodes the data first), optionally from a few labelled examples."""

import numpy as np

from kvae.checks import check_choice, check_fraction, check_matrix, check_number, check_seeds
from kvae.probes._common import as_labels, round_half_up, stratified_split


def few_shot_indices(train_labels, train_fraction, rng):
    """Positions (into the training split) of a `train_fraction` subsample holding every class at least once.

    Size: `round(train_fraction * n_train)` (halves up), raised to the number of classes when smaller, and capped
    at `n_train`. One random example per class is drawn first, the rest uniformly from what is left.
    """
    n = len(train_labels)
    if train_fraction >= 1.0:
        return np.arange(n)
    classes = np.unique(train_labels)
    size = min(n, max(round_half_up(train_fraction * n), len(classes), 1))
    first = np.array([rng.choice(np.flatnonzero(train_labels == c)) for c in classes])
    rest = np.setdiff1d(np.arange(n), first)
    extra = rng.choice(rest, size=size - len(first), replace=False) if size > len(first) else np.array([], int)
    return np.sort(np.concatenate([first, extra]).astype(int))


def evaluate_probe(make_classifier, features, labels, seeds, test_size, train_fraction):
    """Fit `make_classifier(seed)` (standardised inputs) on a stratified split per seed; accuracy and macro-F1."""
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = check_matrix(features, "features", shape="(N, D)")
    y = as_labels(labels, x.shape[0])
    seeds = check_seeds(seeds)
    train_fraction = check_fraction(train_fraction, "train_fraction")
    check_number(test_size, "test_size", low=0, low_open=True)  # a fraction in (0, 1) or a number of examples
    accuracies, f1s, train_sizes = [], [], []
    for seed in seeds:
        train, test = stratified_split(y, test_size, seed)
        train = train[few_shot_indices(y[train], train_fraction, np.random.default_rng(seed))]
        model = make_pipeline(StandardScaler(), make_classifier(seed))
        model.fit(x[train], y[train])
        predicted = model.predict(x[test])
        accuracies.append(float(accuracy_score(y[test], predicted)))
        f1s.append(float(f1_score(y[test], predicted, average="macro", zero_division=0)))
        train_sizes.append(len(train))
    return {
        "accuracy_mean": float(np.mean(accuracies)),
        "accuracy_std": float(np.std(accuracies)),
        "f1_mean": float(np.mean(f1s)),
        "f1_std": float(np.std(f1s)),
        "accuracies": accuracies,
        "f1s": f1s,
        "train_sizes": train_sizes,
    }


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


KINDS = {"linear": linear_probe, "mlp": mlp_probe}


def probe(model, data, labels, kind="linear", **kwargs):
    """Encode `data` with `model` (posterior means) and run `linear_probe` or `mlp_probe` on them.

    Args:
        model: a kvae model (anything with `encode(data)` -> (N, D)).
        data: inputs `model.encode` accepts (images, sentences, ...).
        labels: (N,) class labels.
        kind: "linear" or "mlp".
        **kwargs: `seeds`, `test_size`, `train_fraction` of the probe.

    Returns:
        dict: the probe's result (see `linear_probe`).

    Example:
        >>> probe(model, test_images, test_labels, kind="mlp", train_fraction=0.1)  # doctest: +SKIP
    """
    check_choice(kind, "kind", sorted(KINDS))
    return KINDS[kind](model.encode(data), labels, **kwargs)
