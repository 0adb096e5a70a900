"""Tests for kvae.TextVAE: vocabulary building and saving, inputs, masking, training, overfitting a handful of
sentences, decoding (greedy, beam, sample), saving, seeding, presets and argument checking.

Backend independent: run under KERAS_BACKEND=tensorflow, jax and torch. Models are tiny (embedding 16, LSTM 32,
latent 4) and every test but the shared overfitting fixture trains for a few steps only.
"""

import collections

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

import kvae
from kvae.testing import gradients_of, same_config

SENTENCES = ["the cat sat on the mat", "a dog runs in the park", "two men play chess", "she reads a long book"]
SPECIALS = ["<pad>", "<unk>", "<bos>", "<eos>"]
SIZES = {"latent_dim": 4, "embedding_dim": 16, "hidden_dim": 32}


def expected_vocabulary(texts):
    """Special tokens, then words by decreasing count, ties alphabetical (computed independently of the library)."""
    counts = collections.Counter(w for t in texts for w in t.lower().split())
    return SPECIALS + [w for w, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


VOCABULARY = expected_vocabulary(SENTENCES)


def tiny(**kwargs):
    return kvae.TextVAE(**{**SIZES, **kwargs})


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)


@pytest.fixture(scope="module")
def trained():
    """A tiny diagonal-posterior TextVAE overfitted on the 4 sentences (Beta(0.05), Adam 1e-2, 100 steps)."""
    keras.utils.set_random_seed(0)
    model = tiny(posterior="diagonal", objective=kvae.objectives.Beta(beta=0.05), learning_rate=1e-2, seed=0)
    history = model.fit(SENTENCES * 16, epochs=25, batch_size=16, verbose=0)
    return model, history.history


@pytest.fixture(scope="module")
def reloaded(trained, tmp_path_factory):
    model, _ = trained
    path = tmp_path_factory.mktemp("text_vae") / "text_vae.keras"
    model.save(path)
    return keras.saving.load_model(path)


# ------------------------------------------------------------------------------------------------ vocabulary
def test_vocabulary_built_on_first_fit_from_list(trained):
    model, _ = trained
    assert model.has_vocabulary
    assert model.tokenizer.vocabulary == VOCABULARY
    assert model.tokenizer.vocabulary_size == len(VOCABULARY) == 22
    assert model.get_config()["vocabulary"] == VOCABULARY
    # Encoder and decoder are sized by the vocabulary.
    assert model.encoder.vocabulary_size == model.decoder.vocabulary_size == len(VOCABULARY)
    ids = model.texts_to_ids(["the dog", "unseen words"])
    np.testing.assert_array_equal(ids, [[2, VOCABULARY.index("the"), VOCABULARY.index("dog"), 3], [2, 1, 1, 3]])


