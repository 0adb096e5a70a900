"""Data sets for kvae examples: Fashion-MNIST images, folders of images, TFDS image sets and text corpora.

All loaders return NumPy arrays or Python lists and do not depend on the
Keras backend. ``fashion_mnist_sample`` and ``snli_sample`` read small samples
bundled with the package (see ``data/ATTRIBUTION.md``) and work offline.
"""

from kvae.datasets.fashion_mnist import fashion_mnist, fashion_mnist_sample
from kvae.datasets.images import image_folder, tfds_images
from kvae.datasets.text import snli_sample, text_lines, tfds_text

__all__ = [
    "fashion_mnist",
    "fashion_mnist_sample",
    "image_folder",
    "snli_sample",
    "text_lines",
    "tfds_images",
    "tfds_text",
]
