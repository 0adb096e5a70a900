"""The shared test harness of kvae's components (and handy in notebooks), in the spirit of keras-hub's
`run_layer_test` / `run_model_saving_test`, plus NumPy references of the Gaussian maths and tensor helpers.

`run_layer_test(layer, inputs, ...)` checks, for any kvae layer (posterior, prior, objective, encoder, decoder):
1. config round trip: `from_config(get_config())` and `keras.saving` (de)serialisation give the same class and
   config;
2. eager call on `inputs` (the layer's `call`, or another method such as a prior's `log_prob`): output structure and
   shapes (`expected_shapes`), finite values;
3. symbolic call: the same call on `keras.KerasTensor`s gives the shapes and dtypes of the eager outputs (what
   `compute_output_spec` and functional models rely on);
4. `.keras` saving: the layer inside a model (`LayerHolder`) is saved and reloaded, and the reloaded layer gives the
   same outputs (those named in `deterministic`; sampled ones are compared by shape).
`run_model_saving_test(model, x, tmp_path)` saves and reloads a kvae model and checks the class, config and
encodings.

>>> posterior = kvae.posteriors.DiagonalGaussian(latent_dim=4, seed=0)
>>> run_layer_test(posterior, [np.ones((3, 5), "float32")], expected_shapes={"z": (3, 4)}, tmp_path="/tmp")
"""

import json
import os

import keras
import numpy as np
from keras import ops

from kvae.distributions import LOG_2PI


# ------------------------------------------------------------------------------------------------ tensors
def np_(x):
    """Any backend tensor (or array) -> NumPy array."""
    return ops.convert_to_numpy(x)


def tensor(x, dtype="float32"):
    """Array-like -> tensor of the current backend (float32 by default)."""
    return ops.convert_to_tensor(np.asarray(x, dtype=dtype))


def gradients_of(layer, loss):
    """Gradients of `loss()` (a closure calling `layer`) with respect to `layer.trainable_weights`, as NumPy arrays,
    on any backend (TensorFlow's tape, PyTorch's autograd, `jax.grad` through a `keras.StatelessScope`)."""
    backend = keras.backend.backend()
    weights = layer.trainable_weights
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = loss()
        return [tf.convert_to_tensor(g).numpy() for g in tape.gradient(value, [w.value for w in weights])]
    if backend == "torch":
        for w in weights:
            w.value.grad = None
        loss().backward()
        return [w.value.grad.detach().cpu().numpy().copy() for w in weights]
    import jax

    def pure(values):
        with keras.StatelessScope(state_mapping=list(zip(weights, values))):
            return loss()

    return [np.asarray(g) for g in jax.grad(pure)([w.value for w in weights])]


