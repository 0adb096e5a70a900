"""Isotropic vs diagonal Gaussian posterior for an image VAE on Fashion-MNIST.

Trains `kvae.ImageVAE` twice with the library defaults (plain ELBO, latent 32, the IWAE MLP 784-200-200 tanh
encoder and 200-200-784 decoder, Bernoulli likelihood, batch 128, Adam 1e-3) on the full Fashion-MNIST training
set (60,000 images), once with the isotropic posterior (one shared variance per example, IGP) and once with the
diagonal one (DGP). For each, on the 10,000 test images, it reports:

- rec: mean reconstruction NLL in nats per image (`model.evaluate(x_test)["rec"]`, one posterior sample),
- KL: mean KL(q(z|x) || p(z)) in nats per image,
- AU: active units, `kvae.metrics.active_units(model.encode(x_test))` (threshold 0.01, Burda et al., 2016),
- probe accuracy: a logistic regression (standardised features) on the test-set posterior means, trained on a
  stratified 80% and scored on the other 20% (fixed seed); with `--mlp-probe` also a 2x128 MLPClassifier.

Run (the backend is chosen by KERAS_BACKEND):

    KERAS_BACKEND=jax python benchmarks/image_posteriors.py --epochs 50
    KERAS_BACKEND=tensorflow python benchmarks/image_posteriors.py --epochs 20
    KERAS_BACKEND=torch python benchmarks/image_posteriors.py --epochs 20 --mlp-probe --torch-threads 1

On a small, shared CPU machine, PyTorch's default intra-op threading can be many times slower than one thread
(OpenMP oversubscription); `--torch-threads 1` (or OMP_NUM_THREADS=1) avoids that.

Data: `--data PATH`, else `$KVAE_DATA` (or its `fashion_mnist/` subfolder), else `../shared/data/fashion_mnist`
next to the repository, else Debian's /usr/share/datasets/fashion-mnist, else Keras's download.
The table is printed and written to `<out>/image_posteriors_<backend>.md` (default `benchmarks/results/`).

What the literature expects (after ~50 epochs or more): the isotropic posterior keeps all units active
(AU 32 of 32), while the diagonal posterior collapses most of them (AU about 8) and reaches a somewhat better ELBO (lower rec + KL); a linear
probe on the posterior means reaches about 82% with the isotropic posterior vs about 78% with the diagonal one.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import keras
import numpy as np

import kvae

REPO = Path(__file__).resolve().parent.parent
POSTERIORS = ("isotropic", "diagonal")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--data", default=None, help="Fashion-MNIST folder (the four IDX files)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--posteriors", nargs="+", default=list(POSTERIORS), choices=POSTERIORS)
    parser.add_argument("--mlp-probe", action="store_true", help="also probe with a 2x128 MLPClassifier")
    parser.add_argument("--torch-threads", type=int, default=None, help="torch.set_num_threads (torch backend)")
    parser.add_argument("--train-limit", type=int, default=None, help="use only the first N training images (smoke tests)")
    return parser.parse_args(argv)


def load_data(path):
    if path is None and not os.environ.get("KVAE_DATA"):
        shared = REPO.parent / "shared" / "data" / "fashion_mnist"
        if shared.is_dir():
            path = shared
    return kvae.datasets.fashion_mnist(path)


def probe(means, labels, seed, mlp=False):
    """Accuracy of classifiers on the posterior means: stratified 80/20 split, standardised features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x_tr, x_te, y_tr, y_te = train_test_split(means, labels, test_size=0.2, stratify=labels, random_state=seed)
    results = {}
    logreg = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    results["logreg"] = float(logreg.fit(x_tr, y_tr).score(x_te, y_te))
    if mlp:
        net = make_pipeline(
            StandardScaler(),
            MLPClassifier(hidden_layer_sizes=(128, 128), max_iter=500, early_stopping=True, random_state=seed),
        )
        results["mlp"] = float(net.fit(x_tr, y_tr).score(x_te, y_te))
    return results


