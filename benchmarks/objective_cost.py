"""Training-step cost of kvae's objectives relative to ELBO, how DensityGap grows with batch size, samples and
latent size, how throughput grows with the batch size, and the first (compiling) step, on each backend.

    python benchmarks/objective_cost.py                   # the three backends (~15 min on 2 idle cores)
    python benchmarks/objective_cost.py --backends jax    # one backend
    python benchmarks/objective_cost.py --quick           # smoke test (a few steps per case)
    python benchmarks/objective_cost.py --single-thread   # on a busy machine (torch's OpenMP threads spin-wait)

Keras cannot switch backends inside a process, so the driver runs one worker per backend (KERAS_BACKEND set) and
writes one table per question, a column group per backend, to benchmarks/results/objective_cost_cpu.md.
Every case builds a fresh model and times `model.fit` on NumPy arrays (Keras's own batching): a fit of `--warmup`
steps, then a fit of up to `--steps` timed ones (at least 3, fewer when they would take over `--case-seconds`);
step ms is their median wall time, first step s the time from building the model to the end of its first training
step (tracing and compilation included).

Testbed: ImageVAE 784-200-200-32 (isotropic posterior) on Fashion-MNIST, batch 128, for the objectives; the
same model for DensityGap (marginal unless said) at batch {32, 128, 512} x samples {8, 32, 128} x latent
{8, 32, 128}, one factor at a time around (128, 32, 32), each against ELBO at the same batch and latent size;
ImageVAE and the small TextVAE (50/128/8, SNLI sentences cut or padded to 24 tokens) for batch sizes 32 .. 1024.
DensityGap's pairwise term log q(z_mi | x_j) is a (samples, batch, batch, latent) tensor: cases whose tensor
would exceed `--max-pairs-gb` are skipped.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from throughput import (
    FASHION_MNIST,
    SNLI,
    clock,
    fmt,
    load_text,
    provenance,
    read_sentences,
    set_torch_threads,
    thread_env,
    write_report,
)

HERE = Path(__file__).resolve().parent
BACKENDS = ("tensorflow", "jax", "torch")
TEXT_LENGTH = 24
OBJECTIVES = {  # label -> (objective name, options)
    "ELBO": ("elbo", {}),
    "Beta(0.5)": ("beta", {"beta": 0.5}),
    "Beta, cyclic": ("beta", {"annealing": "cyclic"}),
    "Capacity(5)": ("capacity", {"c": 5.0}),
    "FreeBits(0.5)": ("free_bits", {"target": 0.5}),
    "DensityGap(32), marginal": ("density_gap", {"samples": 32}),
    "DensityGap(32), joint": ("density_gap", {"samples": 32, "marginal": False}),
    "IWAE(5)": ("iwae", {"k": 5}),
}
BASE = {"batch": 128, "samples": 32, "latent": 32}
GRID = {"batch": (32, 128, 512), "samples": (8, 32, 128), "latent": (8, 32, 128)}
BATCH_SIZES = (32, 64, 128, 256, 512, 1024)
TEXT_SIZES = {"text": {"embedding_dim": 50, "hidden_dim": 128}, "text_dg": {"embedding_dim": 128, "hidden_dim": 512}}


def case(model, objective, options, batch, latent):
    """One measurement, named by its settings (the same settings in two tables are measured once)."""
    name = f"{model} {objective} {json.dumps(options, sort_keys=True)} b{batch} d{latent}"
    return {"id": name, "model": model, "objective": objective, "options": options, "batch": batch, "latent": latent}


def pairs_gb(batch, samples, latent):
    return samples * batch**2 * latent * 4 / 1e9


def plan():
    """The cases of each table: {"objectives": {label: case}, "density_gap": [(point, dg case, elbo case)],
    "text_density_gap": [(label, dg case, elbo case)], "batch": {(model, batch): case}, "first_step": {label: case}}.
    """
    objectives = {
        label: case("image", name, opts, BASE["batch"], BASE["latent"]) for label, (name, opts) in OBJECTIVES.items()
    }
    points = [BASE] + [{**BASE, factor: v} for factor, values in GRID.items() for v in values if v != BASE[factor]]
    density_gap = [
        (
            p,
            case("image", "density_gap", {"samples": p["samples"]}, p["batch"], p["latent"]),
            case("image", "elbo", {}, p["batch"], p["latent"]),
        )
        for p in points
    ]
    batch = {(m, b): case(m, "elbo", {}, b, 32 if m == "image" else 8) for m in ("image", "text") for b in BATCH_SIZES}
    text = [
        (
            f"TextVAE 128/512/32, batch {b}",
            case("text_dg", "density_gap", {"samples": 32}, b, 32),
            case("text_dg", "elbo", {}, b, 32),
        )
        for b in (32, 128)
    ]
    first_step = {
        "ImageVAE, ELBO, batch 128": objectives["ELBO"],
        "ImageVAE, DensityGap(32), batch 128": objectives["DensityGap(32), marginal"],
        "TextVAE 50/128/8, ELBO, batch 128": batch[("text", 128)],
        "TextVAE 128/512/32, DensityGap(32), batch 32": text[0][1],
    }
    return {
        "objectives": objectives,
        "density_gap": density_gap,
        "text_density_gap": text,
        "batch": batch,
        "first_step": first_step,
    }


def all_cases(max_pairs_gb):
    """Unique cases to run, in table order; DensityGap cases over `max_pairs_gb` left out."""
    tables = plan()
    cases = list(tables["objectives"].values())
    for point, dg, elbo in tables["density_gap"]:
        cases += [elbo] + ([dg] if pairs_gb(**point) <= max_pairs_gb else [])
    cases += [c for _, dg, elbo in tables["text_density_gap"] for c in (elbo, dg)]
    cases += list(tables["batch"].values())
    return list({c["id"]: c for c in cases}.values())


def prepare(args, folder):
    """Fashion-MNIST images and SNLI ids (cut or padded to `TEXT_LENGTH`) for the workers; returns a description."""
    import kvae

    try:
        (images, _), _ = kvae.datasets.fashion_mnist(args.fashion_mnist)
        image_source = str(args.fashion_mnist)
    except (FileNotFoundError, ValueError):
        (images, _), _ = kvae.datasets.fashion_mnist_sample()
        image_source = "kvae.datasets.fashion_mnist_sample()"
    sentences, text_source = read_sentences(args.data)
    tokenizer = kvae.tokenizers.WordTokenizer(max_vocabulary=20000, max_length=TEXT_LENGTH - 2)
    tokenizer.build_vocabulary(sentences, verbose=False)
    ids = tokenizer.texts_to_ids(sentences)[:, :TEXT_LENGTH]
    ids = np.pad(ids, [(0, 0), (0, TEXT_LENGTH - ids.shape[1])])
    np.save(folder / "images.npy", np.random.default_rng(0).permutation(images))
    np.save(folder / "ids.npy", np.random.default_rng(0).permutation(ids))
    (folder / "vocabulary.json").write_text(json.dumps(tokenizer.vocabulary))
    return (
        f"{len(images)} Fashion-MNIST images from {image_source}; {len(ids)} sentences from {text_source} "
        f"(vocabulary {tokenizer.vocabulary_size}, cut or padded to {TEXT_LENGTH} tokens)"
    )


# ---------------------------------------------------------------------------------------------------------- worker
def worker(folder, steps, warmup, max_pairs_gb, case_seconds):
    """Run every case on this process's backend; print one `RESULT {json}` line per case."""
    import keras

    import kvae

    if keras.backend.backend() == "torch":
        set_torch_threads()
    data = {"image": np.load(folder / "images.npy"), "text": np.load(folder / "ids.npy")}
    vocabulary = json.loads((folder / "vocabulary.json").read_text())

    class StepClock(keras.callbacks.Callback):
        """Overriding `on_train_batch_end` makes Keras hand it Python floats, i.e. wait for every step (JAX)."""

        def __init__(self):
            super().__init__()
            self.ends = []

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(clock()[0])

    def fit(model, c, n):
        source = data["image" if c["model"] == "image" else "text"]
        timer = StepClock()
        model.fit(
            np.resize(source, (n * c["batch"],) + source.shape[1:]),
            batch_size=c["batch"],
            shuffle=False,
            verbose=0,
            callbacks=[timer],
        )
        return timer.ends

    for c in all_cases(max_pairs_gb):
        keras.utils.set_random_seed(0)
        start = clock()[0]
        objective = kvae.objectives.get(c["objective"], **c["options"])
        if c["model"] == "image":
            model = kvae.ImageVAE(latent_dim=c["latent"], objective=objective, seed=0)
        else:
            sizes = TEXT_SIZES[c["model"]]
            model = kvae.TextVAE(vocabulary=vocabulary, latent_dim=c["latent"], objective=objective, seed=0, **sizes)
        ends = fit(model, c, max(warmup, 2))
        estimate = ends[-1] - ends[-2]  # a compiled step: sets how many steps fit in `case_seconds`
        n = int(np.clip(case_seconds / estimate, 3, steps)) + 1
        result = {
            "id": c["id"],
            "step_ms": 1000 * float(np.median(np.diff(fit(model, c, n)))),
            "first_step_s": ends[0] - start,
            "steps": n - 1,
        }
        print("RESULT " + json.dumps(result), flush=True)
        del model
        keras.backend.clear_session()


