"""Models: `VAE` (base), `ImageVAE`, `AE`."""

from kvae.models.ae import AE
from kvae.models.image_vae import ImageVAE
from kvae.models.vae import VAE

__all__ = ["AE", "ImageVAE", "VAE"]
