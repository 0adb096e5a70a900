"""Models: `VAE` (base), `ImageVAE`, `TextVAE`, `AE`."""

from kvae.models.ae import AE
from kvae.models.image_vae import ImageVAE
from kvae.models.text_vae import TextVAE
from kvae.models.vae import VAE

__all__ = ["AE", "VAE", "ImageVAE", "TextVAE"]
