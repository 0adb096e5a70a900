import keras
from keras import ops

from kvae.likelihoods.likelihood import Likelihood
from kvae.likelihoods.nll import bernoulli_nll


@keras.saving.register_keras_serializable(package="kvae")
class Bernoulli(Likelihood):
    """Bernoulli likelihood on pixels in [0, 1], one logit l per pixel value (the default of `ImageVAE`):

        -log p(x|z) = sum_i -[x_i log sigmoid(l_i) + (1 - x_i) log(1 - sigmoid(l_i))]

    Grey levels act as soft targets, so for non-binary images log p(x) is not a normalised likelihood and no
    bits/dim are reported. Decoded images are sigmoid(l).

    Example:
    >>> model = kvae.ImageVAE(likelihood="bernoulli")
    """

    def nll(self, x, params):
        return bernoulli_nll(x, params)

    def mean(self, params):
        return ops.sigmoid(params)
