"""`--data` for every command: the bundled sets by name, text files, image arrays and folders of images."""

from pathlib import Path

from kvae.cli.options import DEFAULT_DATA, IMAGE_DATA, TEXT_DATA, CLIError, one_line


def load_data(kind, data, seed=0, validation_split=0.1, image_size=None, color_mode="grayscale"):
    """(train, held-out) examples: lists of sentences or uint8/float image arrays."""
    import numpy as np

    import kvae

    if kind == "text" and data == "snli-sample":
        return kvae.datasets.snli_sample()
    if kind == "image" and data == "fashion-mnist-sample":
        (x_train, _), (x_test, _) = kvae.datasets.fashion_mnist_sample()
        return x_train, x_test
    if kind == "image" and data == "fashion-mnist":
        try:
            (x_train, _), (x_test, _) = kvae.datasets.fashion_mnist()
        except FileNotFoundError as e:
            raise CLIError(
                f"--data fashion-mnist: {one_line(e)} (offline, `--data fashion-mnist-sample` trains on the "
                "2,500 images bundled with kvae)"
            ) from e
        return x_train, x_test
    examples = read_examples(kind, data, image_size=image_size, color_mode=color_mode)
    if len(examples) < 2:
        raise CLIError(f"--data {data}: needs at least 2 examples to hold some out, found {len(examples)}")
    order = np.random.default_rng(seed).permutation(len(examples))
    held = max(1, round(validation_split * len(examples)))
    if kind == "text":
        return [examples[i] for i in order[held:]], [examples[i] for i in order[:held]]
    return examples[order[held:]], examples[order[:held]]


def read_examples(kind, data, image_size=None, color_mode="grayscale"):
    """All the examples of the file or folder `data` (`--data`)."""
    import numpy as np

    import kvae

    names = TEXT_DATA if kind == "text" else IMAGE_DATA
    path = Path(data).expanduser()
    if not path.exists():
        raise CLIError(f"--data {data}: no such file or folder (bundled {kind} data: {', '.join(names)})")
    if kind == "text":
        if path.is_dir():
            raise CLIError(f"--data {data}: is a folder; give a text file with one sentence per line")
        sentences = kvae.datasets.text_lines(path)
        if all("\t" in line for line in sentences):  # label<TAB>sentence
            sentences = kvae.datasets.text_lines(path, labels=True)[0]
        return sentences
    if path.is_dir():
        from kvae.datasets.fashion_mnist import FILES

        if any((path / name).exists() or (path / name[: -len(".gz")]).exists() for name in FILES.values()):
            (x_train, _), (x_test, _) = kvae.datasets.fashion_mnist(path)
            return np.concatenate([x_train, x_test])
        return read_image_folder(path, image_size=image_size, color_mode=color_mode)
    try:
        loaded = np.load(path, allow_pickle=False)  # .npy: an array; .npz: an archive of arrays
        if hasattr(loaded, "files"):
            with loaded:
                keys = [key for key in ("x_train", "x_test") if key in loaded.files] or loaded.files[:1]
                x = np.concatenate([loaded[key] for key in keys]) if keys else np.zeros((0,))
        else:
            x = loaded
    except (OSError, ValueError, EOFError) as e:
        raise CLIError(f"--data {data}: not a .npy/.npz image array ({one_line(e)})") from e
    if x.ndim not in (3, 4) or len(x) == 0:
        raise CLIError(f"--data {data}: expected images (N, H, W) or (N, H, W, C), got shape {x.shape}")
    return x


def read_image_folder(folder, image_size=None, color_mode="grayscale"):
    """Every image file under `folder` (subfolders included), resized to `image_size` (H, W) (default 28 x 28),
    as uint8 (N, H, W) (grayscale) or (N, H, W, 3) (rgb): `kvae.datasets.image_folder` with CLI errors."""
    import kvae

    try:
        return kvae.datasets.image_folder(folder, image_size=tuple(image_size or (28, 28)), color_mode=color_mode)
    except ValueError as e:
        if "without images" in str(e):
            raise CLIError(f"--data {folder}: a folder without images or Fashion-MNIST IDX files") from e
        raise CLIError(f"--data {one_line(e)}") from e


def held_out(kind, config, data=None):
    """Evaluation examples: `data` (a file: all of it; a bundled name: its test split), else the run's held-out
    split (the same seed and split as in training)."""
    image = {"image_size": config.get("image_size"), "color_mode": config.get("color_mode") or "grayscale"}
    if data is None:
        data = config.get("data", DEFAULT_DATA[kind])
        return load_data(kind, data, config.get("seed", 0), config.get("validation_split", 0.1), **image)[1]
    if data in TEXT_DATA + IMAGE_DATA:
        return load_data(kind, data)[1]
    return read_examples(kind, data, **image)
