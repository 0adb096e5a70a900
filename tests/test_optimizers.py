"""kvae.optimizers.Adam, the models' default optimiser: the same weights, moments and step count as
keras.optimizers.Adam after the same gradients (under the torch backend it runs PyTorch's fused kernel with a
rescaled epsilon, elsewhere Keras's own update). Run under every backend."""

import keras
import numpy as np
import pytest
from keras import ops

import kvae


def make_variables(rng):
    shapes = [(7, 5), (5,), (3, 2, 4)]
    return [keras.Variable(rng.normal(size=s).astype("float32"), name=f"w{i}") for i, s in enumerate(shapes)]


def lstm_variables(rng):
    # kvae.layers.LSTM's kernels: column-major under torch (PyTorch's layout), as they are in every text model.
    layer = kvae.layers.LSTM(6)
    layer.build((None, None, 5))
    layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()])
    return layer.trainable_variables


def run(optimizer, steps=6, seed=0, variables=make_variables):
    rng = np.random.default_rng(seed)
    variables = variables(rng)
    shapes = [tuple(v.shape) for v in variables]
    optimizer.build(variables)
    for _ in range(steps):
        # Gradient scales from 1e-6 to 10: where eps and the bias corrections matter, and where they do not.
        grads = [
            ops.convert_to_tensor((rng.normal(size=s) * 10.0 ** rng.integers(-6, 2)).astype("float32"))
            for s in shapes
        ]
        optimizer.apply(grads, variables)
    return [ops.convert_to_numpy(v) for v in variables + list(optimizer.variables)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"learning_rate": 0.01},
        {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3},
        {"learning_rate": 0.01, "weight_decay": 0.1, "clipnorm": 1.0},
        {"learning_rate": 0.01, "amsgrad": True},
        {"learning_rate": keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.5)},
    ],
    ids=["defaults", "betas-eps", "decay-clip", "amsgrad", "schedule"],
)
def test_adam_matches_keras_adam(kwargs):
    ours, reference = run(kvae.optimizers.Adam(**kwargs)), run(keras.optimizers.Adam(**kwargs))
    assert len(ours) == len(reference)
    for a, b in zip(ours, reference):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)  # float32 rounding over six steps


def test_adam_matches_keras_adam_on_lstm_weights():
    ours = run(kvae.optimizers.Adam(learning_rate=0.01), variables=lstm_variables)
    reference = run(keras.optimizers.Adam(learning_rate=0.01), variables=lstm_variables)
    for a, b in zip(ours, reference):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)


def test_adam_moves_weights_by_about_the_learning_rate():
    # Adam's first step is lr * sign(g) (up to eps): a check on the update itself, not only on agreement.
    variable = keras.Variable(np.zeros(4, "float32"))
    optimizer = kvae.optimizers.Adam(learning_rate=0.1)
    optimizer.build([variable])
    optimizer.apply([ops.convert_to_tensor(np.array([3.0, -2.0, 0.1, -5.0], "float32"))], [variable])
    np.testing.assert_allclose(ops.convert_to_numpy(variable), [-0.1, 0.1, -0.1, 0.1], rtol=1e-3)
    assert int(ops.convert_to_numpy(optimizer.iterations)) == 1


def test_models_default_to_it_and_save_it(tmp_path):
    model = kvae.ImageVAE(image_shape=(4, 4), hidden_dims=(8,), latent_dim=2, seed=0)
    assert type(model.optimizer) is kvae.optimizers.Adam
    x = np.random.default_rng(0).random((16, 4, 4)).astype("float32")
    model.fit(x, batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert type(loaded.optimizer) is kvae.optimizers.Adam
    assert float(ops.convert_to_numpy(loaded.optimizer.learning_rate)) == pytest.approx(1e-3)
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(ops.convert_to_numpy(a), ops.convert_to_numpy(b))
