"""Subword vocabularies: kvae.tokenizers.WordPieceTokenizer / SentencePieceTokenizer and TextVAE(tokenizer=...)
(run under every KERAS_BACKEND)."""

import json
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import kvae
from kvae import tokenizers
from kvae.testing import check_config_round_trip, snli_sentences, tiny_text_vae

SUBWORDS = ["wordpiece", "sentencepiece"]
SPECIALS = ["<pad>", "<unk>", "<bos>", "<eos>"]
TRAIN = snli_sentences(400)


def normalised(text, kind):
    """What a tokenizer's round trip gives back: lower-cased words; WordPiece splits off punctuation."""
    text = text.lower()
    if kind == "wordpiece":
        text = re.sub(r"([^\w\s])", r" \1 ", text)
    return " ".join(text.split())


@pytest.fixture(scope="module", params=SUBWORDS)
def learnt(request):
    """(kind, tokenizer) with a vocabulary learnt from 400 SNLI sentences (at most 600 tokens)."""
    tok = tokenizers.get(request.param, max_vocabulary=600, name="subwords")
    return request.param, tok.build_vocabulary(TRAIN, verbose=False)


def in_vocabulary(tok, texts):
    """The texts that tokenise without `<unk>`."""
    return [t for t, row in zip(texts, tok.texts_to_ids(texts)) if tok.unk_id not in row]


# ------------------------------------------------------------------------------------------ vocabulary
def test_factory_names_and_unknown_name():
    assert type(tokenizers.get("word")) is tokenizers.WordTokenizer
    assert type(tokenizers.get("wordpiece")) is tokenizers.WordPieceTokenizer
    assert type(tokenizers.get("sentencepiece", max_length=5)).__name__ == "SentencePieceTokenizer"
    with pytest.raises(ValueError, match="Unknown tokenizer 'bpe'"):
        tokenizers.get("bpe")


def test_special_tokens_at_ids_0_to_3_and_vocabulary_size(learnt):
    _kind, tok = learnt
    assert tok.vocabulary[:4] == SPECIALS
    assert (tok.pad_id, tok.unk_id, tok.bos_id, tok.eos_id) == (0, 1, 2, 3)
    assert 50 < tok.vocabulary_size == len(tok.vocabulary) <= 600
    assert all(v not in SPECIALS for v in tok.vocabulary[4:])
    ids = tok.texts_to_ids(TRAIN[:5])
    assert (ids[:, 0] == tok.bos_id).all() and (ids.max() < tok.vocabulary_size)
    assert [list(row).count(tok.eos_id) for row in ids] == [1] * 5
    # Subwords: more tokens than words, so a rare word is pieces rather than <unk>.
    assert (ids != tok.pad_id).sum() - 10 > sum(len(t.split()) for t in TRAIN[:5])


def test_round_trip_gives_normalised_words(learnt):
    kind, tok = learnt
    texts = in_vocabulary(tok, TRAIN)
    assert len(texts) > 300
    mixed = [texts[0].upper(), "  " + texts[1].replace(" ", " \t ")]
    back = tok.ids_to_texts(tok.texts_to_ids(texts + mixed))
    assert back == [normalised(t, kind) for t in texts + mixed]
    # Words, not pieces: no "##" suffix marks, no "▁" word marks.
    assert not any("##" in t or "\u2581" in t for t in back)


def test_unknown_characters_and_literal_unk(learnt):
    _kind, tok = learnt
    ids = tok.texts_to_ids(["a man \u2603\u2603 sits .", "a dog <unk> runs ."])
    assert (ids == tok.unk_id).any(axis=1).all()
    snowman, marked = tok.ids_to_texts(ids)
    assert snowman.startswith("a man ") and snowman.endswith(" sits .") and "<unk>" in snowman
    assert marked == "a dog <unk> runs ."  # the corpus's own <unk> mark stays one <unk>


def test_max_length_truncates_pieces(learnt):
    _kind, tok = learnt
    short = type(tok).from_config({**tok.get_config(), "max_length": 3})
    full = tok.texts_to_ids(TRAIN[:3])
    with pytest.warns(UserWarning, match=f"{type(tok).__name__}: 3 of 3 sentences"):
        ids = short.texts_to_ids(TRAIN[:3])
    assert ids.shape == (3, 5)
    np.testing.assert_array_equal(ids[:, :4], full[:, :4])
    assert (ids[:, 4] == tok.eos_id).all()


def test_ids_to_texts_row_handling(learnt):
    _kind, tok = learnt
    ids = tok.texts_to_ids(["a man sits ."])[0].tolist()  # [bos .. eos]
    assert tok.ids_to_texts([ids + [5, 6], ids[1:] + [0, 0], [tok.eos_id, 7]]) == ["a man sits ."] * 2 + [""]
    with pytest.raises(ValueError, match="outside"):
        tok.ids_to_texts([[tok.vocabulary_size]])


