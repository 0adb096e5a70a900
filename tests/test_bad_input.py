"""Bad input at every public entry point: each row is (entry point, bad value, expected exception, words the
message must contain), so a user who passes a wrong type, a wrong shape, empty data, NaN/inf, an unknown name, a
non-positive size, ids from another vocabulary or a corrupted file gets a clear error that names the argument,
never a backend traceback, a silent NaN or a hang.

Backend independent: run under KERAS_BACKEND=tensorflow, jax and torch. One tiny trained TextVAE and ImageVAE per
module (latent 4, one or two batches of 32 examples, one epoch) are shared by every row that needs a model.
"""

import gzip
import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

import kvae
from kvae import metrics, objectives, posteriors, priors
from kvae.datasets import fashion_mnist, snli_sample, text_lines
from kvae.datasets.fashion_mnist import FILES, read_idx
from kvae.tokenizers import WordTokenizer

NAN, INF = float("nan"), float("inf")
TEXT_SIZES = {"latent_dim": 4, "embedding_dim": 8, "hidden_dim": 16, "max_vocabulary": 200}
IMAGE_SIZES = {"latent_dim": 4, "hidden_dims": (16,)}
SENTENCES = ["a man plays a guitar", "two dogs run in the park", "the woman is sleeping", "a child eats an apple"]


def row(entry, bad, call, error, words):
    """One table row: `call` (a lambda, taking the module's model or folder where the table needs one) must raise
    `error` with a message matching `words`."""
    return pytest.param(call, error, words, id=f"{entry}: {bad}")


def images(n=4, size=28, value=0.5, dtype="float32"):
    return np.full((n, size, size), value, dtype=dtype)


def with_nan(x):
    x = np.array(x, dtype="float32")
    x.flat[0] = np.nan
    return x


@pytest.fixture(scope="module")
def text_model():
    keras.utils.set_random_seed(0)
    train, _ = snli_sample(test_size=0)
    model = kvae.TextVAE(**TEXT_SIZES, seed=0)
    model.fit(train[:32], epochs=1, batch_size=32, verbose=0)  # one step: one compiled shape
    return model


