"""Bernoulli vs Gaussian vs discretised logistic likelihoods: bits/dim of a short ImageVAE run on Fashion-MNIST.

Trains `kvae.ImageVAE(architecture="conv", likelihood=...)` (ELBO, latent 32, isotropic posterior, batch 128,
Adam 1e-3) on the first `--train` training images (uint8, as they come) for `--epochs` epochs, once per likelihood,
and reports on the first `--test` test images the importance-sampled log p(x) (`kvae.metrics.log_likelihood`,
`--samples` posterior samples) in nats per image and, where the likelihood is one over the 256 levels, bits/dim
(also on as many training images: the gap separates a shift or over-fitting from a model that has not learnt yet).
The Bernoulli scores grey levels as soft targets: its nats are not a likelihood of the 8-bit images and it has no
bits/dim (see `kvae.likelihoods`).

    KERAS_BACKEND=jax python benchmarks/image_likelihoods.py --epochs 3
    KERAS_BACKEND=jax python benchmarks/image_likelihoods.py --photos ~/photos --epochs 10   # colour, 32 x 32

Data: `--data PATH`, else `../shared/data/fashion_mnist` next to the repository, else `kvae.datasets.fashion_mnist`.
`--photos PATH` trains on colour photographs instead, CIFAR-10-sized: random 32 x 32 crops of every colour photo in a
folder or inside a .zip / .whl archive (greyscale ones are skipped), each photo first scaled so that its short side is
`--short-side` pixels (128: a crop then holds a part of an object, not only texture); the crops are written as PNG
files and read back with `kvae.datasets.image_folder`, as a user's folder would be; the last photo in name order
gives the test crops, so no photo is in both sets.
The table is printed and written to `<out>/image_likelihoods_<backend>.md` (`image_likelihoods_photos_<backend>.md`
with `--photos`; default `benchmarks/results/`).
"""

import argparse
import tempfile
import time
import zipfile
from pathlib import Path

import keras
import numpy as np

import kvae

REPO = Path(__file__).resolve().parent.parent
LIKELIHOODS = ("bernoulli", "gaussian", "logistic")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train", type=int, default=10000, help="training images (the first N)")
    parser.add_argument("--test", type=int, default=1000, help="test images (the first N)")
    parser.add_argument("--samples", type=int, default=20, help="importance samples of log p(x)")
    parser.add_argument("--data", default=None, help="Fashion-MNIST folder (the four IDX files)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--likelihoods", nargs="+", default=list(LIKELIHOODS), choices=LIKELIHOODS)
    parser.add_argument("--photos", default=None, help="a folder or .zip / .whl of colour photos (32 x 32 crops)")
    parser.add_argument("--short-side", type=int, default=128, help="--photos: short side after scaling")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    return parser.parse_args(argv)


def read_photos(path):
    """(name, encoded bytes) of every .png / .jpg / .jpeg in a folder (recursively) or a zip archive, by name."""
    path = Path(path).expanduser()
    suffixes = (".png", ".jpg", ".jpeg")
    if path.is_dir():
        return sorted((str(p), p.read_bytes()) for p in path.rglob("*") if p.suffix.lower() in suffixes)
    with zipfile.ZipFile(path) as archive:
        return sorted((n, archive.read(n)) for n in archive.namelist() if n.lower().endswith(suffixes))


def photo_patches(path, train, test, short_side=128, size=32, seed=0):
    """(train, test, names): uint8 (N, size, size, 3) random crops of the colour photos in `path` (see the module
    docstring), `train` from all photos but the last, `test` from the last."""
    import tensorflow as tf
    from PIL import Image

    photos = []
    for name, data in read_photos(path):
        image = tf.io.decode_image(data, channels=3, expand_animations=False).numpy()
        if (image != image[..., :1]).any():  # colour only: grey images decode with three equal channels
            scale = short_side / min(image.shape[:2])
            shape = [max(size, round(d * scale)) for d in image.shape[:2]]
            photos.append((name, tf.image.resize(image, shape, antialias=True).numpy().round().clip(0, 255)))
    if len(photos) < 2:
        raise ValueError(f"{path}: fewer than 2 colour photos")
    rng = np.random.default_rng(seed)

    def crops(images, count):
        out = []
        for k in range(count):
            image = images[k % len(images)]
            top, left = (rng.integers(0, d - size + 1) for d in image.shape[:2])
            out.append(image[top : top + size, left : left + size].astype("uint8"))
        return out

    sets = []
    with tempfile.TemporaryDirectory(prefix="kvae_photos_") as tmp:
        for part, images, count in (("train", [p for _, p in photos[:-1]], train), ("test", [photos[-1][1]], test)):
            folder = Path(tmp) / part
            folder.mkdir()
            for k, crop in enumerate(crops(images, count)):
                Image.fromarray(crop).save(folder / f"{k:06d}.png")
            sets.append(kvae.datasets.image_folder(folder, image_size=(size, size)))
    return sets[0], sets[1], [Path(n).name for n, _ in photos]


