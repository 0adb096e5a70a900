import keras
import numpy as np
from keras import ops

from kvae import objectives, posteriors, priors
from kvae.likelihoods import bernoulli_nll
from kvae.models.batching import is_dataset


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
        if not isinstance(latent_dim, int) or isinstance(latent_dim, bool) or latent_dim <= 0:
            raise ValueError(f"`latent_dim` must be a positive integer, got {latent_dim!r}.")
        if seed is not None and not isinstance(seed, int):
            raise ValueError(f"`seed` must be None or an integer, got {seed!r}.")
        self.latent_dim = latent_dim
        self.seed = seed
        self.learning_rate = self.default_learning_rate if learning_rate is None else float(learning_rate)
        if not self.learning_rate > 0:
            raise ValueError(f"`learning_rate` must be > 0, got {learning_rate!r}.")
        self.encoder = encoder
        self.decoder = decoder
        self.posterior = posteriors.get(posterior, latent_dim, seed=_offset(seed, 0))
        self.prior = priors.get(prior, seed=_offset(seed, 1))
        self.objective = objectives.get(objective, seed=_offset(seed, 2))
        self.compile(optimizer=keras.optimizers.Adam(self.learning_rate))

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
        outputs["logits"] = self.decode_batch(x, z, training=training)
        return outputs

    def decode_batch(self, x, z, training=None):
        """Logits of p(x|z) for preprocessed inputs `x` (B, ...) and codes `z` (B, D) (text decoders read `x`
        as teacher-forcing input)."""
        return self.decoder(z, training=training)

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
        return loss

    # ------------------------------------------------------------------------------------------- using a model
    def encode(self, x, return_log_var=False, batch_size=256):
        """Posterior means (N, D) as a NumPy array; with `return_log_var=True`, `(mean, log_var)`, the
        log-variance broadcast to every unit for the isotropic posterior. Runs as a compiled predict loop."""
        self.check_inputs(x, "x")
        mean, log_var = self.posterior_network().predict(x, batch_size=batch_size, verbose=0)
        return (mean, log_var) if return_log_var else mean

    def posterior_network(self):
        """A `keras.Model` sharing this model's layers that maps inputs to (mean, log_var): its `predict` is
        compiled like the model's (jit on JAX, tf.function on TensorFlow). Not tracked, so it is not saved."""
        network = self.__dict__.get("_posterior_network")
        if network is None:
            network = PosteriorNetwork(self)
            object.__setattr__(self, "_posterior_network", network)  # bypass Keras tracking
        return network

    def decode_logits(self, z):
        z = ops.convert_to_tensor(np.asarray(z, dtype="float32"))
        if len(z.shape) != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(f"`z` must have shape (N, {self.latent_dim}), got {tuple(z.shape)}.")
        return self.decoder(z, training=False)

    def decode(self, z):
        """Mean of p(x|z) (Bernoulli probabilities) for latent codes `z` (N, D), as a NumPy array."""
        return ops.convert_to_numpy(ops.sigmoid(self.decode_logits(z)))

    def sample(self, n):
        """Decode `n` draws from the prior."""
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"`n` must be a positive integer, got {n!r}.")
        return self.decode(ops.convert_to_numpy(self.prior.sample(n, self.latent_dim)))

    def reconstruct(self, x):
        """Decode the posterior means of `x`."""
        return self.decode(self.encode(x))

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
    def _to_tensor(self, batch):
        if isinstance(batch, dict):
            return {k: ops.convert_to_tensor(v) for k, v in batch.items()}
        return ops.convert_to_tensor(batch)

    def check_inputs(self, x, name):
        """Raise a clear ValueError for inputs the model cannot use; subclasses check shapes and values."""
        if x is None:
            raise ValueError(f"`{name}` is None; pass an array or a tf.data.Dataset.")
        if is_dataset(x) and int(x.cardinality()) == 0:
            raise ValueError(f"`{name}` is an empty dataset.")

    def fit(self, x=None, y=None, **kwargs):
        self.check_inputs(x, "x")
        validation_data = kwargs.get("validation_data")
        if validation_data is not None and not isinstance(validation_data, tuple):
            self.check_inputs(validation_data, "validation_data")
        if is_dataset(x):
            kwargs.setdefault("shuffle", False)  # a dataset is shuffled by its pipeline; Keras would warn
        return super().fit(x, y, **kwargs)

    def evaluate(self, x=None, y=None, **kwargs):
        self.check_inputs(x, "x")
        return super().evaluate(x, y, **kwargs)

    def predict(self, x, **kwargs):
        self.check_inputs(x, "x")
        return super().predict(x, **kwargs)

    # ----------------------------------------------------------------------------------------------- saving
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


def _offset(seed, k):
    return None if seed is None else seed + k
