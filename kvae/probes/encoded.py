from kvae.checks import check_choice
from kvae.probes.linear import linear_probe
from kvae.probes.mlp import mlp_probe

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
