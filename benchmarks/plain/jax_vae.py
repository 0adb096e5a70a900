"""kvae's TextVAE and ImageVAE in plain JAX: a jit-compiled training step with a hand-written Adam (no Keras, no
kvae, no optax). The same networks and objectives as `torch_vae` (see its docstring); the LSTM is a `lax.scan`
of the LSTM step and the cross-entropy is logsumexp minus the target's logit, the fastest forms on XLA's CPU backend
among those tried (single-thread CPU time of forward + backward)."""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

LOG_2PI = math.log(2 * math.pi)


def _dense(key, fan_in, fan_out):
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return {"w": jax.random.uniform(key, (fan_in, fan_out), minval=-limit, maxval=limit), "b": jnp.zeros(fan_out)}


def _lstm(key, inputs, units):
    k1, k2 = jax.random.split(key)
    return {"w": _dense(k1, inputs, 4 * units)["w"], "u": _dense(k2, units, 4 * units)["w"], "b": jnp.zeros(4 * units)}


def init_text(key, vocabulary_size, embedding_dim, hidden_dim, latent_dim, pad_id=0):
    k = jax.random.split(key, 8)
    return {
        "enc_embedding": 0.05 * jax.random.normal(k[0], (vocabulary_size, embedding_dim)),
        "enc_lstm": _lstm(k[1], embedding_dim, hidden_dim),
        "mean": _dense(k[2], hidden_dim, latent_dim),
        "log_var": _dense(k[3], hidden_dim, 1),
        "dec_embedding": 0.05 * jax.random.normal(k[4], (vocabulary_size, embedding_dim)),
        "initial_state": _dense(k[5], latent_dim, hidden_dim),
        "dec_lstm": _lstm(k[6], embedding_dim + latent_dim, hidden_dim),
        "logits": _dense(k[7], hidden_dim, vocabulary_size),
    }


def init_image(key, pixels=784, hidden=(200, 200), latent_dim=32):
    h1, h2 = hidden
    k = jax.random.split(key, 7)
    return {
        "enc": [_dense(k[0], pixels, h1), _dense(k[1], h1, h2)],
        "mean": _dense(k[2], h2, latent_dim),
        "log_var": _dense(k[3], h2, 1),
        "dec": [_dense(k[4], latent_dim, h2), _dense(k[5], h2, h1), _dense(k[6], h1, pixels)],
    }


def _apply(p, x):
    return x @ p["w"] + p["b"]


def lstm(p, x, h, c):
    """x (B, T, E), initial state (B, H) -> hidden states (B, T, H). Both matrix products inside the scan step: on
    XLA's CPU backend this is faster than one up-front input projection (measured 1.2-1.9x)."""

    def step(carry, xt):
        h, c = carry
        i, f, g, o = jnp.split(xt @ p["w"] + h @ p["u"] + p["b"], 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), h

    _, hidden = jax.lax.scan(step, (h, c), jnp.swapaxes(x, 0, 1))
    return jnp.swapaxes(hidden, 0, 1)


def text_posterior(params, ids):
    x = params["enc_embedding"][ids]
    zeros = jnp.zeros((ids.shape[0], params["enc_lstm"]["u"].shape[0]), x.dtype)
    states = lstm(params["enc_lstm"], x, zeros, zeros)
    last = jnp.maximum(jnp.sum(ids != 0, axis=1) - 1, 0)
    features = jnp.take_along_axis(states, last[:, None, None], axis=1)[:, 0]
    mean = _apply(params["mean"], features)
    return mean, jnp.broadcast_to(_apply(params["log_var"], features), mean.shape)


def text_reconstruction(params, ids, z):
    inputs, targets = ids[:, :-1], ids[:, 1:]
    x = params["dec_embedding"][inputs]
    x = jnp.concatenate([x, jnp.broadcast_to(z[:, None, :], x.shape[:2] + z.shape[-1:])], axis=-1)
    c0 = _apply(params["initial_state"], z)
    hidden = lstm(params["dec_lstm"], x, jnp.tanh(c0), c0)
    logits = _apply(params["logits"], hidden.reshape(-1, hidden.shape[-1]))  # (B * T, V): 2-D products are faster
    nll = jax.nn.logsumexp(logits, axis=-1) - jnp.take_along_axis(logits, targets.reshape(-1, 1), axis=-1)[:, 0]
    return jnp.sum(nll.reshape(targets.shape) * (targets != 0), axis=1)


