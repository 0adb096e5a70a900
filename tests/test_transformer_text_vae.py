"""The Transformer TextVAE (`architecture="transformer"`): causal decoding, z injection, the key/value cache against
teacher forcing, every posterior, prior and objective of the zoo, decoding methods, saving. Backend independent."""

import keras
import numpy as np
import pytest
from keras import ops

import kvae
from kvae.decoders import TransformerDecoder
from kvae.decoders.sampling import make_sampler
from kvae.testing import np_, snli_sentences

SIZES = {"latent_dim": 4, "hidden_dim": 16, "num_layers": 1, "num_heads": 2, "max_length": 12, "max_vocabulary": 200}
IDS = np.array([[2, 5, 6, 7, 3, 0], [2, 9, 3, 0, 0, 0], [2, 4, 8, 9, 10, 3]], dtype="int32")
Z = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")


def decoder(injection="both", **kwargs):
    layer = TransformerDecoder(12, 8, hidden_dim=8, num_layers=2, num_heads=2, dropout=0.0, injection=injection, **kwargs)
    layer(ops.convert_to_tensor(IDS[:, :-1]), ops.convert_to_tensor(Z))
    return layer


@pytest.mark.parametrize("injection", ["both", "memory", "embedding"])
def test_decoder_is_causal_and_reads_z(injection):
    layer = decoder(injection)
    logits = np_(layer(IDS[:, :-1], Z))
    changed = IDS[:, :-1].copy()
    changed[:, 3:] = 11  # later tokens: the logits up to position 2 must not move
    np.testing.assert_allclose(np_(layer(changed, Z))[:, :3], logits[:, :3], atol=1e-5)
    assert np.abs(np_(layer(IDS[:, :-1], Z + 1.0)) - logits).max() > 1e-3  # z reaches every injection


@pytest.mark.parametrize("injection", ["both", "memory", "embedding"])
def test_cached_steps_equal_teacher_forcing(injection):
    """`next_logits` with the key/value cache, one token at a time, gives the logits of the full causal pass."""
    layer = decoder(injection)
    inputs = IDS[:, :-1]
    full = np_(layer(inputs, Z))
    cache = layer.start_cache(ops.convert_to_tensor(Z), inputs.shape[1])
    for index in range(1, inputs.shape[1] + 1):
        logits, _, cache = layer.next_logits(ops.convert_to_tensor(inputs), cache, index)
        np.testing.assert_allclose(np_(logits), full[:, index - 1], atol=1e-4, err_msg=f"position {index - 1}")


def test_word_dropout_only_in_training():
    layer = decoder(word_dropout=0.5, seed=3)
    inference = [np_(layer(IDS[:, :-1], Z, training=False)) for _ in range(2)]
    np.testing.assert_array_equal(*inference)
    assert np.abs(np_(layer(IDS[:, :-1], Z, training=True)) - inference[0]).max() > 1e-4


@pytest.fixture(scope="module")
def trained():
    sentences = snli_sentences(64)
    model = kvae.TextVAE(architecture="transformer", seed=0, **SIZES)
    model.fit(sentences, epochs=2, batch_size=16, verbose=0)
    return model, sentences


def test_greedy_reconstruction_is_the_argmax_of_teacher_forcing(trained):
    """Cached greedy decoding (keras-hub's sampler) picks, at every step, the argmax of the full causal pass (over
    the words: `<pad>` and `<bos>` are never decoded)."""
    model, sentences = trained
    z = model.encode(sentences[:6])
    ids = model.texts_to_ids(model.decode(z))
    logits = np_(model.decoder(ops.convert_to_tensor(ids[:, :-1]), ops.convert_to_tensor(z)))
    logits[..., [model.tokenizer.pad_id, model.tokenizer.bos_id]] = -np.inf  # never decoded
    for row, scores in zip(ids, logits):
        n = int(np.sum(row != 0)) - 1  # w_1 .. w_k <eos>; the <eos> is decoded unless k reached max_length
        n -= int(n - 1 == model.tokenizer.max_length)
        np.testing.assert_array_equal(scores[:n].argmax(-1), row[1 : n + 1])


def test_decoding_methods_and_seeds(trained):
    model, sentences = trained
    assert model.reconstruct(sentences[:3], method="beam", num_beams=3) != []
    for method in ("top_k", "top_p", "sample"):
        first, again = (model.generate(4, method=method, seed=5) for _ in range(2))
        assert first == again and len(first) == 4 and all(isinstance(s, str) for s in first)
    assert all(len(s.split()) <= 5 for s in model.generate(4, max_length=5))