@pytest.fixture(scope="module")
def image_model():
    keras.utils.set_random_seed(0)
    (x, _), _ = kvae.datasets.fashion_mnist_sample()
    model = kvae.ImageVAE(**IMAGE_SIZES, seed=0)
    model.fit(x[:64], epochs=1, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def saved_text(text_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "text.keras"
    text_model.save(path)
    return path


# ============================================================================================== constructors
CONSTRUCTORS = [
    # TextVAE
    row("TextVAE", "latent_dim=0", lambda: kvae.TextVAE(latent_dim=0), ValueError, "latent_dim"),
    row("TextVAE", "latent_dim=-3", lambda: kvae.TextVAE(latent_dim=-3), ValueError, "latent_dim"),
    row("TextVAE", "latent_dim=2.5", lambda: kvae.TextVAE(latent_dim=2.5), ValueError, "latent_dim"),
    row("TextVAE", "latent_dim='8'", lambda: kvae.TextVAE(latent_dim="8"), ValueError, "latent_dim"),
    row("TextVAE", "latent_dim=True", lambda: kvae.TextVAE(latent_dim=True), ValueError, "latent_dim"),
    row("TextVAE", "embedding_dim=0", lambda: kvae.TextVAE(embedding_dim=0), ValueError, "embedding_dim"),
    row("TextVAE", "hidden_dim=-1", lambda: kvae.TextVAE(hidden_dim=-1), ValueError, "hidden_dim"),
    row("TextVAE", "hidden_dim=None", lambda: kvae.TextVAE(hidden_dim=None), ValueError, "hidden_dim"),
    row("TextVAE", "max_vocabulary=4", lambda: kvae.TextVAE(max_vocabulary=4), ValueError, "max_vocabulary"),
    row("TextVAE", "max_vocabulary='big'", lambda: kvae.TextVAE(max_vocabulary="big"), ValueError, "max_vocabulary"),
    row("TextVAE", "max_length=0", lambda: kvae.TextVAE(max_length=0), ValueError, "max_length"),
    row("TextVAE", "max_length=2.5", lambda: kvae.TextVAE(max_length=2.5), ValueError, "max_length"),
    row("TextVAE", "word_dropout=1.5", lambda: kvae.TextVAE(word_dropout=1.5), ValueError, "word_dropout"),
    row("TextVAE", "word_dropout=-0.1", lambda: kvae.TextVAE(word_dropout=-0.1), ValueError, "word_dropout"),
    row("TextVAE", "word_dropout=nan", lambda: kvae.TextVAE(word_dropout=NAN), ValueError, "word_dropout"),
    row("TextVAE", "word_dropout='high'", lambda: kvae.TextVAE(word_dropout="high"), ValueError, "word_dropout"),
    row("TextVAE", "decoder='gru'", lambda: kvae.TextVAE(decoder="gru"), ValueError, "decoder"),
    row("TextVAE", "bow_weight=-1", lambda: kvae.TextVAE(bow_weight=-1), ValueError, "bow_weight"),
    row("TextVAE", "bow_weight=inf", lambda: kvae.TextVAE(bow_weight=INF), ValueError, "bow_weight"),
    row("TextVAE", "bow_weight='x'", lambda: kvae.TextVAE(bow_weight="x"), ValueError, "bow_weight"),
    row("TextVAE", "text_key=3", lambda: kvae.TextVAE(text_key=3), ValueError, "text_key"),
    row("TextVAE", "posterior='gaussian'", lambda: kvae.TextVAE(posterior="gaussian"), ValueError, "posterior"),
    row("TextVAE", "prior='uniform'", lambda: kvae.TextVAE(prior="uniform"), ValueError, "prior"),
    row("TextVAE", "objective='kl'", lambda: kvae.TextVAE(objective="kl"), ValueError, "objective"),
    row("TextVAE", "objective=3", lambda: kvae.TextVAE(objective=3), ValueError, "objective"),
    row(
        "TextVAE",
        "posterior layer of another latent_dim",
        lambda: kvae.TextVAE(latent_dim=4, posterior=posteriors.DiagonalGaussian(3)),
        ValueError,
        "latent_dim",
    ),
    row("TextVAE", "learning_rate=0", lambda: kvae.TextVAE(learning_rate=0), ValueError, "learning_rate"),
    row("TextVAE", "learning_rate=nan", lambda: kvae.TextVAE(learning_rate=NAN), ValueError, "learning_rate"),
    row("TextVAE", "learning_rate=inf", lambda: kvae.TextVAE(learning_rate=INF), ValueError, "learning_rate"),
    row("TextVAE", "learning_rate='fast'", lambda: kvae.TextVAE(learning_rate="fast"), ValueError, "learning_rate"),
    row("TextVAE", "seed='0'", lambda: kvae.TextVAE(seed="0"), ValueError, "seed"),
    row("TextVAE", "seed=1.5", lambda: kvae.TextVAE(seed=1.5), ValueError, "seed"),
    row("TextVAE", "seed=True", lambda: kvae.TextVAE(seed=True), ValueError, "seed"),
    row("TextVAE", "vocabulary='abc'", lambda: kvae.TextVAE(vocabulary="abc"), ValueError, "vocabulary"),
    row("TextVAE", "vocabulary with duplicates", lambda: kvae.TextVAE(vocabulary=["a", "a"]), ValueError, "vocabulary"),
    row("TextVAE", "vocabulary of ints", lambda: kvae.TextVAE(vocabulary=[1, 2]), ValueError, "vocabulary"),
    row(
        "TextVAE",
        "vocabulary=a WordTokenizer",
        lambda: kvae.TextVAE(vocabulary=WordTokenizer(["a", "b"])),
        ValueError,
        "vocabulary",
    ),
    row("TextVAE", "unknown keyword", lambda: kvae.TextVAE(latent_size=8), ValueError, "latent_size"),
    row("TextVAE.from_preset", "preset='imdb'", lambda: kvae.TextVAE.from_preset("imdb"), ValueError, "preset"),
    # ImageVAE / AE / VAE
    row("ImageVAE", "latent_dim=0", lambda: kvae.ImageVAE(latent_dim=0), ValueError, "latent_dim"),
    row("ImageVAE", "latent_dim=None", lambda: kvae.ImageVAE(latent_dim=None), ValueError, "latent_dim"),
    row("ImageVAE", "architecture='resnet'", lambda: kvae.ImageVAE(architecture="resnet"), ValueError, "architecture"),
    row("ImageVAE", "hidden_dims=(0,)", lambda: kvae.ImageVAE(hidden_dims=(0,)), ValueError, "hidden_dims"),
    row("ImageVAE", "hidden_dims=(-5, 10)", lambda: kvae.ImageVAE(hidden_dims=(-5, 10)), ValueError, "hidden_dims"),
    row("ImageVAE", "hidden_dims=()", lambda: kvae.ImageVAE(hidden_dims=()), ValueError, "hidden_dims"),
    row("ImageVAE", "hidden_dims=200", lambda: kvae.ImageVAE(hidden_dims=200), ValueError, "hidden_dims"),
    row("ImageVAE", "hidden_dims=(2.5,)", lambda: kvae.ImageVAE(hidden_dims=(2.5,)), ValueError, "hidden_dims"),
    row("ImageVAE", "hidden_dims='abc'", lambda: kvae.ImageVAE(hidden_dims="abc"), ValueError, "hidden_dims"),
    row(
        "ImageVAE",
        "conv hidden_dims=(0,)",
        lambda: kvae.ImageVAE(architecture="conv", hidden_dims=(0,)),
        ValueError,
        "hidden_dims",
    ),
    row("ImageVAE", "activation='nope'", lambda: kvae.ImageVAE(activation="nope"), ValueError, "activation"),
    row("ImageVAE", "image_shape=(28,)", lambda: kvae.ImageVAE(image_shape=(28,)), ValueError, "image_shape"),
    row("ImageVAE", "image_shape=(0, 28)", lambda: kvae.ImageVAE(image_shape=(0, 28)), ValueError, "image_shape"),
    row("ImageVAE", "image_shape='28x28'", lambda: kvae.ImageVAE(image_shape="28x28"), ValueError, "image_shape"),
    row("ImageVAE", "image_shape=(28.5, 28)", lambda: kvae.ImageVAE(image_shape=(28.5, 28)), ValueError, "image_shape"),
    row("ImageVAE", "image_shape=28", lambda: kvae.ImageVAE(image_shape=28), ValueError, "image_shape"),
    row("ImageVAE", "input_key=None", lambda: kvae.ImageVAE(input_key=None), ValueError, "input_key"),
    row("ImageVAE", "learning_rate=-1", lambda: kvae.ImageVAE(learning_rate=-1), ValueError, "learning_rate"),
    row("ImageVAE", "posterior=3", lambda: kvae.ImageVAE(posterior=3), ValueError, "posterior"),
    row(
        "ImageVAE",
        "DensityGap(marginal=True) with a mixture prior",
        lambda: kvae.ImageVAE(prior="mog", objective=objectives.DensityGap(marginal=True)),
        ValueError,
        "marginal=False",
    ),
    row(
        "ImageVAE",
        "FreeBits(per_dimension=True) with a mixture prior",
        lambda: kvae.ImageVAE(prior="mog", objective="free_bits"),
        ValueError,
        "per_dimension",
    ),
    row("AE", "latent_dim=0", lambda: kvae.AE(latent_dim=0), ValueError, "latent_dim"),
    row("AE", "hidden_dims=(0,)", lambda: kvae.AE(hidden_dims=(0,)), ValueError, "hidden_dims"),
    row("VAE", "no encoder", lambda: kvae.VAE(decoder=keras.layers.Dense(4)), ValueError, "encoder"),
    row("VAE", "no decoder", lambda: kvae.VAE(encoder=keras.layers.Dense(4)), ValueError, "decoder"),
    row(
        "VAE",
        "encoder='mlp'",
        lambda: kvae.VAE(encoder="mlp", decoder=keras.layers.Dense(4)),
        ValueError,
        "encoder",
    ),
    # posteriors
    row("IsotropicGaussian", "latent_dim=0", lambda: posteriors.IsotropicGaussian(0), ValueError, "latent_dim"),
    row("DiagonalGaussian", "latent_dim=-1", lambda: posteriors.DiagonalGaussian(-1), ValueError, "latent_dim"),
    row("DiagonalGaussian", "latent_dim='4'", lambda: posteriors.DiagonalGaussian("4"), ValueError, "latent_dim"),
    row("DiagonalGaussian", "seed='x'", lambda: posteriors.DiagonalGaussian(4, seed="x"), ValueError, "seed"),
    row("BatchNormGaussian", "gamma=0", lambda: posteriors.BatchNormGaussian(4, gamma=0), ValueError, "gamma"),
    row("BatchNormGaussian", "gamma=-1", lambda: posteriors.BatchNormGaussian(4, gamma=-1), ValueError, "gamma"),
    row("BatchNormGaussian", "gamma=inf", lambda: posteriors.BatchNormGaussian(4, gamma=INF), ValueError, "gamma"),
    row("BatchNormGaussian", "gamma='x'", lambda: posteriors.BatchNormGaussian(4, gamma="x"), ValueError, "gamma"),
    row("DeltaGaussian", "delta=0", lambda: posteriors.DeltaGaussian(4, delta=0), ValueError, "delta"),
    row("DeltaGaussian", "delta=nan", lambda: posteriors.DeltaGaussian(4, delta=NAN), ValueError, "delta"),
    row("DeltaGaussian", "delta=inf", lambda: posteriors.DeltaGaussian(4, delta=INF), ValueError, "delta"),
    row("DeltaGaussian", "delta='x'", lambda: posteriors.DeltaGaussian(4, delta="x"), ValueError, "delta"),
    row("DeltaGaussian", "latent_dim=0", lambda: posteriors.DeltaGaussian(0), ValueError, "latent_dim"),
    row("VonMisesFisher", "latent_dim=1", lambda: posteriors.VonMisesFisher(1), ValueError, "latent_dim"),
    row("VonMisesFisher", "kappa=0", lambda: posteriors.VonMisesFisher(4, kappa=0), ValueError, "kappa"),
    row("VonMisesFisher", "kappa=inf", lambda: posteriors.VonMisesFisher(4, kappa=INF), ValueError, "kappa"),
    row("VonMisesFisher", "kappa='5'", lambda: posteriors.VonMisesFisher(4, kappa="5"), ValueError, "kappa"),
    row("Deterministic", "latent_dim=0", lambda: posteriors.Deterministic(0), ValueError, "latent_dim"),
    row("posteriors.get", "unknown name", lambda: posteriors.get("gaussian", 4), ValueError, "posterior"),
    # priors
    row(
        "MixtureOfGaussians", "components=0", lambda: priors.MixtureOfGaussians(components=0), ValueError, "components"
    ),
    row(
        "MixtureOfGaussians",
        "components=2.5",
        lambda: priors.MixtureOfGaussians(components=2.5),
        ValueError,
        "components",
    ),
    row("MixtureOfGaussians", "seed='x'", lambda: priors.MixtureOfGaussians(seed="x"), ValueError, "seed"),
    row("StandardNormal", "seed=1.5", lambda: priors.StandardNormal(seed=1.5), ValueError, "seed"),
    row("HypersphericalUniform", "seed='x'", lambda: priors.HypersphericalUniform(seed="x"), ValueError, "seed"),
    row("priors.get", "unknown name", lambda: priors.get("uniform"), ValueError, "prior"),
    row("StandardNormal.sample", "n=0", lambda: priors.StandardNormal().sample(0, 4), ValueError, "`n`"),
    row("StandardNormal.sample", "n=-2", lambda: priors.StandardNormal().sample(-2, 4), ValueError, "`n`"),
    row(
        "StandardNormal.sample", "latent_dim=0", lambda: priors.StandardNormal().sample(2, 0), ValueError, "latent_dim"
    ),
    row(
        "HypersphericalUniform.sample",
        "latent_dim=1",
        lambda: priors.HypersphericalUniform().sample(2, 1),
        ValueError,
        "latent_dim",
    ),
    row("HypersphericalUniform.sample", "n=0", lambda: priors.HypersphericalUniform().sample(0, 3), ValueError, "`n`"),
    row(
        "MixtureOfGaussians.sample",
        "not built",
        lambda: priors.MixtureOfGaussians().sample(2, 4),
        ValueError,
        "not built",
    ),
    row("MixtureOfGaussians.sample", "n=2.5", lambda: priors.MixtureOfGaussians().sample(2.5, 4), ValueError, "`n`"),
    # objectives
    row("ELBO", "seed='x'", lambda: objectives.ELBO(seed="x"), ValueError, "seed"),
    row("Beta", "beta=-1", lambda: objectives.Beta(beta=-1), ValueError, "beta"),
    row("Beta", "beta=inf", lambda: objectives.Beta(beta=INF), ValueError, "beta"),
    row("Beta", "beta='1'", lambda: objectives.Beta(beta="1"), ValueError, "beta"),
    row("Beta", "annealing='cosine'", lambda: objectives.Beta(annealing="cosine"), ValueError, "annealing"),
    row(
        "Beta",
        "anneal_steps=0",
        lambda: objectives.Beta(annealing="linear", anneal_steps=0),
        ValueError,
        "anneal_steps",
    ),
    row(
        "Beta",
        "anneal_steps=2.5",
        lambda: objectives.Beta(annealing="linear", anneal_steps=2.5),
        ValueError,
        "anneal_steps",
    ),
    row("Beta", "ratio=0", lambda: objectives.Beta(annealing="cyclic", ratio=0), ValueError, "ratio"),
    row("Beta", "ratio=1.5", lambda: objectives.Beta(annealing="cyclic", ratio=1.5), ValueError, "ratio"),
    row("Beta", "cycles=0", lambda: objectives.Beta(annealing="cyclic", cycles=0), ValueError, "cycles"),
    row("Beta", "cycles=2.5", lambda: objectives.Beta(annealing="cyclic", cycles=2.5), ValueError, "cycles"),
    row("Capacity", "c=-1", lambda: objectives.Capacity(c=-1), ValueError, "`c`"),
    row("Capacity", "c=inf", lambda: objectives.Capacity(c=INF), ValueError, "`c`"),
    row("Capacity", "c='5'", lambda: objectives.Capacity(c="5"), ValueError, "`c`"),
    row("Capacity", "beta=0", lambda: objectives.Capacity(beta=0), ValueError, "beta"),
    row("Capacity", "beta=nan", lambda: objectives.Capacity(beta=NAN), ValueError, "beta"),
    row("Capacity", "anneal_steps=-1", lambda: objectives.Capacity(anneal_steps=-1), ValueError, "anneal_steps"),
    row("Capacity", "anneal_steps=2.5", lambda: objectives.Capacity(anneal_steps=2.5), ValueError, "anneal_steps"),
    row("Capacity", "anneal_steps='100'", lambda: objectives.Capacity(anneal_steps="100"), ValueError, "anneal_steps"),
    row("FreeBits", "target=-0.1", lambda: objectives.FreeBits(target=-0.1), ValueError, "target"),
    row("FreeBits", "target=inf", lambda: objectives.FreeBits(target=INF), ValueError, "target"),
    row("FreeBits", "target='x'", lambda: objectives.FreeBits(target="x"), ValueError, "target"),
    row("DensityGap", "samples=0", lambda: objectives.DensityGap(samples=0), ValueError, "samples"),
    row("DensityGap", "samples=True", lambda: objectives.DensityGap(samples=True), ValueError, "samples"),
    row("DensityGap", "samples=2.5", lambda: objectives.DensityGap(samples=2.5), ValueError, "samples"),
    row(
        "DensityGap",
        "aggregation_size=0",
        lambda: objectives.DensityGap(aggregation_size=0),
        ValueError,
        "aggregation_size",
    ),
    row(
        "DensityGap",
        "aggregation_size=-2",
        lambda: objectives.DensityGap(aggregation_size=-2),
        ValueError,
        "aggregation_size",
    ),
    row("IWAE", "k=0", lambda: objectives.IWAE(k=0), ValueError, "`k`"),
    row("IWAE", "k=2.5", lambda: objectives.IWAE(k=2.5), ValueError, "`k`"),
    row("IWAE", "k='5'", lambda: objectives.IWAE(k="5"), ValueError, "`k`"),
    row("objectives.get", "unknown name", lambda: objectives.get("kl"), ValueError, "objective"),
    row("objectives.get", "dict without a name", lambda: objectives.get({"c": 5}), ValueError, "objective"),
    # WordTokenizer
    row("WordTokenizer", "max_vocabulary=4", lambda: WordTokenizer(max_vocabulary=4), ValueError, "max_vocabulary"),
    row(
        "WordTokenizer", "max_vocabulary=True", lambda: WordTokenizer(max_vocabulary=True), ValueError, "max_vocabulary"
    ),
    row("WordTokenizer", "max_length=0", lambda: WordTokenizer(max_length=0), ValueError, "max_length"),
    row("WordTokenizer", "max_length=1.5", lambda: WordTokenizer(max_length=1.5), ValueError, "max_length"),
    row("WordTokenizer", "vocabulary='abc'", lambda: WordTokenizer("abc"), ValueError, "vocabulary"),
    row(
        "WordTokenizer", "vocabulary with duplicates", lambda: WordTokenizer(["a", "b", "a"]), ValueError, "vocabulary"
    ),
    row(
        "WordTokenizer",
        "special tokens out of order",
        lambda: WordTokenizer(["<unk>", "<pad>", "<bos>", "<eos>", "a"]),
        ValueError,
        "vocabulary",
    ),
    row("WordTokenizer", "vocabulary of ints", lambda: WordTokenizer([1, 2]), ValueError, "vocabulary"),
    row("WordTokenizer", "vocabulary with bad UTF-8", lambda: WordTokenizer([b"\xff\xfe"]), ValueError, "vocabulary"),
    row("WordTokenizer.build_vocabulary", "[]", lambda: WordTokenizer().build_vocabulary([]), ValueError, "texts"),
    row(
        "WordTokenizer.build_vocabulary",
        "one str",
        lambda: WordTokenizer().build_vocabulary("a b"),
        ValueError,
        "texts",
    ),
    row(
        "WordTokenizer.build_vocabulary", "ints", lambda: WordTokenizer().build_vocabulary([1, 2]), ValueError, "texts"
    ),
    row("WordTokenizer.build_vocabulary", "None", lambda: WordTokenizer().build_vocabulary(None), ValueError, "texts"),
    row(
        "WordTokenizer.build_vocabulary",
        "blank",
        lambda: WordTokenizer().build_vocabulary(["", " "]),
        ValueError,
        "texts",
    ),
    row(
        "WordTokenizer.build_vocabulary",
        "bad UTF-8",
        lambda: WordTokenizer().build_vocabulary([b"caf\xe9 au lait"]),
        ValueError,
        "texts",
    ),
    row(
        "WordTokenizer.build_vocabulary",
        "infinite dataset",
        lambda: WordTokenizer().build_vocabulary(tf.data.Dataset.from_tensor_slices(["a b"]).repeat()),
        ValueError,
        "texts.*infinite",
    ),
    row(
        "WordTokenizer.make_dataset",
        "infinite dataset",
        lambda: WordTokenizer(["a"]).make_dataset(tf.data.Dataset.from_tensor_slices(["a"]).repeat()),
        ValueError,
        "texts.*infinite",
    ),
    row(
        "WordTokenizer.build_vocabulary",
        "dataset of ints",
        lambda: WordTokenizer().build_vocabulary(tf.data.Dataset.range(3)),
        ValueError,
        "texts",
    ),
    row(
        "WordTokenizer.texts_to_ids",
        "no vocabulary",
        lambda: WordTokenizer().texts_to_ids(["a"]),
        ValueError,
        "vocabulary",
    ),
    row("WordTokenizer.texts_to_ids", "[None]", lambda: WordTokenizer(["a"]).texts_to_ids([None]), ValueError, "texts"),
    row("WordTokenizer.texts_to_ids", "[]", lambda: WordTokenizer(["a"]).texts_to_ids([]), ValueError, "texts"),
    row(
        "WordTokenizer.texts_to_ids",
        "bad UTF-8",
        lambda: WordTokenizer(["a"]).texts_to_ids([b"\xff"]),
        ValueError,
        "texts",
    ),
    row(
        "WordTokenizer.ids_to_texts",
        "id >= size",
        lambda: WordTokenizer(["a"]).ids_to_texts([[2, 99]]),
        ValueError,
        "ids",
    ),
    row(
        "WordTokenizer.ids_to_texts", "id < 0", lambda: WordTokenizer(["a"]).ids_to_texts([[2, -1]]), ValueError, "ids"
    ),
    row(
        "WordTokenizer.ids_to_texts",
        "float ids",
        lambda: WordTokenizer(["a"]).ids_to_texts([[0.5, 1.5]]),
        ValueError,
        "ids",
    ),
    row(
        "WordTokenizer.ids_to_texts",
        "3-D ids",
        lambda: WordTokenizer(["a"]).ids_to_texts(np.zeros((2, 2, 2), "int32")),
        ValueError,
        "ids",
    ),
    row(
        "WordTokenizer.make_dataset",
        "batch_size=0",
        lambda: WordTokenizer(["a"]).make_dataset(["a"], batch_size=0),
        ValueError,
        "batch_size",
    ),
    row(
        "WordTokenizer.make_dataset",
        "pad_to_multiple_of=-8",
        lambda: WordTokenizer(["a"]).make_dataset(["a"], pad_to_multiple_of=-8),
        ValueError,
        "pad_to_multiple_of",
    ),
    row("WordTokenizer.make_dataset", "[]", lambda: WordTokenizer(["a"]).make_dataset([]), ValueError, "texts"),
    row(
        "WordTokenizer.tf_tokenize",
        "2-D strings",
        lambda: WordTokenizer(["a"]).tf_tokenize(tf.constant([["a"]])),
        ValueError,
        "strings",
    ),
    # create_model
    row("create_model", "name='gan'", lambda: kvae.create_model("gan"), ValueError, "model"),
    row("create_model", "name=None", lambda: kvae.create_model(None), ValueError, "model"),
    row(
        "create_model",
        "unknown objective name",
        lambda: kvae.create_model("image_vae", objective={"name": "nope"}),
        ValueError,
        "objective",
    ),
    row(
        "create_model",
        "objective c=-1",
        lambda: kvae.create_model("image_vae", objective={"name": "capacity", "c": -1}),
        ValueError,
        "`c`",
    ),
    row(
        "create_model",
        "unknown objective option",
        lambda: kvae.create_model("image_vae", objective={"name": "capacity", "bogus": 1}),
        ValueError,
        "bogus",
    ),
    row(
        "create_model",
        "objective dict without a name",
        lambda: kvae.create_model("image_vae", objective={"c": 5}),
        ValueError,
        "objective",
    ),
    row(
        "create_model",
        "prior components=0",
        lambda: kvae.create_model("image_vae", prior={"name": "mog", "components": 0}),
        ValueError,
        "components",
    ),
    row(
        "create_model",
        "posterior as a dict",
        lambda: kvae.create_model("image_vae", posterior={"name": "diagonal"}),
        ValueError,
        "posterior",
    ),
    row(
        "create_model",
        "posterior='nope'",
        lambda: kvae.create_model("text_vae", posterior="nope"),
        ValueError,
        "posterior",
    ),
    row("create_model", "latent_dim=0", lambda: kvae.create_model("text_vae", latent_dim=0), ValueError, "latent_dim"),
    row("create_model", "unknown keyword", lambda: kvae.create_model("image_vae", latent=3), ValueError, "latent"),
    row(
        "create_model",
        "density gap marginal with mog",
        lambda: kvae.create_model("image_vae", prior="mog", objective={"name": "density_gap", "marginal": True}),
        ValueError,
        "marginal=False",
    ),
    # data sets and callbacks that validate on construction
    row("snli_sample", "test_size=-1", lambda: snli_sample(test_size=-1), ValueError, "test_size"),
    row("snli_sample", "test_size=10001", lambda: snli_sample(test_size=10001), ValueError, "test_size"),
    row("snli_sample", "test_size=2.5", lambda: snli_sample(test_size=2.5), TypeError, "test_size"),
    row("snli_sample", "test_size='100'", lambda: snli_sample(test_size="100"), TypeError, "test_size"),
    row("snli_sample", "test_size=True", lambda: snli_sample(test_size=True), TypeError, "test_size"),
    row("snli_sample", "seed='x'", lambda: snli_sample(seed="x"), TypeError, "seed"),
    row("snli_sample", "seed=-1", lambda: snli_sample(seed=-1), ValueError, "seed"),
    row("LatentMetricsCallback", "None", lambda: metrics.LatentMetricsCallback(None), ValueError, "validation_data"),
    row("LatentMetricsCallback", "()", lambda: metrics.LatentMetricsCallback(()), ValueError, "validation_data"),
    row("LatentMetricsCallback", "every=0", lambda: metrics.LatentMetricsCallback([0], every=0), ValueError, "every"),
    row(
        "LatentMetricsCallback",
        "samples=0",
        lambda: metrics.LatentMetricsCallback([0], samples=0),
        ValueError,
        "samples",
    ),
    row(
        "LatentMetricsCallback",
        "threshold=-1",
        lambda: metrics.LatentMetricsCallback([0], threshold=-1),
        ValueError,
        "threshold",
    ),
    row("LatentMetricsCallback", "seed=-1", lambda: metrics.LatentMetricsCallback([0], seed=-1), ValueError, "seed"),
]


@pytest.mark.parametrize("call, error, words", CONSTRUCTORS)
def test_constructors_and_functions(call, error, words):
    with pytest.raises(error, match=words):
        call()


# ================================================================================================= metrics
M2 = np.zeros((3, 2))
METRICS = [
    row("kl", "1-D mean", lambda: metrics.kl(np.zeros(3), np.zeros(3)), ValueError, "mean"),
    row("kl", "NaN mean", lambda: metrics.kl(with_nan(M2), M2), ValueError, "mean"),
    row("kl", "inf log_var", lambda: metrics.kl(M2, np.full((3, 2), INF)), ValueError, "log_var"),
    row("kl", "log_var=1e3", lambda: metrics.kl(M2, np.full((3, 2), 1e3)), ValueError, "log_var"),
    row("kl", "log_var of another shape", lambda: metrics.kl(M2, np.zeros((3, 3))), ValueError, "log_var"),
    row("kl", "strings", lambda: metrics.kl([["a", "b"]], [["a", "b"]]), ValueError, "mean"),
    row("kl", "empty", lambda: metrics.kl(np.zeros((0, 2)), np.zeros((0, 2))), ValueError, "mean"),
    row("kl", "None", lambda: metrics.kl(None, None), ValueError, "mean"),
    row("mutual_information", "seed=-1", lambda: metrics.mutual_information(M2, M2, seed=-1), ValueError, "seed"),
    row("mutual_information", "seed=1.5", lambda: metrics.mutual_information(M2, M2, seed=1.5), ValueError, "seed"),
    row(
        "mutual_information",
        "chunk_size=0",
        lambda: metrics.mutual_information(M2, M2, chunk_size=0),
        ValueError,
        "chunk_size",
    ),
    row(
        "mutual_information", "NaN log_var", lambda: metrics.mutual_information(M2, with_nan(M2)), ValueError, "log_var"
    ),
    row("active_units", "threshold=-1", lambda: metrics.active_units(M2, threshold=-1), ValueError, "threshold"),
    row("active_units", "threshold=nan", lambda: metrics.active_units(M2, threshold=NAN), ValueError, "threshold"),
    row("active_units", "threshold='0.1'", lambda: metrics.active_units(M2, threshold="0.1"), ValueError, "threshold"),
    row("active_units", "3-D means", lambda: metrics.active_units(np.zeros((2, 2, 2))), ValueError, "means"),
    row("active_units", "empty means", lambda: metrics.active_units(np.zeros((0, 4))), ValueError, "means"),
    row("active_units", "inf means", lambda: metrics.active_units(np.full((2, 2), INF)), ValueError, "means"),
    row("active_units", "ragged means", lambda: metrics.active_units([[0.0, 1.0], [2.0]]), ValueError, "means"),
    row(
        "unit_variances",
        "complex means",
        lambda: metrics.unit_variances(np.zeros((2, 2), complex)),
        ValueError,
        "means",
    ),
    row("consistent_units", "samples=0", lambda: metrics.consistent_units(M2, M2, samples=0), ValueError, "samples"),
    row(
        "consistent_units",
        "threshold=-1",
        lambda: metrics.consistent_units(M2, M2, threshold=-1),
        ValueError,
        "threshold",
    ),
    row(
        "consistent_units",
        "log_var (2, 2)",
        lambda: metrics.consistent_units(M2, np.zeros((2, 2))),
        ValueError,
        "log_var",
    ),
    row(
        "posterior_shape",
        "one example",
        lambda: metrics.posterior_shape(np.zeros((1, 2)), np.zeros((1, 2))),
        ValueError,
        "mean",
    ),
    row(
        "posterior_shape",
        "samples_per_example=0",
        lambda: metrics.posterior_shape(M2, M2, samples_per_example=0),
        ValueError,
        "samples_per_example",
    ),
    row("bleu", "[] corpora", lambda: metrics.bleu([], []), ValueError, "references"),
    row("bleu", "mismatched lengths", lambda: metrics.bleu(["a b"], ["a b", "c"]), ValueError, "hypotheses"),
    row("bleu", "n=0", lambda: metrics.bleu(["a"], ["a"], n=0), ValueError, "`n`"),
    row("bleu", "n=2.5", lambda: metrics.bleu(["a"], ["a"], n=2.5), ValueError, "`n`"),
    row("bleu", "one str", lambda: metrics.bleu("a b", "a b"), ValueError, "references"),
    row("bleu", "bytes sentence", lambda: metrics.bleu(["a"], [b"a"]), ValueError, "hypotheses"),
    row("bleu", "int sentence", lambda: metrics.bleu(["a"], [5]), ValueError, "hypotheses"),
    row("bleu", "token with a space", lambda: metrics.bleu([["a b"]], [["a"]]), ValueError, "references"),
    row("bleu", "None", lambda: metrics.bleu(None, ["a"]), ValueError, "references"),
    row("rouge", "n=0", lambda: metrics.rouge(["a"], ["a"], n=0), ValueError, "`n`"),
    row("rouge", "n=10", lambda: metrics.rouge(["a"], ["a"], n=10), ValueError, "`n`"),
    row("rouge", "n='x'", lambda: metrics.rouge(["a"], ["a"], n="x"), ValueError, "`n`"),
    row("rouge", "[] corpora", lambda: metrics.rouge([], []), ValueError, "references"),
    row("rouge", "mismatched lengths", lambda: metrics.rouge(["a"], ["a", "b"]), ValueError, "hypotheses"),
    row("log_likelihood", "model='vae'", lambda: metrics.log_likelihood("vae", images()), ValueError, "model"),
    row("evaluate_latent", "model=object()", lambda: metrics.evaluate_latent(object(), images()), ValueError, "model"),
]


@pytest.mark.parametrize("call, error, words", METRICS)
def test_metrics(call, error, words):
    with pytest.raises(error, match=words):
        call()


# ============================================================================================ a TextVAE's methods
def ids_beyond(m):
    """Ids from a larger vocabulary (another model's tokenizer): one id == this model's vocabulary size."""
    return np.array([[2, m.tokenizer.vocabulary_size, 3]])


TEXT = [
    # fit
    row("TextVAE.fit", "None", lambda m: m.fit(None), ValueError, "`x`"),
    row("TextVAE.fit", "[]", lambda m: m.fit([]), ValueError, "`x`"),
    row("TextVAE.fit", "empty array", lambda m: m.fit(np.array([])), ValueError, "`x`"),
    row("TextVAE.fit", "str and int mixed", lambda m: m.fit(["a cat", 3]), ValueError, "`x`"),
    row("TextVAE.fit", "2-D array of str", lambda m: m.fit(np.array([["a", "b"]])), ValueError, "`x`"),
    row("TextVAE.fit", "ids of another vocabulary", lambda m: m.fit(ids_beyond(m)), ValueError, "`x`.*vocabulary"),
    row("TextVAE.fit", "negative ids", lambda m: m.fit(np.array([[2, -1, 3]])), ValueError, "`x`.*vocabulary"),
    row("TextVAE.fit", "1-D ids", lambda m: m.fit(np.array([2, 5, 3])), ValueError, "`x`"),
    row("TextVAE.fit", "float array", lambda m: m.fit(np.full((2, 4), 0.5)), ValueError, "`x`"),
    row("TextVAE.fit", "NaN ids", lambda m: m.fit(np.array([[2.0, NAN, 3.0]])), ValueError, "`x`"),
    row("TextVAE.fit", "dict without text key", lambda m: m.fit({"sentence": SENTENCES}), ValueError, "`x`.*text"),
    row("TextVAE.fit", "int", lambda m: m.fit(42), ValueError, "`x`"),
    row("TextVAE.fit", "bad UTF-8 bytes", lambda m: m.fit([b"caf\xe9"]), ValueError, "`x`.*UTF-8"),
    row(
        "TextVAE.fit",
        "empty dataset",
        lambda m: m.fit(tf.data.Dataset.from_tensor_slices(tf.constant([], tf.string))),
        ValueError,
        "`x`.*empty",
    ),
    row(
        "TextVAE.fit",
        "infinite dataset",
        lambda m: m.fit(tf.data.Dataset.from_tensor_slices(SENTENCES).repeat()),
        ValueError,
        "`x`.*infinite",
    ),
    row(
        "TextVAE.fit",
        "dataset of floats",
        lambda m: m.fit(tf.data.Dataset.from_tensor_slices(np.zeros((4, 3), "float32")).batch(2)),
        ValueError,
        "`x`",
    ),
    row(
        "TextVAE.fit",
        "dataset of 1-D id rows",
        lambda m: m.fit(tf.data.Dataset.from_tensor_slices(np.zeros((4,), "int32")).batch(2)),
        ValueError,
        "`x`",
    ),
    row(
        "TextVAE.fit",
        "validation_data=[]",
        lambda m: m.fit(SENTENCES, validation_data=[]),
        ValueError,
        "validation_data",
    ),
    row(
        "TextVAE.fit",
        "validation ids of another vocabulary",
        lambda m: m.fit(SENTENCES, validation_data=ids_beyond(m)),
        ValueError,
        "validation_data",
    ),
    row("TextVAE.fit", "batch_size=0", lambda m: m.fit(SENTENCES, batch_size=0), ValueError, "batch_size"),
    row("TextVAE.fit", "batch_size=-4", lambda m: m.fit(SENTENCES, batch_size=-4), ValueError, "batch_size"),
    row("TextVAE.fit", "batch_size='32'", lambda m: m.fit(SENTENCES, batch_size="32"), ValueError, "batch_size"),
    row("TextVAE.fit", "epochs=0", lambda m: m.fit(SENTENCES, epochs=0), ValueError, "epochs"),
    row("TextVAE.fit", "epochs=1.5", lambda m: m.fit(SENTENCES, epochs=1.5), ValueError, "epochs"),
    # encode
    row("TextVAE.encode", "None", lambda m: m.encode(None), ValueError, "texts"),
    row("TextVAE.encode", "[]", lambda m: m.encode([]), ValueError, "texts"),
    row(
        "TextVAE.encode",
        "ids of another vocabulary",
        lambda m: m.encode(ids_beyond(m)),
        ValueError,
        "texts.*vocabulary",
    ),
    row("TextVAE.encode", "3-D ids", lambda m: m.encode(np.zeros((1, 2, 3), "int32")), ValueError, "texts"),
    row("TextVAE.encode", "a WordTokenizer", lambda m: m.encode(m.tokenizer), ValueError, "texts"),
    row("TextVAE.encode", "bad UTF-8 bytes", lambda m: m.encode([b"\xff"]), ValueError, "texts.*UTF-8"),
    row("TextVAE.encode", "batch_size=0", lambda m: m.encode(SENTENCES, batch_size=0), ValueError, "batch_size"),
    row("TextVAE.encode", "batch_size=2.5", lambda m: m.encode(SENTENCES, batch_size=2.5), ValueError, "batch_size"),
    # texts_to_ids
    row("TextVAE.texts_to_ids", "[[1]] nested", lambda m: m.texts_to_ids([[1.5]]), ValueError, "texts"),
    row("TextVAE.texts_to_ids", "dict", lambda m: m.texts_to_ids({"a": 1}), ValueError, "texts"),
    # reconstruct
    row("TextVAE.reconstruct", "[]", lambda m: m.reconstruct([]), ValueError, "texts"),
    row("TextVAE.reconstruct", "3.5", lambda m: m.reconstruct(3.5), ValueError, "texts"),
    row(
        "TextVAE.reconstruct",
        "method='nucleus'",
        lambda m: m.reconstruct(SENTENCES[:1], method="nucleus"),
        ValueError,
        "method",
    ),
    row(
        "TextVAE.reconstruct",
        "num_beams=0",
        lambda m: m.reconstruct(SENTENCES[:1], method="beam", num_beams=0),
        ValueError,
        "num_beams",
    ),
    row(
        "TextVAE.reconstruct",
        "temperature=0",
        lambda m: m.reconstruct(SENTENCES[:1], method="sample", temperature=0),
        ValueError,
        "temperature",
    ),
    row(
        "TextVAE.reconstruct",
        "temperature=nan",
        lambda m: m.reconstruct(SENTENCES[:1], method="sample", temperature=NAN),
        ValueError,
        "temperature",
    ),
    row(
        "TextVAE.reconstruct",
        "max_length=0",
        lambda m: m.reconstruct(SENTENCES[:1], max_length=0),
        ValueError,
        "max_length",
    ),
    row(
        "TextVAE.reconstruct",
        "max_length=-3",
        lambda m: m.reconstruct(SENTENCES[:1], max_length=-3),
        ValueError,
        "max_length",
    ),
    row(
        "TextVAE.reconstruct",
        "max_length=2.5",
        lambda m: m.reconstruct(SENTENCES[:1], max_length=2.5),
        ValueError,
        "max_length",
    ),
    row(
        "TextVAE.reconstruct",
        "seed='x'",
        lambda m: m.reconstruct(SENTENCES[:1], method="sample", seed="x"),
        ValueError,
        "seed",
    ),
    # generate
    row("TextVAE.generate", "n=0", lambda m: m.generate(0), ValueError, "`n`"),
    row("TextVAE.generate", "n=-2", lambda m: m.generate(-2), ValueError, "`n`"),
    row("TextVAE.generate", "n=2.5", lambda m: m.generate(2.5), ValueError, "`n`"),
    row("TextVAE.generate", "n='3'", lambda m: m.generate("3"), ValueError, "`n`"),
    row("TextVAE.generate", "n=True", lambda m: m.generate(True), ValueError, "`n`"),
    row("TextVAE.generate", "n=None", lambda m: m.generate(None), ValueError, "`n`"),
    row("TextVAE.generate", "method='nucleus'", lambda m: m.generate(2, method="nucleus"), ValueError, "method"),
    row("TextVAE.generate", "k=0", lambda m: m.generate(2, method="top_k", k=0), ValueError, "`k`"),
    row("TextVAE.generate", "p=0", lambda m: m.generate(2, p=0.0), ValueError, "`p`"),
    row("TextVAE.generate", "p=1.5", lambda m: m.generate(2, p=1.5), ValueError, "`p`"),
    row(
        "TextVAE.generate",
        "temperature=-1",
        lambda m: m.generate(2, method="sample", temperature=-1),
        ValueError,
        "temperature",
    ),
    row(
        "TextVAE.generate",
        "num_beams=2.5",
        lambda m: m.generate(2, method="beam", num_beams=2.5),
        ValueError,
        "num_beams",
    ),
    row("TextVAE.generate", "max_length='10'", lambda m: m.generate(2, max_length="10"), ValueError, "max_length"),
    row("TextVAE.sample", "n=0", lambda m: m.sample(0), ValueError, "`n`"),
    # interpolate
    row("TextVAE.interpolate", "steps=1", lambda m: m.interpolate("a", "b", steps=1), ValueError, "steps"),
    row("TextVAE.interpolate", "steps=2.5", lambda m: m.interpolate("a", "b", steps=2.5), ValueError, "steps"),
    row("TextVAE.interpolate", "steps='5'", lambda m: m.interpolate("a", "b", steps="5"), ValueError, "steps"),
    row("TextVAE.interpolate", "text_a=None", lambda m: m.interpolate(None, "b"), ValueError, "text_a"),
    row("TextVAE.interpolate", "text_a a list", lambda m: m.interpolate(["a", "b"], "c"), ValueError, "text_a"),
    row("TextVAE.interpolate", "text_b=5", lambda m: m.interpolate("a", 5), ValueError, "text_b"),
    row("TextVAE.interpolate", "method='x'", lambda m: m.interpolate("a", "b", method="x"), ValueError, "method"),
    # decode
    row("TextVAE.decode", "1-D z", lambda m: m.decode(np.zeros(4)), ValueError, "`z`"),
    row("TextVAE.decode", "z of another latent_dim", lambda m: m.decode(np.zeros((2, 5))), ValueError, "`z`"),
    row("TextVAE.decode", "NaN z", lambda m: m.decode(with_nan(np.zeros((2, 4)))), ValueError, "`z`.*NaN"),
    row("TextVAE.decode", "inf z", lambda m: m.decode(np.full((2, 4), INF)), ValueError, "`z`.*inf"),
    row("TextVAE.decode", "string z", lambda m: m.decode(np.array([["a"] * 4])), ValueError, "`z`"),
    row("TextVAE.decode", "ragged z", lambda m: m.decode([[0.0] * 4, [0.0]]), ValueError, "`z`"),
    row("TextVAE.decode", "empty z", lambda m: m.decode(np.zeros((0, 4))), ValueError, "`z`"),
    row("TextVAE.decode", "None", lambda m: m.decode(None), ValueError, "`z`"),
    row("TextVAE.decode", "method=None", lambda m: m.decode(np.zeros((1, 4)), method=None), ValueError, "method"),
    # evaluate / predict
    row("TextVAE.evaluate", "None", lambda m: m.evaluate(None), ValueError, "`x`"),
    row("TextVAE.evaluate", "[]", lambda m: m.evaluate([]), ValueError, "`x`"),
    row(
        "TextVAE.evaluate",
        "ids of another vocabulary",
        lambda m: m.evaluate(ids_beyond(m)),
        ValueError,
        "`x`.*vocabulary",
    ),
    row("TextVAE.evaluate", "batch_size=0", lambda m: m.evaluate(SENTENCES, batch_size=0), ValueError, "batch_size"),
    row("TextVAE.evaluate", "dict without text key", lambda m: m.evaluate({"s": SENTENCES}), ValueError, "`x`.*text"),
    row(
        "TextVAE.predict",
        "ids of another vocabulary",
        lambda m: m.predict(ids_beyond(m)),
        ValueError,
        "`x`.*vocabulary",
    ),
    row("TextVAE.with_posterior", "unknown name", lambda m: m.with_posterior("gaussian"), ValueError, "posterior"),
    # metrics that run the model
    row(
        "log_likelihood", "samples=0", lambda m: metrics.log_likelihood(m, SENTENCES, samples=0), ValueError, "samples"
    ),
    row(
        "log_likelihood",
        "samples=1.5",
        lambda m: metrics.log_likelihood(m, SENTENCES, samples=1.5),
        ValueError,
        "samples",
    ),
    row(
        "log_likelihood",
        "proposal='uniform'",
        lambda m: metrics.log_likelihood(m, SENTENCES, proposal="uniform"),
        ValueError,
        "proposal",
    ),
    row(
        "log_likelihood",
        "batch_size=0",
        lambda m: metrics.log_likelihood(m, SENTENCES, batch_size=0),
        ValueError,
        "batch_size",
    ),
    row("log_likelihood", "seed=-1", lambda m: metrics.log_likelihood(m, SENTENCES, seed=-1), ValueError, "seed"),
    row("log_likelihood", "data=[]", lambda m: metrics.log_likelihood(m, []), ValueError, "data"),
    row("log_likelihood", "data=None", lambda m: metrics.log_likelihood(m, None), ValueError, "data"),
    row(
        "log_likelihood",
        "ids of another vocabulary",
        lambda m: metrics.log_likelihood(m, ids_beyond(m)),
        ValueError,
        "data.*vocabulary",
    ),
    row("log_likelihood", "data=7", lambda m: metrics.log_likelihood(m, 7), ValueError, "data"),
    row(
        "evaluate_latent",
        "batch_size=0",
        lambda m: metrics.evaluate_latent(m, SENTENCES, batch_size=0),
        ValueError,
        "batch_size",
    ),
    row(
        "evaluate_latent",
        "samples=0",
        lambda m: metrics.evaluate_latent(m, SENTENCES, samples=0),
        ValueError,
        "samples",
    ),
    row(
        "evaluate_latent",
        "au_threshold=-1",
        lambda m: metrics.evaluate_latent(m, SENTENCES, au_threshold=-1),
        ValueError,
        "au_threshold",
    ),
    row("evaluate_latent", "data=[]", lambda m: metrics.evaluate_latent(m, [], verbose=False), ValueError, "data"),
    row(
        "evaluate_latent",
        "ids of another vocabulary",
        lambda m: metrics.evaluate_latent(m, ids_beyond(m), verbose=False),
        ValueError,
        "data.*vocabulary",
    ),
]


@pytest.mark.parametrize("call, error, words", TEXT)
def test_text_vae(text_model, call, error, words):
    with pytest.raises(error, match=words):
        call(text_model)


def test_untrained_text_vae_says_it_has_no_vocabulary():
    model = kvae.TextVAE(**TEXT_SIZES)
    for call in (
        lambda: model.encode(SENTENCES),
        lambda: model.generate(2),
        lambda: model.decode(np.zeros((1, 4))),
        lambda: model.fit(np.array([[2, 5, 3]])),
        lambda: model.evaluate(SENTENCES),
    ):
        with pytest.raises(ValueError, match="vocabulary"):
            call()


def test_bad_input_leaves_the_model_untouched(text_model):
    """A rejected call must not train, rebuild the vocabulary or move the objective's schedule."""
    before = [np.array(w) for w in text_model.get_weights()]
    step = int(keras.ops.convert_to_numpy(text_model.objective.step))
    vocabulary = text_model.tokenizer.vocabulary
    for bad in ([], ids_beyond(text_model), [b"\xff"]):
        with pytest.raises(ValueError):
            text_model.fit(bad, verbose=0)
    assert text_model.tokenizer.vocabulary == vocabulary
    assert int(keras.ops.convert_to_numpy(text_model.objective.step)) == step
    for a, b in zip(before, text_model.get_weights()):
        np.testing.assert_array_equal(a, b)


# =========================================================================================== an ImageVAE's methods
IMAGE = [
    # fit
    row("ImageVAE.fit", "None", lambda m: m.fit(None), ValueError, "`x`"),
    row("ImageVAE.fit", "empty", lambda m: m.fit(np.zeros((0, 28, 28))), ValueError, "`x`"),
    row("ImageVAE.fit", "flat (N, 784)", lambda m: m.fit(np.zeros((4, 784))), ValueError, "`x`"),
    row("ImageVAE.fit", "NaN pixel", lambda m: m.fit(with_nan(images())), ValueError, "`x`.*NaN"),
    row("ImageVAE.fit", "inf pixel", lambda m: m.fit(images(value=INF)), ValueError, "`x`.*inf"),
    row("ImageVAE.fit", "float pixels in [0, 255]", lambda m: m.fit(images(value=255.0)), ValueError, r"`x`.*\[0, 1\]"),
    row(
        "ImageVAE.fit", "negative int pixels", lambda m: m.fit(images(value=-1, dtype="int32")), ValueError, "`x`.*255"
    ),
    row("ImageVAE.fit", "int pixels > 255", lambda m: m.fit(images(value=300, dtype="int32")), ValueError, "`x`.*255"),
    row("ImageVAE.fit", "32x32 images", lambda m: m.fit(images(size=32)), ValueError, "`x`.*shape"),
    row("ImageVAE.fit", "strings", lambda m: m.fit(np.full((2, 28, 28), "a")), ValueError, "`x`.*dtype"),
    row("ImageVAE.fit", "bool pixels", lambda m: m.fit(images(value=True, dtype=bool)), ValueError, "`x`.*dtype"),
    row("ImageVAE.fit", "complex pixels", lambda m: m.fit(images(dtype=complex)), ValueError, "`x`.*dtype"),
    row("ImageVAE.fit", "ragged list", lambda m: m.fit([np.zeros((28, 28)), np.zeros((27, 28))]), ValueError, "`x`"),
    row("ImageVAE.fit", "dict without image key", lambda m: m.fit({"pixels": images()}), ValueError, "`x`.*image"),
    row("ImageVAE.fit", "str", lambda m: m.fit("images.npz"), ValueError, "`x`"),
    row(
        "ImageVAE.fit",
        "dataset of 32x32 images",
        lambda m: m.fit(tf.data.Dataset.from_tensor_slices(images(size=32)).batch(2)),
        ValueError,
        "`x`.*shape",
    ),
    row(
        "ImageVAE.fit",
        "dataset of strings",
        lambda m: m.fit(tf.data.Dataset.from_tensor_slices(["a", "b"]).batch(2)),
        ValueError,
        "`x`.*dtype",
    ),
    row(
        "ImageVAE.fit",
        "empty dataset",
        lambda m: m.fit(tf.data.Dataset.from_tensor_slices(images()).take(0)),
        ValueError,
        "`x`.*empty",
    ),
    row(
        "ImageVAE.fit",
        "NaN validation_data",
        lambda m: m.fit(images(), validation_data=with_nan(images())),
        ValueError,
        "validation_data",
    ),
    row(
        "ImageVAE.fit",
        "NaN validation_data tuple",
        lambda m: m.fit(images(), validation_data=(with_nan(images()),)),
        ValueError,
        "validation_data",
    ),
    row("ImageVAE.fit", "batch_size=0", lambda m: m.fit(images(), batch_size=0), ValueError, "batch_size"),
    row("ImageVAE.fit", "batch_size=-1", lambda m: m.fit(images(), batch_size=-1), ValueError, "batch_size"),
    row("ImageVAE.fit", "epochs=-1", lambda m: m.fit(images(), epochs=-1), ValueError, "epochs"),
    # encode / reconstruct / predict / evaluate
    row("ImageVAE.encode", "None", lambda m: m.encode(None), ValueError, "`x`"),
    row("ImageVAE.encode", "NaN pixel", lambda m: m.encode(with_nan(images())), ValueError, "`x`.*NaN"),
    row("ImageVAE.encode", "28x27 images", lambda m: m.encode(np.zeros((2, 28, 27))), ValueError, "`x`.*shape"),
    row("ImageVAE.encode", "one image (28, 28)", lambda m: m.encode(np.zeros((28, 28))), ValueError, "`x`"),
    row("ImageVAE.encode", "empty", lambda m: m.encode(np.zeros((0, 28, 28))), ValueError, "`x`"),
    row("ImageVAE.encode", "batch_size=0", lambda m: m.encode(images(), batch_size=0), ValueError, "batch_size"),
    row("ImageVAE.encode", "batch_size='8'", lambda m: m.encode(images(), batch_size="8"), ValueError, "batch_size"),
    row("ImageVAE.reconstruct", "NaN pixel", lambda m: m.reconstruct(with_nan(images())), ValueError, "`x`.*NaN"),
    row("ImageVAE.reconstruct", "flat (N, 784)", lambda m: m.reconstruct(np.zeros((2, 784))), ValueError, "`x`"),
    row("ImageVAE.predict", "inf pixel", lambda m: m.predict(images(value=INF)), ValueError, "`x`"),
    row("ImageVAE.predict", "batch_size=0", lambda m: m.predict(images(), batch_size=0), ValueError, "batch_size"),
    row("ImageVAE.evaluate", "None", lambda m: m.evaluate(None), ValueError, "`x`"),
    row("ImageVAE.evaluate", "NaN pixel", lambda m: m.evaluate(with_nan(images())), ValueError, "`x`.*NaN"),
    row("ImageVAE.evaluate", "32x32 images", lambda m: m.evaluate(images(size=32)), ValueError, "`x`.*shape"),
    row("ImageVAE.evaluate", "empty", lambda m: m.evaluate(np.zeros((0, 28, 28))), ValueError, "`x`"),
    row("ImageVAE.evaluate", "batch_size=0", lambda m: m.evaluate(images(), batch_size=0), ValueError, "batch_size"),
    # decode / sample
    row("ImageVAE.decode", "z of another latent_dim", lambda m: m.decode(np.zeros((2, 5))), ValueError, "`z`"),
    row("ImageVAE.decode", "1-D z", lambda m: m.decode(np.zeros(4)), ValueError, "`z`"),
    row("ImageVAE.decode", "NaN z", lambda m: m.decode(with_nan(np.zeros((2, 4)))), ValueError, "`z`.*NaN"),
    row("ImageVAE.decode", "inf z", lambda m: m.decode(np.full((1, 4), -INF)), ValueError, "`z`.*inf"),
    row("ImageVAE.decode", "string z", lambda m: m.decode(np.array([["a"] * 4])), ValueError, "`z`"),
    row("ImageVAE.decode", "empty z", lambda m: m.decode(np.zeros((0, 4))), ValueError, "`z`"),
    row("ImageVAE.sample", "n=0", lambda m: m.sample(0), ValueError, "`n`"),
    row("ImageVAE.sample", "n=2.5", lambda m: m.sample(2.5), ValueError, "`n`"),
    row("ImageVAE.sample", "n=True", lambda m: m.sample(True), ValueError, "`n`"),
    row("ImageVAE.with_posterior", "unknown name", lambda m: m.with_posterior("gaussian"), ValueError, "posterior"),
    # metrics that run the model
    row(
        "log_likelihood", "NaN images", lambda m: metrics.log_likelihood(m, with_nan(images())), ValueError, "data.*NaN"
    ),
    row(
        "log_likelihood",
        "32x32 images",
        lambda m: metrics.log_likelihood(m, images(size=32)),
        ValueError,
        "data.*shape",
    ),
    row("log_likelihood", "samples=0", lambda m: metrics.log_likelihood(m, images(), samples=0), ValueError, "samples"),
    row(
        "log_likelihood",
        "proposal=None",
        lambda m: metrics.log_likelihood(m, images(), proposal=None),
        ValueError,
        "proposal",
    ),
    row("log_likelihood", "seed='x'", lambda m: metrics.log_likelihood(m, images(), seed="x"), ValueError, "seed"),
    row(
        "log_likelihood", "empty images", lambda m: metrics.log_likelihood(m, np.zeros((0, 28, 28))), ValueError, "data"
    ),
    row(
        "evaluate_latent",
        "NaN images",
        lambda m: metrics.evaluate_latent(m, with_nan(images())),
        ValueError,
        "data.*NaN",
    ),
    row(
        "evaluate_latent",
        "cu_threshold=nan",
        lambda m: metrics.evaluate_latent(m, images(), cu_threshold=NAN),
        ValueError,
        "cu_threshold",
    ),
    row("evaluate_latent", "seed=1.5", lambda m: metrics.evaluate_latent(m, images(), seed=1.5), ValueError, "seed"),
]


@pytest.mark.parametrize("call, error, words", IMAGE)
def test_image_vae(image_model, call, error, words):
    with pytest.raises(error, match=words):
        call(image_model)


def test_unbuilt_and_baseline_models():
    model = kvae.ImageVAE(**IMAGE_SIZES)
    with pytest.raises(ValueError, match="image shape"):
        model.decode(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="fit it first"):
        model.with_posterior("diagonal")
    with pytest.raises(NotImplementedError, match="prior"):
        kvae.AE(**IMAGE_SIZES).sample(2)


def test_mixture_prior_sample_checks_its_latent_size():
    prior = priors.MixtureOfGaussians(components=2, seed=0)
    prior.build((None, 4))
    with pytest.raises(ValueError, match="latent size"):
        prior.sample(2, 5)
    with pytest.raises(ValueError, match="`n`"):
        prior.sample(0, 4)


# ====================================================================================== data files and .keras files
def write(path, data):
    path.write_bytes(data)
    return path


def idx(array):
    """IDX bytes of a uint8 array (the Fashion-MNIST format)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def mnist_folder(folder, x_train=None, y_train=None, raw=None):
    """Four small valid Fashion-MNIST files in `folder`, with `raw` = {role: bytes} replacing some of them."""
    arrays = {
        "x_train": np.zeros((3, 2, 2)) if x_train is None else x_train,
        "y_train": np.zeros(3) if y_train is None else y_train,
        "x_test": np.zeros((2, 2, 2)),
        "y_test": np.zeros(2),
    }
    folder.mkdir(exist_ok=True)
    for role, name in FILES.items():
        data = (raw or {}).get(role, gzip.compress(idx(arrays[role])))
        write(folder / name, data)
    return folder


FILE_CASES = [
    row("text_lines", "missing file", lambda d: text_lines(d / "missing.txt"), FileNotFoundError, "missing.txt"),
    row("text_lines", "a folder", lambda d: text_lines(d), FileNotFoundError, "not found"),
    row("text_lines", "path=None", lambda d: text_lines(None), TypeError, "path"),
    row("text_lines", "path=3", lambda d: text_lines(3), TypeError, "path"),
    row("text_lines", "empty file", lambda d: text_lines(write(d / "e.txt", b"")), ValueError, "no sentences"),
    row(
        "text_lines", "blank lines", lambda d: text_lines(write(d / "b.txt", b"\n \n\t\n")), ValueError, "no sentences"
    ),
    row(
        "text_lines",
        "Latin-1 bytes read as UTF-8",
        lambda d: text_lines(write(d / "l.txt", "caf\u00e9 au lait\n".encode("latin-1"))),
        ValueError,
        "l.txt.*encoding",
    ),
    row(
        "text_lines",
        "binary garbage",
        lambda d: text_lines(write(d / "g.txt", bytes(range(128, 256)) * 4)),
        ValueError,
        "g.txt.*encoding",
    ),
    row(
        "text_lines",
        "truncated .gz",
        lambda d: text_lines(write(d / "t.txt.gz", gzip.compress(b"a sentence\n" * 200)[:40])),
        ValueError,
        "t.txt.gz.*(truncated|corrupted)",
    ),
    row(
        "text_lines",
        "unknown encoding",
        lambda d: text_lines(write(d / "u.txt", b"a\n"), encoding="klingon"),
        ValueError,
        "encoding",
    ),
    row(
        "text_lines",
        "labelled line without a tab",
        lambda d: text_lines(write(d / "lab.txt", b"1\ta b\nno tab here\n"), labels=True),
        ValueError,
        "line 2",
    ),
    row(
        "text_lines",
        "labelled line without a sentence",
        lambda d: text_lines(write(d / "lab2.txt", b"1\t \n"), labels=True),
        ValueError,
        "line 1",
    ),
    row("fashion_mnist", "missing folder", lambda d: fashion_mnist(d / "nope"), FileNotFoundError, "nope"),
    row("fashion_mnist", "path is a file", lambda d: fashion_mnist(write(d / "f.gz", b"x")), FileNotFoundError, "f.gz"),
    row("fashion_mnist", "path=3", lambda d: fashion_mnist(3), TypeError, "path"),
    row(
        "fashion_mnist",
        "truncated .gz",
        lambda d: fashion_mnist(mnist_folder(d / "tgz", raw={"x_train": gzip.compress(idx(np.zeros((3, 2, 2))))[:-6]})),
        ValueError,
        "train-images.*(truncated|corrupted)",
    ),
    row(
        "fashion_mnist",
        "truncated IDX data",
        lambda d: fashion_mnist(mnist_folder(d / "tidx", raw={"y_train": gzip.compress(idx(np.zeros(3))[:-1])})),
        ValueError,
        "train-labels.*truncated",
    ),
    row(
        "fashion_mnist",
        "header only",
        lambda d: fashion_mnist(mnist_folder(d / "hdr", raw={"x_test": gzip.compress(b"\x00\x00\x08")})),
        ValueError,
        "t10k-images.*truncated",
    ),
    row(
        "fashion_mnist",
        "not IDX (bad magic)",
        lambda d: fashion_mnist(mnist_folder(d / "magic", raw={"y_test": gzip.compress(b"PK\x03\x04" + bytes(8))})),
        ValueError,
        "t10k-labels.*IDX",
    ),
    row(
        "fashion_mnist",
        "gzip garbage",
        lambda d: fashion_mnist(mnist_folder(d / "garbage", raw={"x_train": b"\x1f\x8b" + bytes(range(50))})),
        ValueError,
        "train-images.*gzip",
    ),
    row(
        "fashion_mnist",
        "labels and images disagree",
        lambda d: fashion_mnist(mnist_folder(d / "count", y_train=np.zeros(4))),
        ValueError,
        "inconsistent train",
    ),
    row(
        "fashion_mnist",
        "labels > 9",
        lambda d: fashion_mnist(mnist_folder(d / "label", y_train=np.full(3, 12))),
        ValueError,
        "train-labels.*label",
    ),
    row("read_idx", "missing file", lambda d: read_idx(d / "none.idx"), FileNotFoundError, "none.idx"),
    row("read_idx", "empty file", lambda d: read_idx(write(d / "e.idx", b"")), ValueError, "e.idx.*truncated"),
]


@pytest.mark.parametrize("call, error, words", FILE_CASES)
def test_data_files(tmp_path, call, error, words):
    with pytest.raises(error, match=words):
        call(tmp_path)


def rewrite_keras(src, dst, edit_config=None, drop=None):
    """Copy the `.keras` zip `src` to `dst`, editing its config.json (a function of the dict) or dropping a member."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            if item.filename == drop:
                continue
            data = zin.read(item.filename)
            if item.filename == "config.json" and edit_config is not None:
                config = json.loads(data)
                edit_config(config["config"])
                data = json.dumps(config).encode()
            zout.writestr(item, data)
    return dst


def set_key(key, value):
    def edit(config):
        config[key] = value

    return edit


def shorter_vocabulary(config):
    config["vocabulary"] = config["vocabulary"][:-3]  # another model's (smaller) vocabulary: weights no longer fit


KERAS_FILES = [
    row(
        "load_model",
        "missing file",
        lambda p, d: keras.saving.load_model(d / "missing.keras"),
        ValueError,
        "missing.keras",
    ),
    row(
        "load_model",
        "truncated .keras",
        lambda p, d: keras.saving.load_model(write(d / "cut.keras", p.read_bytes()[: p.stat().st_size // 2])),
        (ValueError, zipfile.BadZipFile),
        "zip",
    ),
    row(
        "load_model",
        "garbage .keras",
        lambda p, d: keras.saving.load_model(write(d / "junk.keras", bytes(range(256)) * 8)),
        (ValueError, zipfile.BadZipFile),
        "zip",
    ),
    row(
        "load_model",
        "config latent_dim=-1",
        lambda p, d: keras.saving.load_model(rewrite_keras(p, d / "ld.keras", set_key("latent_dim", -1))),
        (TypeError, ValueError),
        "latent_dim",
    ),
    row(
        "load_model",
        "config posterior unknown",
        lambda p, d: keras.saving.load_model(rewrite_keras(p, d / "po.keras", set_key("posterior", "gaussian"))),
        (TypeError, ValueError),
        "posterior",
    ),
    row(
        "load_model",
        "config vocabulary with duplicates",
        lambda p, d: keras.saving.load_model(rewrite_keras(p, d / "dup.keras", set_key("vocabulary", ["a", "a"]))),
        (TypeError, ValueError),
        "vocabulary",
    ),
    row(
        "load_model",
        "vocabulary of another size than the weights",
        lambda p, d: keras.saving.load_model(rewrite_keras(p, d / "voc.keras", shorter_vocabulary)),
        ValueError,
        "could not be loaded.*embedding",
    ),
    row(
        "load_model",
        "no weights file",
        lambda p, d: keras.saving.load_model(rewrite_keras(p, d / "now.keras", drop="model.weights.h5")),
        (KeyError, ValueError),
        "weights",
    ),
]


@pytest.mark.parametrize("call, error, words", KERAS_FILES)
def test_load_model(saved_text, tmp_path, call, error, words):
    with pytest.raises(error, match=words):
        call(saved_text, tmp_path)


# ------------------------------------------------------------------------- first-contact mistakes (issue 15)
def _zip_without_config(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "not a model")
    return path


LOAD_MODEL = [
    row(
        "io.load_model",
        "a text file named .keras",
        lambda d: kvae.io.load_model(write(d / "m.keras", b"hi")),
        ValueError,
        r"not a \.keras model file.*not a zip archive",
    ),
    row(
        "io.load_model",
        "a .txt file",
        lambda d: kvae.io.load_model(write(d / "notes.txt", b"hi")),
        ValueError,
        r"not a \.keras model file.*'\.txt'",
    ),
    row(
        "io.load_model",
        "a zip without config.json",
        lambda d: kvae.io.load_model(_zip_without_config(d / "z.keras")),
        ValueError,
        r"not a \.keras model file.*without config\.json",
    ),
    row("io.load_model", "a folder", lambda d: kvae.io.load_model(d), ValueError, r"folder, not a \.keras model file"),
    row("io.load_model", "a missing file", lambda d: kvae.io.load_model(d / "nope.keras"), FileNotFoundError, "nope"),
    row("io.load_model", "path=3", lambda d: kvae.io.load_model(3), TypeError, "path"),
]


@pytest.mark.parametrize("call, error, words", LOAD_MODEL)
def test_io_load_model_says_what_the_file_is(tmp_path, call, error, words):
    with pytest.raises(error, match=words):
        call(tmp_path)


def test_io_load_model_loads_a_model(saved_text):
    model = kvae.io.load_model(saved_text)
    assert isinstance(model, kvae.TextVAE) and model.latent_dim == TEXT_SIZES["latent_dim"]


SINGLE_IMAGE = [
    row("ImageVAE.encode", "one image", lambda m, x: m.encode(x[0]), ValueError, r"one image.*`x\[None\]`"),
    row("ImageVAE.fit", "one image", lambda m, x: m.fit(x[0]), ValueError, r"one image.*`x\[None\]`"),
    row("ImageVAE.reconstruct", "one image", lambda m, x: m.reconstruct(x[0]), ValueError, r"`x\[None\]`"),
    row(
        "ImageVAE.interpolate",
        "a batch as a",
        lambda m, x: m.interpolate(x[:2], x[1]),
        ValueError,
        r"`a` must be one image of shape \(28, 28\)",
    ),
    row(
        "ImageVAE.interpolate",
        "32x32 b",
        lambda m, x: m.interpolate(x[0], images(1, 32)[0]),
        ValueError,
        r"`b` must be one image",
    ),
    row("ImageVAE.interpolate", "steps=1", lambda m, x: m.interpolate(x[0], x[1], steps=1), ValueError, "steps"),
    row("ImageVAE.generate", "n=0", lambda m, x: m.generate(0), ValueError, "`n`"),
]


@pytest.mark.parametrize("call, error, words", SINGLE_IMAGE)
def test_image_vae_verbs(image_model, call, error, words):
    (x, _), _ = kvae.datasets.fashion_mnist_sample()
    with pytest.raises(error, match=words):
        call(image_model, x[:4])


def test_offline_fashion_mnist_names_the_bundled_sample(tmp_path, monkeypatch, capsys):
    import sys

    from kvae.cli import main

    module = sys.modules["kvae.datasets.fashion_mnist"]  # the attribute of that name is the function

    def offline():
        raise ConnectionError("URL fetch failure: no network")

    monkeypatch.delenv("KVAE_DATA", raising=False)
    monkeypatch.setattr(module, "DEBIAN_DIR", tmp_path / "no-debian-data")
    monkeypatch.setattr(module, "_keras_load_data", offline)
    with pytest.raises(FileNotFoundError) as info:
        fashion_mnist()
    message = str(info.value)
    assert "kvae.datasets.fashion_mnist_sample()" in message and "--data fashion-mnist-sample" in message
    assert "no network" in message and "\n" not in message
    assert main(["train", "image", "--data", "fashion-mnist", "--out", str(tmp_path / "run")]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("kvae: error: --data fashion-mnist: Fashion-MNIST not found") and "\n" not in error
    assert "--data fashion-mnist-sample" in error and ":;" not in error
