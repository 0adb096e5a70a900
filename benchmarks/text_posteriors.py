"""Isotropic vs diagonal posterior for the LSTM text VAE on SNLI (issue: TextVAE "what must be shown").

Trains `kvae.TextVAE` with the isotropic and the diagonal posterior, `Capacity(c=5)`, the small SNLI configuration
(embedding 50, LSTM 128, latent 8, Adam 5e-4), on 9,000 sentences of `snli.valid.txt` and reports on the 1,000 held
out: reconstruction loss, KL, active units (of 8), BLEU-2 and BLEU-4 of greedy reconstructions, and training
sentences per second.

    KERAS_BACKEND=tensorflow python benchmarks/text_posteriors.py --epochs 10 --batch-size 32 --anneal-steps 1000

Expected from the literature (100k training sentences, 20 epochs, c annealed over 5,000 steps): AU about 4 for the
diagonal and 8 for the isotropic posterior, BLEU-2 about 22 against 27. On 10x less data scale the schedule by
steps (batch 32, c annealed over 1,000 steps). Data: `--data PATH`, else `$KVAE_DATA/snli/snli.valid.txt`, else
`../shared/data/snli/snli.valid.txt` beside the checkout, else the copy bundled in kvae.
"""

import argparse
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_sentences(path):
    import kvae

    candidates = [path] if path else []
    if os.environ.get("KVAE_DATA"):
        candidates.append(Path(os.environ["KVAE_DATA"]) / "snli" / "snli.valid.txt")
    candidates.append(ROOT.parent / "shared" / "data" / "snli" / "snli.valid.txt")
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            sentences = kvae.datasets.text_lines(candidate)
            return sentences[:9000], sentences[9000:10000], str(candidate)
    train, test = kvae.datasets.snli_sample()
    return train, test, "bundled snli_sample()"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--c", type=float, default=5.0)
    parser.add_argument("--anneal-steps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()

    import keras

    import kvae

    backend = keras.backend.backend()
    train, test, source = load_sentences(args.data)
    print(f"backend {backend}; data {source}: {len(train)} train / {len(test)} test; epochs {args.epochs}, "
          f"batch {args.batch_size}, Capacity(c={args.c}, anneal_steps={args.anneal_steps})")
    rows = []
    for posterior in ("isotropic", "diagonal"):
        keras.utils.set_random_seed(args.seed)
        model = kvae.TextVAE(
            posterior=posterior,
            objective=kvae.objectives.Capacity(c=args.c, anneal_steps=args.anneal_steps),
            seed=args.seed,
        )
        start = time.perf_counter()
        model.fit(train, epochs=args.epochs, batch_size=args.batch_size, verbose=2)
        seconds = time.perf_counter() - start
        results = model.evaluate(test, return_dict=True, verbose=0)
        recon = model.reconstruct(test)
        rows.append(
            {
                "posterior": posterior,
                "rec": results["rec"],
                "kl": results["kl"],
                "au": kvae.metrics.active_units(model.encode(test)),
                "bleu2": kvae.metrics.bleu(test, recon, n=2),
                "bleu4": kvae.metrics.bleu(test, recon, n=4),
                "rate": len(train) * args.epochs / seconds,
            }
        )
        print(f"{posterior}: {rows[-1]}")
    table = [
        f"backend {backend}, {len(train)} train / {len(test)} test sentences ({source}), {args.epochs} epochs, "
        f"batch {args.batch_size}, Capacity(c={args.c}, anneal_steps={args.anneal_steps})",
        "",
        "| posterior | rec | KL | AU (of 8) | BLEU-2 | BLEU-4 | train sentences/s |",
        "|---|---|---|---|---|---|---|",
    ]
    table += [
        f"| {r['posterior']} | {r['rec']:.2f} | {r['kl']:.2f} | {r['au']} | {r['bleu2']:.1f} | {r['bleu4']:.1f} | "
        f"{r['rate']:.0f} |"
        for r in rows
    ]
    text = "\n".join(table) + "\n"
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"text_posteriors_{backend}.md").write_text(text)


if __name__ == "__main__":
    main()