def eager_decode(model, z, method, **options):
    """The keras-hub sampler's loop run step by step, outside any compiled function (`<pad>`, `<bos>` never
    decoded)."""
    tok = model.tokenizer
    prompt = np.full((len(z), tok.max_length + 1), tok.pad_id, dtype="int32")
    prompt[:, 0] = tok.bos_id
    sampler = make_sampler(method, **options)
    never = ops.convert_to_tensor(np.isin(np.arange(model.tokenizer.vocabulary_size), [tok.pad_id, tok.bos_id]))

    def next_logits(prompt, cache, index):
        logits, hidden, cache = model.decoder.next_logits(prompt, cache, index)
        return ops.where(never, -1e9, logits), hidden, cache

    ids = sampler(
        next_logits,
        ops.convert_to_tensor(prompt),
        cache=model.decoder.start_cache(ops.convert_to_tensor(z), prompt.shape[1]),
        index=1,
        mask=ops.convert_to_tensor(prompt != tok.pad_id),
        stop_token_ids=[tok.eos_id],
    )
    return tok.ids_to_texts(ops.convert_to_numpy(ids))


def test_compiled_decoding_equals_the_eager_loop_and_follows_the_weights(trained):
    """`decode` compiles its loop once (jax.jit / tf.function) and reuses it: it must give the eager loop's
    sentences, and still do so after the weights change (they are read at every call, not frozen at the first).
    (Seeded sampling is reproducible, `test_decoding_methods_and_seeds`, but XLA's random streams are not the eager
    ones under TensorFlow.)"""
    model, sentences = trained
    z = model.encode(sentences[:5])
    weights = model.decoder.get_weights()
    try:
        for step in range(2):
            assert model.decode(z) == eager_decode(model, z, "greedy"), f"greedy, weights {step}"
            beam = model.decode(z, method="beam", num_beams=2)
            assert beam == eager_decode(model, z, "beam", num_beams=2), f"beam, weights {step}"
            rng = np.random.default_rng(step)
            model.decoder.set_weights([w + rng.normal(scale=0.5, size=w.shape).astype(w.dtype) for w in weights])
        assert model.decode(z) != eager_decode(model, z[::-1], "greedy")  # the comparison can fail
    finally:
        model.decoder.set_weights(weights)


def test_save_and_reload_same_encodings_and_decodes(trained, tmp_path):
    model, sentences = trained
    path = tmp_path / "transformer.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.architecture == "transformer" and loaded.transformer == model.transformer
    np.testing.assert_allclose(loaded.encode(sentences[:8]), model.encode(sentences[:8]), atol=1e-6)
    assert loaded.reconstruct(sentences[:8]) == model.reconstruct(sentences[:8])


# Every registered objective, posterior and prior at least once, in 7 models (the sphere's pair together).
COMBINATIONS = [
    ("elbo", "vmf", "hyperspherical"),
    ("beta", "batchnorm", "mog"),
    ("capacity", "delta", "moig"),
    ("density_gap", "deterministic", "normal"),
    ("free_bits", "diagonal", "normal"),
    ("iwae", "isotropic", "mog"),
    ("reconstruction", "isotropic", "normal"),
]


def test_the_combinations_cover_the_zoo():
    for index, names in enumerate((kvae.list_objectives(), kvae.list_posteriors(), kvae.list_priors())):
        assert {combination[index] for combination in COMBINATIONS} == set(names)


@pytest.mark.parametrize(("objective", "posterior", "prior"), COMBINATIONS)
def test_every_posterior_prior_and_objective_trains(objective, posterior, prior):
    model = kvae.TextVAE(architecture="transformer", seed=1, objective=objective, posterior=posterior, prior=prior, **SIZES)
    history = model.fit(snli_sentences(16), epochs=1, batch_size=8, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    assert model.encode(snli_sentences(2)).shape == (2, SIZES["latent_dim"])


def test_bad_transformer_arguments():
    with pytest.raises(ValueError, match="num_heads"):
        kvae.TextVAE(architecture="transformer", hidden_dim=10, num_heads=4)
    with pytest.raises(ValueError, match="LSTM architecture"):
        kvae.TextVAE(architecture="transformer", decoder="skip")
    with pytest.raises(ValueError, match="architecture"):
        kvae.TextVAE(architecture="gru")
    with pytest.raises(ValueError, match="injection"):
        kvae.TextVAE(architecture="transformer", injection="cross")


def test_word_dropout_defaults_by_architecture():
    """`word_dropout=None`: 0.5 for the LSTM, 0 for the Transformer; an explicit rate wins; the config keeps the rate
    (a saved model does not change when the default does)."""
    assert kvae.TextVAE().word_dropout == 0.5
    model = kvae.TextVAE(architecture="transformer")
    assert model.word_dropout == 0.0 and model.get_config()["word_dropout"] == 0.0
    assert kvae.TextVAE(architecture="transformer", word_dropout=0.3).word_dropout == 0.3
    assert kvae.TextVAE.from_config(kvae.TextVAE(word_dropout=0.2).get_config()).word_dropout == 0.2
