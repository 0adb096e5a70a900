import keras
import numpy as np
from keras import ops

from kvae import distribute, likelihoods, objectives, optimizers, posteriors, priors
from kvae.backend import capabilities
from kvae.checks import check_int, check_number, check_seed
from kvae.likelihoods import bernoulli_nll
from kvae.preprocessors.batching import as_keras_stream, inputs_shape, is_batched, is_dataset, planned_steps


@keras.saving.register_keras_serializable(package="kvae")
class VAE(keras.Model):
    """Variational autoencoder: encoder -> posterior sampler -> z -> decoder -> likelihood, trained by an objective.

    `call(x)` returns a dict `{"z_mean", "z_log_var", "z", "logits"}`; `compute_loss` adds the per-example
    reconstruction NLL `rec` (B,) and hands the dict to the objective, so the same code trains under the built-in
    TensorFlow, JAX and PyTorch steps (no `train_step` override). The model is compiled on construction (Adam at
    `learning_rate`), so `fit` works at once; `compile` overrides. A loss passed to `compile` is ignored: the
    objective is the loss.

    Subclasses (`ImageVAE`, `TextVAE`) build the encoder and decoder from their own arguments and override
    `preprocess`, `reconstruction_loss`, `decode` and `check_inputs`.

    Args:
        encoder: layer mapping inputs (B, ...) to features (B, F).
        decoder: layer mapping z (B, D) to logits of p(x|z) (Bernoulli here), shaped like the inputs.
        latent_dim: D.
        posterior: "isotropic", "diagonal", "deterministic" or a posterior layer.
        prior: "normal" or a prior layer.
        objective: a name ("elbo", "beta", "capacity", "free_bits", "density_gap", "reconstruction") or an
            `kvae.objectives.Objective` instance.
        learning_rate: of the default Adam optimiser.
        seed: seeds the posterior's, prior's and objective's `SeedGenerator`s (weights follow
            `keras.utils.set_random_seed`).
    """

    default_learning_rate = 1e-3
    warm_start_layers = ("encoder", "decoder", "prior")  # copied whole by `with_posterior`

    def __init__(
        self,
        encoder=None,
        decoder=None,
        latent_dim=32,
        posterior="isotropic",
        prior="normal",
        objective="elbo",
        learning_rate=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.latent_dim = check_int(latent_dim, "latent_dim")
        self.seed = check_seed(seed)
        learning_rate = self.default_learning_rate if learning_rate is None else learning_rate
        self.learning_rate = check_number(learning_rate, "learning_rate", low=0, low_open=True)
        if type(self) is VAE:  # subclasses make their own networks
            for name, layer in (("encoder", encoder), ("decoder", decoder)):
                if not isinstance(layer, keras.layers.Layer):
                    raise ValueError(f"`{name}` must be a Keras layer, got {layer!r}.")
        self.encoder = encoder
        self.decoder = decoder
        self.posterior = posteriors.get(posterior, latent_dim, seed=part_seed(seed, "posterior"))
        self.prior = priors.get(prior, seed=part_seed(seed, "prior"))
        self.objective = objectives.get(objective, seed=part_seed(seed, "objective"))
        self.objective.validate(self.posterior, self.prior)
        self.compile(optimizer=optimizers.Adam(self.learning_rate))

    # ----------------------------------------------------------------------------------------------- data flow
    def preprocess(self, inputs):
        """Model inputs as given by the data pipeline -> the tensor the encoder reads and the likelihood scores."""
        return inputs

    def call(self, inputs, training=None):
        x = self.preprocess(inputs)
        samples = self.objective.num_samples
        outputs = self.posterior(self.encoder(x, training=training), num_samples=samples, training=training)
        z = outputs["z"]
        if samples is not None:  # (k, B, D) -> (k * B, D), inputs repeated to match
            x, z = repeat_batch(x, samples), ops.reshape(z, (-1, self.latent_dim))
        outputs.update(self.decoder_outputs(x, z, training=training))
        return outputs

    def decoder_outputs(self, x, z, training=None):
        """`{"logits": ...}` of p(x|z) for preprocessed inputs `x` (B, ...) and codes `z` (B, D) (text decoders read
        `x` as teacher-forcing input); `reconstruction_loss` reads them."""
        return {"logits": self.decoder(z, training=training)}

    def reconstruction_loss(self, inputs, outputs):
        """-log p(x|z) summed over everything but the batch axis: (B,)."""
        return bernoulli_nll(self.preprocess(inputs), outputs["logits"])

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        outputs = dict(y_pred)
        samples = self.objective.num_samples
        if samples is None:
            outputs["rec"] = self.reconstruction_loss(x, y_pred)
        else:  # (k, B): one reconstruction term per posterior sample
            rec = self.reconstruction_loss(repeat_batch(self.preprocess(x), samples), y_pred)
            outputs["rec"] = ops.reshape(rec, (samples, -1))
        loss = self.objective(outputs, posterior=self.posterior, prior=self.prior, training=training)
        for extra in self.losses:
            loss = loss + ops.sum(extra)
        # Under tf.distribute: this replica's share, so that the summed gradients are the global batch mean's.
        return distribute.scale_loss(loss, ops.shape(y_pred["z_mean"])[0])

    # ----------------------------------------------------------------------------------------------- likelihood
    def likelihood_inputs(self, batch):
        """A batch as `kvae.metrics.log_likelihood` gets it -> (model inputs x (B, ...), predicted tokens or None)."""
        return likelihoods.array_inputs(batch)

    def log_px_given_z(self, x, z):
        """log p(x_i | z_i) (N,) float64 for model inputs `x` (N, ...) and codes `z` (N, D), through the decoder and
        `reconstruction_loss` (in chunks)."""
        return likelihoods.decoder_log_likelihood(self, x, z, int(np.prod(np.shape(x)[1:])))

    # ------------------------------------------------------------------------------------------- using a model
    def encode(self, x, return_log_var=False, batch_size=256):
        """Posterior means (N, D) as a NumPy array; with `return_log_var=True`, `(mean, log_var)`, the
        log-variance broadcast to every unit for the isotropic posterior. Runs as a compiled predict loop."""
        self.check_inputs(x, "x")
        batch_size = check_int(batch_size, "batch_size")
        batch_size = None if is_batched(x) else batch_size  # batches from a dataset or generator come as they are
        mean, log_var = self.posterior_network().predict(as_keras_stream(x), batch_size=batch_size, verbose=0)
        return (mean, log_var) if return_log_var else mean

    def posterior_network(self):
        """A `keras.Model` sharing this model's layers that maps inputs to (mean, log_var): its `predict` is
        compiled like the model's (jit on JAX, tf.function on TensorFlow). Not tracked, so it is not saved."""
        network = self.__dict__.get("_posterior_network")
        if network is None:
            network = PosteriorNetwork(self)
            object.__setattr__(self, "_posterior_network", network)  # bypass Keras tracking
        return network

    def check_latent(self, z, name="z"):
        """Latent codes `z` as a finite float32 NumPy array of shape (N, D), N >= 1, or a ValueError naming `name`."""
        try:
            z = np.asarray(z, dtype="float32")
        except (TypeError, ValueError) as e:
            raise ValueError(f"`{name}` must be a numeric array of shape (N, {self.latent_dim}): {e}") from None
        if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] != self.latent_dim:
            raise ValueError(f"`{name}` must have shape (N, {self.latent_dim}) with N >= 1, got {z.shape}.")
        if not np.all(np.isfinite(z)):
            raise ValueError(f"`{name}` contains NaN or infinite values.")
        return z

    def decode_logits(self, z):
        return self.decoder(ops.convert_to_tensor(self.check_latent(z)), training=False)

    def decode(self, z):
        """Mean of p(x|z) (Bernoulli probabilities) for latent codes `z` (N, D), as a NumPy array."""
        return ops.convert_to_numpy(ops.sigmoid(self.decode_logits(z)))

    # The same verbs on every model: `encode(x)`, `reconstruct(x)`, `generate(n)`, `interpolate(a, b, steps)`.
    def generate(self, n, seed=None):
        """Decode `n` draws from the prior: (n, ...) like `decode` (images: pixel probabilities (n, H, W[, C]));
        `seed` makes the draws reproducible."""
        n = check_int(n, "n")
        return self.decode(ops.convert_to_numpy(self.prior.sample(n, self.latent_dim, seed=seed)))

    def sample(self, n, seed=None):
        """An alias of `generate(n)` (the name of earlier versions)."""
        return self.generate(n, seed=seed)

    def reconstruct(self, x):
        """Decode the posterior means of `x`."""
        return self.decode(self.encode(x))

    def interpolate(self, a, b, steps=11):
        """Decode `steps` points on the line between the posterior means of two single examples `a` and `b` (both
        ends included): (steps, ...) like `decode`.

        Args:
            a, b: one example each (for images an (H, W) or (H, W, C) array, not a batch).
            steps: number of points, >= 2.
        """
        steps = check_int(steps, "steps", minimum=2)
        ends = self.interpolation_ends(a, b)
        t = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
        return self.decode((1 - t) * ends[0] + t * ends[1])

    def interpolation_ends(self, a, b):
        """The posterior means (2, D) of the single examples `a` and `b` of `interpolate`."""
        arrays = []
        for name, example in (("a", a), ("b", b)):
            try:
                arrays.append(np.asarray(example))
            except ValueError as e:
                raise ValueError(f"`{name}` must be one example (an array): {e}") from None
        if arrays[0].shape != arrays[1].shape:
            raise ValueError(f"`a` and `b` must have the same shape, got {arrays[0].shape} and {arrays[1].shape}.")
        if arrays[0].dtype != arrays[1].dtype:
            arrays = [array.astype(np.result_type(*arrays)) for array in arrays]
        return self.encode(np.stack(arrays))

    def with_posterior(self, posterior):
        """Warm start: a new model of the same class and configuration with another Gaussian posterior
        ("isotropic" <-> "diagonal", or any posterior name / layer with the same mean head), carrying over every
        trained weight: encoder, decoder, posterior mean head, objective step and optimiser-free state.

        From isotropic to diagonal the shared log-variance head is copied into every unit; from diagonal to
        isotropic the per-unit heads are averaged. The new model is compiled with the default optimiser.
        """
        if not self.built:
            raise ValueError("`with_posterior` needs a built (trained) model; fit it first.")
        config = self.get_config()
        config["posterior"] = posterior
        new = type(self).from_config(config)
        new.build_from_config(self.get_build_config())
        for name in self.warm_start_layers:
            getattr(new, name).set_weights(getattr(self, name).get_weights())
        new.objective.step.assign(ops.convert_to_numpy(self.objective.step))  # a copy: JAX steps donate buffers
        new.posterior.mean_dense.set_weights(self.posterior.mean_dense.get_weights())
        old_head = getattr(self.posterior, "log_var_dense", None)
        new_head = getattr(new.posterior, "log_var_dense", None)
        if old_head is not None and new_head is not None:
            kernel, bias = old_head.get_weights()
            units = new_head.units
            if kernel.shape[1] != units:  # 1 -> D: copy the shared variance; D -> 1: average the units
                kernel = np.repeat(kernel, units, axis=1) if kernel.shape[1] == 1 else kernel.mean(1, keepdims=True)
                bias = np.repeat(bias, units) if bias.shape[0] == 1 else bias.mean(keepdims=True)
            new_head.set_weights([kernel, bias])
        return new

    # ------------------------------------------------------------------------------------------ input checking
    def check_inputs(self, x, name):
        """Raise a clear ValueError for inputs the model cannot use; subclasses check shapes and values."""
        if x is None:
            raise ValueError(f"`{name}` is None; pass an array, a tf.data.Dataset, a PyDataset or a generator.")
        if is_dataset(x) and int(x.cardinality()) == 0:
            raise ValueError(f"`{name}` is an empty dataset.")

    def check_loop_arguments(self, kwargs):
        """Raise a ValueError for a `batch_size`, `epochs` or `validation_data` in `fit`/`evaluate`/`predict`
        keyword arguments that Keras would reject obscurely or accept silently (`batch_size=-1`)."""
        check_int(kwargs.get("batch_size"), "batch_size", allow_none=True)
        if "epochs" in kwargs:
            check_int(kwargs["epochs"], "epochs")
        validation_data = kwargs.get("validation_data")
        if isinstance(validation_data, tuple):  # (x_val,), (x_val, y_val) or (x_val, y_val, sample_weight)
            validation_data = validation_data[0] if validation_data else None
            if validation_data is None:
                raise ValueError("`validation_data` is an empty tuple.")
        if validation_data is not None:
            self.check_inputs(validation_data, "validation_data")

    def fit(self, x=None, y=None, **kwargs):
        self.check_inputs(x, "x")
        self.check_loop_arguments(kwargs)
        if is_batched(x):
            kwargs.setdefault("shuffle", False)  # a dataset is shuffled by its pipeline; Keras would warn
        shape = None if self.built else inputs_shape(x)
        if shape is not None:  # TensorFlow builds lazily, but callbacks (BackupAndRestore) need the weights at once
            self.build(shape)
        if "validation_data" in kwargs:
            kwargs["validation_data"] = as_keras_stream(kwargs["validation_data"])
        # Several JAX processes: each feeds its slice of every global batch (arrays; Keras shards tf.data).
        with distribute.process_inputs(x, kwargs) as (inputs, fit_kwargs):
            self.objective.plan(planned_steps(inputs, fit_kwargs))  # schedules left to the run (`anneal_steps=None`)
            return super().fit(as_keras_stream(inputs), y, **fit_kwargs)

    def evaluate(self, x=None, y=None, **kwargs):
        self.check_inputs(x, "x")
        self.check_loop_arguments(kwargs)
        return super().evaluate(as_keras_stream(x), y, **kwargs)

    def predict(self, x, **kwargs):
        self.check_inputs(x, "x")
        self.check_loop_arguments(kwargs)
        return super().predict(as_keras_stream(x), **kwargs)

    # ----------------------------------------------------------------------------------------------- saving
    def seed_states(self):
        """The state variables of every `SeedGenerator` in the model (posterior and prior sampling, word dropout,
        Monte Carlo objectives, Keras layers), in layer order. Saved with the weights (`.keras`, `.weights.h5`,
        `BackupAndRestore`), so that a restored model draws the noise the original would have drawn next."""
        return [generator.state for layer in self._flatten_layers() for generator in capabilities.seed_generators(layer)]

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for i, state in enumerate(self.seed_states()):
            store[f"seed_state_{i}"] = state

    def load_own_variables(self, store):
        names = list(store.keys())
        keys = [key for key in names if key.startswith("seed_state_")]
        super().load_own_variables({key: store[key] for key in names if key not in keys})
        states = self.seed_states()
        if keys and len(keys) != len(states):  # files written before seed states were saved have none
            raise ValueError(f"The file holds {len(keys)} seed states, the model has {len(states)} seed generators.")
        for i, state in enumerate(states[: len(keys)]):
            state.assign(np.asarray(store[f"seed_state_{i}"]))

    def compile_from_config(self, config):
        """Compile a loaded model as it was saved, for this backend: a backend's own optimiser class (PyTorch's
        `torch_adam.Adam`) becomes the public one of the same name, and `jit_compile` returns to "auto" (the saving
        backend's default, which would turn off jit on JAX or turn on `torch.compile`)."""
        config = {key: value for key, value in config.items() if key != "jit_compile"}
        optimizer = config.get("optimizer")
        if isinstance(optimizer, dict) and str(optimizer.get("module")).startswith("keras.src.backend."):
            config["optimizer"] = {**optimizer, "module": "keras.optimizers", "registered_name": None}
        super().compile_from_config(config)

    def save(self, filepath, overwrite=True, **kwargs):
        """`keras.Model.save`, atomic: written to a temporary `*.tmp.keras` file in the same folder, then renamed
        over `filepath`, so an interrupted or failed save leaves the previous file intact (`kvae.io.save_model`)."""
        from kvae.io import save_model

        return save_model(self, filepath, overwrite=overwrite, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "latent_dim": self.latent_dim,
                "posterior": keras.saving.serialize_keras_object(self.posterior),
                "prior": keras.saving.serialize_keras_object(self.prior),
                "objective": keras.saving.serialize_keras_object(self.objective),
                "learning_rate": self.learning_rate,
                "seed": self.seed,
            }
        )
        if type(self) is VAE:
            config["encoder"] = keras.saving.serialize_keras_object(self.encoder)
            config["decoder"] = keras.saving.serialize_keras_object(self.decoder)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


