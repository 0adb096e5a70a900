"""Corpora larger than memory: `text_lines(glob, stream=True)` (plain and gzip shards), the vocabulary from one
streaming pass, `sentence_batches` on a stream (counted, bounded shuffle buffer, endless with `steps_per_epoch`),
`TextVAE.fit` on a stream and `kvae train text` on streamed shards. Backend independent (KERAS_BACKEND=tensorflow,
jax, torch)."""

import gzip
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import kvae
from kvae.cli import held_out, main
from kvae.cli.data import stream_data
from kvae.preprocessors import sentence_batches
from kvae.preprocessors.text_batches import SHUFFLE_BUFFER
from kvae.tokenizers import WordTokenizer

SENTENCES = kvae.datasets.snli_sample(test_size=0)[0][:600]
TINY = ["--latent-dim", "4", "--hidden-dim", "16", "--embedding-dim", "8", "--batch-size", "50", "--quiet"]


def write_shards(folder, sentences, shards=3):
    """`sentences` split into `shards` files named in order, odd ones gzip-compressed, with blank lines and CRLF
    endings mixed in (which the readers drop)."""
    for i, part in enumerate(np.array_split(np.array(sentences, dtype=object), shards)):
        text = "\n\n".join(part[:5]) + "\r\n" + "\n".join(part[5:]) + "\n  \n"
        if i % 2:
            with gzip.open(folder / f"part{i}.txt.gz", "wt", encoding="utf-8") as f:
                f.write(text)
        else:
            (folder / f"part{i}.txt").write_text(text, encoding="utf-8")


@pytest.fixture
def shards(tmp_path):
    write_shards(tmp_path, SENTENCES)
    return tmp_path


def decoded(dataset):
    return [line.decode("utf-8") for line in dataset.as_numpy_iterator()]


def test_a_glob_of_plain_and_gzip_shards_streams_the_sentences_of_the_in_memory_reader(shards):
    stream = kvae.datasets.text_lines(str(shards / "part*"), stream=True)
    assert isinstance(stream, tf.data.Dataset)
    in_memory = [line for path in sorted(shards.glob("part*")) for line in kvae.datasets.text_lines(path)]
    assert decoded(stream) == in_memory == SENTENCES
    assert decoded(kvae.datasets.text_lines(shards / "part1.txt.gz", stream=True)) == SENTENCES[200:400]


def test_labels_and_encodings_of_a_stream(tmp_path):
    (tmp_path / "labelled.tsv").write_text("0\ta man sleeps .\n\n1\ttwo dogs play .\n")
    pairs = kvae.datasets.text_lines(tmp_path / "labelled.tsv", labels=True, stream=True)
    assert [(s.decode(), y.decode()) for s, y in pairs.as_numpy_iterator()] == [
        ("a man sleeps .", "0"),
        ("two dogs play .", "1"),
    ]
    (tmp_path / "latin.txt").write_bytes("un café .\n".encode("latin-1"))
    assert decoded(kvae.datasets.text_lines(tmp_path / "latin.txt", encoding="latin-1", stream=True)) == ["un café ."]
    (tmp_path / "bad.tsv").write_text("0\ta b\nno tab here\n")
    with pytest.raises(tf.errors.InvalidArgumentError, match="label<TAB>sentence"):
        list(kvae.datasets.text_lines(tmp_path / "bad.tsv", labels=True, stream=True))


@pytest.mark.parametrize("pattern", ["nowhere/*.txt", "missing.txt"])
def test_no_matching_file_is_an_error_naming_the_pattern(tmp_path, pattern):
    with pytest.raises(FileNotFoundError, match="matches no file" if "*" in pattern else "is not a file"):
        kvae.datasets.text_lines(str(tmp_path / pattern), stream=True)
    with pytest.raises(ValueError, match="Unknown `encoding`"):
        kvae.datasets.text_lines(__file__, encoding="no-such-codec", stream=True)


@pytest.mark.parametrize("max_vocabulary", [20000, 300])
def test_the_vocabulary_of_a_stream_is_the_in_memory_one(shards, max_vocabulary):
    stream = kvae.datasets.text_lines(str(shards / "part*"), stream=True)
    streamed = WordTokenizer(max_vocabulary=max_vocabulary).build_vocabulary(stream, verbose=False)
    listed = WordTokenizer(max_vocabulary=max_vocabulary).build_vocabulary(SENTENCES, verbose=False)
    assert streamed.vocabulary == listed.vocabulary
    assert len(streamed.vocabulary) == min(max_vocabulary, len(listed.vocabulary))


