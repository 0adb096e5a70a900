"""The published comparison of posterior-collapse remedies on SNLI, one TextVAE per baseline, one table.

Trains, on 9,000 sentences of `snli.valid.txt` (1,000 held out), the small configuration (embedding 50, LSTM 128,
latent 8, batch 32, Adam 5e-4) with: ELBO, Beta(0.2/0.4/0.8), FreeBits, Capacity(5/15/50), DensityGap (whole batch
and aggregation size 1), IWAE(5), cyclic annealing, BN-VAE, delta-VAE, vMF (+ DG-vMF), MoG / MoIG priors, skip and
bag-of-words decoders, isotropic and diagonal where both apply, then writes rec, KL, MI, AU, CU and BLEU-2 on the
held-out sentences to `benchmarks/results/zoo_comparison_<backend>.md`.

    KERAS_BACKEND=tensorflow python benchmarks/zoo_comparison.py --epochs 10
    python benchmarks/zoo_comparison.py --epochs 1 --train-size 500 --only elbo,capacity5   # smoke test

Anneals are in steps (1,000 by default), see the README on counting steps. Data: `--data PATH`, else
`$KVAE_DATA/snli/snli.valid.txt`, else `../shared/data/snli/snli.valid.txt`, else the bundled sample.
"""

import argparse
import json
import time
from pathlib import Path

from text_posteriors import ROOT, load_sentences


def configurations(anneal):
    """name -> (TextVAE keyword arguments) for every row of the table."""
    from kvae import objectives as o
    from kvae import posteriors, priors

    rows = {}
    for post in ("isotropic", "diagonal"):
        p = post[:3]
        rows[f"elbo-{p}"] = {"posterior": post, "objective": o.ELBO()}
        for beta in (0.2, 0.4, 0.8):
            rows[f"beta{beta}-{p}"] = {"posterior": post, "objective": o.Beta(beta)}
        rows[f"free_bits-{p}"] = {"posterior": post, "objective": o.FreeBits(0.5)}
        for c in (5, 15, 50):
            rows[f"capacity{c}-{p}"] = {"posterior": post, "objective": o.Capacity(c, anneal_steps=anneal)}
        rows[f"density_gap-{p}"] = {"posterior": post, "objective": o.DensityGap(samples=32)}
        rows[f"density_gap_b1-{p}"] = {"posterior": post, "objective": o.DensityGap(samples=32, aggregation_size=1)}
        rows[f"iwae5-{p}"] = {"posterior": post, "objective": o.IWAE(5)}
        rows[f"cyclic-{p}"] = {"posterior": post, "objective": o.Beta(1.0, annealing="cyclic", anneal_steps=anneal)}
        rows[f"skip-{p}"] = {"posterior": post, "objective": o.ELBO(), "decoder": "skip"}
        rows[f"bow-{p}"] = {"posterior": post, "objective": o.ELBO(), "bow_weight": 1.0}
    rows["mog-dia"] = {"posterior": "diagonal", "prior": "mog", "objective": o.ELBO()}
    rows["moig-iso"] = {"posterior": "isotropic", "prior": "moig", "objective": o.ELBO()}
    rows["batchnorm"] = {"posterior": "batchnorm", "objective": o.ELBO()}
    rows["delta"] = {"posterior": "delta", "objective": o.ELBO()}
    rows["vmf"] = {"posterior": posteriors.VonMisesFisher(8, kappa=50.0), "prior": priors.HypersphericalUniform(),
                       "objective": o.ELBO()}
    rows["dg-vmf"] = {"posterior": posteriors.VonMisesFisher(8, kappa=50.0), "prior": priors.HypersphericalUniform(),
                          "objective": o.DensityGap(samples=32, marginal=False)}
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--anneal-steps", type=int, default=1000)
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--only", default=None, help="comma-separated row names (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--resume", action="store_true", help="keep the rows already in the .jsonl file, train the rest")
    args = parser.parse_args()

    import keras

    import kvae

    backend = keras.backend.backend()
    train, test, source = load_sentences(args.data)
    if args.train_size:
        train = train[: args.train_size]
    rows = configurations(args.anneal_steps)
    names = args.only.split(",") if args.only else list(rows)
    unknown = sorted(set(names) - set(rows))
    if unknown:
        raise SystemExit(f"unknown rows {unknown}; choose from {sorted(rows)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows_file = out / f"zoo_comparison_{backend}.jsonl"
    results = []
    if args.resume and rows_file.exists():
        results = [r for r in map(json.loads, rows_file.read_text().splitlines()) if r["name"] in names]
    elif rows_file.exists():
        rows_file.unlink()
    done = {r["name"] for r in results}
    for name in names:
        if name in done:
            continue
        keras.utils.set_random_seed(args.seed)
        # fresh layers per row: rebuild the configurations so no posterior/objective instance is shared
        model = kvae.TextVAE(seed=args.seed, **configurations(args.anneal_steps)[name])
        start = time.perf_counter()
        model.fit(train, epochs=args.epochs, batch_size=32, verbose=0)
        seconds = time.perf_counter() - start
        rec = model.evaluate(test, return_dict=True, verbose=0)["rec"]
        gaussian = not isinstance(model.posterior, kvae.posteriors.VonMisesFisher)
        mean, log_var = model.encode(test, return_log_var=True)
        row = {
            "name": name,
            "rec": rec,
            "kl": kvae.metrics.kl(mean, log_var) if gaussian else float("nan"),
            "mi": kvae.metrics.mutual_information(mean, log_var) if gaussian else float("nan"),
            "au": kvae.metrics.active_units(mean),
            "cu": kvae.metrics.consistent_units(mean, log_var) if gaussian else "",
            "bleu2": kvae.metrics.bleu(test, model.reconstruct(test), n=2),
            "seconds": seconds,
        }
        results.append(row)
        print(row, flush=True)
        with rows_file.open("a") as f:  # one line per finished row, so a long run can be resumed
            f.write(json.dumps(row, default=lambda v: v.item()) + "\n")
        results.sort(key=lambda r: names.index(r["name"]))
        missing = [n for n in names if n not in {r["name"] for r in results}]
        write_table(results, backend, len(train), len(test), source, args, out, missing)


def write_table(results, backend, n_train, n_test, source, args, out, missing=()):
    lines = [
        f"backend {backend}; {n_train} train / {n_test} test SNLI sentences ({source}); {args.epochs} epochs, "
        f"batch 32, embedding 50 / LSTM 128 / latent 8, Adam 5e-4, anneals over {args.anneal_steps} steps; "
        "KL (to N(0, I)), MI and CU for Gaussian posteriors (the vMF KL is a constant); train s is wall time on the "
        "2-core CPU machine (rows resumed across runs may have run under different loads)",
        "",
        "| model | rec | KL | MI | AU | CU | BLEU-2 | train s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['name']} | {r['rec']:.2f} | {r['kl']:.2f} | {r['mi']:.2f} | {r['au']} | {r['cu']} | {r['bleu2']:.1f} | "
        f"{r['seconds']:.0f} |"
        for r in results
    ]
    if missing:
        lines += ["", f"not run yet: {', '.join(missing)}"]
    text = "\n".join(lines) + "\n"
    print(text)
    (out / f"zoo_comparison_{backend}.md").write_text(text)


if __name__ == "__main__":
    main()
