"""Atomic file writes: a file is either its old version or its complete new one, never half written.

Every writer writes to a temporary file in the destination's folder (same file system) and then `os.replace`s the
destination, which is atomic on POSIX and Windows; on failure the temporary file is removed and the old file is
left untouched.

>>> kvae.io.atomic_write_text("run/config.json", json.dumps(config))
>>> kvae.io.save_model(model, "run/model.keras")   # what `VAE.save` does
>>> model = kvae.io.load_model("run/model.keras")  # keras.saving.load_model, with clear errors
"""

import contextlib
import os
import secrets
import zipfile

__all__ = ["atomic_path", "atomic_write_text", "load_model", "save_model"]

#: File formats `save_model` writes atomically; Keras needs the temporary file to keep the extension.
MODEL_EXTENSIONS = (".keras", ".h5")


@contextlib.contextmanager
def atomic_path(path, suffix=".tmp"):
    """Context manager yielding a temporary path next to `path`; when the block ends without error the temporary
    file replaces `path` atomically, otherwise it is removed. Parent folders are created.

    Args:
        path: the destination file.
        suffix: end of the temporary file's name (writers that need an extension: ".tmp.keras").

    Example:
    >>> with atomic_path("figure.png", suffix=".tmp.png") as tmp:
    ...     figure.savefig(tmp)
    """
    path = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(path)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def atomic_write_text(path, text, encoding="utf-8"):
    """Write `text` to `path` atomically (flushed to disk before the rename)."""
    with atomic_path(path) as tmp, open(tmp, "x", encoding=encoding) as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def save_model(model, path, overwrite=True, **kwargs):
    """`keras.Model.save(model, path, **kwargs)` made atomic for `.keras` and `.h5` files: the model is written
    to `.<name>.<random>.tmp.keras` in the same folder, then renamed over `path`. Other destinations (remote
    paths, unzipped folders) are passed to Keras unchanged.

    Raises:
        FileExistsError: if `path` exists and `overwrite` is False.
    """
    import keras

    from kvae.distribute import outside_distribution

    path = os.fspath(path)
    extension = os.path.splitext(path)[1]
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"`filepath` {path!r} exists; pass overwrite=True to replace it.")
    with outside_distribution():  # saving makes variables: under a JAX mesh of several processes, collectives
        if extension not in MODEL_EXTENSIONS or "://" in path or kwargs.get("zipped") is False:
            return keras.Model.save(model, path, overwrite=overwrite, **kwargs)
        with atomic_path(path, suffix=".tmp" + extension) as tmp:
            keras.Model.save(model, tmp, overwrite=True, **kwargs)


def load_model(path, **kwargs):
    """`keras.saving.load_model(path, **kwargs)` with clear errors for the paths it misreports: Keras answers "File
    not found" for a file that exists but is not a zipped `.keras` model (a text file, a truncated download, a
    `.weights.h5` file under a `.keras` name).

    Raises:
        TypeError: if `path` is not a str or path-like object.
        FileNotFoundError: if `path` does not exist.
        ValueError: if `path` is a folder, or a file that is not a `.keras` model file (another extension than
            `.keras` or the legacy `.h5`, or not a zip archive holding `config.json`).
    """
    import keras

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`path` must be a str or os.PathLike, got {type(path).__name__}: {path!r:.60}")
    path = os.fspath(path)
    if "://" in path:  # remote file systems: Keras reads them
        return keras.saving.load_model(path, **kwargs)
    if not os.path.exists(path):
        raise FileNotFoundError(f"`path` {path!r}: no such file.")
    if os.path.isdir(path):
        raise ValueError(f"`path` {path!r} is a folder, not a .keras model file.")
    extension = os.path.splitext(path)[1].lower()
    if extension not in (".keras", ".h5", ".hdf5"):
        raise ValueError(
            f"`path` {path!r} is not a .keras model file (extension {extension or 'none'!r}; models are saved "
            "with `model.save('name.keras')`)."
        )
    if extension == ".keras":
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError) as e:
            raise ValueError(
                f"`path` {path!r} is not a .keras model file (not a zip archive: {e}); it was not written by "
                "`model.save` or it is damaged."
            ) from None
        if "config.json" not in names:
            raise ValueError(
                f"`path` {path!r} is not a .keras model file (a zip archive without config.json: {sorted(names)[:5]})."
            )
    return keras.saving.load_model(path, **kwargs)
