"""An image VAE on Fashion-MNIST: train, score, and save grids of generated, reconstructed and interpolated images.

Trains `kvae.ImageVAE` (the IWAE paper's MLP, latent 32, ELBO) on the full Fashion-MNIST when it can be found
(`kvae.datasets.fashion_mnist()`: `--data PATH`, `$KVAE_DATA`, Debian's package or Keras's download), else on the
bundled 2,000-image sample; prints the test reconstruction loss, KL, negative ELBO and active units; saves
`samples.png` (images decoded from prior draws, `model.generate`), `reconstructions.png` (test images, each above
its reconstruction) and `interpolation.png` (`model.interpolate` between two test images) with
`kvae.plotting.image_grid`.

    KERAS_BACKEND=jax python examples/image_vae.py --posterior isotropic --epochs 10
    python examples/image_vae.py --epochs 1 --train-size 500 --out /tmp/image_vae   # a quick run
"""

import argparse
from pathlib import Path


def load_images(path):
    """((x_train, y_train), (x_test, y_test)) of the full Fashion-MNIST (in `path`, or the default places when None),
    else of the bundled sample."""
    import kvae

    try:
        return kvae.datasets.fashion_mnist(path), "Fashion-MNIST"
    except (FileNotFoundError, ValueError) as error:
        print(f"{str(error).splitlines()[0]} Using the bundled sample instead.")
    return kvae.datasets.fashion_mnist_sample(), "the bundled Fashion-MNIST sample"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posterior", default="isotropic", help="isotropic | diagonal | ... (kvae.list_posteriors())")
    parser.add_argument("--data", default=None, help="folder of the Fashion-MNIST files (default: kvae's search order)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--train-size", type=int, default=None, help="use only this many training images")
    parser.add_argument("--test-size", type=int, default=None, help="use only this many test images")
    parser.add_argument("--hidden-dim", type=int, default=200, help="width of the two MLP layers (default: 200)")
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="outputs/image_vae", help="output folder")
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    import kvae

    keras.utils.set_random_seed(args.seed)
    ((x_train, _), (x_test, _)), source = load_images(args.data)
    x_train, x_test = x_train[: args.train_size], x_test[: args.test_size]
    print(f"backend {keras.backend.backend()}: {len(x_train)} training / {len(x_test)} test images of {source}")

    model = kvae.ImageVAE(
        posterior=args.posterior,
        latent_dim=args.latent_dim,
        hidden_dims=(args.hidden_dim, args.hidden_dim),
        seed=args.seed,
    )
    model.fit(x_train, epochs=args.epochs, batch_size=args.batch_size, verbose=2)
    scores = model.evaluate(x_test, batch_size=args.batch_size, return_dict=True, verbose=0)
    active = kvae.metrics.active_units(model.encode(x_test))
    print(
        f"test: rec {scores['rec']:.1f}  KL {scores['kl']:.1f}  -ELBO {scores['rec'] + scores['kl']:.1f}  "
        f"active units {active}/{args.latent_dim}"
    )

    out = Path(args.out)
    kvae.plotting.image_grid(model.generate(64), rows=8, path=out / "samples.png", title="generated")
    originals = x_test[:16] / 255.0
    reconstructions = model.reconstruct(x_test[:16])
    rows = [originals[:8], reconstructions[:8], originals[8:], reconstructions[8:]]  # each image above its copy
    kvae.plotting.image_grid(
        np.concatenate(rows), rows=4, path=out / "reconstructions.png", title="test images and their reconstructions"
    )
    line = model.interpolate(x_test[0], x_test[1], steps=8)  # the same verbs as a TextVAE: generate, interpolate
    kvae.plotting.image_grid(line, rows=1, path=out / "interpolation.png", title="from one test image to another")
    print(f"saved {out / 'samples.png'}, {out / 'reconstructions.png'} and {out / 'interpolation.png'}")


if __name__ == "__main__":
    main()
