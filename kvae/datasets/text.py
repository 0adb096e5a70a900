"""Text corpora: plain-text files, a bundled SNLI sample and TFDS datasets."""

import codecs
import glob
import gzip
import io
import os
from importlib import resources
from pathlib import Path

import numpy as np

from kvae.checks import check_int, check_seed

_SNLI = "snli_sample.txt.gz"
# Lines cleaned (blank ones dropped, transcoded, labels split) at once by `text_stream`.
_STREAM_CHUNK = 1024


def _read_lines(stream, source, encoding="utf-8"):
    """Yields ``(line_number, line)`` for the non-blank lines of ``stream``."""
    try:
        for number, line in enumerate(stream, start=1):
            line = line.rstrip("\r\n")
            if line.strip():
                yield number, line
    except UnicodeDecodeError as e:
        raise ValueError(f"{source}: not {encoding} text ({e}); pass the file's `encoding`") from e
    except (OSError, EOFError) as e:
        raise ValueError(f"{source}: truncated or corrupted gzip data ({e})") from e


def _check_path(path, name="path"):
    """``path`` as an expanded Path, or a TypeError naming ``name``."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`{name}` must be a str or os.PathLike, got {type(path).__name__}: {path!r:.60}")
    return Path(path).expanduser()


def _open_text(path, encoding):
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise ValueError(f"Unknown `encoding` {encoding!r}; pass a Python codec name such as 'utf-8'.") from None
    with open(path, "rb") as f:
        is_gzip = f.read(2) == b"\x1f\x8b"
    if is_gzip:
        return gzip.open(path, "rt", encoding=encoding)
    return open(path, "rt", encoding=encoding)


def text_lines(path, labels=False, encoding="utf-8", stream=False):
    """Reads a corpus with one sentence per line (blank lines are skipped).

    Args:
        path: path to a text file; gzip-compressed files (e.g. ``.gz``) are
            decompressed transparently. With ``stream=True``, a path or a glob
            pattern (``"shards/*.txt.gz"``) of one or many files.
        labels: if True, each line is ``label<TAB>sentence``.
        encoding: text encoding of the file.
        stream: if True, return a ``tf.data`` pipeline that reads the files
            as it is iterated (corpora larger than memory): see
            ``kvae.datasets.text.text_stream``.

    Returns:
        A list of str (trailing newlines stripped); with ``labels=True``,
        ``(sentences, labels)`` where ``labels`` is a NumPy int64 array if
        every label is an integer, else a NumPy array of str. With
        ``stream=True``, a ``tf.data.Dataset``.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        TypeError: if ``path`` is not a str or path-like object.
        ValueError: if the file holds no sentence, is not text in
            ``encoding`` (or an unknown encoding), is a truncated gzip file,
            or a labelled line is malformed (the message names the line
            number).

    Example:
        >>> sentences = text_lines("corpus.txt")  # doctest: +SKIP
        >>> sentences, y = text_lines("labelled.txt.gz", labels=True)  # doctest: +SKIP
    """
    if stream:
        return text_stream(path, labels=labels, encoding=encoding)
    path = _check_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Text file not found: {path}")
    sentences, tags = [], []
    with _open_text(path, encoding) as lines:
        for number, line in _read_lines(lines, path, encoding):
            if not labels:
                sentences.append(line)
                continue
            tag, sep, sentence = line.partition("\t")
            if not sep or not tag.strip() or not sentence.strip():
                raise ValueError(
                    f"{path}, line {number}: expected 'label<TAB>sentence', "
                    f"got {line[:80]!r}"
                )
            tags.append(tag.strip())
            sentences.append(sentence)
    if not sentences:
        raise ValueError(f"{path}: no sentences (the file is empty or blank)")
    if not labels:
        return sentences
    try:
        return sentences, np.array([int(t) for t in tags], dtype=np.int64)
    except ValueError:
        return sentences, np.array(tags, dtype=str)


def stream_files(pattern, name="path"):
    """The files a path or glob pattern names, sorted; a FileNotFoundError when none does."""
    pattern = str(_check_path(pattern, name))
    files = sorted(p for p in glob.glob(pattern) if os.path.isfile(p))
    if not files:
        what = "matches no file" if glob.has_magic(pattern) else "is not a file"
        raise FileNotFoundError(f"Text file not found: {pattern} {what}")
    return files


def text_stream(path, labels=False, encoding="utf-8"):
    """A ``tf.data`` pipeline of the lines of one or many text files, read as it is iterated.

    The files (sorted by name) are read one after the other by ``tf.data.TextLineDataset``, so memory does not grow
    with the corpus; files ending in ``.gz`` are decompressed (``compression_type="GZIP"``). Lines are stripped of
    their line ending; blank lines (ASCII whitespace only) are dropped. ``text_lines(path, stream=True)`` calls it.

    Args:
        path: a path or a glob pattern (``"shards/*.txt.gz"``; quote it in a shell).
        labels: if True, each line is ``label<TAB>sentence`` and the elements are ``(sentence, label)`` string pairs
            (a line without a tab fails when it is read).
        encoding: text encoding of the files; lines are transcoded to UTF-8 (malformed bytes fail when read).

    Returns:
        A finite ``tf.data.Dataset`` of scalar ``tf.string`` sentences (or pairs), of unknown cardinality.

    Raises:
        FileNotFoundError: if no file matches ``path``.
        ValueError: if ``encoding`` is unknown.

    Example:
        >>> lines = text_lines("shards/*.txt.gz", stream=True)  # doctest: +SKIP
        >>> model.fit(lines, epochs=1, steps_per_epoch=1000)  # doctest: +SKIP
    """
    import tensorflow as tf

    files = stream_files(path)
    try:
        codec = codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise ValueError(f"Unknown `encoding` {encoding!r}; pass a Python codec name such as 'utf-8'.") from None
    compression = ["GZIP" if f.endswith(".gz") else "" for f in files]
    names = tf.data.Dataset.from_tensor_slices((files, compression))
    lines = names.flat_map(lambda f, c: tf.data.TextLineDataset(f, compression_type=c))  # strips "\n" and "\r\n"

    @tf.autograph.experimental.do_not_convert
    def clean(batch):  # one op per batch of lines, not per line: per-line maps cost ~40 us a line
        if codec != "utf-8":
            batch = tf.strings.unicode_transcode(batch, codec, "UTF-8", errors="strict")
        batch = tf.boolean_mask(batch, tf.strings.length(tf.strings.strip(batch)) > 0)
        if not labels:
            return batch
        parts = tf.strings.split(batch, "\t", maxsplit=1)
        message = f"{path}: a line is not 'label<TAB>sentence'"
        tf.debugging.assert_equal(parts.row_lengths(), tf.constant(2, tf.int64), message=message)
        parts = parts.to_tensor()
        return parts[:, 1], tf.strings.strip(parts[:, 0])

    return lines.batch(_STREAM_CHUNK).map(clean, num_parallel_calls=tf.data.AUTOTUNE).unbatch()


def snli_sample(test_size=1000, seed=0):
    """Loads 10,000 SNLI sentences bundled with the package, split in two.

    The sentences are the hypotheses of the SNLI validation split (Bowman et
    al., 2015; CC BY-SA 4.0, see ``kvae/datasets/data/ATTRIBUTION.md``),
    lower-cased and tokenised, one per string. The split is a random
    permutation drawn with ``numpy.random.default_rng(seed)``, so it is the
    same on every call with the same arguments.

    Args:
        test_size: number of sentences in the test split, in [0, 10000].
        seed: seed of the permutation.

    Returns:
        ``(train, test)``: lists of str, of lengths ``10000 - test_size`` and
        ``test_size``, disjoint, in permuted order.

    Example:
        >>> train, test = snli_sample()
        >>> len(train), len(test)
        (9000, 1000)
    """
    test_size = check_int(test_size, "test_size", minimum=0, type_error=True)
    seed = check_seed(seed, type_error=True)
    resource = resources.files(__package__).joinpath("data").joinpath(_SNLI)
    with resource.open("rb") as raw:
        stream = io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8")
        lines = [line for _, line in _read_lines(stream, _SNLI)]
    if not 0 <= test_size <= len(lines):
        raise ValueError(f"`test_size` must be in [0, {len(lines)}], got {test_size}")
    order = np.random.default_rng(seed).permutation(len(lines))
    test = [lines[i] for i in order[:test_size]]
    train = [lines[i] for i in order[test_size:]]
    return train, test


def tfds_text(name, split="train", key="text", download=True, data_dir=None):
    """Loads the sentences of a TensorFlow Datasets text data set.

    Needs the ``tensorflow-datasets`` package, imported only when called, and
    internet access unless the data set is already in ``data_dir``.

    Args:
        name: TFDS name, e.g. ``"imdb_reviews"`` or ``"ag_news_subset"``.
        split: TFDS split, e.g. ``"train"`` or ``"test[:10%]"``.
        key: feature holding the text.
        download: if False, only use data already prepared in ``data_dir``.
        data_dir: TFDS data folder (default: TFDS's own, ``~/tensorflow_datasets``).

    Returns:
        A list of str, one per example.

    Raises:
        ImportError: if ``tensorflow-datasets`` is not installed.
        ValueError: if TFDS has no data set called ``name``.
        KeyError: if the examples have no feature ``key``.
        RuntimeError: if the data cannot be downloaded or read.

    Example:
        >>> texts = tfds_text("imdb_reviews", split="train[:1%]")  # doctest: +SKIP
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise ImportError(
            "tfds_text needs tensorflow-datasets: pip install tensorflow-datasets"
        ) from e
    try:
        dataset = tfds.load(name, split=split, download=download, data_dir=data_dir)
    except Exception as e:
        if type(e).__name__ == "DatasetNotFoundError":
            raise ValueError(f"TFDS has no data set called {name!r}.") from e
        raise RuntimeError(
            f"Could not load TFDS data set {name!r} (split {split!r}): "
            f"{type(e).__name__}: {e}\nThis needs internet access, or the data "
            "set already downloaded and prepared in a TFDS data_dir (pass "
            "data_dir=..., download=False)."
        ) from e
    spec = dataset.element_spec
    if not isinstance(spec, dict) or key not in spec:
        found = sorted(spec) if isinstance(spec, dict) else type(spec).__name__
        raise KeyError(f"TFDS data set {name!r} has no feature {key!r}; it has {found}")
    texts = []
    for example in tfds.as_numpy(dataset):
        value = example[key]
        texts.append(value.decode("utf-8") if isinstance(value, bytes) else str(value))
    return texts
