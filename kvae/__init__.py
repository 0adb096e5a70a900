"""kvae: a Keras 3 model zoo of variational autoencoders for text and images (TensorFlow, JAX, PyTorch).

Set `KERAS_BACKEND` before the first `import keras` / `import kvae`.

`import kvae` first quiets TensorFlow's import-time logs (`kvae.startup`), then imports the whole public API, so that
every kvae class is registered with Keras (`keras.saving.load_model` finds them). Only while the `kvae` command
starts are the submodules imported on first use, so that `kvae --help` answers without importing Keras.
"""

from kvae import startup as _startup

_startup.quiet_tensorflow()  # before anything imports Keras or TensorFlow

__version__ = "0.1.0"

_SUBMODULES = (
    "backend",
    "callbacks",
    "datasets",
    "decoders",
    "distribute",
    "encoders",
    "io",
    "layers",
    "likelihoods",
    "metrics",
    "objectives",
    "optimizers",
    "plotting",
    "posteriors",
    "priors",
    "preprocessors",
    "probes",
    "tokenizers",
)
_MODELS = ("AE", "VAE", "ImageVAE", "TextVAE")
_REGISTRY = ("create_model", "list_models", "list_objectives", "list_posteriors", "list_priors")


def _import_all():
    """Import the public API into this namespace (and so register every kvae class with Keras)."""
    import importlib

    namespace = globals()
    for name in _SUBMODULES:
        namespace[name] = importlib.import_module(f"kvae.{name}")
    models = importlib.import_module("kvae.models")
    registry = importlib.import_module("kvae.registry")
    namespace.update({name: getattr(models, name) for name in _MODELS})
    namespace.update({name: getattr(registry, name) for name in _REGISTRY})


def __getattr__(name):  # a name not imported yet: while the `kvae` command starts, or `from kvae import x` inside kvae
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"kvae.{name}")
    if name in _MODELS or name in _REGISTRY:
        _import_all()
        return globals()[name]
    raise AttributeError(f"module 'kvae' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


if not _startup.command_line_start():
    _import_all()

__all__ = [
    "AE",
    "VAE",
    "ImageVAE",
    "TextVAE",
    "backend",
    "callbacks",
    "create_model",
    "datasets",
    "decoders",
    "distribute",
    "encoders",
    "io",
    "layers",
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
    "preprocessors",
    "priors",
    "probes",
    "tokenizers",
]
