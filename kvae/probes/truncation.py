from kvae.checks import check_fraction, check_sentences
from kvae.probes._common import round_half_up


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