def run_one(posterior, x_train, x_test, y_test, args):
    keras.utils.set_random_seed(args.seed)
    model = kvae.ImageVAE(posterior=posterior, seed=args.seed)
    print(f"\n=== {posterior} posterior ===", flush=True)
    start = time.perf_counter()
    history = model.fit(x_train, epochs=args.epochs, batch_size=args.batch_size, shuffle=True, verbose=2)
    train_s = time.perf_counter() - start
    scores = model.evaluate(x_test, batch_size=256, return_dict=True, verbose=0)
    means = model.encode(x_test)
    row = {
        "posterior": posterior,
        "rec": float(scores["rec"]),
        "kl": float(scores["kl"]),
        "au": kvae.metrics.active_units(means),
        "unit_var": np.sort(kvae.metrics.unit_variances(means))[::-1],
        "s_per_epoch": train_s / args.epochs,
        "train_loss": float(history.history["loss"][-1]),
    }
    row.update(probe(means, y_test, args.seed, mlp=args.mlp_probe))
    print(
        f"{posterior}: rec {row['rec']:.2f}  KL {row['kl']:.2f}  AU {row['au']}  probe {row['logreg']:.4f}"
        f"  ({row['s_per_epoch']:.1f} s/epoch)",
        flush=True,
    )
    return row


def table(rows, mlp):
    head = "| posterior | rec (nats) | KL (nats) | rec + KL | AU | probe acc (logreg)" + (" | probe acc (MLP)" if mlp else "") + " |"
    sep = "|---|---:|---:|---:|---:|---:" + ("|---:" if mlp else "") + "|"
    lines = [head, sep]
    for r in rows:
        line = f"| {r['posterior']} | {r['rec']:.2f} | {r['kl']:.2f} | {r['rec'] + r['kl']:.2f} | {r['au']} / 32 | {100 * r['logreg']:.2f}%"
        if mlp:
            line += f" | {100 * r['mlp']:.2f}%"
        lines.append(line + " |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    backend = keras.backend.backend()
    threads = ""
    if backend == "torch":
        import torch

        if args.torch_threads:
            torch.set_num_threads(args.torch_threads)
        threads = f"; torch threads: {torch.get_num_threads()}"
    (x_train, _), (x_test, y_test) = load_data(args.data)
    if args.train_limit:
        x_train = x_train[: args.train_limit]
    print(f"backend: {backend}  keras {keras.__version__}  epochs: {args.epochs}  train: {len(x_train)}  test: {len(x_test)}"
          f"  seed: {args.seed}{threads}", flush=True)

    rows = [run_one(p, x_train, x_test, y_test, args) for p in args.posteriors]

    s_per_epoch = ", ".join(f"{r['posterior']} {r['s_per_epoch']:.1f}" for r in rows)
    md = [
        f"# Image VAE posteriors on Fashion-MNIST ({backend})",
        "",
        f"Backend: {backend} (keras {keras.__version__}); epochs: {args.epochs}; batch {args.batch_size}; seed {args.seed};"
        f" train images: {len(x_train)}; seconds/epoch: {s_per_epoch}{threads}.",
        f"Command: `KERAS_BACKEND={backend} python benchmarks/image_posteriors.py {' '.join(sys.argv[1:] if argv is None else argv)}`",
        "",
        "Test set (10,000 images): rec and KL are nats per image (one posterior sample), AU at threshold 0.01,",
        "probe = classifier on posterior means, stratified 80/20 split of the test set.",
        "",
        table(rows, args.mlp_probe),
        "",
        "Per-unit variances of the posterior means (sorted, descending):",
        "",
    ]
    for r in rows:
        md.append(f"- {r['posterior']}: " + " ".join(f"{v:.3g}" for v in r["unit_var"]))
    text = "\n".join(md) + "\n"
    print("\n" + text, flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"image_posteriors_{backend}.md"
    path.write_text(text)
    print(f"written to {path}", flush=True)


if __name__ == "__main__":
    main()
