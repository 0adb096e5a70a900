"""Train and save a text VAE under one Keras backend, then load it and encode under another.

A `.keras` file holds no backend: the model trained here under `$KERAS_BACKEND` (default jax) is loaded in a fresh
process (`python -c ...`) under `--load-backend`, which encodes the same test sentences; the two encodings agree to
float32 precision. `KERAS_BACKEND` must be set before the first `import keras` / `import kvae`: in a script, at the
top; in a notebook, in a cell before the first import (then restart the kernel to change it).

    KERAS_BACKEND=torch python examples/switch_backends.py --load-backend jax
    python examples/switch_backends.py --epochs 1 --train-size 200 --test-size 50 --out /tmp/switch   # a quick run

Writes to `--out`: `text_vae.keras`, `sentences.txt` and the two encodings `encodings_<backend>.npy`.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")  # before keras is first imported

import keras
import numpy as np

import kvae

BACKENDS = ("tensorflow", "jax", "torch")

# Run by a fresh interpreter under the other backend: load the model, encode the sentences, save the means.
LOAD_AND_ENCODE = """
import sys
import keras, numpy as np
import kvae  # registers kvae's classes for loading
model_path, sentences_path, out_path = sys.argv[1:]
model = keras.saving.load_model(model_path)
sentences = open(sentences_path, encoding="utf-8").read().splitlines()
np.save(out_path, model.encode(sentences))
print(f"loaded and encoded {len(sentences)} sentences under {keras.backend.backend()}")
"""


def load_sentences(path, train_size, test_size):
    """A text file, one sentence per line, its last `test_size` lines held out; the bundled SNLI sample if `path`
    is None or cannot be read."""
    if path is not None:
        try:
            sentences = kvae.datasets.text_lines(path)
            return sentences[:-test_size][:train_size], sentences[-test_size:], path
        except (FileNotFoundError, ValueError) as error:
            print(f"{error}; using the bundled SNLI sample instead.")
    train, test = kvae.datasets.snli_sample(test_size=test_size)
    return train[:train_size], test, "the bundled SNLI sample"


def main(argv=None):
    backend = keras.backend.backend()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--load-backend",
        choices=BACKENDS,
        default=None,
        help=f"backend that loads the model (default: the one after $KERAS_BACKEND in {', '.join(BACKENDS)})",
    )
    parser.add_argument("--data", default=None, help="text file, one sentence per line (default: the bundled SNLI)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--train-size", type=int, default=9000, help="training sentences (default: 9000)")
    parser.add_argument("--test-size", type=int, default=1000, help="sentences encoded under both backends")
    parser.add_argument("--hidden-dim", type=int, default=128, help="LSTM size (default: 128)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="outputs/switch_backends", help="output folder")
    args = parser.parse_args(argv)
    other = args.load_backend or BACKENDS[(BACKENDS.index(backend) + 1) % len(BACKENDS)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    keras.utils.set_random_seed(args.seed)
    train, test, source = load_sentences(args.data, args.train_size, args.test_size)
    print(f"training under {backend} on {len(train)} sentences of {source}")
    model = kvae.TextVAE(
        posterior="isotropic",
        hidden_dim=args.hidden_dim,
        objective=kvae.objectives.Capacity(c=5, anneal_steps=1000),
        seed=args.seed,
    )
    model.fit(train, epochs=args.epochs, batch_size=32, verbose=2)
    model_path = out / "text_vae.keras"
    model.save(model_path)
    sentences_path = out / "sentences.txt"
    sentences_path.write_text("\n".join(test) + "\n", encoding="utf-8")
    here = model.encode(test)
    np.save(out / f"encodings_{backend}.npy", here)

    there_path = out / f"encodings_{other}.npy"
    subprocess.run(
        [sys.executable, "-c", LOAD_AND_ENCODE, str(model_path), str(sentences_path), str(there_path)],
        env={**os.environ, "KERAS_BACKEND": other},
        check=True,
    )
    there = np.load(there_path)
    difference = float(np.max(np.abs(here - there)))
    equal = np.allclose(here, there, rtol=1e-4, atol=1e-4)
    print(f"encodings of {len(test)} sentences, {backend} vs {other}: max |difference| = {difference:.2e}")
    print(f"equal encodings: {equal}")
    if not equal:
        sys.exit(f"The encodings under {backend} and {other} differ (max |difference| {difference:.2e}).")


if __name__ == "__main__":
    main()