# --------------------------------------------------------------------------------------- serialisation
def test_config_round_trip_same_encodings(learnt):
    kind, tok = learnt
    config = tok.get_config()
    json.dumps(config)
    assert isinstance(config["vocabulary"], list if kind == "wordpiece" else str)  # SentencePiece: base64 model
    clone = check_config_round_trip(tok)
    assert clone.vocabulary == tok.vocabulary and clone.name == "subwords"
    np.testing.assert_array_equal(clone.texts_to_ids(TRAIN[:50]), tok.texts_to_ids(TRAIN[:50]))
    assert type(tok).from_config(type(tok)().get_config()).vocabulary is None


@pytest.mark.parametrize(
    "kind, vocabulary",
    [
        ("wordpiece", ["<unk>", "<pad>", "<bos>", "<eos>", "a"]),
        ("wordpiece", ["a", "b", "a"]),
        ("sentencepiece", b"not a model"),
        ("sentencepiece", ["a", "b"]),
        ("sentencepiece", "!!not base64"),
    ],
)
def test_bad_vocabulary(kind, vocabulary):
    with pytest.raises(ValueError, match="vocabulary"):
        tokenizers.get(kind, vocabulary=vocabulary)


def test_unbuilt_and_empty_texts():
    for kind in SUBWORDS:
        tok = tokenizers.get(kind)
        with pytest.raises(ValueError, match="no vocabulary"):
            tok.texts_to_ids(["a"])
        with pytest.raises(ValueError, match="empty"):
            tok.build_vocabulary([])


# --------------------------------------------------------------------------------------------- tf.data
def test_tf_data_pipeline_under_current_backend(learnt):
    _kind, tok = learnt
    ds = tf.data.Dataset.from_tensor_slices(TRAIN[:20]).batch(8).map(tok.tf_tokenize)
    rows = [row for batch in ds for row in batch.to_list()]
    want = tok.texts_to_ids(TRAIN[:20])
    assert rows == [[t for t in row if t != tok.pad_id] for row in want.tolist()]
    counts = tf.data.Dataset.from_tensor_slices(TRAIN[:20]).batch(20).map(tok.tf_token_counts)
    np.testing.assert_array_equal(next(iter(counts)).numpy(), (want != tok.pad_id).sum(axis=1) - 2)
    batches = list(tok.make_dataset(TRAIN[:40], batch_size=16, shuffle=True, seed=0).as_numpy_iterator())
    assert sum(len(b) for b in batches) == 40
    embed = keras.layers.Embedding(tok.vocabulary_size, 4, mask_zero=True)
    x = keras.ops.convert_to_tensor(batches[0])
    assert tuple(keras.ops.shape(embed(x))) == (*batches[0].shape, 4)
    decoded = [text for batch in batches for text in tok.ids_to_texts(batch)]
    assert sorted(decoded) == sorted(tok.ids_to_texts(tok.texts_to_ids(TRAIN[:40])))


# ------------------------------------------------------------------------------------------------ TextVAE
@pytest.fixture(scope="module", params=SUBWORDS)
def fitted(request):
    """A tiny TextVAE with a subword tokenizer, fitted 1 epoch on 256 sentences of the SNLI sample."""
    keras.utils.set_random_seed(0)
    train, _ = kvae.datasets.snli_sample(test_size=0)
    model = tiny_text_vae(tokenizer=request.param, max_vocabulary=400, seed=0)
    history = model.fit(train[:256], epochs=1, batch_size=32, verbose=0)
    return request.param, model, history.history


def test_text_vae_learns_subwords_on_first_fit(fitted):
    kind, model, history = fitted
    assert type(model.tokenizer) is type(tokenizers.get(kind))
    assert model.tokenizer.vocabulary_size <= 400 and model.get_config()["tokenizer"] == kind
    assert np.isfinite(history["loss"]).all()
    texts = model.reconstruct(TRAIN[:4], max_length=12)
    assert len(texts) == 4 and all(isinstance(t, str) for t in texts)
    assert not any("##" in t or "\u2581" in t for t in texts + model.generate(3, seed=0, max_length=12))


def test_text_vae_saved_with_its_subword_vocabulary(fitted, tmp_path):
    kind, model, _ = fitted
    path = str(tmp_path / f"{kind}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.tokenizer) is type(model.tokenizer) and loaded.tokenizer.vocabulary == model.tokenizer.vocabulary
    np.testing.assert_array_equal(loaded.texts_to_ids(TRAIN[:8]), model.texts_to_ids(TRAIN[:8]))
    np.testing.assert_allclose(loaded.encode(TRAIN[:8]), model.encode(TRAIN[:8]), atol=1e-5)
    assert loaded.reconstruct(TRAIN[:8], max_length=12) == model.reconstruct(TRAIN[:8], max_length=12)


def test_text_vae_default_tokenizer_is_word():
    model = tiny_text_vae(vocabulary=["a", "dog"])
    assert type(model.tokenizer) is tokenizers.WordTokenizer and model.get_config()["tokenizer"] == "word"
    config = model.get_config()
    del config["tokenizer"]  # files saved before the option load as word models
    assert type(kvae.TextVAE.from_config(config).tokenizer) is tokenizers.WordTokenizer
    with pytest.raises(ValueError, match="Unknown tokenizer"):
        tiny_text_vae(tokenizer="characters")
