"""Tests for kvae.probes: classifier probes, word perturbations, agreement and interpolation smoothness.

Backend independent (run under KERAS_BACKEND=tensorflow, jax and torch): synthetic features and sentences, stub
models with hand-checkable outputs, and one tiny TextVAE (latent 2) fit for one epoch on 20 SNLI sentences.
"""

from typing import ClassVar

import keras
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

import kvae
from kvae.probes import (
    agreement,
    delete_words,
    imputation,
    interpolation_smoothness,
    linear_probe,
    mlp_probe,
    probe,
    truncate_words,
)

KEYS = {"accuracy_mean", "accuracy_std", "f1_mean", "f1_std", "accuracies", "f1s"}


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small matrices: multi-threaded BLAS only adds overhead (10x slower on two busy cores)."""
    with threadpool_limits(1):
        yield


# ------------------------------------------------------------------------------------------------------ data
def separable(n_per_class=40, classes=3, dim=5, seed=0):
    """Class k sits at 5 * e_k (plus small noise): linearly separable."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(classes), n_per_class)
    features = 5.0 * np.eye(dim)[labels] + 0.1 * rng.normal(size=(len(labels), dim))
    return features, labels


def xor(n=120, seed=0):
    """Two classes on the XOR quadrants, away from the axes: no linear boundary, easy for an MLP."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.3, 1.0, size=(n, 2)) * rng.choice([-1.0, 1.0], size=(n, 2))
    return x, (x[:, 0] * x[:, 1] > 0).astype(int)


class RecordingLogisticRegression(LogisticRegression):
    """Records the training labels of every fit (monkeypatched in place of scikit-learn's)."""

    fits: ClassVar[list] = []

    def fit(self, X, y, *args, **kwargs):
        RecordingLogisticRegression.fits.append(np.asarray(y).copy())
        return super().fit(X, y, *args, **kwargs)


# ------------------------------------------------------------------------------------------ classifier probes
def test_linear_probe_separable_features_accuracy_one():
    features, labels = separable()
    result = linear_probe(features, labels)
    assert KEYS <= set(result)
    assert len(result["accuracies"]) == len(result["f1s"]) == 5
    assert result["accuracy_mean"] == pytest.approx(1.0)
    assert result["f1_mean"] == pytest.approx(1.0)
    assert result["accuracy_std"] == pytest.approx(0.0)


def test_linear_probe_random_features_near_chance_and_std_over_seeds():
    rng = np.random.default_rng(1)
    features, labels = rng.normal(size=(300, 4)), np.tile([0, 1], 150)
    result = linear_probe(features, labels, seeds=(0, 1, 2, 3, 4, 5))
    assert 0.35 < result["accuracy_mean"] < 0.65
    assert 0.3 < result["f1_mean"] < 0.65
    assert len(set(result["accuracies"])) > 1  # each seed its own split
    assert result["accuracy_std"] == pytest.approx(np.std(result["accuracies"]))
    assert result["f1_std"] == pytest.approx(np.std(result["f1s"]))
    assert result["accuracy_mean"] == pytest.approx(np.mean(result["accuracies"]))
    assert result["accuracy_std"] > 0
    assert linear_probe(features, labels, seeds=(0, 1, 2, 3, 4, 5)) == result  # deterministic


def test_mlp_probe_learns_xor_where_linear_probe_cannot():
    features, labels = xor()
    linear = linear_probe(features, labels, seeds=(0, 1))
    mlp = mlp_probe(features, labels, seeds=(0, 1))
    assert KEYS <= set(mlp) and len(mlp["accuracies"]) == 2
    assert linear["accuracy_mean"] < 0.75
    assert mlp["accuracy_mean"] > 0.9


def test_few_shot_fraction_trains_on_fewer_examples(monkeypatch):
    """1000 examples, 4 classes: the training split has 800; fraction 0.01 -> 8, 0.001 -> 1 raised to 4 classes."""
    monkeypatch.setattr("sklearn.linear_model.LogisticRegression", RecordingLogisticRegression)
    features, labels = separable(n_per_class=250, classes=4)
    seen = {}
    for fraction in (1.0, 0.1, 0.01, 0.001):
        RecordingLogisticRegression.fits = []
        result = linear_probe(features, labels, seeds=(0, 1), train_fraction=fraction)
        seen[fraction] = [len(y) for y in RecordingLogisticRegression.fits]
        assert result["train_sizes"] == seen[fraction]
        for y in RecordingLogisticRegression.fits:
            assert set(y.tolist()) == {0, 1, 2, 3}  # every class at least once
        assert result["accuracy_mean"] > 0.9  # separable: even one example per class is enough
    assert seen == {1.0: [800, 800], 0.1: [80, 80], 0.01: [8, 8], 0.001: [4, 4]}


def test_few_shot_subsample_changes_with_seed_and_matters_on_noisy_data():
    rng = np.random.default_rng(0)
    labels = np.tile([0, 1], 200)
    features = labels[:, None] * 1.0 + rng.normal(size=(400, 1))  # overlapping classes
    full = linear_probe(features, labels, seeds=(0, 1, 2, 3))
    few = linear_probe(features, labels, seeds=(0, 1, 2, 3), train_fraction=0.01)
    assert few["train_sizes"] == [3, 3, 3, 3] and full["train_sizes"] == [320] * 4
    assert len(set(few["accuracies"])) > 1


def test_probe_arguments_are_checked():
    features, labels = separable()
    with pytest.raises(ValueError, match="two classes"):
        linear_probe(features, np.zeros(len(labels)))
    with pytest.raises(ValueError, match="train_fraction"):
        linear_probe(features, labels, train_fraction=0.0)
    with pytest.raises(ValueError, match="features"):
        linear_probe(features[:, :, None], labels)
    with pytest.raises(ValueError, match="entries"):
        linear_probe(features, labels[:-1])
    with pytest.raises(ValueError, match="seeds"):
        linear_probe(features, labels, seeds=())


class StubEncoder:
    def __init__(self, features):
        self.features = features
        self.calls = []

    def encode(self, data):
        self.calls.append(data)
        return self.features


def test_probe_encodes_then_probes():
    features, labels = separable(n_per_class=10)
    model = StubEncoder(features)
    data = [f"example {i}" for i in range(len(labels))]
    result = probe(model, data, labels, kind="linear", seeds=(0, 1))
    assert model.calls == [data]
    assert result == linear_probe(features, labels, seeds=(0, 1))
    assert probe(model, data, labels, kind="mlp", seeds=(0,))["accuracy_mean"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="kind"):
        probe(model, data, labels, kind="svm")


# ---------------------------------------------------------------------------------------- word perturbations
TEN = "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9"


def is_subsequence(short, long):
    it = iter(long)
    return all(word in it for word in short)


def test_delete_words_counts_order_and_determinism():
    sentences = [TEN, "a b c d e", "one", "two words", ""]
    out = delete_words(sentences, fraction=0.3, seed=0)
    # 10 words: 3 deleted; 5 words: 1.5 -> 2 deleted; 1 word: kept; 2 words: 0.6 -> 1 deleted; empty stays empty
    assert [len(s.split()) for s in out] == [7, 3, 1, 1, 0]
    for original, shorter in zip(sentences, out):
        assert is_subsequence(shorter.split(), original.split())
    assert out[2] == "one" and out[4] == ""
    assert delete_words(sentences, fraction=0.3, seed=0) == out
    assert delete_words([TEN] * 5, seed=0) != delete_words([TEN] * 5, seed=1)
    assert delete_words([TEN], fraction=0.0) == [TEN]
    assert [len(s.split()) for s in delete_words([TEN, "a b"], fraction=1.0)] == [1, 1]  # at least one word left
    with pytest.raises(ValueError, match="fraction"):
        delete_words([TEN], fraction=1.5)
    with pytest.raises(ValueError, match="sequence"):
        delete_words(TEN)


def test_truncate_words_keeps_first_quarter():
    sentences = [TEN, "a b c d e f g h", "a b c", "one", "  spaced   out  words here "]
    out = truncate_words(sentences)
    # 10 words: 2.5 -> 3; 8: 2; 3: 0.75 -> 1; 1: 1 (at least one); 4: 1
    assert out == ["w0 w1 w2", "a b", "a", "one", "spaced"]
    assert truncate_words(sentences) == out
    assert truncate_words([TEN], keep=1.0) == [TEN]
    assert truncate_words([TEN], keep=0.5) == ["w0 w1 w2 w3 w4"]
    with pytest.raises(ValueError, match="keep"):
        truncate_words([TEN], keep=0)


class StubReconstructor:
    def __init__(self):
        self.calls = []

    def reconstruct(self, texts, **kwargs):
        self.calls.append((list(texts), kwargs))
        return [t.upper() for t in texts]


def test_imputation_reconstructs_truncated_sentences():
    model = StubReconstructor()
    assert imputation(model, [TEN, "a b c d"], max_length=5) == ["W0 W1 W2", "A"]
    assert model.calls == [(["w0 w1 w2", "a"], {"max_length": 5})]


# ------------------------------------------------------------------------------------------------ agreement
def labelled_sentences(n=80, seed=0):
    """Class 0 sentences mention a cat, class 1 a dog; the rest is shared filler."""
    rng = np.random.default_rng(seed)
    filler = ["the", "a", "is", "on", "big", "small", "sits", "runs", "mat", "grass", "happy", "old"]
    labels = np.tile([0, 1], n // 2)
    sentences = []
    for y in labels:
        words = list(rng.choice(filler, size=5))
        words.insert(int(rng.integers(0, 6)), "cat" if y == 0 else "dog")
        sentences.append(" ".join(words))
    return sentences, labels


def test_agreement_ratio_one_when_reconstructions_equal_originals():
    sentences, labels = labelled_sentences()
    result = agreement(None, sentences, list(sentences), labels)
    assert set(result) == {"f1_original", "f1_reconstruction", "ratio"}
    assert result["f1_original"] == pytest.approx(1.0)
    assert result["f1_reconstruction"] == result["f1_original"]
    assert result["ratio"] == pytest.approx(1.0)


def test_agreement_drops_when_reconstructions_lose_the_label():
    sentences, labels = labelled_sentences()
    swapped = [s.replace("cat", "tmp").replace("dog", "cat").replace("tmp", "dog") for s in sentences]
    result = agreement(None, sentences, swapped, labels, seed=1)
    assert result["f1_original"] == pytest.approx(1.0)
    assert result["f1_reconstruction"] == pytest.approx(0.0)
    assert result["ratio"] == pytest.approx(0.0)


def test_agreement_with_custom_classifier():
    sentences, labels = labelled_sentences(n=40)
    calls = []

    def keyword_classifier(train_texts, train_labels, test_texts):
        calls.append((len(train_texts), len(train_labels), len(test_texts)))
        return [0 if "cat" in t.split() else 1 for t in test_texts]

    half = ["dog"] * 40  # every reconstruction says dog: macro-F1 = (0 + 2/3) / 2 on a balanced test split
    result = agreement(keyword_classifier, sentences, half, labels, test_size=0.25)
    assert calls == [(30, 30, 20)]  # one call: 10 held-out originals then their 10 reconstructions
    assert result["f1_original"] == pytest.approx(1.0)
    assert result["f1_reconstruction"] == pytest.approx(1 / 3)
    assert result["ratio"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="same length"):
        agreement(keyword_classifier, sentences, half[:-1], labels)


# -------------------------------------------------------------------------------------- interpolation smoothness
class StubInterpolator:
    """`interpolate` returns the same three sentences for every pair."""

    sentences: ClassVar[list] = ["a b c d", "a b c y", "w x y z"]

    def __init__(self):
        self.calls = []

    def interpolate(self, a, b, steps, **kwargs):
        self.calls.append((a, b, steps, kwargs))
        return list(self.sentences)


def test_interpolation_smoothness_by_hand():
    model = StubInterpolator()
    result = interpolation_smoothness(model, [("a b c d", "w x y z"), ("a b c y", "w x y z")], steps=3, max_length=9)
    assert model.calls == [
        ("a b c d", "w x y z", 3, {"max_length": 9}),
        ("a b c y", "w x y z", 3, {"max_length": 9}),
    ]
    # Rouge-L F1 (LCS / 4 here, all sentences have 4 words):
    #   pair 1, to a = "a b c d": [4, 3, 0] / 4; to b = "w x y z": [0, 1, 4] / 4
    #   pair 2, to a = "a b c y": [3, 4, 1] / 4; to b: [0, 1, 4] / 4
    np.testing.assert_allclose(result["lambdas"], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(result["rouge_to_a"], [0.875, 0.875, 0.125])
    np.testing.assert_allclose(result["rouge_to_b"], [0.0, 0.25, 1.0])
    np.testing.assert_allclose(result["average"], [0.4375, 0.5625, 0.5625])
    assert result["sentences"] == [StubInterpolator.sentences] * 2


def test_interpolation_smoothness_checks():
    with pytest.raises(ValueError, match="returned 3 sentences"):
        interpolation_smoothness(StubInterpolator(), [("a", "b")], steps=11)
    with pytest.raises(ValueError, match="steps"):
        interpolation_smoothness(StubInterpolator(), [("a", "b")], steps=1)
    with pytest.raises(ValueError, match="pair"):
        interpolation_smoothness(StubInterpolator(), [])
    with pytest.raises(ValueError, match="pair"):
        interpolation_smoothness(StubInterpolator(), ["ab"], steps=3)


# ------------------------------------------------------------------------------------------ a real TextVAE
@pytest.fixture(scope="module")
def text_model():
    keras.utils.set_random_seed(0)
    sentences = kvae.datasets.snli_sample()[0][:20]
    model = kvae.TextVAE(latent_dim=2, embedding_dim=8, hidden_dim=16, seed=0)
    model.fit(sentences, epochs=1, batch_size=20, verbose=0)  # one batch: one compiled step
    return model, sentences


def test_interpolation_smoothness_real_text_vae(text_model):
    model, sentences = text_model
    pairs = [(sentences[0], sentences[1])]
    result = interpolation_smoothness(model, pairs, steps=5, max_length=6)
    assert result["lambdas"].shape == result["rouge_to_a"].shape == result["rouge_to_b"].shape == (5,)
    for key in ("rouge_to_a", "rouge_to_b", "average"):
        assert np.all((result[key] >= 0) & (result[key] <= 1))
    np.testing.assert_allclose(result["average"], (result["rouge_to_a"] + result["rouge_to_b"]) / 2)
    assert len(result["sentences"]) == 1
    for decoded in result["sentences"]:
        assert len(decoded) == 5 and all(isinstance(s, str) for s in decoded)
    # the curves are the Rouge-L F1 of what the model decoded, averaged over the pairs
    for key, end in (("rouge_to_a", 0), ("rouge_to_b", 1)):
        scores = [[kvae.metrics.rouge([pair[end]], [s], n="l")["f1"] for s in decoded] for pair, decoded in
                  zip(pairs, result["sentences"])]
        np.testing.assert_allclose(result[key], np.mean(scores, axis=0))


def test_imputation_and_probe_real_text_vae(text_model):
    model, sentences = text_model
    imputed = imputation(model, sentences[:5], max_length=6)
    # the greedy reconstructions of the first quarter of each sentence's words
    assert imputed == model.reconstruct(truncate_words(sentences[:5], keep=0.25), max_length=6)
    assert all(len(s.split()) <= 6 for s in imputed)
    labels = np.array([len(s.split()) % 2 for s in sentences])
    if np.bincount(labels).min() < 2:
        labels = np.tile([0, 1], 10)
    result = probe(model, sentences, labels, seeds=(0,))
    # the probe on the model's posterior means: a standardised logistic regression on the same stratified split
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    means = model.encode(sentences)
    train, test = train_test_split(np.arange(len(labels)), test_size=0.2, stratify=labels, random_state=0)
    reference = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=0)).fit(means[train], labels[train])
    assert result["train_sizes"] == [len(train)] == [16]
    assert result["accuracies"] == [pytest.approx(np.mean(reference.predict(means[test]) == labels[test]))]
