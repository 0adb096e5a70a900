"""Evaluation metrics for VAEs: latent-space usage, likelihood and text quality.

The latent-space functions work on NumPy arrays / Python sequences and are
independent of the Keras backend; `log_likelihood`, `evaluate_latent` and
`LatentMetricsCallback` run a model (any backend).
"""

from kvae.callbacks import LatentMetricsCallback
from kvae.metrics.evaluation import evaluate_latent
from kvae.metrics.latent import (
    active_units,
    consistent_units,
    kl,
    mutual_information,
    posterior_shape,
    unit_variances,
)
from kvae.metrics.likelihood import log_likelihood
from kvae.metrics.report import evaluation_report, format_report
from kvae.metrics.text import bleu, rouge

__all__ = [
    "LatentMetricsCallback",
    "active_units",
    "bleu",
    "consistent_units",
    "evaluate_latent",
    "evaluation_report",
    "format_report",
    "kl",
    "log_likelihood",
    "mutual_information",
    "posterior_shape",
    "rouge",
    "unit_variances",
]
