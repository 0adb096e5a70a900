"""Evaluation metrics for VAEs: latent-space usage and text quality.

All functions work on NumPy arrays / Python sequences and are independent of
the Keras backend.
"""

from kvae.metrics.latent import active_units, unit_variances
from kvae.metrics.text import bleu, rouge

__all__ = ["active_units", "unit_variances", "bleu", "rouge"]
