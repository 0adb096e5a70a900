"""LSTM vs Transformer TextVAE under the zoo's collapse objectives (issue 18): ELBO, Capacity(5), FreeBits and
DensityGap, each architecture with the TextVAE defaults otherwise (isotropic posterior, latent 16, word dropout 0.5).

Same protocol and columns as `text_posteriors.py` (whose functions this script uses): train on 9,000 SNLI sentences,
score on the 1,000 held out (rec, KL, MI, AU, CU, BLEU-2 of greedy reconstructions, distinct reconstructions of
500 and distinct samples of 50, training sentences/s). One JSON line per (backend, row, seed) in
`--out`/text_architectures.jsonl, resumable; `--report` writes text_architectures.md.

    KERAS_BACKEND=torch python benchmarks/text_architectures.py --data ../shared/data/snli/snli.valid.txt --epochs 5
    python benchmarks/text_architectures.py --report
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from text_posteriors import METRICS, ROOT, done, load_sentences, report, run  # noqa: E402

OBJECTIVES = {
    "elbo": {"name": "elbo"},
    "cap": {"name": "capacity", "c": 5.0},
    "fb": {"name": "free_bits", "target": 0.5},
    "dg": {"name": "density_gap"},
}
ROWS = {
    f"{arch}-{key}": {"architecture": architecture, "objective": objective}
    for arch, architecture in (("lstm", "lstm"), ("tf", "transformer"))
    for key, objective in OBJECTIVES.items()
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="a file of sentences (first 9,000 train, next 1,000 test)")
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated rows")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--report", action="store_true", help="only write the table from the JSON lines")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "text_architectures.jsonl"
    if args.report:
        return report(path, out / "text_architectures.md")

    import keras

    train, test, source = load_sentences(args.data)
    backend = keras.backend.backend()
    finished = done(path)
    print(f"backend {backend}; data {source}: {len(train)} train / {len(test)} test")
    for name in args.rows.split(","):
        for seed in range(args.seeds):
            if (backend, name, seed) in finished:
                continue
            row = run(name, ROWS[name], seed, train, test, args.epochs, args.batch_size)
            row["config"]["architecture"] = ROWS[name]["architecture"]
            with open(path, "a") as handle:
                handle.write(json.dumps(row) + "\n")
            shown = {k: round(row[k], 2) for k in METRICS}
            print(f"{name} seed {seed}: {shown}\n  {json.dumps(row['examples'])[:600]}", flush=True)


if __name__ == "__main__":
    main()
