"""What users pass as text -> sentences: lists, arrays, tensors and `tf.data` datasets of strings, checked once here.

`find_sentences` tells sentences from token ids (the two inputs a text model takes); `string_list` and
`string_dataset` turn sentences into the list or the dataset of scalar strings that tokenizers consume. TensorFlow is
imported only when a TensorFlow object is passed or a dataset is built.
"""

import numpy as np

from kvae.preprocessors.batching import is_dataset, is_stream


def _is_string(value):
    return isinstance(value, (str, bytes))


def preview(text, width=40):
    """`repr(text)` cut to `width` characters, for error messages."""
    text = repr(text)
    return text if len(text) <= width else text[: width - 4] + "...'"


def utf8(text, name):
    """A sentence as str: bytes are decoded as UTF-8, with a ValueError naming `name` when they are not UTF-8."""
    if not isinstance(text, bytes):
        return str(text)
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"`{name}` holds bytes that are not valid UTF-8 text ({e}); decode them first.") from None


def string_list(texts, name="texts", allow_scalar=False):
    """`texts` (a list / 1-D array / 1-D string tensor of str or UTF-8 bytes) as a list of str/bytes.

    A single string is refused unless `allow_scalar` (then it is one sentence)."""
    if _is_string(texts):
        if allow_scalar:
            return [texts]
        raise ValueError(
            f"`{name}` must be an iterable of strings, not a single string (got {texts!r:.60}). Wrap it in a list."
        )
    if type(texts).__module__.startswith("tensorflow") and hasattr(texts, "numpy"):
        if texts.dtype.name != "string":
            raise ValueError(f"`{name}` must contain strings, got a tensor of dtype {texts.dtype.name}.")
        if texts.shape.rank == 0 and allow_scalar:
            return [texts.numpy()]
        if texts.shape.rank != 1:
            raise ValueError(f"`{name}` must be a 1-D string tensor, got shape {texts.shape}.")
        return list(texts.numpy())
    if isinstance(texts, np.ndarray):
        if texts.ndim == 0 and allow_scalar:
            texts = texts.reshape(1)
        if texts.ndim != 1:
            raise ValueError(f"`{name}` must be a 1-D array of strings, got shape {texts.shape}.")
        texts = texts.tolist()
    try:
        items = list(texts)
    except TypeError:
        raise ValueError(f"`{name}` must be an iterable of strings, got {type(texts).__name__}.") from None
    for i, item in enumerate(items):
        if not _is_string(item):
            raise ValueError(
                f"`{name}` must contain only strings, but element {i} is {type(item).__name__}: {item!r:.60}"
            )
        if isinstance(item, bytes):
            utf8(item, f"{name}[{i}]")
    return items


def string_dataset(texts, name="texts"):
    """`texts` (list, array or finite `tf.data.Dataset` of scalar or 1-D batches of strings) as a dataset of
    scalar `tf.string` elements."""
    import tensorflow as tf

    if isinstance(texts, tf.data.Dataset):
        if texts.cardinality() == tf.data.INFINITE_CARDINALITY:
            raise ValueError(
                f"`{name}` is an infinite dataset (e.g. `.repeat()`): it is read to the end, so pass a finite one "
                "(`.take(n)`)."
            )
        spec = texts.element_spec
        if not isinstance(spec, tf.TensorSpec) or spec.dtype != tf.string:
            raise ValueError(f"`{name}` must be a tf.data.Dataset of strings, got element spec {spec}.")
        if spec.shape.rank == 1:
            return texts.unbatch()
        if spec.shape.rank != 0:
            raise ValueError(
                f"`{name}` must be a dataset of scalar (or 1-D batches of) strings, got element shape {spec.shape}."
            )
        return texts
    items = string_list(texts, name)
    if not items:
        raise ValueError(f"`{name}` is empty.")
    return tf.data.Dataset.from_tensor_slices(tf.constant(items, tf.string))


