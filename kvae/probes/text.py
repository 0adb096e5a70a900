"""Text probes: perturb sentences (`delete_words`, `truncate_words`), reconstruct them from their first words
(`imputation`) and check that a text classifier agrees on originals and reconstructions (`agreement`)."""

import numpy as np

from kvae.checks import check_fraction, check_seed, check_sentences
from kvae.probes._common import as_labels, round_half_up, stratified_split


def truncate_words(sentences, keep=0.25):
    """Keep the first words of each sentence (the input of the word-imputation probe).

    A sentence of n whitespace-separated words keeps its first `max(1, round(keep * n))` words (halves rounded
    up), re-joined with single spaces; empty sentences stay empty.

    Args:
        sentences: sequence of str.
        keep: fraction of words kept, in (0, 1].

    Returns:
        list of str, one per sentence.

    Example:
        >>> truncate_words(["two dogs are running through a field", "a man"], keep=0.25)
        ['two dogs', 'a']
    """
    keep = check_fraction(keep, "keep")
    out = []
    for sentence in check_sentences(sentences):
        words = sentence.split()
        out.append(" ".join(words[: max(1, round_half_up(keep * len(words)))]))
    return out


def delete_words(sentences, fraction=0.3, seed=0):
    """Delete random words from each sentence (robustness probe), keeping the order of the others.

    A sentence of n whitespace-separated words loses `min(round(fraction * n), n - 1)` of them (halves rounded
    up), so at least one word is left; the words are re-joined with single spaces. Empty sentences stay empty.
    One `numpy.random.default_rng(seed)` draws all deletions, so a seed gives the same output on every call.

    Args:
        sentences: sequence of str.
        fraction: fraction of words deleted, in [0, 1].
        seed: random seed.

    Returns:
        list of str, one per sentence.

    Example:
        >>> delete_words(["a man is sleeping on a couch"], fraction=0.3)  # 2 of 7 words deleted
        ['a man is sleeping couch']
    """
    fraction = check_fraction(fraction, "fraction", low_open=False)
    rng = np.random.default_rng(check_seed(seed))
    out = []
    for sentence in check_sentences(sentences):
        words = sentence.split()
        n = len(words)
        k = min(round_half_up(fraction * n), max(n - 1, 0))
        drop = set(rng.choice(n, size=k, replace=False).tolist()) if k else set()
        out.append(" ".join(w for i, w in enumerate(words) if i not in drop))
    return out


def imputation(model, sentences, keep=0.25, **decode_kwargs):
    """Word imputation: reconstruct sentences from their first words (`truncate_words(sentences, keep)`).

    Args:
        model: a text model with `reconstruct(texts, **decode_kwargs)` (e.g. `kvae.TextVAE`).
        sentences: sequence of str.
        keep: fraction of words kept, in (0, 1].
        **decode_kwargs: passed to `model.reconstruct` (e.g. `method="beam"`, `max_length=20`).

    Returns:
        list of str: the reconstructions of the truncated sentences, one per sentence. Compare them with the full
        sentences, e.g. `kvae.metrics.rouge(sentences, imputed, n="l")`.

    Example:
        >>> imputed = imputation(model, test[:100])  # doctest: +SKIP
        >>> kvae.metrics.bleu(test[:100], imputed)  # doctest: +SKIP
    """
    return list(model.reconstruct(truncate_words(sentences, keep), **decode_kwargs))


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