def test_vocabulary_from_tf_data_of_strings(capsys):
    model = tiny(seed=0)
    assert not model.has_vocabulary
    dataset = tf.data.Dataset.from_tensor_slices(SENTENCES).batch(2)  # batches of strings
    history = model.fit(dataset, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.tokenizer.vocabulary == VOCABULARY
    assert "vocabulary size 22" in capsys.readouterr().out
    # A dataset of scalar strings works the same way.
    other = tiny(seed=0)
    other.as_dataset(tf.data.Dataset.from_tensor_slices(SENTENCES), build_vocabulary=True)
    assert other.tokenizer.vocabulary == VOCABULARY


def test_vocabulary_from_tfds_style_dict_dataset():
    dataset = tf.data.Dataset.from_tensor_slices({"text": SENTENCES, "label": [0, 1, 2, 3]}).batch(2)
    model = tiny(seed=0)
    history = model.fit(dataset, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.tokenizer.vocabulary == VOCABULARY
    # In-memory dicts give the same encodings as the sentences themselves.
    np.testing.assert_allclose(
        model.encode({"text": SENTENCES, "label": np.arange(4)}), model.encode(SENTENCES), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(model.encode(dataset), model.encode(SENTENCES), rtol=1e-5, atol=1e-6)


class IdBatches(keras.utils.PyDataset):
    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        return self.batches[index]


def test_fit_on_generator_and_pydataset_of_id_batches():
    # Batches of different lengths (as a user's own bucketing makes them) from user code train exactly like the
    # same batches in a tf.data dataset.
    ids = tiny(vocabulary=VOCABULARY).texts_to_ids(SENTENCES * 2)
    batches = [ids[:4, :6], ids[4:, :8]]

    def losses(make_input, epochs=2):
        keras.utils.set_random_seed(0)
        model = tiny(vocabulary=VOCABULARY, seed=0)
        history = model.fit(make_input(), epochs=epochs, verbose=0)
        return np.array(history.history["loss"])

    spec = tf.TensorSpec((None, None), tf.int32)
    known_length = tf.data.experimental.assert_cardinality(len(batches))
    reference = losses(
        lambda: tf.data.Dataset.from_generator(lambda: iter(batches), output_signature=spec).apply(known_length)
    )
    assert np.all(np.isfinite(reference))
    np.testing.assert_allclose(losses(lambda: IdBatches(batches)), reference, rtol=1e-5)
    np.testing.assert_allclose(losses(lambda: (b for b in batches), epochs=1), reference[:1], rtol=1e-5)
    model = tiny(vocabulary=VOCABULARY, seed=0)
    expected = np.concatenate([model.encode(b) for b in batches])
    np.testing.assert_allclose(model.encode(IdBatches(batches)), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.encode(b for b in batches), expected, rtol=1e-5, atol=1e-6)
    with open(__file__) as lines, pytest.raises(ValueError, match="sentences"):  # a file iterates lines: refused
        model.fit(lines, epochs=1, verbose=0)


def test_vocabulary_from_dict_with_custom_text_key():
    model = tiny(text_key="sentence", seed=0)
    model.as_dataset({"sentence": SENTENCES, "label": np.arange(4)}, build_vocabulary=True)
    assert model.tokenizer.vocabulary == VOCABULARY
    with pytest.raises(ValueError, match="sentence"):
        tiny(text_key="sentence").fit({"text": SENTENCES}, epochs=1, verbose=0)
    dataset = tf.data.Dataset.from_tensor_slices({"text": SENTENCES})
    with pytest.raises(ValueError, match="sentence"):
        tiny(text_key="sentence").fit(dataset, epochs=1, verbose=0)


def test_vocabulary_capped_by_max_vocabulary():
    model = tiny(max_vocabulary=6)
    model.as_dataset(SENTENCES, build_vocabulary=True)
    assert model.tokenizer.vocabulary == VOCABULARY[:6]  # the two most frequent words: "the", "a"
    assert model.texts_to_ids(["the cat"]).tolist() == [[2, 4, 1, 3]]


def test_vocabulary_saved_and_restored(trained, reloaded):
    model, _ = trained
    assert type(reloaded) is kvae.TextVAE
    assert reloaded.tokenizer.vocabulary == model.tokenizer.vocabulary == VOCABULARY
    np.testing.assert_array_equal(reloaded.texts_to_ids(SENTENCES), model.texts_to_ids(SENTENCES))


def test_vocabulary_passed_to_constructor_and_fit_on_ids():
    model = tiny(vocabulary=VOCABULARY, seed=0)
    assert model.has_vocabulary and model.tokenizer.vocabulary == VOCABULARY
    ids = model.texts_to_ids(SENTENCES * 4)
    assert ids.dtype.kind in "iu" and ids.shape == (16, 8)
    history = model.fit(ids, epochs=2, batch_size=8, verbose=0).history
    assert len(history["loss"]) == 2 and np.all(np.isfinite(history["loss"]))
    assert model.tokenizer.vocabulary == VOCABULARY  # ids do not touch the vocabulary
    assert model.encode(ids[:4]).shape == (4, 4)


# ---------------------------------------------------------------------------------------------------- masking
def test_encodings_ignore_extra_padding(trained):
    model, _ = trained
    ids = model.texts_to_ids(SENTENCES)  # (4, 8), padded to the longest sentence
    mean, log_var = model.encode(ids, return_log_var=True)
    for extra in (3, 10):
        padded = np.pad(ids, [(0, 0), (0, extra)], constant_values=model.tokenizer.pad_id)
        padded_mean, padded_log_var = model.encode(padded, return_log_var=True)
        np.testing.assert_allclose(padded_mean, mean, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(padded_log_var, log_var, rtol=1e-5, atol=1e-5)
    # Each sentence on its own (no padding at all) encodes as it does inside the padded batch.
    for i in (2, 3):  # the two shorter sentences, padded inside `ids`
        alone = model.texts_to_ids([SENTENCES[i]])
        assert alone.shape[1] == len(SENTENCES[i].split()) + 2 < ids.shape[1]
        np.testing.assert_allclose(model.encode(alone)[0], mean[i], rtol=1e-5, atol=1e-5)
    # Strings and their ids agree, and different sentences have different codes.
    np.testing.assert_allclose(model.encode(SENTENCES), mean, rtol=1e-5, atol=1e-6)
    assert np.min(np.abs(mean[:, None] - mean[None]).sum(-1) + np.eye(4) * 1e9) > 1e-3


# ------------------------------------------------------------------------------------------------- training
def test_training_lowers_loss(trained):
    _, history = trained
    for key in ("loss", "rec", "kl", "reg", "beta"):
        assert key in history, f"missing {key!r} in {sorted(history)}"
        assert np.all(np.isfinite(history[key]))
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["rec"][-1] < 0.5 * history["rec"][0]
    np.testing.assert_allclose(np.add(history["rec"], history["reg"]), history["loss"], rtol=1e-4)
    np.testing.assert_allclose(history["reg"], 0.05 * np.asarray(history["kl"]), rtol=1e-4)


def test_overfits_and_reconstructs_greedily(trained):
    model, _ = trained
    assert model.reconstruct(SENTENCES) == SENTENCES


def test_encode_shapes(trained):
    model, _ = trained
    mean, log_var = model.encode(SENTENCES, return_log_var=True)
    assert mean.shape == log_var.shape == (4, 4)
    assert np.all(np.ptp(log_var, axis=1) > 0)  # diagonal posterior: one variance per unit
    assert model.encode(["the cat sat on the mat"]).shape == (1, 4)


@pytest.mark.parametrize("method", ["fit", "evaluate", "encode"])
def test_a_bare_string_is_refused_with_a_hint(trained, method):
    model, _ = trained
    with pytest.raises(ValueError, match=r"single string.*for one sentence.*kvae\.datasets\.text_lines"):
        getattr(model, method)("train.txt")


def test_beam_and_sample_decoding(trained):
    model, _ = trained
    words = set(VOCABULARY)
    beam = model.reconstruct(SENTENCES, method="beam", num_beams=3)
    sampled = model.reconstruct(SENTENCES, method="sample", seed=1)
    for out in (beam, sampled):
        assert isinstance(out, list) and len(out) == 4
        assert all(isinstance(s, str) for s in out)
        assert all(set(s.split()) <= words for s in out)
    assert beam == SENTENCES  # beam search finds the overfitted sentences too
    # Sampling at a near-zero temperature is greedy decoding.
    assert model.reconstruct(SENTENCES, method="sample", temperature=1e-4, seed=2) == SENTENCES


def test_decode_max_length_is_the_maximum_number_of_words(trained):
    model, _ = trained
    for limit in (1, 2, 3):  # every sentence has more than 3 words
        out = model.reconstruct(SENTENCES, max_length=limit)
        assert [s.split() for s in out] == [s.split()[:limit] for s in SENTENCES]
    beam = model.reconstruct(SENTENCES, method="beam", num_beams=2, max_length=2)
    assert all(len(s.split()) <= 2 for s in beam)


def test_top_k_and_top_p_decoding(trained):
    model, _ = trained
    z = model.encode(SENTENCES)
    # k = 1 keeps the most likely word only: greedy decoding.
    assert model.decode(z, method="top_k", k=1, seed=3) == model.decode(z) == SENTENCES
    # A near-zero nucleus keeps the most likely word only too.
    assert model.decode(z, method="top_p", p=1e-6, seed=3) == SENTENCES
    # From one code far from the data, greedy decoding gives one sentence, sampling several.
    far = np.repeat(np.full((1, 4), 3.0, dtype="float32"), 12, axis=0)
    assert len(set(model.decode(far))) == 1
    assert len(set(model.decode(far, method="top_p", p=0.95, temperature=2.0, seed=4))) > 1
    # Seeded sampling repeats itself.
    assert model.decode(far, method="top_k", k=5, seed=7) == model.decode(far, method="top_k", k=5, seed=7)


def test_generate_samples_by_default(trained, monkeypatch):
    model, _ = trained
    out = model.generate(5)
    assert isinstance(out, list) and len(out) == 5
    assert all(isinstance(s, str) and set(s.split()) <= set(VOCABULARY) for s in out)
    assert len(model.sample(2)) == 2
    # Prior draws replaced by one code, repeated: greedy decoding says one sentence, the default (nucleus
    # sampling) several; a tiny nucleus is greedy again.
    far = np.full((12, 4), 3.0, dtype="float32")
    monkeypatch.setattr(model.prior, "sample", lambda n, latent_dim, seed=None: ops.convert_to_tensor(far[:n]))
    greedy = model.generate(12, method="greedy")
    assert len(set(greedy)) == 1
    assert len(set(model.generate(12, temperature=3.0, seed=1))) > 1
    assert model.generate(12, p=1e-6, seed=1) == greedy


def test_interpolate(trained):
    model, _ = trained
    path = model.interpolate(SENTENCES[0], SENTENCES[1], steps=5)
    assert isinstance(path, list) and len(path) == 5
    assert all(isinstance(s, str) for s in path)
    ends = model.reconstruct([SENTENCES[0], SENTENCES[1]])
    assert path[0] == ends[0] == SENTENCES[0]
    assert path[-1] == ends[1] == SENTENCES[1]


# --------------------------------------------------------------------------------------------------- saving
def test_save_load_same_encodings_and_reconstructions(trained, reloaded):
    model, _ = trained
    assert same_config(reloaded.get_config(), model.get_config())
    mean, log_var = model.encode(SENTENCES, return_log_var=True)
    loaded_mean, loaded_log_var = reloaded.encode(SENTENCES, return_log_var=True)
    np.testing.assert_allclose(loaded_mean, mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loaded_log_var, log_var, rtol=1e-5, atol=1e-6)
    assert reloaded.reconstruct(SENTENCES) == model.reconstruct(SENTENCES) == SENTENCES
    z = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    assert reloaded.decode(z) == model.decode(z)


# -------------------------------------------------------------------------------------------------- seeding
def _seeded_history(seed):
    keras.utils.set_random_seed(seed)
    model = tiny(seed=seed, learning_rate=1e-2)
    history = model.fit(np.array(SENTENCES * 4), epochs=2, batch_size=8, verbose=0).history
    return model, history


def test_seeded_fit_is_deterministic_numpy_strings():
    first_model, first = _seeded_history(5)
    second_model, second = _seeded_history(5)
    # A NumPy array of str builds the same vocabulary as a list.
    assert first_model.tokenizer.vocabulary == second_model.tokenizer.vocabulary == VOCABULARY
    for key in ("loss", "rec", "kl", "reg"):
        np.testing.assert_array_equal(first[key], second[key])
    assert first["loss"][-1] != first["loss"][0]
    np.testing.assert_array_equal(first_model.encode(SENTENCES), second_model.encode(SENTENCES))


# ----------------------------------------------------------------------------------- schedules and batching
def test_capacity_anneal_is_planned_from_the_first_fit():
    objective = kvae.objectives.Capacity(c=3.0)
    assert objective.anneal_steps is None
    model = tiny(objective=objective, seed=0)
    history = model.fit(SENTENCES * 6, epochs=3, batch_size=4, verbose=0).history  # 6 steps an epoch, 18 in all
    assert objective.anneal_steps == 6  # a third of the steps
    assert model.get_config()["objective"]["config"]["anneal_steps"] == 6
    # c_t = 3 t / 6 over the first epoch (t = 0..5), then c.
    np.testing.assert_allclose(history["capacity"], [3.0 * np.mean(np.arange(6)) / 6, 3.0, 3.0], rtol=1e-6)
    model.fit(SENTENCES * 6, epochs=1, batch_size=4, verbose=0)
    assert objective.anneal_steps == 6  # kept by later fits
    explicit = tiny(objective=kvae.objectives.Capacity(c=3.0, anneal_steps=100), seed=0)
    explicit.fit(SENTENCES * 6, epochs=1, batch_size=4, verbose=0)
    assert explicit.objective.anneal_steps == 100
    # A generator has no known length: the fallback, said.
    ids = tiny(vocabulary=VOCABULARY).texts_to_ids(SENTENCES)
    unknown = tiny(vocabulary=VOCABULARY, objective=kvae.objectives.Capacity(c=3.0), seed=0)
    with pytest.warns(UserWarning, match="cannot tell how many steps"):
        unknown.fit((ids for _ in range(2)), epochs=1, verbose=0)
    assert unknown.objective.anneal_steps == kvae.objectives.objective.FALLBACK_ANNEAL_STEPS
    # Every model plans it: an ImageVAE on 64 images, batch 16, 3 epochs (12 steps) anneals over 4.
    images = np.random.default_rng(0).uniform(size=(64, 6, 6)).astype("float32")
    image = kvae.ImageVAE(latent_dim=2, hidden_dims=(8,), objective=kvae.objectives.Capacity(c=2.0), seed=0)
    image.fit(images, epochs=3, batch_size=16, verbose=0)
    assert image.objective.anneal_steps == 4


def test_training_batches_are_bucketed_at_the_length_the_backend_needs():
    sentences = [" ".join(["w"] * n) for n in range(1, 41)] * 8
    model = tiny(objective="elbo", seed=0)
    assert model.bucket is None and model.buckets_batches  # per-example objectives bucket by default
    data = model.as_dataset(sentences, batch_size=8, shuffle=True, build_vocabulary=True)
    widths = [(b.shape[1], int((b != 0).sum(axis=1).max())) for b in data.as_numpy_iterator()]
    if model.jit_compile:  # compiled steps (JAX): a few shapes, multiples of 8
        assert all(w % 8 == 0 and w - longest < 8 for w, longest in widths)
    else:  # eager PyTorch, TensorFlow graphs: exact lengths
        assert all(w == longest for w, longest in widths)
    # One length per batch (8 copies of each length): bucketed.
    batches = list(data.as_numpy_iterator())
    assert all(len(set((b != 0).sum(axis=1))) == 1 for b in batches)
    # Evaluation batches keep the data's order.
    ordered = np.concatenate([b[:, :3] for b in model.as_dataset(sentences[:16], batch_size=8).as_numpy_iterator()])
    np.testing.assert_array_equal(ordered, model.texts_to_ids(sentences[:16])[:, :3])


def test_default_density_gap_takes_the_joint_form_with_a_mixture_prior():
    assert tiny().objective.marginal is True  # factorised posterior and prior: per-unit marginals
    assert tiny(prior="mog").objective.marginal is False  # a mixture prior has no per-unit density


def test_density_gap_keeps_training_batches_random():
    # The density gap compares a batch's posteriors with each other: bucketing would narrow its aggregate.
    sentences = [" ".join(["w"] * n) for n in range(1, 41)] * 8
    model = tiny(seed=0)  # the default objective
    assert isinstance(model.objective, kvae.objectives.DensityGap) and not model.buckets_batches
    data = model.as_dataset(sentences, batch_size=8, shuffle=True, build_vocabulary=True)
    spans = [np.ptp((b != 0).sum(axis=1)) for b in data.as_numpy_iterator()]
    assert np.mean(spans) > 10  # lengths 1..40 mixed within batches
    forced = tiny(seed=0, bucket=True, vocabulary=model.tokenizer.vocabulary)
    assert forced.buckets_batches
    spans = [np.ptp((b != 0).sum(axis=1)) for b in forced.as_dataset(sentences, 8, shuffle=True).as_numpy_iterator()]
    assert max(spans) == 0


# ---------------------------------------------------------------------------------------------------- presets
def test_from_preset():
    model = kvae.TextVAE.from_preset("snli", seed=3)
    assert (model.embedding_dim, model.hidden_dim, model.latent_dim) == (50, 128, 8)
    # The paper's whole recipe: Capacity(c=5) annealed over 5,000 steps, Adam 5e-4, seeded like a named objective.
    assert isinstance(model.objective, kvae.objectives.Capacity)
    assert (model.objective.c, model.objective.anneal_steps, model.objective.seed) == (5.0, 5000, 3 + 2)
    assert model.learning_rate == 5e-4 and model.word_dropout == 0.0
    dg = kvae.TextVAE.from_preset("density_gap", posterior="diagonal")
    assert isinstance(dg.objective, kvae.objectives.DensityGap) and dg.objective.samples == 32
    assert (dg.embedding_dim, dg.hidden_dim, dg.latent_dim) == (128, 512, 32)
    assert isinstance(dg.posterior, kvae.posteriors.DiagonalGaussian)
    overridden = kvae.TextVAE.from_preset("snli", latent_dim=16)
    assert (overridden.embedding_dim, overridden.hidden_dim, overridden.latent_dim) == (50, 128, 16)
    with pytest.raises(ValueError, match="preset"):
        kvae.TextVAE.from_preset("unknown")


# --------------------------------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("empty", [[], np.array([], dtype=str)])
def test_fit_empty_raises(empty):
    with pytest.raises(ValueError, match="`x`.*empty"):
        tiny().fit(empty, epochs=1, verbose=0)


@pytest.mark.parametrize("mixed", [["a dog runs", 3], [2, 5, "the cat"]])
def test_mixed_strings_and_ints_raise(mixed):
    model = tiny()
    with pytest.raises(ValueError, match="`x`"):
        model.as_dataset(mixed, build_vocabulary=True)


def test_encode_rejects_arrays_that_are_neither_sentences_nor_ids(trained):
    model, _ = trained
    # A (N, T) int array is ids; a float array or a 2-D array of str is neither ids nor sentences.
    with pytest.raises(ValueError, match="`texts`"):
        model.encode(np.array([[2.0, 5.0, 3.0]]))
    with pytest.raises(ValueError, match="`texts`"):
        model.encode(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="`texts`.*shape"):
        model.encode(np.array([2, 5, 3]))


@pytest.mark.parametrize("bad_id", [22, 999, -1])
def test_ids_out_of_vocabulary_range(trained, bad_id):
    model, _ = trained
    ids = np.array([[2, 4, bad_id, 3]])
    with pytest.raises(ValueError, match="vocabulary range"):
        model.encode(ids)
    with pytest.raises(ValueError, match="`x`.*vocabulary range"):
        model.fit(ids, epochs=1, verbose=0)


def test_model_without_vocabulary():
    model = tiny()
    assert not model.has_vocabulary
    with pytest.raises(ValueError, match="vocabulary"):
        model.encode(SENTENCES)
    with pytest.raises(ValueError, match="vocabulary"):
        model.encode(np.array([[2, 4, 3]]))
    with pytest.raises(ValueError, match="vocabulary"):
        model.decode(np.zeros((1, 4), "float32"))
    with pytest.raises(ValueError, match="vocabulary"):
        model.generate(2)
    with pytest.raises(ValueError, match="vocabulary"):
        model.reconstruct(SENTENCES)
    with pytest.raises(ValueError, match="vocabulary"):
        model.fit(np.array([[2, 4, 3]] * 4), epochs=1, verbose=0)  # ids cannot build a vocabulary
    with pytest.raises(ValueError, match="vocabulary"):
        model.evaluate(SENTENCES, verbose=0)


def test_unknown_decoding_method(trained):
    model, _ = trained
    with pytest.raises(ValueError, match="method"):
        model.reconstruct(SENTENCES, method="foo")
    with pytest.raises(ValueError, match="method"):
        model.generate(2, method="topk")


@pytest.mark.parametrize("shape", [(2, 5), (4,), (1, 2, 4), (2, 3)])
def test_decode_bad_z_shape(trained, shape):
    model, _ = trained
    with pytest.raises(ValueError, match="`z`"):
        model.decode(np.zeros(shape, "float32"))


def test_decode_non_finite_z(trained):
    model, _ = trained
    z = np.zeros((2, 4), "float32")
    z[1, 2] = np.nan
    with pytest.raises(ValueError, match="`z`"):
        model.decode(z)


@pytest.mark.parametrize("n", [0, -1, 1.5, None])
def test_generate_bad_n(trained, n):
    model, _ = trained
    with pytest.raises(ValueError, match="`n`"):
        model.generate(n)


@pytest.mark.parametrize("steps", [1, 0, 2.5])
def test_interpolate_bad_steps(trained, steps):
    model, _ = trained
    with pytest.raises(ValueError, match="`steps`"):
        model.interpolate(SENTENCES[0], SENTENCES[1], steps=steps)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"latent_dim": 0}, "latent_dim"),
        ({"latent_dim": -1}, "latent_dim"),
        ({"embedding_dim": 0}, "embedding_dim"),
        ({"hidden_dim": -3}, "hidden_dim"),
        ({"posterior": "foo"}, "posterior"),
        ({"objective": "foo"}, "objective"),
        ({"max_vocabulary": 4}, "max_vocabulary"),
        ({"max_length": 0}, "max_length"),
        ({"vocabulary": ["a", "a"]}, "vocabulary"),
        ({"vocabulary": ["a"], "word_dropout": 1.0}, "word_dropout"),
        ({"decoder": "gru"}, "decoder"),
        ({"bow_weight": -1.0}, "bow_weight"),
    ],
)
def test_bad_constructor_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        tiny(**kwargs)


