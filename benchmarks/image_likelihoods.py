"""Bernoulli vs Gaussian vs discretised logistic likelihoods: bits/dim of a short ImageVAE run on Fashion-MNIST.

Trains `kvae.ImageVAE(architecture="conv", likelihood=...)` (ELBO, latent 32, isotropic posterior, batch 128,
Adam 1e-3) on the first `--train` training images (uint8, as they come) for `--epochs` epochs, once per likelihood,
and reports on the first `--test` test images the importance-sampled log p(x) (`kvae.metrics.log_likelihood`,
`--samples` posterior samples) in nats per image and, where the likelihood is one over the 256 levels, bits/dim.
The Bernoulli scores grey levels as soft targets: its nats are not a likelihood of the 8-bit images and it has no
bits/dim (see `kvae.likelihoods`).

    KERAS_BACKEND=jax python benchmarks/image_likelihoods.py --epochs 3

Data: `--data PATH`, else `../shared/data/fashion_mnist` next to the repository, else `kvae.datasets.fashion_mnist`.
The table is printed and written to `<out>/image_likelihoods_<backend>.md` (default `benchmarks/results/`).
"""

import argparse
import time
from pathlib import Path

import keras

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
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    return parser.parse_args(argv)


def load(path):
    shared = REPO.parent / "shared" / "data" / "fashion_mnist"
    if path is None and shared.is_dir():
        path = shared
    (x_train, _), (x_test, _) = kvae.datasets.fashion_mnist(path)
    return x_train, x_test


def main(argv=None):
    args = parse_args(argv)
    x_train, x_test = load(args.data)
    x_train, x_test = x_train[: args.train], x_test[: args.test]
    rows = []
    for name in args.likelihoods:
        keras.utils.set_random_seed(args.seed)
        model = kvae.ImageVAE(architecture="conv", likelihood=name, seed=args.seed)
        start = time.perf_counter()
        model.fit(x_train, epochs=args.epochs, batch_size=128, verbose=0)
        seconds = time.perf_counter() - start
        result = kvae.metrics.log_likelihood(model, x_test, samples=args.samples, seed=args.seed)
        bpd = result.get("bits_per_dim")
        rows.append((name, result["nll"], bpd, seconds))
        print(f"{name}: -log p(x) {result['nll']:.1f} nats, bits/dim {bpd if bpd is None else round(bpd, 3)}, {seconds:.0f} s", flush=True)
    backend = keras.backend.backend()
    lines = [
        f"# ImageVAE likelihoods on Fashion-MNIST ({backend}, CPU)",
        "",
        f"conv ImageVAE, ELBO, latent 32, isotropic posterior, batch 128, Adam 1e-3; {len(x_train)} training images, "
        f"{args.epochs} epochs, seed {args.seed}; log p(x) on the first {len(x_test)} test images with "
        f"{args.samples} importance samples. Command: `KERAS_BACKEND={backend} python benchmarks/image_likelihoods.py "
        f"--epochs {args.epochs} --train {args.train} --test {args.test} --samples {args.samples}`.",
        "",
        "| likelihood | -log p(x) (nats/image) | bits/dim | train s |",
        "|---|---|---|---|",
    ]
    for name, nll, bpd, seconds in rows:
        lines.append(f"| {name} | {nll:.1f} | {'-' if bpd is None else f'{bpd:.3f}'} | {seconds:.0f} |")
    lines += ["", "The Bernoulli's nats score grey levels as soft targets: not a likelihood of the 8-bit images."]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"image_likelihoods_{backend}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
