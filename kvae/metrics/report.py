"""`evaluation_report`: the held-out figures of a trained model in one dict (what `kvae evaluate` writes)."""

import numpy as np

from kvae.metrics.evaluation import evaluate_latent
from kvae.metrics.text import bleu
from kvae.preprocessors.batching import is_batched


def evaluation_report(model, data, batch_size=256, samples=2000):
    """Held-out metrics of `model` on `data` (an array of inputs, or a list of sentences) as a JSON-ready dict.

    Keys: `examples`; the objective's terms from `model.evaluate` (`loss`, `rec`, `kl`, ...); `mutual_information`
    (nats, `samples` Monte Carlo draws), `active_units`, `consistent_units`, `unit_variances` and `latent_dim` from
    `evaluate_latent` (replaced by a `latent_metrics` note for posteriors without Gaussian parameters, e.g. vMF); and
    for sentences `bleu2`, BLEU-2 of the greedy reconstructions on the 0-100 scale of `kvae.metrics.bleu`.

    Example:
    >>> report = kvae.metrics.evaluation_report(model, test[:500])
    >>> print(kvae.metrics.format_report(report))  # 500 examples: rec 39.1  KL 5.0  MI 4.2  BLEU-2 17/100  AU 16/16
    """
    if is_batched(data):
        raise ValueError("`data` must be an in-memory array or list of sentences (a report counts its examples).")
    results = model.evaluate(data, batch_size=batch_size, return_dict=True, verbose=0)
    report = {"examples": len(data), **{key: float(value) for key, value in results.items()}}
    try:
        latent = evaluate_latent(model, data, batch_size=batch_size, verbose=False, samples=samples)
    except ValueError as e:  # a posterior without Gaussian parameters (vMF): no latent metrics
        report["latent_metrics"] = f"skipped: {e}"
    else:
        for key in ("mutual_information", "active_units", "consistent_units"):
            report[key] = latent[key]
        report["unit_variances"] = np.asarray(latent["unit_variances"]).tolist()
    report["latent_dim"] = model.latent_dim
    if len(data) and isinstance(data[0], (str, bytes)):
        report["bleu2"] = float(bleu(data, model.reconstruct(data), n=2))
    return report


def format_report(report):
    """One line of an `evaluation_report`: `500 examples: rec 41.2  KL 5.0  MI 3.1  BLEU-2 12.8/100  AU 8/8`."""
    shown = {"rec": "rec", "kl": "KL", "mutual_information": "MI", "bleu2": "BLEU-2"}
    line = "  ".join(
        f"{label} {report[key]:.1f}/100" if key == "bleu2" else f"{label} {report[key]:.3f}"
        for key, label in shown.items()
        if key in report
    )
    if "active_units" in report:
        line += f"  AU {report['active_units']}/{report['latent_dim']}"
    return f"{report['examples']} examples: {line}"