class PosteriorNetwork(keras.Model):
    """inputs -> (posterior mean, posterior log-variance) with the layers of a `VAE` (see `VAE.posterior_network`)."""

    def __init__(self, vae, **kwargs):
        super().__init__(**kwargs)
        object.__setattr__(self, "vae", vae)  # not tracked: the VAE owns the layers

    def call(self, inputs):
        vae = self.vae
        return vae.posterior.parameters(vae.encoder(vae.preprocess(inputs), training=False), training=False)

    @property
    def trainable_variables(self):
        return self.vae.trainable_variables

    @property
    def non_trainable_variables(self):
        return self.vae.non_trainable_variables

    @property
    def variables(self):
        return self.vae.variables


def repeat_batch(x, k):
    """(B, ...) -> (k * B, ...), sample-major, matching `ops.reshape(z, (-1, D))` of samples z (k, B, D)."""
    return ops.tile(x, [k] + [1] * (len(x.shape) - 1))


def build_once(layer, input_shape):
    """Build `layer` unless it already is (sub-layers deserialised from a config come built)."""
    if not layer.built:
        layer.build(input_shape)


SEED_OFFSETS = {"posterior": 0, "prior": 1, "objective": 2}


def part_seed(seed, part):
    """The seed a model with `seed` gives the posterior, prior or objective it builds by name (None stays None)."""
    return None if seed is None else seed + SEED_OFFSETS[part]
