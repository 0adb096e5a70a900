"""kvae.layers.LSTM: the same outputs, states and gradients as keras.layers.LSTM with the same weights (under the
torch backend it runs PyTorch's native kernel, elsewhere Keras's own loop). Run under every backend."""

import keras
import numpy as np
import pytest
from keras import ops

import kvae
from kvae.testing import gradients_of


def pair(units=6, features=5, **kwargs):
    ours = kvae.layers.LSTM(units, return_sequences=True, return_state=True, **kwargs)
    reference = keras.layers.LSTM(units, return_sequences=True, return_state=True, **kwargs)
    ours.build((None, None, features))
    reference.build((None, None, features))
    rng = np.random.default_rng(0)
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in reference.get_weights()]
    ours.set_weights(weights)
    reference.set_weights(weights)
    return ours, reference


@pytest.mark.parametrize("steps", [1, 7])
def test_lstm_matches_keras_outputs_and_states(steps):
    ours, reference = pair()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, steps, 5)).astype("float32")
    h0, c0 = (rng.normal(size=(3, 6)).astype("float32") for _ in range(2))
    got = ours(ops.convert_to_tensor(x), initial_state=[ops.convert_to_tensor(h0), ops.convert_to_tensor(c0)])
    want = reference(ops.convert_to_tensor(x), initial_state=[ops.convert_to_tensor(h0), ops.convert_to_tensor(c0)])
    for a, b in zip(got, want):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), rtol=1e-5, atol=1e-6)


def test_lstm_gradients_match_keras():
    ours, reference = pair()
    x = np.random.default_rng(2).normal(size=(4, 5, 5)).astype("float32")

    def gradients(layer):
        return gradients_of(layer, lambda: ops.sum(ops.square(layer(ops.convert_to_tensor(x))[0])))

    for a, b in zip(gradients(ours), gradients(reference)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_lstm_serialises_as_kvae_layer():
    ours, _ = pair()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(ours))
    assert type(restored) is kvae.layers.LSTM and restored.units == 6


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="PyTorch's memory layout")
def test_lstm_kernels_take_pytorchs_layout():
    # (in, 4H) variables whose transposes are PyTorch's contiguous (4H, in) weights from the first call on: no
    # copy a step, and their gradients arrive in the same layout. Values and shapes are unchanged.
    ours, _ = pair()
    before = ours.get_weights()
    ops.sum(ours(ops.convert_to_tensor(np.ones((2, 3, 5), "float32")))[0]).backward()
    kernels = [ours.cell.kernel.value, ours.cell.recurrent_kernel.value]
    assert [tuple(k.shape) for k in kernels] == [(5, 24), (6, 24)]
    assert all(k.T.is_contiguous() for k in kernels)
    assert all(k.grad.stride() == k.stride() for k in kernels)
    for a, b in zip(ours.get_weights(), before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="PyTorch's memory layout")
def test_text_model_lstms_take_pytorchs_layout():
    # Built symbolically by `fit` on id batches from a generator: the variables get their tensors after build.
    model = kvae.TextVAE(vocabulary=["a", "b", "c"], embedding_dim=4, hidden_dim=6, latent_dim=2, seed=0)
    ids = np.array([[2, 4, 5, 3], [2, 6, 3, 0]], "int32")
    model.fit((b for b in [ids, ids]), epochs=1, verbose=0)
    kernels = [v.value for v in model.weights if "lstm" in v.path and "kernel" in v.path]
    assert len(kernels) == 4 and all(k.T.is_contiguous() for k in kernels)
