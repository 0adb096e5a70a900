"""kvae: a Keras 3 model zoo of variational autoencoders for text and images (TensorFlow, JAX, PyTorch).

Set `KERAS_BACKEND` before the first `import keras` / `import kvae`.
"""

from kvae import datasets, decoders, encoders, likelihoods, metrics, objectives, posteriors, priors, tokenizers
from kvae.models import AE, VAE, ImageVAE, TextVAE

__version__ = "0.1.0"

__all__ = [
    "AE",
    "ImageVAE",
    "TextVAE",
    "VAE",
    "datasets",
    "decoders",
    "encoders",
    "likelihoods",
    "metrics",
    "objectives",
    "posteriors",
    "priors",
    "tokenizers",
]
