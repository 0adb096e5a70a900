"""The private-API fast paths (`kvae.backend.capabilities`) run only where their check passes, and the public path
they fall back to gives the same numbers: Adam's weights and moments, the LSTM's outputs and gradients. Run under
every backend (the fast paths exist under torch only)."""

import keras
import numpy as np
import pytest
from keras import ops

import kvae
from kvae.backend import capabilities
from kvae.testing import gradients_of, snli_sentences, tiny_text_vae

TORCH = keras.backend.backend() == "torch"


@pytest.mark.parametrize(
    ("name", "version", "expected"),
    [
        ("torch", "2.13.0+cpu", True),
        ("torch", "2.1.2", True),
        ("torch", "2.14.1", False),
        ("torch", "2.0.1", False),
        ("keras", "3.15.1", True),
        ("keras", "3.16.0rc1", False),
        ("keras", "3.8.0", True),
    ],
)
def test_tested_release_ranges(name, version, expected):
    assert capabilities.tested(name, version) is expected


def test_fast_paths_only_under_torch_and_switchable(monkeypatch):
    optimizer = kvae.optimizers.Adam()
    optimizer.build([keras.Variable(np.zeros(3, "float32"))])  # the slots exist once built
    assert capabilities.fused_adam(optimizer) is TORCH
    assert capabilities.native_lstm() is TORCH
    monkeypatch.setenv("KVAE_FAST_PATHS", "0")
    assert not capabilities.fused_adam(optimizer) and not capabilities.native_lstm()


def _adam_steps(steps=6):
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=s).astype("float32")) for s in [(7, 5), (5,), (3, 2, 4)]]
    optimizer = kvae.optimizers.Adam(learning_rate=1e-2)
    optimizer.build(variables)
    for _ in range(steps):
        grads = [ops.convert_to_tensor(rng.normal(size=v.shape).astype("float32")) for v in variables]
        optimizer.apply(grads, variables)
    return [ops.convert_to_numpy(v) for v in variables + list(optimizer.variables)]


def _lstm_outputs_and_gradients():
    rng = np.random.default_rng(1)
    layer = kvae.layers.LSTM(6, return_sequences=True)
    x = ops.convert_to_tensor(rng.normal(size=(3, 5, 4)).astype("float32"))
    layer.build(x.shape)
    layer.set_weights([rng.normal(size=w.shape).astype("float32") * 0.3 for w in layer.get_weights()])
    y = ops.convert_to_numpy(layer(x))
    return [y, *gradients_of(layer, lambda: ops.sum(layer(x) ** 2))]


def test_public_fallback_gives_the_fast_paths_numbers(monkeypatch):
    fast_adam, fast_lstm = _adam_steps(), _lstm_outputs_and_gradients()
    monkeypatch.setenv("KVAE_FAST_PATHS", "0")

    def refuse(*args, **kwargs):
        raise AssertionError("a fast path ran with KVAE_FAST_PATHS=0")

    if TORCH:  # the public path must not touch the private APIs
        from kvae.backend import torch_backend

        monkeypatch.setattr(torch_backend, "fused_adam_update", refuse)
        monkeypatch.setattr(torch_backend, "lstm", refuse)
    for fast, public in zip(fast_adam, _adam_steps()):
        np.testing.assert_allclose(public, fast, rtol=1e-5, atol=1e-6)
    for fast, public in zip(fast_lstm, _lstm_outputs_and_gradients()):
        np.testing.assert_allclose(public, fast, rtol=1e-5, atol=1e-6)


def test_seed_generators_without_keras_private_list_finds_the_same(monkeypatch):
    """`VAE.seed_states` reads Keras's private `_seed_generators`; the public fallback (a layer's attributes) finds
    the same generators in the same order, so saved seed states load either way."""
    model = tiny_text_vae(word_dropout=0.3)
    model.fit(snli_sentences(16), epochs=1, batch_size=8, verbose=0)
    fast = [id(state) for state in model.seed_states()]
    assert len(fast) >= 3  # posterior, prior, word dropout
    monkeypatch.setenv("KVAE_FAST_PATHS", "0")
    assert [id(state) for state in model.seed_states()] == fast
