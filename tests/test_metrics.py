"""Tests for kvae.metrics against values computed by hand or by brute force."""

import math
import statistics
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest

from kvae.metrics import active_units, bleu, rouge, unit_variances
from kvae.testing import snli_sentences, tiny_text_vae

# --------------------------------------------------------------------------
# Latent metrics
# --------------------------------------------------------------------------


def test_unit_variances_match_exact_rational_variances():
    # population variances computed exactly (fractions.Fraction via statistics.pvariance) on dyadic values
    rng = np.random.default_rng(0)
    means = np.round(rng.normal(size=(50, 7)) * np.arange(1, 8) * 64) / 64
    exact = [float(statistics.pvariance([Fraction(v) for v in column])) for column in means.T]
    np.testing.assert_allclose(unit_variances(means), exact, rtol=1e-12)
    assert unit_variances(means).shape == (7,)


def test_unit_variances_by_hand():
    # column 0: values 0, 2 -> mean 1, variance ((1)^2 + (1)^2) / 2 = 1
    # column 1: constant -> 0; column 2: -1, 1, -> 1 (population variance)
    means = [[0.0, 5.0, -1.0], [2.0, 5.0, 1.0]]
    np.testing.assert_allclose(unit_variances(means), [1.0, 0.0, 1.0])


def test_unit_variances_float32_and_int_inputs():
    means = np.array([[0, 1], [2, 1], [4, 1]], dtype=np.int32)
    np.testing.assert_allclose(unit_variances(means), [8.0 / 3.0, 0.0])
    np.testing.assert_allclose(
        unit_variances(means.astype(np.float32)), [8.0 / 3.0, 0.0], rtol=1e-6
    )


def test_active_units_all_active():
    rng = np.random.default_rng(1)
    means = rng.normal(size=(200, 5))  # variances ~1 >> 0.01
    assert active_units(means) == 5


def test_active_units_none_active():
    means = np.tile([0.3, -2.0, 7.0], (10, 1))  # constant: variance 0
    assert active_units(means) == 0
    # a single example has zero variance everywhere
    assert active_units(np.ones((1, 4))) == 0


def test_active_units_mix_with_known_variances():
    # Each column takes values +a and -a equally often: variance exactly a^2.
    amplitudes = np.array([0.0, 0.05, 0.2, 1.0, 0.09])  # variances 0, .0025, .04, 1, .0081
    signs = np.array([1.0, -1.0] * 8)[:, None]
    means = signs * amplitudes[None, :]
    np.testing.assert_allclose(unit_variances(means), amplitudes**2)
    assert active_units(means) == 2  # 0.04 and 1 exceed 0.01
    assert active_units(means, threshold=0.005) == 3  # + 0.0081
    assert active_units(means, threshold=0.0) == 4  # all but the constant one
    assert active_units(means, threshold=2.0) == 0
    assert isinstance(active_units(means), int)


def test_active_units_threshold_is_strict():
    means = np.array([[1.0], [-1.0]])  # variance exactly 1
    assert active_units(means, threshold=1.0) == 0
    assert active_units(means, threshold=0.999) == 1


def test_active_units_accepts_backend_tensors():
    keras = pytest.importorskip("keras")
    x = np.array([[0.0, 1.0], [2.0, 1.0]], dtype="float32")
    t = keras.ops.convert_to_tensor(x)
    assert active_units(t) == 1
    np.testing.assert_allclose(unit_variances(t), [1.0, 0.0])


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros(5),  # 1-D
        np.zeros((2, 3, 4)),  # 3-D
        np.zeros((0, 3)),  # no examples
        np.zeros((3, 0)),  # no units
        np.array([[0.0, np.nan]]),
        np.array([[0.0, np.inf]]),
        np.array([["a", "b"]]),
        [[1.0, 2.0], [3.0]],  # ragged
    ],
)
def test_latent_bad_means_raise(bad):
    with pytest.raises(ValueError, match="means"):
        unit_variances(bad)
    with pytest.raises(ValueError, match="means"):
        active_units(bad)