def test_batches_of_a_stream_hold_every_sentence_once_per_pass(shards):
    tok = WordTokenizer().build_vocabulary(SENTENCES, verbose=False)
    stream = kvae.datasets.text_lines(str(shards / "part*"), stream=True)

    def texts(batches):
        return [text for batch in batches.as_numpy_iterator() for text in tok.ids_to_texts(batch)]

    counted = sentence_batches(tok, stream, batch_size=64, shuffle=True, seed=0)
    assert int(counted.cardinality()) == -(-len(SENTENCES) // 64)  # counted, the lengths not kept
    shuffled = texts(counted)
    assert sorted(shuffled) == sorted(SENTENCES) and shuffled != SENTENCES
    # A shuffle buffer smaller than the corpus still yields each sentence once per pass, in another order.
    small = texts(sentence_batches(tok, stream, batch_size=64, shuffle=True, seed=0, shuffle_buffer=50))
    assert sorted(small) == sorted(SENTENCES) and small != shuffled
    # Endless: no counting pass, infinite cardinality; the corpus, then the corpus again.
    endless = sentence_batches(tok, stream, batch_size=60, repeat=True, bucket=False)
    assert int(endless.cardinality()) == int(tf.data.INFINITE_CARDINALITY)
    assert texts(endless.take(2 * len(SENTENCES) // 60)) == SENTENCES + SENTENCES
    assert SHUFFLE_BUFFER == 100_000


def test_fit_on_a_stream_with_steps_per_epoch_trains_and_encodes(shards):
    stream = kvae.datasets.text_lines(str(shards / "part*"), stream=True)
    model = kvae.TextVAE(latent_dim=4, embedding_dim=8, hidden_dim=16, max_length=12, seed=0)  # random batches
    history = model.fit(stream, epochs=2, steps_per_epoch=3, batch_size=100, verbose=0)
    expected = WordTokenizer(max_vocabulary=20000).build_vocabulary(SENTENCES, verbose=False).vocabulary
    assert model.tokenizer.vocabulary == expected  # built from the stream
    assert len(history.history["loss"]) == 2 and np.all(np.isfinite(history.history["loss"]))
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 6
    codes = model.encode(SENTENCES[:5])  # none longer than 12 words
    assert codes.shape == (5, 4) and np.all(np.isfinite(codes))
    np.testing.assert_allclose(model.encode(stream.take(5)), codes, rtol=1e-5, atol=1e-6)


def test_in_memory_sentences_with_steps_per_epoch_repeat_and_reshuffle_every_pass():
    tok = WordTokenizer().build_vocabulary(SENTENCES, verbose=False)
    endless = sentence_batches(tok, SENTENCES, batch_size=60, shuffle=True, seed=0, repeat=True, bucket=False)
    assert int(endless.cardinality()) == int(tf.data.INFINITE_CARDINALITY)
    texts = [t for batch in endless.take(2 * len(SENTENCES) // 60).as_numpy_iterator() for t in tok.ids_to_texts(batch)]
    first, second = texts[: len(SENTENCES)], texts[len(SENTENCES) :]
    assert sorted(first) == sorted(second) == sorted(SENTENCES)  # each sentence once per pass
    assert first != second  # reshuffled
    # `fit` on a list: every epoch takes `steps_per_epoch` batches, past the end of one pass (Keras alone stops).
    model = kvae.TextVAE(latent_dim=4, embedding_dim=8, hidden_dim=16, max_length=12, seed=0)
    history = model.fit(SENTENCES[:200], epochs=3, steps_per_epoch=3, batch_size=100, verbose=0)  # 2 batches a pass
    assert len(history.history["loss"]) == 3 and np.all(np.isfinite(history.history["loss"]))
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 9


def test_kvae_train_text_streams_shards_and_evaluates_held_out_lines(shards, tmp_path):
    out = tmp_path / "run"
    argv = ["train", "text", "--data", str(shards / "part*"), "--steps-per-epoch", "1", "--epochs", "1"]
    assert main([*argv, "--test-size", "40", *TINY, "--out", str(out)]) == 0  # one step: one compiled shape (JAX)
    config = json.loads((out / "config.json").read_text())
    assert config["steps_per_epoch"] == 1 and config["data"].endswith("part*")
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation["examples"] == 40 and "bleu2" in evaluation and "mutual_information" in evaluation
    vocabulary = (out / "vocab.txt").read_text().splitlines()
    assert vocabulary == WordTokenizer().build_vocabulary(SENTENCES[40:], verbose=False).vocabulary  # held out: first
    assert len((out / "history.csv").read_text().splitlines()) == 2
    assert held_out("text", config) == SENTENCES[:40]  # what `kvae evaluate` reads again
    assert held_out("text", {}, str(shards / "part*")) == SENTENCES  # `kvae evaluate --data GLOB`: <= 1000 lines

    # --validation-data: the held-out lines come from another file, training streams every line of --data.
    (tmp_path / "valid.txt").write_text("\n".join(SENTENCES[:30]) + "\n")
    train, test = stream_data(str(shards / "part*"), str(tmp_path / "valid.txt"), test_size=20)
    assert test == SENTENCES[:20] and decoded(train) == SENTENCES


def test_cli_stream_errors(tmp_path, capsys):
    argv = ["train", "text", "--steps-per-epoch", "2", "--out", str(tmp_path / "o"), "--quiet"]
    assert main([*argv, "--data", str(tmp_path / "none*.txt")]) == 1
    assert "no such file (a glob must match at least one file)" in capsys.readouterr().err
    (tmp_path / "few.txt").write_text("a b\nc d\n")
    assert main([*argv, "--data", str(tmp_path / "few.txt"), "--test-size", "5"]) == 1
    assert "no sentences left to train on (2 held out" in capsys.readouterr().err
    assert main(["train", "text", "--validation-data", "v.txt", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "--validation-data applies to streamed text" in capsys.readouterr().err
