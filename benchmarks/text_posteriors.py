"""Text VAE recipes over several seeds: isotropic vs diagonal posterior, Capacity(5) vs DensityGap, bucketed vs
random batches (issue 14, "seeds, not anecdotes").

Each row is one recipe trained on 9,000 SNLI sentences and scored on the 1,000 held out: reconstruction loss, KL,
mutual information I(x; z), active units, consistent units, BLEU-2 of greedy reconstructions (0-100), the share of
distinct reconstructions of 500 test sentences and of distinct sentences among 50 generated from the prior (the
model's default decoding), and training sentences per second. One JSON line per (backend, row, seed) is appended to
`--out`/text_posteriors.jsonl as soon as it is done, so an interrupted study resumes where it stopped (rows already
there are skipped); `--report` writes the mean +- sd table over seeds per backend and the backend agreement
(difference of means within two standard errors; Welch's t-tests with Holm's correction for the number of
comparisons) to `text_posteriors.md`.

    KERAS_BACKEND=torch python benchmarks/text_posteriors.py --seeds 5
    KERAS_BACKEND=jax python benchmarks/text_posteriors.py --seeds 3 --rows iso-dg,diag-dg
    python benchmarks/text_posteriors.py --report

`--config '{"latent_dim": 16}'` adds TextVAE arguments to every row (a named row `--name` keeps them apart in the
file), for exploring a recipe; `--save DIR` keeps every trained model. Data: the README's split of the bundled SNLI
sample (`kvae.datasets.snli_sample()`), or `--data FILE` (first 9,000 lines to train, next 1,000 to test).
"""

import argparse
import json
import math
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Recipes: TextVAE arguments on top of its defaults (the objective as a kvae.create_model-style dict); "preset" rows
# are `TextVAE.from_preset(name)`. "default" is `TextVAE()` as shipped.
ROWS = {
    "default": {},
    # Length-bucketed density gap: `bucket=True` (TextVAE's default for DensityGap is random batches).
    "iso-dg": {"posterior": "isotropic", "objective": {"name": "density_gap"}, "bucket": True},
    "diag-dg": {"posterior": "diagonal", "objective": {"name": "density_gap"}, "bucket": True},
    "iso-cap": {"posterior": "isotropic", "objective": {"name": "capacity", "c": 5.0}},
    "diag-cap": {"posterior": "diagonal", "objective": {"name": "capacity", "c": 5.0}},
    "iso-dg-random": {"posterior": "isotropic", "objective": {"name": "density_gap"}, "bucket": False},
    "diag-dg-random": {"posterior": "diagonal", "objective": {"name": "density_gap"}, "bucket": False},
    "iso-cap-random": {"posterior": "isotropic", "objective": {"name": "capacity", "c": 5.0}, "bucket": False},
    "diag-cap-random": {"posterior": "diagonal", "objective": {"name": "capacity", "c": 5.0}, "bucket": False},
    "paper-snli-iso": {"preset": "snli", "posterior": "isotropic"},
    "paper-snli-diag": {"preset": "snli", "posterior": "diagonal"},
}
METRICS = ("rec", "kl", "mi", "au", "cu", "bleu2", "distinct_rec", "distinct_gen", "rate")
HEADERS = ("rec", "KL", "MI", "AU", "CU", "BLEU-2", "distinct rec. %", "distinct samples %", "sent/s")


def load_sentences(path):
    """(train, test, source): the README's split, `kvae.datasets.snli_sample()` (9,000 / 1,000 bundled SNLI
    sentences), or the first 9,000 and the next 1,000 lines of the file `path`."""
    import kvae

    if path:
        sentences = kvae.datasets.text_lines(path)
        return sentences[:9000], sentences[9000:10000], str(path)
    train, test = kvae.datasets.snli_sample()
    return train, test, "kvae.datasets.snli_sample()"


