"""TensorFlow imported on first use, so that `import kvae` under JAX or PyTorch does not pay for it (about 2.7 s on
this project's CPUs) until a tokenizer or a `tf.data` pipeline is used."""

import importlib


class LazyModule:
    """A module imported the first time one of its attributes is read: `tf = LazyModule("tensorflow")`."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attribute):
        return getattr(importlib.import_module(self._name), attribute)


tensorflow = LazyModule("tensorflow")
