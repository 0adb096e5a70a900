"""kvae: a Keras 3 model zoo of variational autoencoders for text and images (TensorFlow, JAX, PyTorch).

Set `KERAS_BACKEND` before the first `import keras` / `import kvae`.
"""

from kvae import (
    backend,
    callbacks,
    datasets,
    decoders,
    distribute,
    encoders,
    io,
    layers,
    likelihoods,
    metrics,
    objectives,
    optimizers,
    plotting,
    posteriors,
    priors,
    probes,
    tokenizers,
)
from kvae.models import AE, VAE, ImageVAE, TextVAE
from kvae.registry import create_model, list_models, list_objectives, list_posteriors, list_priors

__version__ = "0.1.0"

__all__ = [
    "AE",
    "ImageVAE",
    "TextVAE",
    "VAE",
    "callbacks",
    "create_model",
    "datasets",
    "decoders",
    "distribute",
    "encoders",
    "io",
    "likelihoods",
    "list_models",
    "list_objectives",
    "list_posteriors",
    "list_priors",
    "metrics",
    "objectives",
    "optimizers",
    "plotting",
    "posteriors",
    "priors",
    "probes",
    "tokenizers",
]