def score(model, test, seed):
    """Held-out metrics of a trained TextVAE (see the module docstring)."""
    import kvae

    results = model.evaluate(test, return_dict=True, verbose=0)
    mean, log_var = model.encode(test, return_log_var=True)
    recon = model.reconstruct(test[:500])
    samples = model.generate(50, seed=seed)
    greedy = model.generate(50, method="greedy")
    return {
        "rec": results["rec"],
        "kl": results["kl"],
        "mi": float(kvae.metrics.mutual_information(mean, log_var)),
        "au": int(kvae.metrics.active_units(mean)),
        "cu": int(kvae.metrics.consistent_units(mean, log_var)),
        "bleu2": kvae.metrics.bleu(test[:500], recon, n=2),  # 0-100
        "distinct_rec": 100 * len(set(recon)) / len(recon),
        "distinct_gen": 100 * len(set(samples)) / len(samples),
        "distinct_gen_greedy": 100 * len(set(greedy)) / len(greedy),
        "examples": {"inputs": test[:5], "reconstructions": recon[:5], "samples": samples[:5], "greedy": greedy[:5]},
    }


def run(name, config, seed, train, test, epochs, batch_size, save=None):
    import keras

    import kvae

    keras.utils.set_random_seed(seed)
    config = dict(config)
    if "preset" in config:
        model = kvae.TextVAE.from_preset(config.pop("preset"), **{**config, "seed": seed})
    else:
        model = kvae.create_model("text_vae", **{**config, "seed": seed})
    start = time.perf_counter()
    model.fit(train, epochs=epochs, batch_size=batch_size, verbose=0)
    seconds = time.perf_counter() - start
    row = {"backend": keras.backend.backend(), "row": name, "seed": seed, "epochs": epochs, "batch_size": batch_size}
    row.update(score(model, test, seed))
    if save:
        Path(save).mkdir(parents=True, exist_ok=True)
        model.save(Path(save) / f"{row['backend']}_{name.replace(':', '_')}_{seed}.keras")
    row["rate"] = len(train) * epochs / seconds
    full = model.get_config()
    keys = ("latent_dim", "embedding_dim", "hidden_dim", "word_dropout", "bow_weight", "learning_rate", "bucket")
    row["config"] = {key: full[key] for key in keys} | {
        "posterior": type(model.posterior).__name__,
        "objective": {"class": type(model.objective).__name__, **full["objective"]["config"]},
    }
    return row


def done(path):
    if not path.exists():
        return set()
    return {(r["backend"], r["row"], r["seed"]) for r in map(json.loads, path.read_text().splitlines()) if r}


def mean_sd(values):
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, sd


def welch_p(a, b):
    """Two-sided p-value of Welch's t-test that the means of samples a and b are equal (1 when both are constant
    and equal, 0 when both are constant and differ)."""
    import warnings

    from scipy import stats

    if len(set(a)) == 1 and len(set(b)) == 1:
        return 1.0 if a[0] == b[0] else 0.0
    with warnings.catch_warnings():  # nearly constant samples (AU 16, 16, 16, 15): scipy warns, the p-value stands
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def holm(tests, alpha=0.05):
    """Labels of the (p, label) tests rejected by Holm's step-down correction at family-wise level alpha."""
    kept = []
    for rank, (p, label) in enumerate(sorted(tests, key=lambda t: t[0])):
        if p > alpha / (len(tests) - rank):
            break
        kept.append(label)
    return kept