@pytest.mark.parametrize("threshold", [-0.1, float("nan"), float("inf"), "0.1", None, True])
def test_active_units_bad_threshold(threshold):
    with pytest.raises(ValueError, match="threshold"):
        active_units(np.zeros((3, 2)), threshold=threshold)


# --------------------------------------------------------------------------
# BLEU
# --------------------------------------------------------------------------


def _ngrams(tokens, k):
    return Counter(tuple(tokens[i : i + k]) for i in range(len(tokens) - k + 1))


def _bleu_by_hand(refs, hyps, n):
    """Corpus BLEU from first principles (one reference, no smoothing)."""
    log_p = 0.0
    for k in range(1, n + 1):
        matches = total = 0
        for r, h in zip(refs, hyps):
            hc, rc = _ngrams(h, k), _ngrams(r, k)
            matches += sum(min(c, rc[g]) for g, c in hc.items())
            total += sum(hc.values())
        log_p += math.log(matches / total) / n
    c = sum(len(h) for h in hyps)
    r = sum(len(x) for x in refs)
    bp = 1.0 if c > r else math.exp(1.0 - r / c)
    return 100.0 * bp * math.exp(log_p)


REFS = [s.split() for s in ["the cat is on the mat", "a dog runs fast"]]
HYPS = [s.split() for s in ["the cat the the mat", "a dog runs"]]


def test_bleu_identical_is_100():
    corpus = ["the quick brown fox jumps over the lazy dog", "a b c d e f"]
    assert bleu(corpus, corpus) == pytest.approx(100.0)
    assert bleu(corpus, corpus, smoothing=False) == pytest.approx(100.0)
    assert bleu(corpus, corpus, n=2) == pytest.approx(100.0)


def test_bleu_disjoint_is_zero():
    refs = ["the cat sat on the mat", "a b c d"]
    hyps = ["x y z w v", "p q r s"]
    assert bleu(refs, hyps) == pytest.approx(0.0, abs=1e-9)
    assert bleu(refs, hyps, n=1, smoothing=False) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("smoothing", [True, False])
def test_bleu_hand_computed(smoothing):
    # Unigrams: "the" x3 in hyp 1 clipped to 2 -> 4/5; hyp 2: 3/3 -> p1 = 7/8.
    # Bigrams: hyp 1 {the cat, cat the, the the, the mat} -> 2/4; hyp 2 2/2 -> p2 = 4/6.
    # Lengths: c = 5 + 3 = 8, r = 6 + 4 = 10 -> BP = exp(1 - 10/8) = exp(-0.25).
    bp = math.exp(-0.25)
    expected_1 = 100 * bp * 7 / 8
    expected_2 = 100 * bp * math.sqrt(7 / 8 * 4 / 6)
    assert _bleu_by_hand(REFS, HYPS, 1) == pytest.approx(expected_1)
    assert _bleu_by_hand(REFS, HYPS, 2) == pytest.approx(expected_2)
    assert bleu(REFS, HYPS, n=1, smoothing=smoothing) == pytest.approx(expected_1)
    assert bleu(REFS, HYPS, n=2, smoothing=smoothing) == pytest.approx(expected_2)


def test_bleu_no_brevity_penalty_when_longer():
    refs = [["a", "b", "c"]]
    hyps = [["a", "b", "c", "d"]]  # c = 4 > r = 3: BP = 1; p1 = 3/4, p2 = 2/3
    assert bleu(refs, hyps, n=1) == pytest.approx(75.0)
    assert bleu(refs, hyps, n=2) == pytest.approx(100 * math.sqrt(3 / 4 * 2 / 3))
    assert bleu(refs, hyps, n=2) == pytest.approx(_bleu_by_hand(refs, hyps, 2))


def test_bleu_strings_equal_token_lists_and_range():
    refs_s = [" ".join(r) for r in REFS]
    hyps_s = [" ".join(h) for h in HYPS]
    score = bleu(refs_s, hyps_s)
    assert isinstance(score, float)
    assert score == pytest.approx(bleu(REFS, HYPS))
    assert 0.0 <= score <= 100.0


