from kvae.probes.truncation import truncate_words


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
