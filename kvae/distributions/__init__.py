"""Probability maths as pure `keras.ops` functions (and float64 constants): the Gaussian log-densities, closed-form
KLs and sampling that posteriors, priors, objectives and metrics share, and the hypersphere / von Mises-Fisher
constants. Posteriors and priors both import from here, never from each other.

>>> from kvae.distributions import gaussian_kl
>>> gaussian_kl(keras.ops.ones((2, 3)), keras.ops.zeros((2, 3))).shape
(2, 3)
"""

from kvae.distributions.gaussian import (
    LOG_2PI,
    LOG_VAR_MAX,
    LOG_VAR_MIN,
    gaussian_kl,
    gaussian_log_prob,
    mixture_component_log_prob,
    reparameterize,
    standard_normal_log_prob,
)
from kvae.distributions.sphere import (
    householder_rotate,
    log_bessel_iv,
    log_sphere_area,
    normalize,
    uniform_directions,
    vmf_log_normalizer,
    vmf_mean_resultant_length,
    vmf_sample_w,
    vmf_uniform_kl,
)

__all__ = [
    "LOG_2PI",
    "LOG_VAR_MAX",
    "LOG_VAR_MIN",
    "gaussian_kl",
    "gaussian_log_prob",
    "householder_rotate",
    "log_bessel_iv",
    "log_sphere_area",
    "mixture_component_log_prob",
    "normalize",
    "reparameterize",
    "standard_normal_log_prob",
    "uniform_directions",
    "vmf_log_normalizer",
    "vmf_mean_resultant_length",
    "vmf_sample_w",
    "vmf_uniform_kl",
]
