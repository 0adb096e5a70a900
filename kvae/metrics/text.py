"""Text metrics (BLEU, ROUGE) comparing generated sentences with references.

A corpus is a sequence of sentences; each sentence is either a plain string
(split on whitespace) or a sequence of tokens (converted with ``str``).
Tokens are compared exactly as given: no lower-casing, stemming or
punctuation removal. Tokens must be non-empty and contain no whitespace.
"""

import numbers

import numpy as np

from kvae.checks import check_int, check_sentences

__all__ = ["bleu", "rouge"]


def _as_pair(references, hypotheses):
    refs = check_sentences(references, "references", allow_empty=False, tokens=True)
    hyps = check_sentences(hypotheses, "hypotheses", allow_empty=False, tokens=True)
    if len(refs) != len(hyps):
        raise ValueError(
            "`references` and `hypotheses` must have the same number of "
            f"sentences; got {len(refs)} and {len(hyps)}."
        )
    return refs, hyps


def bleu(references, hypotheses, n=4, smoothing=True):
    """Corpus BLEU-n in ``[0, 100]`` (Papineni et al., 2002), via NLTK.

    With one reference ``r_i`` per hypothesis ``h_i``::

        p_k  = sum_i sum_{g in k-grams(h_i)} min(cnt_{h_i}(g), cnt_{r_i}(g))
               / sum_i |k-grams(h_i)|                (modified precision)
        BP   = 1 if c > r else exp(1 - r / c),  c = sum_i |h_i|, r = sum_i |r_i|
        BLEU = 100 * BP * exp(sum_{k=1..n} log(p_k) / n)

    Computed by ``nltk.translate.bleu_score.corpus_bleu`` with uniform
    weights ``(1/n, ..., 1/n)``. With ``smoothing``, ``SmoothingFunction().method1``
    replaces a zero ``p_k`` (k >= 2) with ``0.1 / |k-grams|``; without it a
    zero ``p_k`` makes BLEU (almost) 0. If no unigram matches, BLEU is 0.

    Args:
        references: sequence of reference sentences (str or token lists).
        hypotheses: sequence of hypothesis sentences, same length.
        n: maximum n-gram order, int >= 1 (default 4).
        smoothing: whether to apply NLTK's ``method1`` smoothing.

    Returns:
        ``float``, the corpus BLEU score in ``[0, 100]``.

    Raises:
        ValueError: on empty corpora, mismatched lengths, bad sentences or
            ``n < 1``.

    Example:
        >>> bleu(["the cat sat on the mat"], ["the cat sat on the mat"])
        100.0
    """
    n = check_int(n, "n")
    refs, hyps = _as_pair(references, hypotheses)

    from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu

    smoothing_function = SmoothingFunction().method1 if smoothing else None
    score = corpus_bleu(
        [[list(r)] for r in refs],
        [list(h) for h in hyps],
        weights=(1.0 / n,) * n,
        smoothing_function=smoothing_function,
    )
    return float(min(max(100.0 * float(score), 0.0), 100.0))


def _rouge_scorer(rouge_type):
    try:
        from rouge_score import rouge_scorer, tokenizers
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "kvae.metrics.rouge needs the `rouge-score` package: "
            "pip install rouge-score"
        ) from e

    class _WhitespaceTokenizer(tokenizers.Tokenizer):
        """Splits on whitespace only, so tokens are compared as given."""

        def tokenize(self, text):
            return text.split()

    return rouge_scorer.RougeScorer(
        [rouge_type], use_stemmer=False, tokenizer=_WhitespaceTokenizer()
    )


def rouge(references, hypotheses, n=2):
    """Sentence-level ROUGE-N or ROUGE-L (Lin, 2004), averaged over pairs.

    For one pair (reference ``r``, hypothesis ``h``):

    * ROUGE-N: ``m = sum_g min(cnt_h(g), cnt_r(g))`` over n-grams ``g``;
      ``precision = m / |n-grams(h)|``, ``recall = m / |n-grams(r)|``.
    * ROUGE-L: ``precision = LCS(r, h) / |h|``, ``recall = LCS(r, h) / |r|``,
      with ``LCS`` the length of the longest common subsequence.

    and ``f1 = 2 * precision * recall / (precision + recall)`` (0 when both
    are 0). Computed with Google's ``rouge-score`` package with a whitespace
    tokenizer and no stemming; the three numbers are then averaged over the
    sentence pairs.

    Args:
        references: sequence of reference sentences (str or token lists).
        hypotheses: sequence of hypothesis sentences, same length.
        n: n-gram order, an int in ``[1, 9]`` for ROUGE-N, or ``"l"`` /
            ``"L"`` for ROUGE-L (default 2).

    Returns:
        ``dict`` with float ``"precision"``, ``"recall"`` and ``"f1"`` in
        ``[0, 1]``.

    Raises:
        ValueError: on empty corpora, mismatched lengths, bad sentences or
            a bad ``n``.

    Example:
        >>> rouge(["the cat sat"], ["the cat"], n=1)
        {'precision': 1.0, 'recall': 0.6666666666666666, 'f1': 0.8}
    """
    if isinstance(n, str) and n in ("l", "L"):
        rouge_type = "rougeL"
    elif (
        not isinstance(n, bool) and isinstance(n, numbers.Integral) and 1 <= n <= 9
    ):
        rouge_type = f"rouge{int(n)}"
    else:
        raise ValueError(
            f'`n` must be an int in [1, 9] (ROUGE-N) or "l"/"L" (ROUGE-L); got {n!r}.'
        )
    refs, hyps = _as_pair(references, hypotheses)

    scorer = _rouge_scorer(rouge_type)
    scores = np.zeros((len(refs), 3), dtype=np.float64)
    for i, (r, h) in enumerate(zip(refs, hyps)):
        s = scorer.score(" ".join(r), " ".join(h))[rouge_type]
        scores[i] = (s.precision, s.recall, s.fmeasure)
    precision, recall, f1 = (float(v) for v in scores.mean(axis=0))
    return {"precision": precision, "recall": recall, "f1": f1}
