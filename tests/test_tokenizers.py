"""Tests for kvae.tokenizers.WordTokenizer (run under every KERAS_BACKEND)."""

import collections
import json
import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from kvae.tokenizers import WordTokenizer

SNLI_VALID = os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "snli",
    "snli.valid.txt",
)

TEXTS = [
    "The cat sat on the mat .",
    "the dog sat .",
    "A cat and a dog .",
    "the end",
]


def _tok(texts=TEXTS, **kwargs):
    return WordTokenizer(**kwargs).build_vocabulary(texts, verbose=False)


def _synthetic_sentences(n, min_len, max_len, seed=0):
    """Sentences with lengths spread uniformly over [min_len, max_len]."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(50)]
    lengths = rng.integers(min_len, max_len + 1, size=n)
    return [" ".join(rng.choice(words, size=k)) for k in lengths]


def _padding_waste(dataset, pad_id):
    pads = cells = 0
    for batch in dataset.as_numpy_iterator():
        pads += int(np.sum(batch == pad_id))
        cells += batch.size
    return pads / cells


# ----------------------------------------------------------------- vocabulary
def test_special_tokens_have_fixed_ids():
    tok = _tok()
    specials = [tok.PAD_TOKEN, tok.UNK_TOKEN, tok.BOS_TOKEN, tok.EOS_TOKEN]
    ids = [tok.pad_id, tok.unk_id, tok.bos_id, tok.eos_id]
    assert ids == [0, 1, 2, 3]
    assert list(WordTokenizer.SPECIAL_TOKENS) == specials
    assert [tok.vocabulary[i] for i in ids] == specials


def test_build_vocabulary_counts_order_and_lowercase(capsys):
    tok = WordTokenizer().build_vocabulary(TEXTS)
    counts = collections.Counter(w for t in TEXTS for w in t.lower().split())
    expected = sorted(counts, key=lambda w: (-counts[w], w))
    assert tok.vocabulary[4:] == expected
    assert tok.vocabulary_size == 4 + len(counts)
    assert "The" not in tok.vocabulary and "the" in tok.vocabulary
    # The most frequent word gets the first regular id.
    assert tok.vocabulary[4] == "the"
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert f"vocabulary size {tok.vocabulary_size}" in out[0]
    assert "dropped 0" in out[0]


def test_vocabulary_cap_and_alphabetical_ties(capsys):
    texts = ["b b b a a c c d e"]  # b:3, a:2, c:2, d:1, e:1
    tok = WordTokenizer(max_vocabulary=4 + 3).build_vocabulary(texts)
    assert tok.vocabulary[4:] == ["b", "a", "c"]
    assert tok.vocabulary_size == 7
    assert "dropped 2 of 5 word types" in capsys.readouterr().out
    tok = _tok(texts, max_vocabulary=4 + 4)
    assert tok.vocabulary[4:] == ["b", "a", "c", "d"]  # d before e


def test_vocabulary_is_deterministic_and_input_type_independent():
    rng = np.random.default_rng(0)
    texts = _synthetic_sentences(200, 1, 10)
    ref = _tok(texts, max_vocabulary=30).vocabulary
    shuffled = list(rng.permutation(texts))
    assert _tok(shuffled, max_vocabulary=30).vocabulary == ref
    assert _tok(np.array(texts), max_vocabulary=30).vocabulary == ref
    as_bytes = np.array([t.encode() for t in texts], dtype=object)
    assert _tok(as_bytes, max_vocabulary=30).vocabulary == ref
    ds = tf.data.Dataset.from_tensor_slices(texts)
    assert _tok(ds, max_vocabulary=30).vocabulary == ref
    assert _tok(ds.batch(7), max_vocabulary=30).vocabulary == ref


def test_unicode_lowercase_and_whitespace_match_python():
    text = "ÉCOLE\u00a0Straße  x\ty\u3000z"
    tok = _tok([text])
    assert sorted(tok.vocabulary[4:]) == sorted(text.lower().split())


def test_special_strings_in_text_are_not_vocabulary_words():
    tok = _tok(["a <unk> b <eos> <pad>"])
    assert tok.vocabulary[4:] == ["a", "b"]
    ids = tok.texts_to_ids("a <eos> b")[0]
    assert ids.tolist() == [tok.bos_id, 4, tok.unk_id, 5, tok.eos_id]


# -------------------------------------------------------------- tokenisation
def test_round_trip_text_ids_text():
    tok = _tok()
    ids = tok.texts_to_ids(TEXTS)
    assert ids.dtype == np.int32
    assert tok.ids_to_texts(ids) == [" ".join(t.lower().split()) for t in TEXTS]


def test_unknown_words_map_to_unk():
    tok = _tok()
    ids = tok.texts_to_ids("the zebra sat on a xylophone")[0]
    the, sat, on, a = (tok.vocabulary.index(w) for w in ["the", "sat", "on", "a"])
    expected = [tok.bos_id, the, tok.unk_id, sat, on, a, tok.unk_id, tok.eos_id]
    assert ids.tolist() == expected
    assert tok.ids_to_texts([ids]) == ["the <unk> sat on a <unk>"]


def test_texts_to_ids_pads_to_longest_of_input():
    tok = _tok()
    ids = tok.texts_to_ids(["the cat", "the cat sat on the mat", ""])
    assert ids.shape == (3, 6 + 2)  # longest sentence + bos + eos
    assert ids[2].tolist()[:2] == [tok.bos_id, tok.eos_id]
    assert np.all(ids[2, 2:] == tok.pad_id)
    assert np.all(ids[:, 0] == tok.bos_id)
    assert tok.texts_to_ids("").tolist() == [[tok.bos_id, tok.eos_id]]
    assert tok.texts_to_ids("the cat").shape == (1, 4)


def test_tf_tokenize_and_call_in_tf_data():
    tok = _tok()
    expected = tok.texts_to_ids(TEXTS)
    ragged = tok.tf_tokenize(tf.constant(TEXTS))
    assert isinstance(ragged, tf.RaggedTensor) and ragged.dtype == tf.int32
    np.testing.assert_array_equal(ragged.to_tensor().numpy(), expected)
    # The layer itself maps over a tf.data pipeline, per element or batched.
    ds = tf.data.Dataset.from_tensor_slices(TEXTS)
    rows = [r.tolist() for r in ds.map(tok).as_numpy_iterator()]
    assert rows == tok.tf_tokenize(TEXTS).to_list()
    batched = ds.batch(2).map(lambda s: tok(s).to_tensor(tok.pad_id))
    first = next(iter(batched)).numpy()
    np.testing.assert_array_equal(first, tok.texts_to_ids(TEXTS[:2]))


def test_truncation_at_max_length_warns_once():
    tok = _tok(max_length=3)
    with pytest.warns(UserWarning, match="2 of 3 sentences") as record:
        ids = tok.texts_to_ids(["the cat sat on", "the dog", "a b c d e f"])
    assert len(record) == 1
    assert ids.shape == (3, 3 + 2)
    assert tok.ids_to_texts(ids)[0] == "the cat sat"
    assert ids[0, -1] == tok.eos_id
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tok.texts_to_ids(["the cat sat"])  # exactly max_length: no warning
    with pytest.warns(UserWarning, match="1 of 2 sentences") as record:
        ds = tok.make_dataset(["a b c d", "a"], batch_size=2, bucket=False, pad_to_multiple_of=1)
    assert len(record) == 1
    assert max(b.shape[1] for b in ds.as_numpy_iterator()) == 3 + 2


# -------------------------------------------------------------- ids_to_texts
def test_ids_to_texts_stops_at_eos_and_drops_pad():
    tok = _tok()
    the, cat = tok.vocabulary.index("the"), tok.vocabulary.index("cat")
    b, e, p = tok.bos_id, tok.eos_id, tok.pad_id
    ids = np.array([[b, the, cat, e, cat, cat], [the, p, cat, p, p, p]])
    assert tok.ids_to_texts(ids) == ["the cat", "the cat"]
    # Ragged list of lists, and a backend tensor.
    assert tok.ids_to_texts([[b, cat, e], [e, the]]) == ["cat", ""]
    tensor = keras.ops.convert_to_tensor(ids.astype("int32"))
    assert tok.ids_to_texts(tensor) == ["the cat", "the cat"]


# ------------------------------------------------------------------- tf.data
def test_make_dataset_pads_each_batch_to_its_own_longest():
    texts = _synthetic_sentences(300, 1, 40)
    tok = _tok(texts)
    ds = tok.make_dataset(texts, batch_size=32, shuffle=True, seed=1, pad_to_multiple_of=1)
    assert ds.element_spec.dtype == tf.int32
    decoded, widths = [], set()
    for batch in ds.as_numpy_iterator():
        assert batch.dtype == np.int32 and batch.ndim == 2
        # The longest sentence of the batch fills the last column.
        assert np.any(batch[:, -1] == tok.eos_id)
        widths.add(batch.shape[1])
        decoded += tok.ids_to_texts(batch)
    assert len(widths) > 1  # not padded to one global maximum
    assert sorted(decoded) == sorted(texts)  # every sentence exactly once


def test_pad_to_multiple_and_declared_cardinality():
    texts = _synthetic_sentences(300, 1, 40)
    tok = _tok(texts)
    for bucket in (True, False):
        ds = tok.make_dataset(texts, batch_size=32, bucket=bucket)
        batches = list(ds.as_numpy_iterator())
        assert {b.shape[1] % 8 for b in batches} == {0}
        # the declared number of batches is the real one (Keras sizes its progress bar with it)
        assert int(ds.cardinality()) == len(batches)
        # padding up to the multiple adds at most 7 columns beyond the batch's longest sentence
        for b in batches:
            longest = int((b != tok.pad_id).sum(axis=1).max())
            assert b.shape[1] - longest < 8


def test_bucketing_reduces_padding():
    texts = _synthetic_sentences(1000, 1, 60, seed=2)
    tok = _tok(texts)
    kwargs = {"batch_size": 32, "shuffle": True, "seed": 0}
    bucketed = _padding_waste(tok.make_dataset(texts, bucket=True, **kwargs), 0)
    plain = _padding_waste(tok.make_dataset(texts, bucket=False, **kwargs), 0)
    assert bucketed < 0.5 * plain, (bucketed, plain)


def test_pooled_bucketing_batches_one_length_in_random_order():
    # 4,000 sentences, batch 16: pools of 1,600 sentences sorted by length, cut into batches, batches shuffled.
    texts = _synthetic_sentences(4000, 1, 30, seed=4)
    tok = _tok(texts)
    ds = tok.make_dataset(texts, batch_size=16, shuffle=True, seed=3, bucket=True, pad_to_multiple_of=1)
    assert int(ds.cardinality()) == 250

    def epoch():
        batches = list(ds.as_numpy_iterator())
        lengths = [(b != tok.pad_id).sum(axis=1) for b in batches]
        return batches, lengths

    batches, lengths = epoch()
    assert len(batches) == 250
    decoded = sorted(t for b in batches for t in tok.ids_to_texts(b))
    assert decoded == sorted(" ".join(t.split()) for t in texts)  # every sentence once
    # Within a pool of 1,600 sentences over 30 lengths, a batch of 16 spans at most 2 lengths; exact padding.
    assert max(int(n.max() - n.min()) for n in lengths) <= 1
    assert all(b.shape[1] == n.max() for b, n in zip(batches, lengths))
    # The batches do not come sorted: successive batches jump in length; the next epoch has other batches.
    firsts = np.array([n.max() for n in lengths])
    assert np.mean(np.abs(np.diff(firsts)) > 3) > 0.5
    again, _ = epoch()
    assert [b.tolist() for b in again] != [b.tolist() for b in batches]
    # The same seed repeats the whole sequence.
    same = tok.make_dataset(texts, batch_size=16, shuffle=True, seed=3, bucket=True, pad_to_multiple_of=1)
    assert [b.tolist() for b in same.as_numpy_iterator()] == [b.tolist() for b in batches]


def test_shuffle_seed_and_reshuffle_each_epoch():
    texts = _synthetic_sentences(200, 1, 30, seed=3)
    tok = _tok(texts)

    def epoch(ds):
        return [r for b in ds.as_numpy_iterator() for r in tok.ids_to_texts(b)]

    ds = tok.make_dataset(texts, batch_size=16, shuffle=True, seed=7)
    first, second = epoch(ds), epoch(ds)
    assert first != second and sorted(first) == sorted(second)
    again = tok.make_dataset(texts, batch_size=16, shuffle=True, seed=7)
    assert epoch(again) == first
    unshuffled = tok.make_dataset(texts, batch_size=16, bucket=False)
    assert epoch(unshuffled) == [" ".join(t.split()) for t in texts]


def test_drop_remainder_and_dataset_input():
    texts = _synthetic_sentences(250, 1, 30, seed=4)
    tok = _tok(texts)
    ds = tok.make_dataset(
        tf.data.Dataset.from_tensor_slices(texts), batch_size=16,
        drop_remainder=True,
    )
    sizes = [b.shape[0] for b in ds.as_numpy_iterator()]
    assert sizes and set(sizes) == {16}


def test_dataset_batches_convert_to_backend_tensors():
    texts = _synthetic_sentences(100, 1, 20, seed=5)
    tok = _tok(texts)
    n = 0
    for batch in tok.make_dataset(texts, batch_size=16, shuffle=True, seed=0):
        x = keras.ops.convert_to_tensor(batch)  # tf.Tensor -> backend tensor
        assert keras.backend.standardize_dtype(x.dtype) == "int32"
        assert tuple(keras.ops.shape(x)) == tuple(batch.shape)
        n += int(keras.ops.shape(x)[0])
    assert n == len(texts)
    embed = keras.layers.Embedding(tok.vocabulary_size, 4, mask_zero=True)
    assert tuple(keras.ops.shape(embed(x))) == (*batch.shape, 4)
    for batch in tok.make_dataset(texts, batch_size=16).as_numpy_iterator():
        assert tok.ids_to_texts(keras.ops.convert_to_tensor(batch))


# ------------------------------------------------------------- serialisation
@pytest.mark.filterwarnings("ignore:.*truncated")
def test_get_config_from_config_round_trip():
    tok = _tok(max_vocabulary=10, max_length=5, lowercase=True, name="words")
    config = tok.get_config()
    json.dumps(config)
    assert config["vocabulary"] == tok.vocabulary
    assert config["max_vocabulary"] == 10 and config["max_length"] == 5
    clone = WordTokenizer.from_config(config)
    probe = ["The cat sat on the mat and the dog sat too .", "zebra"]
    np.testing.assert_array_equal(clone.texts_to_ids(probe),
                                  tok.texts_to_ids(probe))
    serialized = keras.saving.serialize_keras_object(tok)
    assert serialized["registered_name"] == "kvae>WordTokenizer"
    restored = keras.saving.deserialize_keras_object(serialized)
    assert restored.vocabulary == tok.vocabulary and restored.name == "words"
    # An unbuilt tokenizer serialises too.
    assert WordTokenizer.from_config(WordTokenizer().get_config()).vocabulary is None


@keras.saving.register_keras_serializable(package="kvae_tests")
class _ModelWithTokenizer(keras.Model):
    def __init__(self, tokenizer, **kwargs):
        super().__init__(**kwargs)
        if isinstance(tokenizer, dict):
            tokenizer = keras.saving.deserialize_keras_object(tokenizer)
        self.tokenizer = tokenizer
        self.embed = keras.layers.Embedding(tokenizer.vocabulary_size, 3)

    def call(self, ids):
        return self.embed(ids)

    def get_config(self):
        config = super().get_config()
        config["tokenizer"] = keras.saving.serialize_keras_object(self.tokenizer)
        return config


def test_vocabulary_saved_in_keras_file(tmp_path):
    tok = _tok(max_length=7)
    model = _ModelWithTokenizer(tok)
    model(tok.texts_to_ids(TEXTS))
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path).tokenizer
    assert isinstance(restored, WordTokenizer)
    assert restored.vocabulary == tok.vocabulary and restored.max_length == 7
    np.testing.assert_array_equal(restored.texts_to_ids(TEXTS),
                                  tok.texts_to_ids(TEXTS))


def test_explicit_vocabulary():
    tok = WordTokenizer(vocabulary=["cat", "dog"])
    assert tok.vocabulary == [*WordTokenizer.SPECIAL_TOKENS, "cat", "dog"]
    assert WordTokenizer(vocabulary=tok.vocabulary).vocabulary == tok.vocabulary
    for bad in (["<unk>", "<pad>", "a"], ["a", "a"]):
        with pytest.raises(ValueError, match="vocabulary"):
            WordTokenizer(vocabulary=bad)


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("texts", [123, None, [], ["ok", 3], np.zeros(3), "one"])
def test_build_vocabulary_bad_texts(texts):
    with pytest.raises(ValueError, match="texts"):
        WordTokenizer().build_vocabulary(texts)


def test_build_vocabulary_bad_dataset():
    with pytest.raises(ValueError, match="texts"):
        WordTokenizer().build_vocabulary(tf.data.Dataset.range(3))
    with pytest.raises(ValueError, match="texts"):
        WordTokenizer().build_vocabulary(tf.data.Dataset.from_tensor_slices([""]))


@pytest.mark.parametrize("texts", [5, [1, 2], ["a", None], []])
def test_texts_to_ids_bad_texts(texts):
    with pytest.raises(ValueError, match="texts"):
        _tok().texts_to_ids(texts)


def test_ids_to_texts_bad_ids():
    tok = _tok()
    bad = tok.vocabulary_size + 5
    with pytest.raises(ValueError, match=f"id {bad}"):
        tok.ids_to_texts([[tok.bos_id, bad]])
    with pytest.raises(ValueError, match="id -1"):
        tok.ids_to_texts(np.array([[2, -1, 3]]))
    with pytest.raises(ValueError, match="ids"):
        tok.ids_to_texts(np.array([[2.0, 4.0]]))


def test_unbuilt_tokenizer_raises():
    tok = WordTokenizer()
    for fn in (
        lambda: tok.texts_to_ids(["a"]),
        lambda: tok.tf_tokenize(["a"]),
        lambda: tok.ids_to_texts([[2, 3]]),
        lambda: tok.make_dataset(["a"]),
        lambda: tok.vocabulary_size,
    ):
        with pytest.raises(ValueError, match=r"build_vocabulary\(texts\) first"):
            fn()


@pytest.mark.parametrize(
    "kwargs",
    [{"max_vocabulary": 4}, {"max_length": 0}, {"max_length": 2.5}],
)
def test_bad_constructor_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        WordTokenizer(**kwargs)


def test_make_dataset_bad_arguments():
    tok = _tok()
    with pytest.raises(ValueError, match="texts"):
        tok.make_dataset([1, 2])
    with pytest.raises(ValueError, match="texts"):
        tok.make_dataset([])
    with pytest.raises(ValueError, match="batch_size"):
        tok.make_dataset(TEXTS, batch_size=0)


# ------------------------------------------------------------- realistic data
@pytest.mark.skipif(not os.path.exists(SNLI_VALID), reason="no SNLI data")
@pytest.mark.filterwarnings("ignore:.*truncated")
def test_snli_valid_sample():
    with open(SNLI_VALID, encoding="utf-8") as f:
        texts = [line.strip() for line in f][:3000]
    tok = WordTokenizer(max_vocabulary=2000, max_length=40)
    tok.build_vocabulary(texts, verbose=False)
    ids = tok.texts_to_ids(texts)
    words = ids[(ids != tok.pad_id) & (ids != tok.bos_id) & (ids != tok.eos_id)]
    assert np.mean(words == tok.unk_id) < 0.05
    kwargs = {"batch_size": 64, "shuffle": True, "seed": 0}
    bucketed = _padding_waste(tok.make_dataset(texts, bucket=True, **kwargs), 0)
    plain = _padding_waste(tok.make_dataset(texts, bucket=False, **kwargs), 0)
    assert bucketed < plain


@pytest.mark.skipif(keras.backend.backend() == "tensorflow", reason="the TensorFlow backend imports TensorFlow itself")
def test_import_kvae_leaves_tensorflow_unloaded_until_a_tokenizer_is_used(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys, kvae; loaded = 'tensorflow' in sys.modules; "
        "kvae.tokenizers.WordTokenizer(['a']).texts_to_ids(['a b']); print(loaded, 'tensorflow' in sys.modules)"
    )
    # A user's environment: the test session's own variables (set by earlier tests and the frameworks) left out.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "KERAS_BACKEND") if key in os.environ}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=tmp_path
    ).stdout
    assert out.split() == ["False", "True"]