def find_sentences(x, text_key, name):
    """The sentences in `x`: a list of str, or a `tf.data.Dataset` of scalar strings; None if `x` holds token ids
    (integer arrays, datasets of id batches, and generators / `PyDataset`s, which must yield padded id batches).

    Dicts (and datasets of dicts) hold their sentences or ids under `text_key`; datasets of tuples under their first
    element. Anything else raises a ValueError naming `name`."""
    if _is_string(x):
        raise ValueError(
            f"`{name}` is a single string ({preview(x)}); pass a list of sentences (`[{name}]` for one "
            "sentence), or read a file of sentences with `kvae.datasets.text_lines(path)`."
        )
    if is_stream(x):
        return None
    if isinstance(x, dict):
        if text_key not in x:
            raise ValueError(f"`{name}` is a dict without the text key {text_key!r} (keys: {sorted(x)}).")
        return find_sentences(x[text_key], text_key, name)
    if is_dataset(x):
        return _dataset_sentences(x, text_key, name)
    if isinstance(x, (list, tuple)):
        if len(x) == 0:
            raise ValueError(f"`{name}` is empty.")
        strings = [_is_string(s) for s in x]
        if all(strings):
            return [utf8(s, name) for s in x]
        if any(strings):
            bad = next(type(s).__name__ for s in x if not _is_string(s))
            raise ValueError(f"`{name}` mixes sentences with non-string items (a {bad}); pass only str.")
        x = np.asarray(x)
    if isinstance(x, np.ndarray):
        if x.size == 0:
            raise ValueError(f"`{name}` is empty.")
        if x.dtype.kind in "USO":
            if x.ndim != 1:
                raise ValueError(f"`{name}` must be a 1-D array of sentences, got shape {x.shape}.")
            return [utf8(s, name) for s in x]
        if x.dtype.kind in "iu":
            return None
    raise ValueError(
        f"`{name}` must hold sentences (str) or padded token ids (int arrays), got {type(x).__name__}"
        + (f" of dtype {x.dtype}" if hasattr(x, "dtype") else "")
        + "."
    )


def _dataset_sentences(x, text_key, name):
    import tensorflow as tf

    if int(x.cardinality()) == 0:
        raise ValueError(f"`{name}` is an empty dataset.")
    spec = x.element_spec
    if isinstance(spec, dict):
        if text_key not in spec:
            raise ValueError(f"`{name}` yields dicts without the text key {text_key!r}.")
        x = x.map(lambda d: d[text_key])
    elif isinstance(spec, tuple):
        x = x.map(lambda *d: d[0])
    spec = x.element_spec
    if spec.dtype != tf.string:
        if not spec.dtype.is_integer or spec.shape.rank != 2:
            raise ValueError(
                f"`{name}` must be a dataset of sentences (strings) or of padded token id batches (integers, "
                f"rank 2), got elements of dtype {spec.dtype.name} and shape {spec.shape}."
            )
        return None  # id batches, possibly endless (`fit(..., steps_per_epoch=N)`)
    if int(x.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
        raise ValueError(f"`{name}` is an infinite dataset (`.repeat()`): pass a finite one (`.take(n)`).")
    return x.unbatch() if spec.shape.rank == 1 else x


def check_ids(ids, name, vocabulary_size=None):
    """Padded token ids (N, T) as a NumPy array: integers, N, T >= 1, within [0, vocabulary_size) when given."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise ValueError(f"`{name}` token ids must be integers, got dtype {ids.dtype}.")
    if ids.ndim != 2 or ids.size == 0:
        raise ValueError(f"`{name}` token ids must have shape (N, T) with N, T >= 1, got {ids.shape}.")
    if vocabulary_size is not None and (ids.min() < 0 or ids.max() >= vocabulary_size):
        raise ValueError(
            f"`{name}` holds ids outside the vocabulary range [0, {vocabulary_size}): [{ids.min()}, {ids.max()}]."
        )
    return ids