def test_bleu_smoothing_matters_for_zero_counts():
    refs = ["a b c d"]
    hyps = ["a x b y"]  # unigrams match, no bigram matches
    smoothed = bleu(refs, hyps, n=2, smoothing=True)
    # method1: p2 = 0.1 / 3; p1 = 2/4; BP = 1 (c = r)
    assert smoothed == pytest.approx(100 * math.sqrt(0.5 * 0.1 / 3))
    with pytest.warns(UserWarning):
        unsmoothed = bleu(refs, hyps, n=2, smoothing=False)
    assert unsmoothed == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"references": ["a b"], "hypotheses": ["a b", "c d"]}, "references"),
        ({"references": [], "hypotheses": []}, "references"),
        ({"references": ["a b"], "hypotheses": []}, "hypotheses"),
        ({"references": "a b c", "hypotheses": "a b c"}, "references"),
        ({"references": ["a b"], "hypotheses": [None]}, "hypotheses"),
        ({"references": [["a", "b c"]], "hypotheses": ["a b"]}, "references"),
        ({"references": ["a b"], "hypotheses": ["a b"], "n": 0}, "`n`"),
        ({"references": ["a b"], "hypotheses": ["a b"], "n": 2.0}, "`n`"),
        ({"references": ["a b"], "hypotheses": ["a b"], "n": True}, "`n`"),
    ],
)
def test_bleu_bad_inputs(kwargs, name):
    with pytest.raises(ValueError, match=name):
        bleu(**kwargs)


# --------------------------------------------------------------------------
# ROUGE
# --------------------------------------------------------------------------


def _lcs(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
    return table[-1][-1]


def _f1(p, r):
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _check(result, precision, recall):
    assert set(result) == {"precision", "recall", "f1"}
    assert result["precision"] == pytest.approx(precision)
    assert result["recall"] == pytest.approx(recall)


def test_rouge_1_2_l_single_pair_by_hand():
    ref = "the cat sat on the mat"
    hyp = "the cat on mat"
    # ROUGE-1: every hyp unigram is in ref -> P = 4/4, R = 4/6.
    r1 = rouge([ref], [hyp], n=1)
    _check(r1, 1.0, 4 / 6)
    assert r1["f1"] == pytest.approx(_f1(1.0, 4 / 6)) == pytest.approx(0.8)
    # ROUGE-2: hyp bigrams {the cat, cat on, on mat}, only "the cat" in ref -> P = 1/3, R = 1/5.
    r2 = rouge([ref], [hyp], n=2)
    _check(r2, 1 / 3, 1 / 5)
    assert r2["f1"] == pytest.approx(_f1(1 / 3, 1 / 5)) == pytest.approx(0.25)
    # ROUGE-L: LCS = "the cat on mat" = 4 -> P = 4/4, R = 4/6.
    assert _lcs(ref.split(), hyp.split()) == 4
    _check(rouge([ref], [hyp], n="L"), 1.0, 4 / 6)
    _check(rouge([ref], [hyp], n="l"), 1.0, 4 / 6)


def test_rouge_averages_over_pairs():
    # Lin (2004): ref "police killed the gunman".
    refs = ["police killed the gunman"] * 2
    hyps = ["police kill the gunman", "the gunman kill police"]
    # LCS by hand: "police the gunman" = 3 and "the gunman" = 2 (lengths all 4).
    assert [_lcs(r.split(), h.split()) for r, h in zip(refs, hyps)] == [3, 2]
    lcs_avg = (3 / 4 + 2 / 4) / 2
    rl = rouge(refs, hyps, n="L")
    _check(rl, lcs_avg, lcs_avg)
    assert rl["f1"] == pytest.approx(lcs_avg)
    # ROUGE-1: 3 of 4 unigrams match in both -> 3/4.
    _check(rouge(refs, hyps, n=1), 0.75, 0.75)
    # ROUGE-2: only "the gunman" matches in each, of 3 bigrams -> 1/3.
    _check(rouge(refs, hyps, n=2), 1 / 3, 1 / 3)


def test_rouge_averages_f1_per_pair():
    refs = ["a b c d", "a b"]
    hyps = ["a b", "x y z"]
    # pair 1: P = 1, R = 1/2, F = 2/3; pair 2: all 0.
    r = rouge(refs, hyps, n=1)
    assert r == pytest.approx({"precision": 0.5, "recall": 0.25, "f1": 1 / 3})


def test_rouge_compares_tokens_as_given():
    # No lower-casing, stemming or punctuation removal.
    refs = [["The", "cats", "."]]
    hyps = [["the", "cats", "."]]
    _check(rouge(refs, hyps, n=1), 2 / 3, 2 / 3)
    _check(rouge(refs, hyps, n="L"), 2 / 3, 2 / 3)
    _check(rouge([["running"]], [["run"]], n=1), 0.0, 0.0)


def test_rouge_strings_equal_token_lists_and_types():
    refs = ["the cat sat on the mat", "a dog runs fast"]
    hyps = ["the cat the the mat", "a dog runs"]
    for n in (1, 2, 3, "L"):
        a = rouge(refs, hyps, n=n)
        b = rouge([r.split() for r in refs], [h.split() for h in hyps], n=n)
        assert a == pytest.approx(b)
        assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in a.values())


