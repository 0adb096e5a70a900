"""`--data` for every command: the bundled sets by name, text files, image arrays and folders of images."""

import glob
from pathlib import Path

from kvae.cli.options import DEFAULT_DATA, IMAGE_DATA, TEXT_DATA, CLIError, one_line

#: Held-out sentences of a streamed corpus without `--test-size`.
STREAM_HELD_OUT = 1000


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


def is_streamed(kind, data, steps_per_epoch=None):
    """Whether text `--data` is streamed (read as training goes, never held in memory): a glob pattern of files, or a
    file trained with `--steps-per-epoch`."""
    return kind == "text" and data not in TEXT_DATA and (steps_per_epoch is not None or glob.has_magic(str(data)))


def open_stream(data, option="--data"):
    """The sentences of the text file(s) `data` (a path or a glob) as a `tf.data` stream; `label<TAB>sentence`
    files (every one of their first 100 lines has a tab) give their sentences."""
    import kvae

    try:
        lines = kvae.datasets.text_lines(data, stream=True)
    except FileNotFoundError:
        raise CLIError(f"{option} {data}: no such file (a glob must match at least one file)") from None
    if all(b"\t" in line for line in lines.take(100).as_numpy_iterator()):
        lines = kvae.datasets.text_lines(data, labels=True, stream=True).map(lambda sentence, label: sentence)
    return lines


def first_lines(lines, n, option="--data"):
    """The first `n` sentences of a stream, as a list of str."""
    from kvae.preprocessors.text_inputs import utf8

    return [utf8(line, option) for line in lines.take(n).as_numpy_iterator()]


def stream_data(data, validation_data=None, test_size=None):
    """(training stream, held-out sentences) of streamed text `--data`: the held-out sentences are the first
    `test_size` (default `STREAM_HELD_OUT`) lines of `validation_data`, else of `data`, which then trains on the rest
    (a bounded held-out set: `--validation-split` does not apply to streams)."""
    size = test_size or STREAM_HELD_OUT
    train = open_stream(data)
    if validation_data is not None:
        test = first_lines(open_stream(validation_data, "--validation-data"), size, "--validation-data")
    else:
        test = first_lines(train, size)
        train = train.skip(len(test))
    if not test:
        option = "--validation-data" if validation_data is not None else "--data"
        raise CLIError(f"{option} {validation_data or data}: no sentences")
    if not first_lines(train, 1):
        raise CLIError(f"--data {data}: no sentences left to train on ({len(test)} held out, see --test-size)")
    return train, test


def held_out(kind, config, data=None):
    """Evaluation examples: `data` (a file: all of it; a bundled name: its test split), else the run's held-out
    split (the same seed and split as in training; of a streamed run, the same first lines)."""
    image = {"image_size": config.get("image_size"), "color_mode": config.get("color_mode") or "grayscale"}
    if data is None:
        data = config.get("data", DEFAULT_DATA[kind])
        if is_streamed(kind, data, config.get("steps_per_epoch")):
            return stream_data(data, config.get("validation_data"), config.get("test_size"))[1]
        return load_data(kind, data, config.get("seed", 0), config.get("validation_split", 0.1), **image)[1]
    if data in TEXT_DATA + IMAGE_DATA:
        return load_data(kind, data)[1]
    if is_streamed(kind, data):  # a glob: its first lines
        return first_lines(open_stream(data), config.get("test_size") or STREAM_HELD_OUT)
    return read_examples(kind, data, **image)