def report(path, out):
    """The mean +- sd table per backend and row, and which backends agree (|difference of means| <= 2 SE)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line]
    groups = {}
    for r in rows:
        groups.setdefault((r["row"], r["backend"]), []).append(r)
    lines = [
        "Held-out SNLI (1,000 test sentences; distinct reconstructions of 500), mean ± sd over seeds; "
        "BLEU-2 on a 0-100 scale.",
        "",
        "| row | backend | seeds | epochs | " + " | ".join(HEADERS) + " |",
        "|---|---|---|---|" + "---|" * len(HEADERS),
    ]
    for (name, backend), group in sorted(groups.items()):
        cells = []
        for metric in METRICS:
            m, s = mean_sd([g[metric] for g in group])
            cells.append(f"{m:.0f}" if metric == "rate" else f"{m:.2f} ± {s:.2f}")
        lines.append(f"| {name} | {backend} | {len(group)} | {group[0]['epochs']} | " + " | ".join(cells) + " |")
    lines += ["", "Backend agreement (difference of means within two standard errors, per metric but speed):", ""]
    by_row = {}
    for (name, backend), group in groups.items():
        by_row.setdefault(name, {})[backend] = group
    tests, flagged = [], 0  # (p, label) of every comparison, for Holm's correction; how many differ by > 2 SE
    for name, backends in sorted(by_row.items()):
        names = sorted(backends)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                ga, gb = backends[a], backends[b]
                if len(ga) < 2 or len(gb) < 2:
                    continue
                disagree = []
                for metric in METRICS[:-1]:
                    va, vb = [g[metric] for g in ga], [g[metric] for g in gb]
                    (ma, sa), (mb, sb) = mean_sd(va), mean_sd(vb)
                    se = math.sqrt(sa**2 / len(ga) + sb**2 / len(gb))
                    p = welch_p(va, vb)
                    if abs(ma - mb) > 2 * se and abs(ma - mb) > 1e-9:
                        disagree.append(f"{metric} ({ma:.2f} vs {mb:.2f}, Welch p = {p:.3f})")
                    tests.append((p, f"{name} {metric}, {a} vs {b} ({ma:.2f} vs {mb:.2f})"))
                flagged += len(disagree)
                verdict = "agree on every metric" if not disagree else "differ on " + ", ".join(disagree)
                lines.append(f"- {name}: {a} vs {b} ({len(ga)} and {len(gb)} seeds): {verdict}")
    kept = holm(tests)
    lines += [
        "",
        f"{flagged} of {len(tests)} comparisons differ by more than two standard errors. Two backends that train the "
        f"same function would still differ so on about 5% of them ({0.05 * len(tests):.0f}), and on more with 2-3 "
        "seeds a side, whose standard errors are themselves noisy. Welch's t-tests on all of them with Holm's "
        f"correction at 5% keep {len(kept)}" + (": " + "; ".join(kept) if kept else "") + ".",
    ]
    text = "\n".join(lines) + "\n"
    out.write_text(text)
    print(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None)
    parser.add_argument("--rows", default=",".join(r for r in ROWS if r != "default"), help="comma-separated rows")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--config", default=None, help="JSON of TextVAE arguments added to every row")
    parser.add_argument("--name", default=None, help="name of the rows when --config is given")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--report", action="store_true", help="only write the table from the JSON lines")
    parser.add_argument("--save", default=None, help="folder to save every trained model in (.keras)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "text_posteriors.jsonl"
    if args.report:
        return report(path, out / "text_posteriors.md")

    import keras

    train, test, source = load_sentences(args.data)
    backend = keras.backend.backend()
    extra = json.loads(args.config) if args.config else {}
    finished = done(path)
    print(f"backend {backend}; data {source}: {len(train)} train / {len(test)} test")
    for name in args.rows.split(","):
        config = {**ROWS[name], **extra}
        label = f"{name}:{args.name}" if args.name else name
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            if (backend, label, seed) in finished:
                continue
            row = run(label, config, seed, train, test, args.epochs, args.batch_size, args.save)
            with open(path, "a") as handle:
                handle.write(json.dumps(row) + "\n")
            shown = {k: round(row[k], 2) for k in METRICS}
            print(f"{label} seed {seed}: {shown}\n  {json.dumps(row['examples'])[:600]}", flush=True)


if __name__ == "__main__":
    main()
