import numpy as np

from kvae.checks import check_sentences
from kvae.probes._common import as_labels, stratified_split


def _tfidf_logistic_regression(train_texts, train_labels, test_texts):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(token_pattern=r"(?u)\S+"), LogisticRegression(max_iter=1000))
    model.fit(train_texts, train_labels)
    return model.predict(test_texts)


def agreement(classifier_fit_predict, originals, reconstructions, labels, test_size=0.2, seed=0):
    """How well a text classifier trained on original sentences classifies their reconstructions.

    The examples are split (stratified by label, `seed`); the classifier is trained on the original sentences of
    the training part and predicts the held-out originals and the held-out reconstructions; macro-F1 of both
    against `labels`.

    Args:
        classifier_fit_predict: `f(train_texts, train_labels, test_texts) -> predicted labels`, or None for a
            TF-IDF (whitespace tokens) + `LogisticRegression(max_iter=1000)` classifier. It is called once, with
            the held-out originals followed by the held-out reconstructions as `test_texts`.
        originals: sequence of N sentences.
        reconstructions: sequence of N sentences (e.g. `model.reconstruct(originals)`).
        labels: (N,) class labels.
        test_size: fraction (or number) of examples held out.
        seed: seed of the split.

    Returns:
        dict: `f1_original`, `f1_reconstruction` and `ratio` = f1_reconstruction / f1_original (NaN if
        f1_original is 0).

    Example:
        >>> agreement(None, test, model.reconstruct(test), test_labels)["ratio"]  # doctest: +SKIP
    """
    from sklearn.metrics import f1_score

    originals = check_sentences(originals, "originals")
    reconstructions = check_sentences(reconstructions, "reconstructions")
    if len(originals) != len(reconstructions):
        raise ValueError(
            f"`originals` and `reconstructions` must have the same length, got {len(originals)} and "
            f"{len(reconstructions)}."
        )
    y = as_labels(labels, len(originals))
    fit_predict = _tfidf_logistic_regression if classifier_fit_predict is None else classifier_fit_predict
    train, test = stratified_split(y, test_size, seed)
    test_texts = [originals[i] for i in test] + [reconstructions[i] for i in test]
    predicted = np.asarray(fit_predict([originals[i] for i in train], y[train], test_texts))
    if predicted.shape[0] != len(test_texts):
        raise ValueError(
            f"`classifier_fit_predict` returned {predicted.shape[0]} predictions for {len(test_texts)} texts."
        )
    f1_original = float(f1_score(y[test], predicted[: len(test)], average="macro", zero_division=0))
    f1_reconstruction = float(f1_score(y[test], predicted[len(test) :], average="macro", zero_division=0))
    ratio = f1_reconstruction / f1_original if f1_original > 0 else float("nan")
    return {"f1_original": f1_original, "f1_reconstruction": f1_reconstruction, "ratio": float(ratio)}
