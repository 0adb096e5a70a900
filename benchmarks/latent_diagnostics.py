"""Collapse and hole diagnostics for isotropic vs diagonal posteriors, text and images (issue: evaluation suite).

For an isotropic and a diagonal TextVAE (Capacity c=5, small SNLI configuration) trained on 9,000 SNLI sentences and
an isotropic and a diagonal ImageVAE (ELBO, IWAE MLP) trained on Fashion-MNIST, writes one table with KL, MI, AU, CU,
the joint KL(p || q_agg), importance-weighted log-likelihood estimates, and probe accuracy (short_yelp sentiment
labels for text, Fashion-MNIST classes for images), plus the PNG figures, into a results folder.

    KERAS_BACKEND=tensorflow python benchmarks/latent_diagnostics.py --text-epochs 10 --image-epochs 20

Data: `--data DIR` (holding snli/, short_yelp/, fashion_mnist/), else `$KVAE_DATA`, else `../shared/data`.
"""

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def data_dir(path):
    for candidate in (path, os.environ.get("KVAE_DATA"), ROOT.parent / "shared" / "data"):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    raise SystemExit("no data folder: pass --data DIR holding snli/, short_yelp/ and fashion_mnist/")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None)
    parser.add_argument("--text-epochs", type=int, default=10)
    parser.add_argument("--image-epochs", type=int, default=20)
    parser.add_argument("--ll-samples", type=int, default=100)
    parser.add_argument("--ll-examples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "latent_diagnostics"))
    args = parser.parse_args()

    import keras

    import kvae

    backend = keras.backend.backend()
    data = data_dir(args.data)
    out = Path(args.out) / backend
    out.mkdir(parents=True, exist_ok=True)
    snli = kvae.datasets.text_lines(data / "snli" / "snli.valid.txt")
    text_train, text_test = snli[:9000], snli[9000:10000]
    yelp, yelp_labels = kvae.datasets.text_lines(data / "short_yelp" / "short_yelp.valid.txt", labels=True)
    (x_train, _), (x_test, y_test) = kvae.datasets.fashion_mnist(data / "fashion_mnist")

    rows = []

    def diagnose(kind, posterior, model, test, probe_x, probe_y):
        stats = kvae.metrics.evaluate_latent(model, test, verbose=False)
        ll = kvae.metrics.log_likelihood(model, test[: args.ll_examples], samples=args.ll_samples)
        probe = kvae.probes.linear_probe(model.encode(probe_x), probe_y, seeds=(0, 1, 2))
        mean, log_var = model.encode(test, return_log_var=True)
        tag = f"{kind}_{posterior}"
        kvae.plotting.unit_boxplots(mean, log_var, path=out / f"{tag}_units.png")
        kvae.plotting.aggregate_posterior(mean, log_var, path=out / f"{tag}_holes.png")
        row = {
            "model": kind,
            "posterior": posterior,
            "kl": stats["kl"],
            "mi": stats["mutual_information"],
            "au": stats["active_units"],
            "cu": stats["consistent_units"],
            "joint_kl": stats["joint_kl_prior_aggregate"],
            "log_likelihood": ll["log_likelihood"],
            "perplexity": ll.get("perplexity"),
            "probe": probe["accuracy_mean"],
            "probe_std": probe["accuracy_std"],
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        return mean

    for posterior in ("isotropic", "diagonal"):
        keras.utils.set_random_seed(args.seed)
        model = kvae.TextVAE(posterior=posterior, objective=kvae.objectives.Capacity(5.0, anneal_steps=1000), seed=args.seed)
        model.fit(text_train, epochs=args.text_epochs, batch_size=32, verbose=2)
        diagnose("text", posterior, model, text_test, yelp, yelp_labels)
        pairs = list(zip(text_test[:20:2], text_test[1:20:2]))
        curves = kvae.probes.interpolation_smoothness(model, pairs)
        kvae.plotting.interpolation_curves(curves, path=out / f"text_{posterior}_interpolation.png")

    for posterior in ("isotropic", "diagonal"):
        keras.utils.set_random_seed(args.seed)
        model = kvae.ImageVAE(posterior=posterior, seed=args.seed)
        model.fit(x_train, epochs=args.image_epochs, batch_size=128, verbose=2)
        mean = diagnose("image", posterior, model, x_test, x_test, y_test)
        kvae.plotting.tsne(mean, y_test, path=out / f"image_{posterior}_tsne.png", max_points=3000)
        kvae.plotting.image_grid(model.sample(64), path=out / f"image_{posterior}_samples.png")
        kvae.plotting.image_grid(model.reconstruct(x_test[:32]), path=out / f"image_{posterior}_reconstructions.png")

    lines = [
        f"backend {backend}; text: {args.text_epochs} epochs on 9,000 SNLI sentences (Capacity c=5), probe on "
        f"short_yelp valid labels; images: {args.image_epochs} epochs on Fashion-MNIST (ELBO); log-likelihood: IWAE "
        f"bound with {args.ll_samples} samples on {args.ll_examples} test examples",
        "",
        "| model | posterior | KL | MI | AU | CU | KL(p‖q_agg) | log p(x) | PPL | probe acc |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ppl = "" if r["perplexity"] is None else f"{r['perplexity']:.1f}"
        lines.append(
            f"| {r['model']} | {r['posterior']} | {r['kl']:.2f} | {r['mi']:.2f} | {r['au']} | {r['cu']} | "
            f"{r['joint_kl']:.2f} | {r['log_likelihood']:.2f} | {ppl} | {100 * r['probe']:.1f} ± "
            f"{100 * r['probe_std']:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    (out / "table.md").write_text(text)


if __name__ == "__main__":
    start = time.time()
    main()
    print(f"done in {time.time() - start:.0f} s")