def load(path):
    shared = REPO.parent / "shared" / "data" / "fashion_mnist"
    if path is None and shared.is_dir():
        path = shared
    (x_train, _), (x_test, _) = kvae.datasets.fashion_mnist(path)
    return x_train, x_test


def main(argv=None):
    args = parse_args(argv)
    if args.photos:
        x_train, x_test, names = photo_patches(args.photos, args.train, args.test, args.short_side, seed=args.seed)
        data = (
            f"{len(x_train)} random 32 x 32 crops of {len(names) - 1} colour photos ({', '.join(names[:-1])}; each "
            f"scaled to a short side of {args.short_side} px), tested on {len(x_test)} crops of another photo "
            f"({names[-1]})"
        )
        title, stem, flags = "colour photo crops", "image_likelihoods_photos", f" --photos {args.photos}"
    else:
        x_train, x_test = load(args.data)
        x_train, x_test = x_train[: args.train], x_test[: args.test]
        data = f"{len(x_train)} training images, tested on the first {len(x_test)} test images"
        title, stem, flags = "Fashion-MNIST", "image_likelihoods", ""
    rows = []
    for name in args.likelihoods:
        keras.utils.set_random_seed(args.seed)
        model = kvae.ImageVAE(architecture="conv", likelihood=name, seed=args.seed)
        start = time.perf_counter()
        model.fit(x_train, epochs=args.epochs, batch_size=128, verbose=0)
        seconds = time.perf_counter() - start
        result = kvae.metrics.log_likelihood(model, x_test, samples=args.samples, seed=args.seed)
        bpd = result.get("bits_per_dim")
        # The same number of training images: the gap tells over-fitting or a shift of the test images from the
        # training ones apart from a model that has not learnt yet.
        seen = kvae.metrics.log_likelihood(model, x_train[: len(x_test)], samples=args.samples, seed=args.seed)
        rows.append((name, result["nll"], bpd, seen.get("bits_per_dim"), seconds))
        shown = [None if b is None else round(b, 3) for b in (bpd, seen.get("bits_per_dim"))]
        print(
            f"{name}: -log p(x) {result['nll']:.1f} nats, bits/dim {shown[0]} (train {shown[1]}), {seconds:.0f} s",
            flush=True,
        )
    backend = keras.backend.backend()
    lines = [
        f"# ImageVAE likelihoods on {title} ({backend}, CPU)",
        "",
        f"conv ImageVAE, ELBO, latent 32, isotropic posterior, batch 128, Adam 1e-3; {data}; {args.epochs} epochs, "
        f"seed {args.seed}; log p(x) with {args.samples} importance samples. Command: `KERAS_BACKEND={backend} "
        f"python benchmarks/image_likelihoods.py --epochs {args.epochs} --train {args.train} --test {args.test} "
        f"--samples {args.samples}{flags}`.",
        "",
        "| likelihood | -log p(x) (nats/image) | bits/dim | bits/dim, training images | train s |",
        "|---|---|---|---|---|",
    ]
    for name, nll, bpd, seen, seconds in rows:
        bits = ["-" if b is None else f"{b:.3f}" for b in (bpd, seen)]
        lines.append(f"| {name} | {nll:.1f} | {bits[0]} | {bits[1]} | {seconds:.0f} |")
    lines += ["", "The Bernoulli's nats score grey levels as soft targets: not a likelihood of the 8-bit images."]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}_{backend}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
