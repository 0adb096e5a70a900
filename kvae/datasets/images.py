"""Colour (or grey) images for `ImageVAE`: a folder of image files, or a TensorFlow Datasets image set (CIFAR-10)."""

from pathlib import Path

import numpy as np

#: Image file extensions `image_folder` reads (those of `keras.utils.image_dataset_from_directory`).
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def image_folder(folder, image_size=(32, 32), color_mode="rgb", batch_size=None, shuffle=False, seed=None):
    """Every image file under ``folder`` (subfolders included), resized to ``image_size``, through
    ``keras.utils.image_dataset_from_directory`` (labels are not read).

    Args:
        folder: the folder (str or path).
        image_size: (H, W) of the returned images.
        color_mode: ``"rgb"`` (N, H, W, 3), ``"grayscale"`` (N, H, W) or ``"rgba"`` (N, H, W, 4).
        batch_size: None for one NumPy array; an int for a ``tf.data.Dataset`` of uint8 batches that reads the
            files as it goes (large folders), which ``ImageVAE.fit`` takes as it is.
        shuffle, seed: file order of the dataset (``batch_size`` given; the array keeps the sorted file order).

    Returns:
        uint8 images with values in [0, 255] (an array, or a dataset of batches).

    Raises:
        FileNotFoundError: if ``folder`` is not a folder.
        ValueError: if it holds no image files, or one cannot be decoded.

    Example:
        >>> x = kvae.datasets.image_folder("photos/", image_size=(64, 64))  # doctest: +SKIP
        >>> kvae.ImageVAE(architecture="conv", likelihood="logistic").fit(x, epochs=10)  # doctest: +SKIP
    """
    import keras

    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder of images")
    if not any(p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file() for p in folder.rglob("*")):
        raise ValueError(f"{folder}: a folder without images ({', '.join(IMAGE_EXTENSIONS)})")
    streaming = batch_size is not None
    dataset = keras.utils.image_dataset_from_directory(
        str(folder),
        labels=None,
        color_mode=color_mode,
        image_size=tuple(image_size),
        batch_size=batch_size if streaming else 256,
        shuffle=shuffle if streaming else False,
        seed=seed,
        verbose=False,
    )
    grey = color_mode == "grayscale"
    if streaming:
        import tensorflow as tf

        def to_uint8(batch):  # TF ops: keras.ops do not run inside tf.data under JAX or PyTorch
            batch = tf.cast(tf.clip_by_value(tf.round(batch), 0, 255), tf.uint8)
            return batch[..., 0] if grey else batch

        return dataset.map(to_uint8)
    try:
        batches = [np.asarray(batch) for batch in dataset]
    except Exception as e:  # noqa: BLE001 (TensorFlow's decoding errors for unreadable or corrupt files)
        raise ValueError(f"{folder}: cannot read its images ({type(e).__name__}: {e})") from e
    x = np.concatenate(batches).round().clip(0, 255).astype("uint8")
    return x[..., 0] if grey else x


def tfds_images(name, split="train", key="image", download=True, data_dir=None):
    """The images of a TensorFlow Datasets image set, e.g. ``"cifar10"`` (32 x 32 x 3) or ``"celeb_a"``.

    Needs the ``tensorflow-datasets`` package, imported only when called, and internet access unless the data set is
    already prepared in ``data_dir``.

    Args:
        name: TFDS name.
        split: TFDS split, e.g. ``"train"`` or ``"test[:10%]"``.
        key: feature holding the image.
        download: if False, only use data already prepared in ``data_dir``.
        data_dir: TFDS data folder (default: TFDS's own, ``~/tensorflow_datasets``).

    Returns:
        uint8 images (N, H, W, C), as ``ImageVAE`` takes them.

    Raises:
        ImportError: if ``tensorflow-datasets`` is not installed.
        ValueError: if TFDS has no data set called ``name``.
        KeyError: if the examples have no feature ``key``.
        RuntimeError: if the data cannot be downloaded or read (offline).

    Example:
        >>> x_train = kvae.datasets.tfds_images("cifar10")  # doctest: +SKIP
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise ImportError("tfds_images needs tensorflow-datasets: pip install tensorflow-datasets") from e
    try:
        dataset = tfds.load(name, split=split, download=download, data_dir=data_dir)
    except Exception as e:  # noqa: BLE001 (TFDS raises many kinds)
        if type(e).__name__ == "DatasetNotFoundError":
            raise ValueError(f"TFDS has no data set called {name!r}.") from e
        raise RuntimeError(
            f"Could not load TFDS data set {name!r} (split {split!r}): {type(e).__name__}: {e}\nThis needs internet "
            "access, or the data set already prepared in a TFDS data_dir (pass data_dir=..., download=False); "
            "offline, kvae.datasets.image_folder reads a folder of image files."
        ) from e
    spec = dataset.element_spec
    if not isinstance(spec, dict) or key not in spec:
        found = sorted(spec) if isinstance(spec, dict) else type(spec).__name__
        raise KeyError(f"TFDS data set {name!r} has no feature {key!r}; it has {found}")
    images = [np.asarray(batch) for batch in tfds.as_numpy(dataset.map(lambda e: e[key]).batch(1024))]
    return np.concatenate(images).astype("uint8") if images else np.zeros((0,), "uint8")
