import numpy as np

from kvae.checks import check_fraction, check_seed, check_sentences
from kvae.probes._common import round_half_up


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