# ------------------------------------------------------------------------------------ NumPy references
def np_kl(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, 1)) per unit, in float64: 0.5 (mean^2 + exp(log_var) - log_var - 1)."""
    mean, log_var = np.asarray(mean, np.float64), np.asarray(log_var, np.float64)
    return 0.5 * (mean**2 + np.exp(log_var) - log_var - 1.0)


def np_gaussian_log_prob(z, mean, log_var):
    """log N(z; mean, exp(log_var)) per unit, in float64, broadcasting."""
    z, mean, log_var = (np.asarray(a, np.float64) for a in (z, mean, log_var))
    return -0.5 * (LOG_2PI + log_var + (z - mean) ** 2 * np.exp(-log_var))


def np_log_softmax(logits, axis=-1):
    """log softmax in float64."""
    logits = np.asarray(logits, np.float64)
    top = logits.max(axis=axis, keepdims=True)
    return logits - top - np.log(np.sum(np.exp(logits - top), axis=axis, keepdims=True))


def same_config(a, b):
    """Configs equal up to tuples vs lists (JSON turns tuples into lists)."""
    return json.loads(json.dumps(a, default=repr)) == json.loads(json.dumps(b, default=repr))


# ------------------------------------------------------------------------------------------- the harness
@keras.saving.register_keras_serializable(package="kvae_testing")
class LayerHolder(keras.Model):
    """A model holding one layer and calling one of its methods (`method`, with `call_kwargs`) on its inputs, so that
    any layer can be saved to and loaded from a `.keras` file. Rebuilt on load by an eager call on zeros of the
    shapes and dtypes it was first called with."""

    def __init__(self, layer, method="__call__", call_kwargs=None, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer
        self.method = method
        self.call_kwargs = dict(call_kwargs or {})
        self.input_specs = None

    def build(self, *input_shapes, **kwargs):
        self.built = True  # the held layer builds itself on its first call

    def call(self, *inputs):
        if self.input_specs is None and all(hasattr(x, "shape") for x in inputs):  # saving: tensor inputs only
            self.input_specs = [(tuple(int(d) for d in x.shape), keras.backend.standardize_dtype(x.dtype)) for x in inputs]
        return getattr(self.layer, self.method)(*inputs, **self.call_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "layer": keras.saving.serialize_keras_object(self.layer),
                "method": self.method,
                "call_kwargs": self.call_kwargs,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = keras.saving.deserialize_keras_object(config["layer"])
        return cls(**config)

    def get_build_config(self):
        return {"input_specs": [[list(shape), dtype] for shape, dtype in self.input_specs]}

    def build_from_config(self, config):
        self(*[np.zeros(shape, dtype=dtype) for shape, dtype in config["input_specs"]])
        self.built = True


def _arrays(outputs):
    return keras.tree.map_structure(lambda t: None if t is None else np.asarray(np_(t)), outputs)


def _shapes(outputs):
    return keras.tree.map_structure(lambda t: None if t is None else tuple(t.shape), outputs)


def _flat(outputs):
    if isinstance(outputs, dict):
        return {key: outputs[key] for key in sorted(outputs)}
    if isinstance(outputs, (list, tuple)):
        return dict(enumerate(outputs))
    return {None: outputs}


def check_config_round_trip(layer):
    """`from_config(get_config())` and Keras (de)serialisation give the same class and config; returns the copy."""
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert type(clone) is type(layer)
    assert same_config(clone.get_config(), config), (clone.get_config(), config)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer)
    assert same_config(restored.get_config(), config), (restored.get_config(), config)
    return clone


def run_layer_test(
    layer,
    inputs,
    method="__call__",
    call_kwargs=None,
    expected_shapes=None,
    deterministic=None,
    symbolic=True,
    saving=True,
    tmp_path=None,
    atol=1e-6,
):
    """Run the harness's checks on `layer` (see the module docstring); returns the eager outputs as NumPy.

    Args:
        layer: a fresh kvae layer (config round trip first, then built by the eager call).
        inputs: list of arrays, the positional arguments of the call.
        method: the method called ("__call__", or e.g. "log_prob" for a prior).
        call_kwargs: keyword arguments of the call (e.g. `num_samples=3`, `training=False`).
        expected_shapes: the output shape, or a dict of them for dict outputs (keys not named are not checked).
        deterministic: output keys (dict outputs) compared by value after the save and reload; None: all of them.
        symbolic: also run the call on `keras.KerasTensor`s (off for calls that update state, e.g. objectives).
        saving: save the layer in a `.keras` file (in `tmp_path`) and reload it.
        atol: tolerance of the comparisons after reloading.
    """
    call_kwargs = dict(call_kwargs or {})
    check_config_round_trip(layer)
    holder = LayerHolder(layer, method=method, call_kwargs=call_kwargs)
    inputs = [keras.tree.map_structure(lambda a: np.asarray(np_(a)), x) for x in inputs]
    outputs = holder(*inputs)
    arrays = _arrays(outputs)
    for key, value in _flat(arrays).items():
        if value is not None:
            assert np.all(np.isfinite(value)), f"output {key} has non-finite values"
    if expected_shapes is not None:
        got = _shapes(arrays)
        if isinstance(expected_shapes, dict):
            for key, shape in expected_shapes.items():
                assert got[key] == tuple(shape), (key, got[key], shape)
        else:
            assert got == tuple(expected_shapes), (got, expected_shapes)
    if symbolic:
        symbolic_inputs = [
            keras.tree.map_structure(lambda a: keras.KerasTensor(a.shape, dtype=str(a.dtype)), x) for x in inputs
        ]
        spec = getattr(layer, method)(*symbolic_inputs, **call_kwargs)
        eager_flat, spec_flat = _flat(outputs), _flat(spec)
        assert set(eager_flat) == set(spec_flat), (sorted(eager_flat), sorted(spec_flat))
        for key, value in eager_flat.items():
            if value is None:
                assert spec_flat[key] is None
                continue
            assert tuple(spec_flat[key].shape) == tuple(value.shape), (key, spec_flat[key].shape, value.shape)
            assert keras.backend.standardize_dtype(spec_flat[key].dtype) == keras.backend.standardize_dtype(
                value.dtype
            ), (key, spec_flat[key].dtype, value.dtype)
    if saving:
        if tmp_path is None:
            raise ValueError("`run_layer_test(saving=True)` needs a `tmp_path`.")
        path = os.path.join(str(tmp_path), f"{type(layer).__name__}_{method.strip('_')}.keras")
        holder.save(path)
        loaded = keras.saving.load_model(path)
        assert type(loaded.layer) is type(layer)
        assert same_config(loaded.layer.get_config(), layer.get_config())
        again = _flat(_arrays(loaded(*inputs)))
        for key, value in _flat(arrays).items():
            if value is None:
                continue
            assert again[key].shape == value.shape, (key, again[key].shape, value.shape)
            if deterministic is None or key in deterministic:
                np.testing.assert_allclose(again[key], value, atol=atol, err_msg=f"output {key} after reloading")
    return arrays


def run_model_saving_test(model, x, tmp_path, encode_kwargs=None, atol=1e-6):
    """Save a (built) kvae model to a `.keras` file and reload it: same class, same config, same encodings of `x`.
    Returns the reloaded model."""
    encode_kwargs = dict(encode_kwargs or {})
    path = os.path.join(str(tmp_path), f"{type(model).__name__}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    assert same_config(loaded.get_config(), model.get_config())
    np.testing.assert_allclose(loaded.encode(x, **encode_kwargs), model.encode(x, **encode_kwargs), atol=atol)
    return loaded


# ------------------------------------------------------------------------------------ tiny models and data
TINY_IMAGE = {"latent_dim": 4, "hidden_dims": (16,)}
TINY_TEXT = {"latent_dim": 4, "embedding_dim": 8, "hidden_dim": 16}


def tiny_image_vae(**kwargs):
    """An `ImageVAE` with hidden 16 and latent 4 (override with `kwargs`)."""
    import kvae

    return kvae.ImageVAE(**{**TINY_IMAGE, **kwargs})


def tiny_text_vae(**kwargs):
    """A `TextVAE` with embedding 8, LSTM 16 and latent 4 (override with `kwargs`)."""
    import kvae

    return kvae.TextVAE(**{**TINY_TEXT, **kwargs})


def random_images(n=64, size=8, seed=0):
    """(n, size, size) uint8 images, uniform grey levels."""
    return np.random.default_rng(seed).integers(0, 256, size=(n, size, size), dtype="uint8")


def snli_sentences(n=32):
    """The first `n` sentences of the bundled SNLI sample (unshuffled)."""
    import kvae

    train, _ = kvae.datasets.snli_sample(test_size=0)
    return train[:n]


def vocabulary_of(sentences):
    """The word vocabulary (special tokens first) a `WordTokenizer` builds from `sentences`."""
    import kvae

    tokenizer = kvae.tokenizers.WordTokenizer()
    tokenizer.build_vocabulary(sentences, verbose=False)
    return tokenizer.vocabulary


def fit_on_ids(model, sentences, epochs=2, batch_size=16):
    """Fit a text model on one padded id array (a single batch shape, so JAX compiles the step once); the history."""
    ids = model.texts_to_ids(sentences)
    return model.fit(ids, epochs=epochs, batch_size=batch_size, verbose=0).history
