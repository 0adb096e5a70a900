"""How much of kvae-torch's ImageVAE step is Keras's own eager machinery: the same batches through

1. the plain PyTorch ImageVAE loop of `benchmarks/plain/torch_vae.py` (784-200-200-32, ELBO, torch.optim.Adam),
2. a vanilla Keras model with less work: a 784-200-200-784 `keras.Sequential` autoencoder with MSE loss and Keras's
   own Adam, trained with `fit` (no sampling, no KL, no custom layers),
3. kvae's `ImageVAE` (784-200-200-32, ELBO) with `fit`,

all under KERAS_BACKEND=torch on the same 128-image batches, in one process. Row 2 is the floor that no Keras
model reaches below, whatever its maths. Prints a markdown table (median ms per step over `--repeats` epochs) and
writes it to `--output`.

    KERAS_BACKEND=torch python benchmarks/keras_overhead.py
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import kvae  # noqa: E402
from plain import torch_vae  # noqa: E402


class StepClock(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())


def keras_ms(model, images, targets, repeats):
    """Median ms per step of `model.fit` over the batches after the first step of each epoch."""
    steps = []
    for _ in range(repeats):
        clock = StepClock()
        args = (images,) if targets is None else (images, targets)
        model.fit(*args, batch_size=128, shuffle=False, epochs=1, verbose=0, callbacks=[clock])
        steps += list(np.diff(clock.ends) * 1000)
    return float(np.median(steps))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "keras_overhead_cpu.md"))
    args = parser.parse_args()
    if keras.backend.backend() != "torch":
        raise SystemExit("Run with KERAS_BACKEND=torch.")
    torch.set_num_threads(os.cpu_count())
    rng = np.random.default_rng(0)
    images = (rng.random((128 * args.batches, 28, 28)) < 0.3).astype("float32")

    step = torch_vae.make_trainer("image", "elbo", 1, 1e-3, pixels=784, hidden=(200, 200), latent_dim=32)
    plain = []
    for _ in range(args.repeats):
        for i in range(args.batches):
            start = time.perf_counter()
            step(images[i * 128 : (i + 1) * 128])
            plain.append((time.perf_counter() - start) * 1000)

    flat = images.reshape(len(images), -1)
    vanilla = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(200, activation="tanh"),
            keras.layers.Dense(200, activation="tanh"),
            keras.layers.Dense(784),
        ]
    )
    vanilla.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    vanilla_ms = keras_ms(vanilla, flat, flat, args.repeats)

    model = kvae.ImageVAE(image_shape=(28, 28), hidden_dims=(200, 200), latent_dim=32, seed=0)
    kvae_ms = keras_ms(model, images, None, args.repeats)

    plain_ms = float(np.median(plain[args.batches // 10 :]))
    lines = [
        "# Keras's eager overhead under PyTorch: the ImageVAE step",
        "",
        f"`KERAS_BACKEND=torch python benchmarks/keras_overhead.py` on {time.strftime('%Y-%m-%d %H:%M')}: batch 128,"
        f" {args.batches} batches x {args.repeats}, torch {torch.__version__}, keras {keras.__version__},"
        f" {os.cpu_count()} threads.",
        "",
        "| step | ms (median) | x plain PyTorch speed |",
        "|---|---:|---:|",
    ]
    for name, ms in [
        ("plain PyTorch ImageVAE (ELBO)", plain_ms),
        ("vanilla Keras MLP autoencoder (MSE), fit", vanilla_ms),
        ("kvae ImageVAE (ELBO), fit", kvae_ms),
    ]:
        lines.append(f"| {name} | {ms:.2f} | {plain_ms / ms:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.output).write_text(text)
    print(f"Written to {args.output}")


if __name__ == "__main__":
    main()