def run_backend(backend, folder, args):
    """A worker process for `backend`; returns {case id: result} (the cases done if it fails part-way) and an error."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
    env.update(thread_env(args.single_thread))
    command = [sys.executable, str(Path(__file__)), "--worker", str(folder), "--steps", str(args.steps)]
    command += ["--warmup", str(args.warmup), "--max-pairs-gb", str(args.max_pairs_gb)]
    command += ["--case-seconds", str(args.case_seconds)]
    results, error = {}, None
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        deadline = time.time() + args.timeout
        for line in proc.stdout:
            if line.startswith("RESULT "):
                result = json.loads(line[len("RESULT ") :])
                results[result["id"]] = result
                print(f"  {backend}: {result['id']}: {result['step_ms']:.1f} ms", flush=True)
            if time.time() > deadline:
                proc.kill()
                error = f"stopped after {args.timeout} s"
                break
        stderr = proc.stderr.read()
        if proc.wait() != 0 and error is None:
            error = " | ".join(stderr.strip().splitlines()[-3:]) or f"exit code {proc.returncode}"
    return results, error


# ---------------------------------------------------------------------------------------------------------- tables
def ms(result):
    return result["step_ms"] if result else None


def ratio(a, b):
    return a / b if a is not None and b else None


def report(measured, backends, args):
    tables = plan()
    lines = [
        "## Objectives: step time relative to ELBO",
        "",
        f"ImageVAE 784-200-200-32, batch {BASE['batch']}, isotropic posterior; step ms (median) and x ELBO.",
        "",
        "| objective | " + " | ".join(f"{b} ms | {b} x ELBO" for b in backends) + " |",
        "|---|" + "---:|" * 2 * len(backends),
    ]
    elbo = tables["objectives"]["ELBO"]["id"]
    for label, c in tables["objectives"].items():
        cells = []
        for b in backends:
            r = measured[b].get(c["id"])
            cells += [fmt(ms(r), 1), fmt(ratio(ms(r), ms(measured[b].get(elbo))), 2)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    lines += [
        "",
        "## DensityGap (marginal) as batch, samples and latent size grow",
        "",
        (
            "One factor at a time around batch 128, 32 samples, latent 32; ImageVAE as above. ELBO ms is the same "
            "model with ELBO at the same batch and latent size; pairs GB is the size of the (samples, batch, batch, "
            "latent) float32 tensor of log q(z_mi | x_j)."
        ),
        "",
        "| batch | samples | latent | pairs GB | "
        + " | ".join(f"{b} DG ms | {b} ELBO ms | {b} x ELBO" for b in backends)
        + " |",
        "|---:|---:|---:|---:|" + "---:|" * 3 * len(backends),
    ]
    for point, dg, elbo_case in tables["density_gap"]:
        cells = []
        for b in backends:
            d, e = measured[b].get(dg["id"]), measured[b].get(elbo_case["id"])
            cells += [
                fmt(ms(d), 1) if d or pairs_gb(**point) <= args.max_pairs_gb else "skipped",
                fmt(ms(e), 1),
                fmt(ratio(ms(d), ms(e)), 2),
            ]
        lines.append(
            f"| {point['batch']} | {point['samples']} | {point['latent']} | {pairs_gb(**point):.2f} | "
            + " | ".join(cells)
            + " |"
        )
    lines += ["", *complexity_lines(measured, backends, tables["density_gap"])]
    lines += [
        "",
        (
            "DensityGap(32) against ELBO on the density-gap text model (TextVAE 128/512/32, SNLI sentences of "
            f"{TEXT_LENGTH} tokens), where the decoder's softmax dominates the step:"
        ),
        "",
        "| model | " + " | ".join(f"{b} DG ms | {b} ELBO ms | {b} x ELBO" for b in backends) + " |",
        "|---|" + "---:|" * 3 * len(backends),
    ]
    for label, dg, elbo_case in tables["text_density_gap"]:
        cells = []
        for b in backends:
            d, e = measured[b].get(dg["id"]), measured[b].get(elbo_case["id"])
            cells += [fmt(ms(d), 1), fmt(ms(e), 1), fmt(ratio(ms(d), ms(e)), 2)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    lines += [
        "",
        "## Throughput as the batch grows",
        "",
        (
            f"ELBO; ImageVAE 784-200-200-32 (images/s) and TextVAE 50/128/8 on SNLI sentences of {TEXT_LENGTH} "
            "tokens (sentences/s)."
        ),
        "",
        "| batch | " + " | ".join(f"{b} images/s | {b} sentences/s" for b in backends) + " |",
        "|---:|" + "---:|" * 2 * len(backends),
    ]
    for size in BATCH_SIZES:
        cells = []
        for b in backends:
            for model in ("image", "text"):
                r = measured[b].get(tables["batch"][(model, size)]["id"])
                cells.append(fmt(r and size / r["step_ms"] * 1000))
        lines.append(f"| {size} | " + " | ".join(cells) + " |")

    lines += [
        "",
        "## First (compiling) step",
        "",
        "Seconds from building the model to the end of its first training step (tracing and compilation included).",
        "",
        "| model | " + " | ".join(backends) + " |",
        "|---|" + "---:|" * len(backends),
    ]
    for label, c in tables["first_step"].items():
        cells = [fmt(measured[b].get(c["id"], {}).get("first_step_s"), 1) for b in backends]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def complexity_lines(measured, backends, density_gap):
    """The measured growth exponent of DensityGap's extra time (DG - ELBO) along each factor, beside the model's."""
    lines = [
        (
            "DensityGap's term costs O(samples x batch^2 x latent) time and memory (every sample of every example is "
            "scored under every example's posterior), against O(batch x latent) for the closed-form KL. Measured "
            "growth exponent of the extra step time (DG ms - ELBO ms) from the base point to the largest value of "
            "each factor (2 for batch, 1 for samples and latent if the pairwise term dominates):"
        ),
        "",
    ]
    by_point = {tuple(p.values()): (dg["id"], e["id"]) for p, dg, e in density_gap}
    base = tuple(BASE.values())
    for b in backends:
        parts = []
        for i, (factor, values) in enumerate(GRID.items()):
            point = list(base)
            point[i] = values[-1]
            extra = []
            for p in (base, tuple(point)):
                d, e = (measured[b].get(k) for k in by_point[p])
                extra.append(ms(d) - ms(e) if d and e else None)
            if None not in extra and min(extra) > 0:
                exponent = np.log(extra[1] / extra[0]) / np.log(values[-1] / base[i])
                parts.append(f"{factor} {exponent:.2f}")
        lines.append(f"- {b}: " + (", ".join(parts) or "not enough cases measured") + ".")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--quick", action="store_true", help="3 timed steps per case (smoke test)")
    parser.add_argument("--steps", type=int, help="at most this many timed steps per case (default 20; --quick 3)")
    parser.add_argument(
        "--case-seconds",
        type=float,
        default=10.0,
        help="fewer timed steps (at least 3) for cases whose steps would take longer than this in all (default 10)",
    )
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument(
        "--max-pairs-gb",
        type=float,
        default=1.5,
        help="skip DensityGap cases whose (samples, batch, batch, latent) float32 tensor is larger (default 1.5)",
    )
    parser.add_argument("--single-thread", action="store_true", help="one thread per worker (default: all cores)")
    parser.add_argument("--data", type=Path, default=SNLI, help="sentences, one per line (default: SNLI valid)")
    parser.add_argument("--fashion-mnist", type=Path, default=FASHION_MNIST, help="folder of the IDX files")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per backend")
    parser.add_argument(
        "--output",
        type=Path,
        help="markdown file (default: benchmarks/results/objective_cost_cpu.md, objective_cost_cpu_single_thread.md "
        "with --single-thread, objective_cost_quick.md in the temp folder with --quick)",
    )
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.steps = args.steps or (3 if args.quick else 20)
    if args.worker:
        return worker(args.worker, args.steps, args.warmup, args.max_pairs_gb, args.case_seconds)
    name = "objective_cost_quick.md" if args.quick else f"objective_cost_cpu{'_single_thread' * args.single_thread}.md"
    default = (Path(tempfile.gettempdir()) if args.quick else HERE / "results") / name
    output = args.output or default

    started, load_before = time.time(), load_text()
    measured, errors = {}, {}
    with tempfile.TemporaryDirectory(prefix="kvae_objective_cost_") as tmp:
        info = prepare(args, Path(tmp))
        for backend in args.backends:
            print(f"[{time.time() - started:5.0f} s] {backend}", flush=True)
            measured[backend], errors[backend] = run_backend(backend, Path(tmp), args)

    lines = [
        "# Objective cost, DensityGap scaling, batch size and compile time",
        "",
        provenance("objective_cost.py", load_before, started) + "; "
        f"3 to {args.steps} timed steps per case (up to ~{args.case_seconds:g} s) after {args.warmup} warm-up steps, "
        "`model.fit` on NumPy arrays"
        + ("; one thread per worker" if args.single_thread else "; all cores (torch.set_num_threads(os.cpu_count()))")
        + ".",
        "",
        f"Data: {info}.",
        "",
    ]
    lines += [f"**{b} failed part-way**: {e}" for b, e in errors.items() if e]
    write_report(output, "\n".join(lines + report(measured, args.backends, args)) + "\n")

if __name__ == "__main__":
    main()
