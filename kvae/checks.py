"""Argument checks for kvae's public constructors and methods: each returns the value, converted, or raises a
ValueError whose message names the argument and shows what it got.

>>> check_int(8, "latent_dim")
8
>>> check_number(0.5, "word_dropout", low=0, high=1, high_open=True)
0.5
>>> check_matrix([[0, 1], [2, 3]], "means").dtype
dtype('float64')
>>> check_sentences(["a cat", b"a dog"])
['a cat', 'a dog']
"""

import math
import numbers

import numpy as np


def check_int(value, name, minimum=1, allow_none=False, type_error=False):
    """An integer >= `minimum` (bools refused), or None when `allow_none`. With `type_error=True` a value that is
    not an integer raises a TypeError (an integer out of range still a ValueError)."""
    if value is None and allow_none:
        return None
    is_int = not isinstance(value, bool) and isinstance(value, numbers.Integral)
    if not is_int or value < minimum:
        none = " or None" if allow_none else ""
        error = TypeError if type_error and not is_int else ValueError
        raise error(f"`{name}` must be an integer >= {minimum}{none}, got {value!r}.")
    return int(value)


def check_number(value, name, low=None, high=None, low_open=False, high_open=False):
    """A finite real number (bools refused) in the interval from `low` to `high` (None: unbounded; `*_open`: the
    bound itself excluded), as a float."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        if low is not None and high is not None:
            where = f" in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        elif low is not None:
            where = f" {'>' if low_open else '>='} {low}"
        elif high is not None:
            where = f" {'<' if high_open else '<='} {high}"
        else:
            where = ""
        raise ValueError(f"`{name}` must be a finite number{where}, got {value!r}.")
    return float(value)


def check_seed(seed, name="seed", type_error=False):
    """None or a non-negative integer."""
    return check_int(seed, name, minimum=0, allow_none=True, type_error=type_error)


def check_choice(value, name, choices):
    """One of `choices` (strings or None)."""
    if not (value is None or isinstance(value, str)) or value not in choices:
        raise ValueError(f"`{name}` must be one of {tuple(choices)}, got {value!r}.")
    return value


def check_fraction(value, name, low_open=True, high_open=False):
    """A finite number in (0, 1] (the bounds' openness chosen by `low_open` / `high_open`), as a float."""
    return check_number(value, name, low=0, high=1, low_open=low_open, high_open=high_open)


def check_seeds(seeds, name="seeds"):
    """One seed or a non-empty sequence of them (non-negative integers), as a tuple of ints."""
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        seeds = (seeds,)
    try:
        seeds = tuple(seeds)
    except TypeError:
        raise ValueError(f"`{name}` must be a non-negative integer or a sequence of them, got {seeds!r}.") from None
    if not seeds or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise ValueError(f"`{name}` must be a non-empty sequence of non-negative integers, got {seeds!r}.")
    return tuple(int(s) for s in seeds)


def to_numpy(x):
    """`x` as a NumPy array: array-likes directly, backend tensors that `np.asarray` refuses (e.g. on a GPU)
    through `keras.ops.convert_to_numpy`. Raises the conversion's error when neither works."""
    try:
        return np.asarray(x)
    except (TypeError, ValueError, RuntimeError):
        if isinstance(x, (list, tuple, str, bytes)):
            raise
        import keras

        return np.asarray(keras.ops.convert_to_numpy(x))


def check_matrix(x, name, shape="(num_examples, latent_dim)"):
    """A non-empty 2-D array of finite real numbers, `shape` (N, D) with N, D >= 1, as float64 (backend tensors
    converted)."""
    try:
        arr = to_numpy(x)
    except (TypeError, ValueError, RuntimeError) as e:
        raise ValueError(f"`{name}` must be a 2-D numeric array of shape {shape}; could not convert it: {e}") from e
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"`{name}` must be a 2-D array of real numbers of shape {shape}; got dtype {arr.dtype}.")
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"`{name}` must be a non-empty 2-D array of shape {shape}; got shape {arr.shape}.")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must contain only finite values (no NaN or inf).")
    return arr


def check_sentences(sentences, name="sentences", allow_empty=True, tokens=False):
    """A list of sentences from a sequence (a single str or bytes is refused).

    Each sentence is a str (bytes decoded as UTF-8), or with `tokens=True` a tuple of tokens: a str split on
    whitespace or a sequence of tokens (each converted with `str`, non-empty and without whitespace; bytes refused).
    """
    kind = "sentences (strings or token lists)" if tokens else "sentences"
    if isinstance(sentences, (str, bytes)):
        raise ValueError(f"`{name}` must be a sequence of {kind}, not a single {type(sentences).__name__}.")
    try:
        items = list(sentences)
    except TypeError:
        raise ValueError(f"`{name}` must be a sequence of {kind}, got {type(sentences).__name__}.") from None
    if not items and not allow_empty:
        raise ValueError(f"`{name}` must contain at least one sentence.")
    out = []
    for i, s in enumerate(items):
        if tokens:
            out.append(_token_tuple(s, f"{name}[{i}]"))
            continue
        if isinstance(s, (bytes, np.bytes_)):
            s = bytes(s).decode("utf-8")
        if not isinstance(s, str):
            raise ValueError(f"`{name}[{i}]` must be a str, got {type(s).__name__}.")
        out.append(str(s))
    return out


def _token_tuple(sentence, name):
    if isinstance(sentence, str):
        return tuple(sentence.split())
    if isinstance(sentence, bytes):
        raise ValueError(f"`{name}` must be a str or a sequence of tokens; got bytes.")
    try:
        tokens = tuple(str(t) for t in sentence)
    except TypeError:
        raise ValueError(f"`{name}` must be a str or a sequence of tokens; got {type(sentence).__name__}.") from None
    for t in tokens:
        if not t or t != t.strip() or len(t.split()) != 1:
            raise ValueError(f"`{name}` has token {t!r}: tokens must be non-empty and contain no whitespace.")
    return tokens


def check_gaussians(mean, log_var):
    """Gaussian posterior parameters as float64 (mean, log_var), both (N, D), finite, log_var in [-700, 700].

    ``log_var`` may also have shape (N, 1) (a shared, isotropic variance), broadcast to (N, D).
    """
    mean = check_matrix(mean, "mean")
    log_var = check_matrix(log_var, "log_var")
    if log_var.shape != mean.shape:
        if log_var.shape == (mean.shape[0], 1):
            log_var = np.broadcast_to(log_var, mean.shape).copy()
        else:
            raise ValueError(
                f"`log_var` must have the shape of `mean` {mean.shape} (or "
                f"({mean.shape[0]}, 1) for a shared variance); got {log_var.shape}."
            )
    if np.any(log_var < -700.0) or np.any(log_var > 700.0):
        raise ValueError("`log_var` must lie in [-700, 700] (exp(log_var) must be a positive float64).")
    return mean, log_var


def deserialize(identifier, name):
    """A serialised Keras config (a dict with `class_name`) -> the object; any other dict is refused with a
    ValueError naming the argument (the plain `{"name": ..., **options}` form belongs to `kvae.create_model`)."""
    import keras

    if "class_name" not in identifier:
        raise ValueError(
            f"`{name}` given as a dict must be a serialised Keras config (with `class_name`) or, in "
            f"`kvae.create_model`, {{\"name\": ..., **options}}; got {identifier!r}."
        )
    return keras.saving.deserialize_keras_object(identifier)