def test_rouge_identical_is_one():
    corpus = ["a b c d", "e f g"]
    for n in (1, 2, "L"):
        assert rouge(corpus, corpus, n=n) == pytest.approx({"precision": 1.0, "recall": 1.0, "f1": 1.0})


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"references": ["a b"], "hypotheses": ["a b", "c d"]}, "references"),
        ({"references": [], "hypotheses": []}, "references"),
        ({"references": ["a b"], "hypotheses": []}, "hypotheses"),
        ({"references": "a b", "hypotheses": "a b"}, "references"),
        ({"references": ["a b"], "hypotheses": [3]}, "hypotheses"),
        ({"references": ["a b"], "hypotheses": ["a b"], "n": 0}, "`n`"),
        ({"references": ["a b"], "hypotheses": ["a b"], "n": 10}, "`n`"),
        ({"references": ["a b"], "hypotheses": ["a b"], "n": "x"}, "`n`"),
        ({"references": ["a b"], "hypotheses": ["a b"], "n": "lsum"}, "`n`"),
        ({"references": ["a b"], "hypotheses": ["a b"], "n": 1.0}, "`n`"),
        ({"references": ["a b"], "hypotheses": ["a b"], "n": True}, "`n`"),
    ],
)
def test_rouge_bad_inputs(kwargs, name):
    with pytest.raises(ValueError, match=name):
        rouge(**kwargs)


def test_evaluation_report_gathers_the_models_own_figures():
    import kvae

    sentences = snli_sentences(24)
    model = tiny_text_vae()
    model.fit(sentences, epochs=1, batch_size=8, verbose=0)
    report = kvae.metrics.evaluation_report(model, sentences, batch_size=8, samples=200)
    direct = model.evaluate(sentences, batch_size=8, return_dict=True, verbose=0)
    assert report["examples"] == 24 and report["latent_dim"] == model.latent_dim
    assert report["kl"] == pytest.approx(float(direct["kl"]), rel=1e-5)  # closed form: no noise
    assert report["rec"] == pytest.approx(float(direct["rec"]), rel=0.02)  # one posterior sample per sentence
    assert report["active_units"] == active_units(model.encode(sentences))
    assert report["bleu2"] == pytest.approx(bleu(sentences, model.reconstruct(sentences), n=2))
    line = kvae.metrics.format_report(report)
    assert line.startswith("24 examples: rec ") and f"AU {report['active_units']}/{model.latent_dim}" in line
    with pytest.raises(ValueError, match="in-memory"):
        kvae.metrics.evaluation_report(model, iter([]))