def image_posterior(params, x):
    h = x.reshape(x.shape[0], -1)
    for layer in params["enc"]:
        h = jnp.tanh(_apply(layer, h))
    mean = _apply(params["mean"], h)
    return mean, jnp.broadcast_to(_apply(params["log_var"], h), mean.shape)


def image_reconstruction(params, x, z):
    x = x.reshape(x.shape[0], -1)
    h = z
    for layer in params["dec"][:-1]:
        h = jnp.tanh(_apply(layer, h))
    logits = _apply(params["dec"][-1], h)
    return jnp.sum(jnp.maximum(logits, 0) - logits * x + jnp.log1p(jnp.exp(-jnp.abs(logits))), axis=1)


def gaussian_log_prob(z, mean, log_var):
    return -0.5 * (LOG_2PI + log_var + (z - mean) ** 2 * jnp.exp(-log_var))


def density_gap(key, mean, log_var, samples):
    z = mean + jnp.exp(0.5 * log_var) * jax.random.normal(key, (samples,) + mean.shape)  # (M, B, D)
    pairs = gaussian_log_prob(z[:, :, None, :], mean[None, None], log_var[None, None])  # (M, B_i, B_j, D)
    log_q = jax.scipy.special.logsumexp(pairs, axis=2) - math.log(mean.shape[0])
    log_p = -0.5 * (LOG_2PI + z**2)
    return jnp.mean(jnp.sum(log_q - log_p, axis=-1))


def loss_fn(params, key, x, kind, objective, samples):
    posterior, reconstruction = (
        (text_posterior, text_reconstruction) if kind == "text" else (image_posterior, image_reconstruction)
    )
    k1, k2 = jax.random.split(key)
    mean, log_var = posterior(params, x)
    z = mean + jnp.exp(0.5 * log_var) * jax.random.normal(k1, mean.shape)
    rec = jnp.mean(reconstruction(params, x, z))
    if objective == "elbo":
        return rec + jnp.mean(jnp.sum(0.5 * (mean**2 + jnp.exp(log_var) - log_var - 1), axis=-1))
    return rec + density_gap(k2, mean, log_var, samples)


def adam(grads, state, learning_rate, b1=0.9, b2=0.999, eps=1e-7):
    m, v, t = state
    t = t + 1
    m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
    v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
    scale = learning_rate * jnp.sqrt(1 - b2**t) / (1 - b1**t)
    updates = jax.tree.map(lambda m, v: -scale * m / (jnp.sqrt(v) + eps), m, v)
    return updates, (m, v, t)


def make_trainer(kind, objective="elbo", samples=32, learning_rate=1e-3, seed=0, **sizes):
    """A `step(batch) -> loss` closure (NumPy batch in, Python float out) for a fresh model of `kind` ("text" or
    "image"); one jit-compiled step per batch shape, buffers donated."""
    if objective not in ("elbo", "density_gap"):
        raise ValueError(f"Unknown `objective` {objective!r}; expected 'elbo' or 'density_gap'.")
    key, init_key = jax.random.split(jax.random.PRNGKey(seed))
    params = (init_text if kind == "text" else init_image)(init_key, **sizes)
    opt_state = (jax.tree.map(jnp.zeros_like, params), jax.tree.map(jnp.zeros_like, params), jnp.zeros((), jnp.int32))

    @functools.partial(jax.jit, donate_argnums=(0, 1, 2))
    def train_step(params, opt_state, key, x):
        key, step_key = jax.random.split(key)
        loss, grads = jax.value_and_grad(loss_fn)(params, step_key, x, kind, objective, samples)
        updates, opt_state = adam(grads, opt_state, learning_rate)
        params = jax.tree.map(jnp.add, params, updates)
        return params, opt_state, key, loss

    state = {"params": params, "opt": opt_state, "key": key}

    def step(batch):
        x = jnp.asarray(batch if kind == "text" else np.asarray(batch, np.float32))
        state["params"], state["opt"], state["key"], loss = train_step(state["params"], state["opt"], state["key"], x)
        return float(loss)

    return step
