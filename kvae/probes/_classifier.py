"""The evaluation loop shared by `linear_probe` and `mlp_probe` (private)."""

import numpy as np

from kvae.checks import check_fraction, check_matrix, check_number, check_seeds
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
