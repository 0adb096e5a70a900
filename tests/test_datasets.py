"""Tests for kvae.datasets (backend independent; fast and offline)."""

import gzip
import importlib
import struct
from pathlib import Path

import numpy as np
import pytest

import kvae.datasets as kd

# The submodule, not the function of the same name that the package exports.
fm_module = importlib.import_module("kvae.datasets.fashion_mnist")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

_IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
              np.float32: 0x0D, np.float64: 0x0E}


def write_idx(path, array, compress=True):
    """Writes ``array`` as an IDX file (gzip-compressed if ``compress``)."""
    array = np.asarray(array)
    code = _IDX_CODES[array.dtype.type]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def write_fashion_folder(folder, n_train=6, n_test=4, seed=0):
    """Writes tiny fake Fashion-MNIST IDX files; returns the arrays."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for key, name in fm_module.FILES.items():
        write_idx(folder / name, arrays[key])
    return arrays


@pytest.fixture
def no_fallbacks(monkeypatch, tmp_path):
    """No $KVAE_DATA, no Debian folder, and a Keras downloader that fails."""
    monkeypatch.delenv("KVAE_DATA", raising=False)
    monkeypatch.setattr(fm_module, "DEBIAN_DIR", tmp_path / "no-debian-here")

    def offline():
        raise OSError("URL fetch failure: no internet")

    monkeypatch.setattr(fm_module, "_keras_load_data", offline)


def test_exports():
    assert sorted(kd.__all__) == sorted(
        ["fashion_mnist", "fashion_mnist_sample", "image_folder", "snli_sample", "text_lines",
         "tfds_images", "tfds_text"])
    for name in kd.__all__:
        assert callable(getattr(kd, name))


# --- IDX parsing -------------------------------------------------------------

@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.float32])
def test_idx_round_trip(tmp_path, compress, dtype):
    array = (np.arange(2 * 3 * 5) - 7).astype(dtype).reshape(2, 3, 5)
    if dtype is np.uint8:
        array = np.arange(30, dtype=np.uint8).reshape(2, 3, 5)
    path = write_idx(tmp_path / "a.idx.gz", array, compress=compress)
    out = fm_module.read_idx(path)
    assert out.shape == (2, 3, 5)
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, array)


def test_idx_one_dimensional(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    out = fm_module.read_idx(write_idx(tmp_path / "l.gz", labels))
    np.testing.assert_array_equal(out, labels)


def test_idx_truncated(tmp_path):
    array = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    raw = write_idx(tmp_path / "full", array, compress=False).read_bytes()
    bad = tmp_path / "truncated-idx3-ubyte.gz"
    bad.write_bytes(gzip.compress(raw[:-7]))
    with pytest.raises(ValueError, match="truncated-idx3-ubyte.gz.*truncated"):
        fm_module.read_idx(bad)


def test_idx_truncated_gzip_stream(tmp_path):
    array = np.arange(600, dtype=np.uint8).reshape(6, 10, 10)
    good = write_idx(tmp_path / "good.gz", array)
    bad = tmp_path / "cut.gz"
    bad.write_bytes(good.read_bytes()[:-10])
    with pytest.raises(ValueError, match="cut.gz"):
        fm_module.read_idx(bad)


def test_idx_bad_magic(tmp_path):
    bad = tmp_path / "notidx.gz"
    bad.write_bytes(gzip.compress(b"PK\x03\x04 not an idx file"))
    with pytest.raises(ValueError, match="notidx.gz.*magic"):
        fm_module.read_idx(bad)


def test_idx_trailing_bytes(tmp_path):
    raw = write_idx(tmp_path / "f", np.zeros((2, 2), np.uint8), False).read_bytes()
    bad = tmp_path / "long.idx"
    bad.write_bytes(raw + b"\x00\x01")
    with pytest.raises(ValueError, match="long.idx"):
        fm_module.read_idx(bad)


# --- fashion_mnist lookup ------------------------------------------------------

def _assert_same(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, key in [(x_train, "x_train"), (y_train, "y_train"),
                     (x_test, "x_test"), (y_test, "y_test")]:
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])


def test_fashion_mnist_explicit_path(tmp_path, no_fallbacks):
    arrays = write_fashion_folder(tmp_path / "fm")
    _assert_same(kd.fashion_mnist(tmp_path / "fm"), arrays)
    _assert_same(kd.fashion_mnist(str(tmp_path / "fm")), arrays)


def test_fashion_mnist_explicit_path_missing(tmp_path, no_fallbacks, monkeypatch):
    # An explicit path is strict: $KVAE_DATA is not consulted.
    write_fashion_folder(tmp_path / "env")
    monkeypatch.setenv("KVAE_DATA", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError, match="empty"):
        kd.fashion_mnist(tmp_path / "empty")


def test_fashion_mnist_env_folder(tmp_path, no_fallbacks, monkeypatch):
    arrays = write_fashion_folder(tmp_path / "data")
    monkeypatch.setenv("KVAE_DATA", str(tmp_path / "data"))
    _assert_same(kd.fashion_mnist(), arrays)


def test_fashion_mnist_env_subfolder(tmp_path, no_fallbacks, monkeypatch):
    arrays = write_fashion_folder(tmp_path / "data" / "fashion_mnist")
    monkeypatch.setenv("KVAE_DATA", str(tmp_path / "data"))
    _assert_same(kd.fashion_mnist(), arrays)


def test_fashion_mnist_env_before_debian(tmp_path, no_fallbacks, monkeypatch):
    env_arrays = write_fashion_folder(tmp_path / "env", seed=1)
    write_fashion_folder(tmp_path / "debian", seed=2)
    monkeypatch.setattr(fm_module, "DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.setenv("KVAE_DATA", str(tmp_path / "env"))
    _assert_same(kd.fashion_mnist(), env_arrays)


def test_fashion_mnist_debian_then_keras(tmp_path, no_fallbacks, monkeypatch):
    debian_arrays = write_fashion_folder(tmp_path / "debian", seed=2)
    monkeypatch.setattr(fm_module, "DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.setenv("KVAE_DATA", str(tmp_path / "nothing-here"))
    _assert_same(kd.fashion_mnist(), debian_arrays)

    # Without the Debian folder, Keras's loader is the last resort.
    monkeypatch.setattr(fm_module, "DEBIAN_DIR", tmp_path / "gone")
    sentinel = ((np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8)),) * 2
    monkeypatch.setattr(fm_module, "_keras_load_data", lambda: sentinel)
    assert kd.fashion_mnist() is sentinel


def test_fashion_mnist_nowhere(tmp_path, no_fallbacks, monkeypatch):
    monkeypatch.setenv("KVAE_DATA", str(tmp_path / "my-data"))
    with pytest.raises(FileNotFoundError) as info:
        kd.fashion_mnist()
    message = str(info.value)
    assert str(tmp_path / "my-data") in message
    assert str(tmp_path / "my-data" / "fashion_mnist") in message
    assert str(tmp_path / "no-debian-here") in message
    assert "keras.datasets.fashion_mnist.load_data" in message
    assert "no internet" in message
    assert "train-images-idx3-ubyte.gz" in message


def test_fashion_mnist_nowhere_env_unset(no_fallbacks):
    with pytest.raises(FileNotFoundError, match=r"KVAE_DATA \(not set\)"):
        kd.fashion_mnist()


def test_fashion_mnist_corrupted_file(tmp_path, no_fallbacks):
    write_fashion_folder(tmp_path / "fm")
    labels = tmp_path / "fm" / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-5])
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz"):
        kd.fashion_mnist(tmp_path / "fm")


@pytest.mark.skipif(not (SHARED_DATA / "fashion_mnist").is_dir(),
                    reason="no ../shared/data/fashion_mnist beside the checkout")
def test_fashion_mnist_real_data():
    (x_train, y_train), (x_test, y_test) = kd.fashion_mnist(
        SHARED_DATA / "fashion_mnist")
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and x_test.shape == (10000, 28, 28)
    assert y_test.shape == (10000,)
    np.testing.assert_array_equal(np.bincount(y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1000] * 10)
    # The bundled sample is the head of the real data.
    (sx_train, sy_train), (sx_test, sy_test) = kd.fashion_mnist_sample()
    np.testing.assert_array_equal(sx_train, x_train[:2000])
    np.testing.assert_array_equal(sy_train, y_train[:2000])
    np.testing.assert_array_equal(sx_test, x_test[:500])
    np.testing.assert_array_equal(sy_test, y_test[:500])


def test_fashion_mnist_sample():
    (x_train, y_train), (x_test, y_test) = kd.fashion_mnist_sample()
    assert x_train.shape == (2000, 28, 28) and y_train.shape == (2000,)
    assert x_test.shape == (500, 28, 28) and y_test.shape == (500,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert set(np.unique(y_train)) == set(range(10))
    assert set(np.unique(y_test)) == set(range(10))
    assert x_train.max() == 255 and x_train.min() == 0


# --- SNLI sample ---------------------------------------------------------------

def test_snli_sample_sizes():
    train, test = kd.snli_sample()
    assert len(train) == 9000 and len(test) == 1000
    assert all(isinstance(s, str) and s and not s.endswith("\n")
               for s in train + test)
    assert len(set(train) | set(test)) > 9000  # a few duplicate sentences


def test_snli_sample_deterministic_and_disjoint():
    train, test = kd.snli_sample(test_size=200, seed=3)
    assert (train, test) == kd.snli_sample(test_size=200, seed=3)
    assert len(train) == 9800 and len(test) == 200
    _, other_test = kd.snli_sample(test_size=200, seed=4)
    assert test != other_test
    # Disjoint as a partition of the 10,000 lines (sentences may repeat).
    all_train, all_test = kd.snli_sample(test_size=0)
    assert sorted(train + test) == sorted(all_train)
    assert all_test == []


def test_snli_sample_bad_size():
    with pytest.raises(ValueError):
        kd.snli_sample(test_size=10001)
    with pytest.raises(ValueError):
        kd.snli_sample(test_size=-1)
    with pytest.raises(TypeError):
        kd.snli_sample(test_size=0.1)


# --- text_lines ------------------------------------------------------------------

def test_text_lines_plain(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("a cat sits .\n\nthe dog runs .\r\n  \nlast line", encoding="utf-8")
    assert kd.text_lines(path) == ["a cat sits .", "the dog runs .", "last line"]
    assert kd.text_lines(str(path)) == ["a cat sits .", "the dog runs .", "last line"]


def test_text_lines_labels_int(tmp_path):
    path = tmp_path / "labelled.txt"
    path.write_text("1\tgood food .\n0\tbad\tservice .\n\n2\tok\n", encoding="utf-8")
    sentences, labels = kd.text_lines(path, labels=True)
    assert sentences == ["good food .", "bad\tservice .", "ok"]
    assert np.issubdtype(labels.dtype, np.integer)
    np.testing.assert_array_equal(labels, [1, 0, 2])


def test_text_lines_labels_str(tmp_path):
    path = tmp_path / "labelled.txt"
    path.write_text("pos\tgood food .\nneg\tbad service .\n", encoding="utf-8")
    sentences, labels = kd.text_lines(path, labels=True)
    assert sentences == ["good food .", "bad service ."]
    assert labels.tolist() == ["pos", "neg"]


def test_text_lines_gzip(tmp_path):
    path = tmp_path / "corpus.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("3\tcafé au lait .\n4\tnaïve .\n")
    sentences, labels = kd.text_lines(path, labels=True)
    assert sentences == ["café au lait .", "naïve ."]
    np.testing.assert_array_equal(labels, [3, 4])
    assert kd.text_lines(path) == ["3\tcafé au lait .", "4\tnaïve ."]


def test_text_lines_encoding(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("déjà vu\n".encode("latin-1"))
    assert kd.text_lines(path, encoding="latin-1") == ["déjà vu"]


def test_text_lines_malformed(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("1\tfine .\n\n0 no tab here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 3"):
        kd.text_lines(path, labels=True)


def test_text_lines_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        kd.text_lines(tmp_path / "nope.txt")


def test_text_lines_empty(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="empty.txt"):
        kd.text_lines(path)
    path.write_text("\n \n", encoding="utf-8")
    with pytest.raises(ValueError):
        kd.text_lines(path, labels=True)


# --- tfds_text --------------------------------------------------------------------

def test_tfds_text_unknown_name(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    with pytest.raises(ValueError, match="no_such_dataset_kvae"):
        kd.tfds_text("no_such_dataset_kvae", download=False, data_dir=str(tmp_path))


def test_tfds_text_not_downloaded(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    with pytest.raises(RuntimeError, match="internet"):
        kd.tfds_text("mnist", download=False, data_dir=str(tmp_path))