def test_long_sentences_truncated_with_warning():
    model = tiny(vocabulary=VOCABULARY, max_length=3, seed=0)
    long_sentence = "the cat sat on the mat"
    with pytest.warns(UserWarning, match="truncated"):
        ids = model.texts_to_ids([long_sentence, "two men"])
    np.testing.assert_array_equal(ids[0], model.texts_to_ids(["the cat sat"])[0])
    assert ids.shape == (2, 5)  # max_length words + <bos> + <eos>
    with pytest.warns(UserWarning, match="truncated"):
        truncated = model.encode([long_sentence])
    np.testing.assert_allclose(truncated, model.encode(["the cat sat"]), rtol=1e-6, atol=1e-6)
    # The training pipeline truncates (and warns) too.
    with pytest.warns(UserWarning, match="truncated"):
        dataset = model.as_dataset(SENTENCES)
    lengths = [int((batch != 0).sum(axis=1).max()) for batch in dataset.as_numpy_iterator()]
    assert max(lengths) == 5


# --------------------------------------------------------------------------------- scoring real tokens only
@pytest.mark.parametrize("skip", [False, True])
def test_target_nll_equals_the_full_softmax_nll_and_its_gradients(skip):
    decoder = kvae.decoders.LSTMDecoder(vocabulary_size=11, embedding_dim=4, hidden_dim=6, skip=skip)
    decoder.build((5, None), (5, 3))
    rng = np.random.default_rng(0)
    lengths = [7, 3, 1, 0, 5]  # real targets per row; a row of padding only scores 0
    targets = np.zeros((5, 7), "int32")
    for row, n in enumerate(lengths):
        targets[row, :n] = rng.integers(2, 11, size=n)
    ids = np.concatenate([np.full((5, 1), 2, "int32"), targets[:, :-1]], axis=1)
    z = rng.normal(size=(5, 3)).astype("float32")
    mask = targets != 0

    def loss_now(fast):
        if fast:
            return decoder.target_nll(ids, z, targets, mask)
        return kvae.likelihoods.categorical_nll(targets, decoder(ids, z), mask)

    fast = ops.convert_to_numpy(loss_now(True))
    full = ops.convert_to_numpy(loss_now(False))
    assert fast.shape == (5,) and fast[3] == 0.0 and np.all(fast[[0, 1, 2, 4]] > 0)
    np.testing.assert_allclose(fast, full, rtol=1e-5)
    for a, b in zip(gradients_of(decoder, lambda: ops.sum(loss_now(True))),
                    gradients_of(decoder, lambda: ops.sum(loss_now(False)))):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_training_scores_real_tokens_only_where_shapes_may_vary():
    """The default training step takes the fast path wherever the backend allows data-dependent shapes."""
    model = tiny(seed=0)
    model.fit(SENTENCES, epochs=1, batch_size=4, verbose=0)
    ids = model.tokenizer.texts_to_ids(SENTENCES)
    training = model(ids, training=True)
    inference = model(ids, training=False)
    assert "logits" in inference
    if keras.backend.backend() == "jax":
        assert "logits" in training and "nll" not in training
    else:
        assert "nll" in training and "logits" not in training
        assert tuple(training["nll"].shape) == (4,)
