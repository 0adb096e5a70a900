"""LSTM vs Transformer TextVAE under the zoo's collapse objectives (issue 18): ELBO, Capacity(5), FreeBits and
DensityGap, each architecture with the TextVAE defaults otherwise (isotropic posterior, latent 16, word dropout 0.5
for the LSTM and 0 for the Transformer; rows `tf-*-wd0.5` and `tf-dg-wd0.25` give the Transformer word dropout).

Same protocol and columns as `text_posteriors.py` (whose functions this script uses): train on 9,000 SNLI sentences,
score on the 1,000 held out (rec, KL, MI, AU, CU, BLEU-2 of greedy reconstructions, distinct reconstructions of
500 and distinct samples of 50, training sentences/s). One JSON line per (backend, row, seed) in
`--out`/text_architectures.jsonl, resumable; `--report` writes text_architectures.md.

    KERAS_BACKEND=torch python benchmarks/text_architectures.py --data ../shared/data/snli/snli.valid.txt --epochs 5
    python benchmarks/text_architectures.py --report

`--speed-steps N` measures training speed only, for every row, on the current backend: `fit` for N steps on the
training sentences (the model's default batches), sentences/s over the steps after the first epoch's compilation
(the median step time of the last N/2 steps), one JSON line per (backend, row) in text_architectures_speed.jsonl;
`--report` adds the table of sentences/s by backend.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

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
# The Transformer under the LSTM's word dropout (its default until the rows below showed it repeats words) and 0.25.
ROWS.update(
    {
        f"tf-{key}-wd0.5": {"architecture": "transformer", "objective": o, "word_dropout": 0.5}
        for key, o in OBJECTIVES.items()
    }
)
ROWS["tf-dg-wd0.25"] = {"architecture": "transformer", "objective": OBJECTIVES["dg"], "word_dropout": 0.25}


def speed(name, config, train, steps, batch_size):
    """Training sentences/s of row `name`: the median step time of the last `steps // 2` of `steps` steps."""
    import keras

    import kvae

    keras.utils.set_random_seed(0)
    model = kvae.create_model("text_vae", **{**config, "seed": 0})
    times = []
    clock = keras.callbacks.LambdaCallback(
        on_train_batch_begin=lambda b, logs: times.append(time.perf_counter()),
        on_train_batch_end=lambda b, logs: times.append(time.perf_counter()),
    )
    model.fit(train, epochs=1, batch_size=batch_size, steps_per_epoch=steps, callbacks=[clock], verbose=0)
    step = np.median((np.asarray(times[1::2]) - np.asarray(times[0::2]))[steps // 2 :])
    return {"backend": keras.backend.backend(), "row": name, "steps": steps, "rate": batch_size / float(step)}


def speed_report(path):
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    backends = sorted({r["backend"] for r in rows})
    rate = {(r["backend"], r["row"]): r["rate"] for r in rows}
    lines = [
        "",
        "## Training speed by backend",
        "",
        f"`--speed-steps {rows[0]['steps']}`: sentences/s from the median step time of the last half of the steps "
        "(compilation excluded), the model's default batches (DensityGap: random batches; the others: "
        "length-bucketed), batch 32, on this machine's 2 CPU cores with nothing else running. This is the speed "
        "figure: the sent/s column above is the whole `fit` (compilation and epoch ends included), and its PyTorch "
        "rows ran beside other jobs.",
        "",
        "| row | " + " | ".join(backends) + " |",
        "|---|" + "---:|" * len(backends),
    ]
    for name in ROWS:
        if any((b, name) in rate for b in backends):
            cells = [f"{rate[(b, name)]:.0f}" if (b, name) in rate else "—" for b in backends]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="a file of sentences (first 9,000 train, next 1,000 test)")
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated rows")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--report", action="store_true", help="only write the table from the JSON lines")
    parser.add_argument("--speed-steps", type=int, help="only measure training speed, over this many steps")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "text_architectures.jsonl"
    speeds = out / "text_architectures_speed.jsonl"
    if args.report:
        report(path, out / "text_architectures.md")
        if speeds.exists():
            with open(out / "text_architectures.md", "a") as handle:
                handle.write(speed_report(speeds))
        return

    import keras

    train, test, source = load_sentences(args.data)
    backend = keras.backend.backend()
    if args.speed_steps:
        for name in args.rows.split(","):
            row = speed(name, ROWS[name], train, args.speed_steps, args.batch_size)
            with open(speeds, "a") as handle:
                handle.write(json.dumps(row) + "\n")
            print(f"{backend} {name}: {row['rate']:.0f} sentences/s", flush=True)
        return
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
