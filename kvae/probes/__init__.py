"""Probes of a VAE's latent space and of its sentence reconstructions.

Classifier probes (`linear_probe`, `mlp_probe`, `probe`) measure how much label information the posterior means
hold, optionally from a few labelled examples. Text probes perturb sentences (`delete_words`, `truncate_words`),
reconstruct them (`imputation`), check that a text classifier agrees on originals and reconstructions
(`agreement`) and measure how smoothly interpolations move from one sentence to another
(`interpolation_smoothness`). All functions take and return NumPy arrays / Python lists and work on every Keras
backend.
"""

from kvae.probes.classifier import linear_probe, mlp_probe, probe
from kvae.probes.smoothness import interpolation_smoothness
from kvae.probes.text import agreement, delete_words, imputation, truncate_words

__all__ = [
    "agreement",
    "delete_words",
    "imputation",
    "interpolation_smoothness",
    "linear_probe",
    "mlp_probe",
    "probe",
    "truncate_words",
]
