"""Fashion-MNIST loaders: the full data set from IDX files, or a bundled sample."""

import gzip
import os
from importlib import resources
from pathlib import Path

import numpy as np

#: File names of the original Fashion-MNIST release, by role.
FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}

#: Where Debian's ``fashion-mnist`` package installs the files.
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

#: Environment variable naming a data folder.
ENV_VAR = "KVAE_DATA"

_SAMPLE = "fashion_mnist_sample.npz"

# IDX type codes -> big-endian NumPy dtypes.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _read_bytes(path):
    """Returns the bytes of ``path``, gunzipped if it is gzip-compressed."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise ValueError(f"{path}: corrupted or truncated gzip data ({e})") from e


def read_idx(path):
    """Reads an IDX file (as used by MNIST), gzip-compressed or not.

    Args:
        path: path to the ``.gz`` or uncompressed IDX file.

    Returns:
        A NumPy array with the shape and type given by the file's header,
        in native byte order.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file is not IDX, or is truncated or corrupted.

    Example:
        >>> x = read_idx("train-images-idx3-ubyte.gz")  # doctest: +SKIP
        >>> x.shape, x.dtype  # doctest: +SKIP
        ((60000, 28, 28), dtype('uint8'))
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"{path}: truncated IDX file ({len(data)} bytes, no header)")
    if data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (bad magic number 0x{data[:4].hex()})")
    dtype = _IDX_DTYPES[data[2]]
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, expected {header} for {ndim} dimensions)")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        kind = "truncated" if len(data) < expected else "corrupted"
        raise ValueError(
            f"{path}: {kind} IDX file ({len(data)} bytes, expected {expected} for shape {shape} of {dtype.name})"
        )
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _find(folder, name):
    """Returns ``folder/name`` or its uncompressed twin if present, else None."""
    for candidate in (folder / name, folder / name[: -len(".gz")]):
        if candidate.is_file():
            return candidate
    return None


def _has_files(folder):
    return all(_find(folder, name) is not None for name in FILES.values())


def _load_folder(folder):
    arrays = {key: read_idx(_find(folder, name)) for key, name in FILES.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"{folder}: inconsistent {split} files: images {x.shape}, labels {y.shape}")
        if y.size and (y.min() < 0 or y.max() > 9):
            raise ValueError(
                f"{_find(folder, FILES[f'y_{split}'])}: class labels must lie in [0, 9], found [{y.min()}, {y.max()}]"
            )
    return (
        (arrays["x_train"], arrays["y_train"]),
        (arrays["x_test"], arrays["y_test"]),
    )


def _keras_load_data():
    """Keras's own loader (its cache, else a download)."""
    import keras

    return keras.datasets.fashion_mnist.load_data()


def fashion_mnist(path=None):
    """Loads the full Fashion-MNIST data set (60,000 train, 10,000 test).

    The four original IDX files (``train-images-idx3-ubyte.gz``,
    ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
    ``t10k-labels-idx1-ubyte.gz``; uncompressed copies also work) are looked
    for, in order, in: ``path`` if given (and only there); the folder named
    by the ``KVAE_DATA`` environment variable, or its ``fashion_mnist/``
    subfolder; Debian's ``/usr/share/datasets/fashion-mnist``. Failing
    those, ``keras.datasets.fashion_mnist.load_data()`` is used (Keras's
    cache, else a download).

    Args:
        path: optional folder holding the four files. When given, no other
            place is tried.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images of shape
        ``(N, 28, 28)`` with values in [0, 255] and uint8 labels in [0, 9].

    Raises:
        FileNotFoundError: if the files are found nowhere (and Keras cannot
            download them); the message names every place tried and the
            bundled sample (``fashion_mnist_sample()``, ``--data
            fashion-mnist-sample``).
        TypeError: if ``path`` is not a str or path-like object.
        ValueError: if a file is truncated or corrupted, or holds labels
            outside [0, 9].

    Example:
        >>> (x_train, y_train), (x_test, y_test) = fashion_mnist()  # doctest: +SKIP
        >>> x_train.shape, x_test.shape  # doctest: +SKIP
        ((60000, 28, 28), (10000, 28, 28))
    """
    names = ", ".join(FILES.values())
    if path is not None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"`path` must be a str or os.PathLike folder, got {type(path).__name__}: {path!r:.60}")
        folder = Path(path).expanduser()
        if not _has_files(folder):
            raise FileNotFoundError(f"Fashion-MNIST files not found in {folder} (expected {names}).")
        return _load_folder(folder)

    tried = []
    env = os.environ.get(ENV_VAR)
    if env:
        base = Path(env).expanduser()
        sub = base / "fashion_mnist"
        folders = [
            (base, f"${ENV_VAR} ({base})"),
            (sub, f"${ENV_VAR}/fashion_mnist ({sub})"),
        ]
    else:
        folders = []
        tried.append(f"${ENV_VAR} (not set)")
    folders.append((DEBIAN_DIR, str(DEBIAN_DIR)))
    for folder, label in folders:
        if _has_files(folder):
            return _load_folder(folder)
        tried.append(label)

    try:
        return _keras_load_data()
    except Exception as e:  # noqa: BLE001 (Keras raises plain Exception on network failure)
        tried.append(f"keras.datasets.fashion_mnist.load_data() ({type(e).__name__}: {e})")
    raise FileNotFoundError(
        f"Fashion-MNIST not found ({names}); looked in: " + "; ".join(tried) + ". "
        "Offline, use the 2,500-image sample bundled with kvae: kvae.datasets.fashion_mnist_sample() in Python, "
        "`--data fashion-mnist-sample` on the command line. For the full set, pass path=..., set "
        f"${ENV_VAR} to a folder holding the four files, or connect to the internet."
    )


def fashion_mnist_sample():
    """Loads a small Fashion-MNIST sample bundled with the package.

    The sample holds the first 2,000 training and first 500 test images and
    labels of Fashion-MNIST (Zalando Research, MIT License; see
    ``kvae/datasets/data/ATTRIBUTION.md``). It needs no download.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images of shapes
        ``(2000, 28, 28)`` and ``(500, 28, 28)``, uint8 labels in [0, 9].

    Example:
        >>> (x_train, y_train), (x_test, y_test) = fashion_mnist_sample()
        >>> x_train.shape, y_test.shape
        ((2000, 28, 28), (500,))
    """
    resource = resources.files(__package__).joinpath("data").joinpath(_SAMPLE)
    with resource.open("rb") as f, np.load(f) as data:
        return (
            (data["x_train"], data["y_train"]),
            (data["x_test"], data["y_test"]),
        )
