"""Training throughput of kvae's TextVAE and ImageVAE on every backend next to the same models as hand-written loops.

    python benchmarks/throughput.py            # full run (~15 min on 2 idle cores): benchmarks/results/throughput_cpu.md
    python benchmarks/throughput.py --quick    # smoke test (~5 min): a few steps on 2,000 sentences

The driver prepares the batches once (SNLI sentences tokenised by kvae's `WordTokenizer` into (a) random batches
padded to the batch's longest sentence and (b) length-bucketed batches, exactly as `TextVAE.fit` makes them by
default (pooled bucketing); both at their exact length for PyTorch and TensorFlow and rounded up to a multiple of 8
tokens for JAX, as `TextVAE.fit` pads them on each backend; Fashion-MNIST images scaled to [0, 1]) and saves them as
.npz. The plain PyTorch loop trains the text models with SGD, as the density-gap reference code does (the cheapest
update), kvae with its default Adam. Then one fresh
worker process per (run, configuration, batches) trains on the identical batches: kvae under
KERAS_BACKEND=tensorflow, jax and torch (`model.fit` on the images as one array, on the text batches from a Python
generator: what a user passes; a callback reads the loss after every step, so steps are synchronous), and the same model as a minimal
hand-written loop in plain PyTorch (`torch.nn.LSTM`, `torch.optim.Adam`) and plain JAX (one jit-compiled step,
`lax.scan` LSTM, hand-written Adam), see `benchmarks/plain/`.

Each worker runs warm-up steps (one batch of every distinct shape among the timed batches, so compilation of
every shape happens there, plus `--warmup` more), then `--steps` timed steps. Reported: sentences (images)/s =
batch size / median step time; real tokens/s = median over steps of non-pad target tokens / step time; first
step = wall time from building the model to the end of its first training step (build, tracing, compilation);
warm-up = the whole warm-up; peak MB = the worker's peak resident memory (VmHWM); CPU ms/step = the
worker's CPU time per step (all its threads: on a busy machine it moves less than wall time). Threads: torch
workers call `torch.set_num_threads(os.cpu_count())`, TensorFlow and XLA use all cores (their default);
`--single-thread` sets one thread everywhere. On a busy machine, torch's OpenMP threads spin-wait for each other
and a 6 ms step can take 500 ms: use `--single-thread` there (or export OMP_WAIT_POLICY=PASSIVE).

Configurations: `density_gap` (the density-gap paper's text model: embedding 128, LSTM 512, latent 32, batch 32,
DensityGap(samples=32)), `small` (the isotropic paper's SNLI model 50/128/8, batch 128, ELBO) and `image`
(ImageVAE 784-200-200-32, batch 128, ELBO). All use the isotropic posterior.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SNLI = Path("/work/shared/data/snli/snli.valid.txt")
FASHION_MNIST = Path("/work/shared/data/fashion_mnist")
RUNS = ("kvae-tensorflow", "kvae-jax", "kvae-torch", "plain-torch", "plain-jax")
CONFIGS = {
    "density_gap": {
        "kind": "text",
        "batch_size": 32,
        "sizes": {"embedding_dim": 128, "hidden_dim": 512, "latent_dim": 32},
        "objective": "density_gap",
        "samples": 32,
        "learning_rate": 5e-4,
        "title": "TextVAE 128/512/32 (density-gap configuration), batch 32, DensityGap(samples=32)",
        "published": (290, "density-gap code, PyTorch, bucketed"),
    },
    "small": {
        "kind": "text",
        "batch_size": 128,
        "sizes": {"embedding_dim": 50, "hidden_dim": 128, "latent_dim": 8},
        "objective": "elbo",
        "samples": None,
        "learning_rate": 5e-4,
        "title": "TextVAE 50/128/8 (small SNLI configuration), batch 128, ELBO",
        "published": (300, "isotropic code, TF2, padded to 56"),
    },
    "image": {
        "kind": "image",
        "batch_size": 128,
        "sizes": {"latent_dim": 32},
        "objective": "elbo",
        "samples": None,
        "learning_rate": 1e-3,
        "title": "ImageVAE 784-200-200-32, batch 128, ELBO, Fashion-MNIST",
        "published": (10600, "Pythae VAE, PyTorch, batch 100"),
    },
}
# The figures on a 2-core CPU (sentences or images per second).
TARGETS = {
    "density_gap": {
        "fastest_kvae": 1.3 * 290,
        "plain-torch bucketed": 350,
        "plain-torch padded": 165,
        "plain-jax padded": 120,
    },
    "small": {"fastest_kvae": 3 * 300},
    "image": {"fastest_kvae": 3 * 10600},
}
SAME_FRAMEWORK = {"kvae-torch": "plain-torch", "kvae-jax": "plain-jax"}


# ------------------------------------------------------------------------------------------------- data preparation
def read_sentences(path, limit=None):
    """Sentences of a one-per-line file, or of the bundled SNLI sample when `path` does not exist."""
    if path is not None and Path(path).exists():
        sentences = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
        source = str(path)
    else:
        import kvae

        train, test = kvae.datasets.snli_sample()
        sentences, source = train + test, "kvae.datasets.snli_sample()"
    return sentences[:limit], source


def pick_batches(batches, steps, warmup, seed=0):
    """(warm-up, timed) batches: `steps` full batches in random order, then one warm-up batch of every shape they
    contain plus `warmup` more, taken from the other batches where possible."""
    rng = np.random.default_rng(seed)
    full = [b for b in batches if len(b) == len(batches[0])] or batches
    order = rng.permutation(len(full))
    timed = [full[i] for i in order[:steps]]
    rest = [full[i] for i in order[steps:]] or timed
    warm, shapes = [], set()
    for b in rest + timed:  # the other batches first, the timed ones when a shape occurs only among them
        if b.shape in {t.shape for t in timed} and b.shape not in shapes:
            shapes.add(b.shape)
            warm.append(b)
    warm += rest[:warmup]
    return warm, timed


def save_batches(path, warm, timed):
    np.savez(
        path, **{f"warm_{i:04d}": b for i, b in enumerate(warm)}, **{f"timed_{i:04d}": b for i, b in enumerate(timed)}
    )


def load_batches(path):
    data = np.load(path)
    return [[data[k] for k in sorted(data.files) if k.startswith(part)] for part in ("warm_", "timed_")]


def prepare(args, folder):
    """Tokenise and batch the data once; every worker reads the same .npz files. Returns the data description."""
    info = {}
    texts = [c for c in args.configs if CONFIGS[c]["kind"] == "text"]
    if texts:
        import kvae

        sentences, source = read_sentences(args.data, 2000 if args.quick else None)
        tokenizer = kvae.tokenizers.WordTokenizer(max_vocabulary=20000, max_length=64)  # TextVAE's defaults
        tokenizer.build_vocabulary(sentences, verbose=False)
        (folder / "vocabulary.json").write_text(json.dumps(tokenizer.vocabulary))
        info["text"] = f"{len(sentences)} sentences from {source}, vocabulary {tokenizer.vocabulary_size}"
        for name in texts:
            for bucket in (False, True):
                kind = "bucketed" if bucket else "padded"
                data = tokenizer.make_dataset(
                    sentences, CONFIGS[name]["batch_size"], shuffle=True, seed=0, bucket=bucket, pad_to_multiple_of=1
                )
                warm, timed = pick_batches(list(data.as_numpy_iterator()), args.steps, args.warmup)
                save_batches(folder / f"{name}_{kind}.npz", warm, timed)
                lengths = sorted({b.shape[1] for b in timed})
                info[f"{name}_{kind}"] = f"padded lengths {lengths}, mean {np.mean([b.shape[1] for b in timed]):.1f}"
    if "image" in args.configs:
        import kvae

        try:
            (images, _), _ = kvae.datasets.fashion_mnist(args.fashion_mnist)
            source = str(args.fashion_mnist)
        except (FileNotFoundError, ValueError):
            (images, _), _ = kvae.datasets.fashion_mnist_sample()
            source = "kvae.datasets.fashion_mnist_sample()"
        images = np.random.default_rng(0).permutation(images).astype("float32") / 255.0
        size = CONFIGS["image"]["batch_size"]
        batches = [images[i : i + size] for i in range(0, len(images) - size + 1, size)]
        warm, timed = pick_batches(batches, args.image_steps, args.warmup)
        save_batches(folder / "image_batches.npz", warm, timed)
        info["image"] = f"{len(images)} images from {source}"
    return info


# --------------------------------------------------------------------------------------------------------- workers
def clock():
    """(wall time, this process's CPU time summed over its threads), in seconds."""
    return time.perf_counter(), time.process_time()


def threads():
    return int(os.environ.get("KVAE_BENCH_THREADS") or os.cpu_count())


def thread_env(single_thread):
    """Environment of a worker: one thread for torch, TensorFlow and XLA, or (default) all cores for each."""
    if not single_thread:
        return {}
    return {
        "KVAE_BENCH_THREADS": "1",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
        "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    }


def peak_rss_mb():
    """This process's peak resident memory: `VmHWM` on Linux (`getrusage`'s maximum carries over the driver's
    through fork and exec), else `getrusage`."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def set_torch_threads():
    import torch

    torch.set_num_threads(threads())
    return f"torch.set_num_threads({torch.get_num_threads()})"


def summarise(begin, ends, batches, kind):
    """Clock readings at the start of the first step and at the end of every step -> medians."""
    wall, cpu = (np.diff([begin[i]] + [end[i] for end in ends]) for i in (0, 1))
    rates = np.array([len(b) for b in batches]) / wall
    tokens = np.array([np.count_nonzero(b[:, 1:]) for b in batches]) / wall if kind == "text" else None
    return {
        "step_ms": 1000 * float(np.median(wall)),
        "cpu_ms": 1000 * float(np.median(cpu)),
        "rate": float(np.median(rates)),
        "tokens": None if tokens is None else float(np.median(tokens)),
    }


def kvae_factory(config, folder):
    """Imports kvae; returns `make()` -> `fit(batches)` training a fresh kvae model with `model.fit` on the
    batches, returning the clock at the start of the first step and at the end of every step."""
    import keras

    import kvae

    note = "torch eager, " + set_torch_threads() + ", " if keras.backend.backend() == "torch" else ""

    class StepClock(keras.callbacks.Callback):
        """Overriding `on_train_batch_end` makes Keras hand it Python floats, i.e. wait for every step (JAX)."""

        def __init__(self):
            super().__init__()
            self.begin, self.ends = None, []

        def on_train_batch_begin(self, batch, logs=None):
            self.begin = self.begin or clock()

        def on_train_batch_end(self, batch, logs=None):
            self.ends.append(clock())

    def make():
        keras.utils.set_random_seed(0)
        options = {"samples": config["samples"]} if config["samples"] else {}
        objective = kvae.objectives.get(config["objective"], **options)
        common = {"objective": objective, "learning_rate": config["learning_rate"], "seed": 0, **config["sizes"]}
        if config["kind"] == "text":
            vocabulary = json.loads((folder / "vocabulary.json").read_text())
            model = kvae.TextVAE(vocabulary=vocabulary, **common)
        else:
            model = kvae.ImageVAE(**common)

        def fit(batches):
            # What a user passes: images as one array (Keras slices the same batches in order), variable-length
            # text batches from a Python generator (Keras iterates it directly on JAX and torch; TensorFlow wraps
            # it in tf.data).
            timer = StepClock()
            if config["kind"] == "text":
                model.fit((b for b in batches), epochs=1, verbose=0, callbacks=[timer])
            else:
                images = np.concatenate(batches)
                model.fit(images, batch_size=len(batches[0]), shuffle=False, epochs=1, verbose=0, callbacks=[timer])
            return timer.begin, timer.ends

        fit.note = note + f"model.jit_compile={model.jit_compile}"
        return fit

    return make


def plain_factory(config, folder, run):
    """As `kvae_factory`, for the hand-written loops of `benchmarks/plain/`."""
    sys.path.insert(0, str(HERE))
    if run == "plain-torch":
        from plain import torch_vae as module

        note = "torch eager, " + set_torch_threads() + (", SGD" if config["kind"] == "text" else ", Adam")
    else:
        from plain import jax_vae as module

        note = "jax.jit, donated buffers"
    sizes = dict(config["sizes"])
    if config["kind"] == "text":
        sizes["vocabulary_size"] = len(json.loads((folder / "vocabulary.json").read_text()))

    def make():
        options = {"optimizer": "sgd"} if run == "plain-torch" and config["kind"] == "text" else {}
        step = module.make_trainer(
            config["kind"], config["objective"], config["samples"] or 1, config["learning_rate"], **options, **sizes
        )

        def fit(batches):
            begin, ends = clock(), []
            for batch in batches:
                step(batch)
                ends.append(clock())
            return begin, ends

        fit.note = note
        return fit

    return make


def worker(run, name, kind):
    """Train one fresh model on the prepared batches and print one `RESULT {json}` line."""
    folder = Path(os.environ["KVAE_BENCH_DIR"])
    config = CONFIGS[name]
    warm, timed = load_batches(folder / (f"{name}_{kind}.npz" if config["kind"] == "text" else "image_batches.npz"))
    if config["kind"] == "text" and run.endswith("jax"):  # compiled steps: lengths padded to multiples of 8
        warm, timed = ([np.pad(b, [(0, 0), (0, -b.shape[1] % 8)]) for b in part] for part in (warm, timed))
    make = kvae_factory(config, folder) if run.startswith("kvae") else plain_factory(config, folder, run)
    start = clock()[0]
    fit = make()
    _, ends = fit(warm)
    first_step, warmup = ends[0][0] - start, ends[-1][0] - start
    result = summarise(*fit(timed), timed, config["kind"])
    result.update(
        first_step_s=first_step,
        warmup_s=warmup,
        shapes=len({b.shape for b in warm}),
        peak_mb=peak_rss_mb(),
        note=fit.note,
    )
    print("RESULT " + json.dumps(result), flush=True)


# ---------------------------------------------------------------------------------------------------------- driver
def launch(script, args, env_extra, timeout):
    """Run `script` with `args` in a fresh process; returns the parsed `RESULT` line (or an error dict)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore", **env_extra}
    try:
        proc = subprocess.run(
            [sys.executable, str(script), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {"error": " | ".join(tail) or f"exit code {proc.returncode}"}


def fmt(value, digits=0):
    return "—" if value is None else f"{value:,.{digits}f}"


def load_text():
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def provenance(script, load_before, started):
    """How, when and on what the report was made: the command, date, cores, load and total time."""
    command = f"python benchmarks/{script} " + " ".join(sys.argv[1:])
    return (
        f"`{command.strip()}` on {time.strftime('%Y-%m-%d %H:%M')}: {os.cpu_count()} CPU cores, load average "
        f"(1 / 5 / 15 min) {load_before} before and {load_text()} after, {time.time() - started:.0f} s in all"
    )


def write_report(output, text):
    """Print the markdown report and write it to `output`."""
    print("\n" + text)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(f"Written to {output}")


def table(name, results, steps):
    """The markdown table of one configuration, with the issue's targets checked below it."""
    config = CONFIGS[name]
    published, source = config["published"]
    unit = "images/s" if config["kind"] == "image" else "sentences/s"
    lines = [
        f"### `{name}`: {config['title']}",
        "",
        (
            f"| run | batches | {unit} | tokens/s | step ms | CPU ms/step | first step s | warm-up s (shapes) | "
            f"peak MB | x plain, same framework | x published ({published:,}/s) |"
        ),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = {(r["run"], r["batches"]): r for r in results if r["config"] == name}
    for (run, kind), r in rows.items():
        if "error" in r:
            lines.append(f"| {run} | {kind} | failed: {r['error'][:200]} |" + " |" * 8)
            continue
        plain = rows.get((SAME_FRAMEWORK.get(run), kind), {})
        ratio = r["rate"] / plain["rate"] if plain.get("rate") else None
        lines.append(
            f"| {run} | {kind} | {fmt(r['rate'])} | {fmt(r['tokens'])} | {fmt(r['step_ms'], 1)} | "
            f"{fmt(r['cpu_ms'], 1)} | {fmt(r['first_step_s'], 1)} | {fmt(r['warmup_s'], 1)} ({r['shapes']}) | "
            f"{fmt(r['peak_mb'])} | {fmt(ratio, 2)} | {fmt(r['rate'] / published, 2)} |"
        )
    lines += ["", f"Published reference: {published:,} {unit} ({source}); {steps} timed steps per row.", ""]
    lines += target_lines(name, {k: r for k, r in rows.items() if "rate" in r})
    notes = sorted({f"{r['run']}: {r['note']}" for r in rows.values() if "note" in r})
    lines += ["", "Settings: " + "; ".join(notes) + "."]
    return "\n".join(lines)


def target_lines(name, rows):
    """The issue's targets for configuration `name`, checked against the measured `rows` {(run, batches): result}."""
    lines = []
    best = max(
        ((r["rate"], f"{run} ({kind})") for (run, kind), r in rows.items() if run.startswith("kvae")), default=None
    )
    if best:
        goal = TARGETS[name]["fastest_kvae"]
        verdict = "met" if best[0] >= goal else "not met"
        lines.append(f"- Target: fastest kvae run >= {goal:,.0f}/s. {best[1]}: {best[0]:,.0f}/s, {verdict}.")
        reference = rows.get(("plain-torch", "bucketed"))
        if reference:
            ratio = best[0] / reference["rate"]
            verdict = "met" if ratio >= 1.08 else "not met"
            lines.append(
                f"- Target (issue 14): fastest kvae run >= 1.08x the plain bucketed PyTorch loop (SGD). "
                f"x{ratio:.2f}, {verdict}."
            )
    for run, plain in SAME_FRAMEWORK.items():
        for kind in ("padded", "bucketed", "batches"):
            if (run, kind) in rows and (plain, kind) in rows:
                ratio = rows[(run, kind)]["rate"] / rows[(plain, kind)]["rate"]
                verdict = "met" if ratio >= 0.85 else "not met"
                lines.append(f"- Target: {run} within 15% of {plain} ({kind}). x{ratio:.2f}, {verdict}.")
    for label, goal in TARGETS[name].items():
        key = tuple(label.split())
        if key in rows:
            lines.append(f"- The issue's figure for {label}: ~{goal}/s. Here: {rows[key]['rate']:,.0f}/s.")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few steps on 2,000 sentences (smoke test)")
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS))
    parser.add_argument(
        "--data",
        type=Path,
        default=SNLI,
        help="sentences, one per line (default: SNLI valid; the bundled SNLI sample when missing)",
    )
    parser.add_argument(
        "--fashion-mnist",
        type=Path,
        default=FASHION_MNIST,
        help="folder of the IDX files (the bundled sample when missing)",
    )
    parser.add_argument("--steps", type=int, help="timed steps per text row (default 30; --quick 4)")
    parser.add_argument("--image-steps", type=int, help="timed steps per image row (default 200; --quick 10)")
    parser.add_argument("--warmup", type=int, help="warm-up steps beyond one per batch shape (default 3; --quick 1)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="run every worker this many times and keep the fastest (for a busy machine)",
    )
    parser.add_argument(
        "--single-thread",
        action="store_true",
        help="one thread per worker for torch, TensorFlow and XLA (steadier on a busy machine; default: all cores)",
    )
    parser.add_argument("--timeout", type=int, default=900, help="seconds per worker")
    parser.add_argument(
        "--output",
        type=Path,
        help="markdown file (default: benchmarks/results/throughput_cpu.md, throughput_cpu_single_thread.md "
        "with --single-thread, throughput_quick.md in the temp folder with --quick)",
    )
    parser.add_argument("--worker", nargs=3, metavar=("RUN", "CONFIG", "BATCHES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(*args.worker)
    quick = args.quick
    args.steps = args.steps or (4 if quick else 30)
    args.image_steps = args.image_steps or (10 if quick else 200)
    args.warmup = args.warmup if args.warmup is not None else (1 if quick else 3)
    name = "throughput_quick.md" if quick else f"throughput_cpu{'_single_thread' if args.single_thread else ''}.md"
    output = args.output or (Path(tempfile.gettempdir()) if quick else HERE / "results") / name

    started, load_before = time.time(), load_text()
    results = []
    with tempfile.TemporaryDirectory(prefix="kvae_throughput_") as tmp:
        folder = Path(tmp)
        info = prepare(args, folder)
        for name in args.configs:
            for kind in ("padded", "bucketed") if CONFIGS[name]["kind"] == "text" else ("batches",):
                for run in args.runs:
                    env = {"KVAE_BENCH_DIR": str(folder), **thread_env(args.single_thread)}
                    env.update({"KERAS_BACKEND": run[5:]} if run.startswith("kvae") else {"JAX_PLATFORMS": "cpu"})
                    tries = [
                        launch(Path(__file__), ["--worker", run, name, kind], env, args.timeout)
                        for _ in range(args.repeats)
                    ]
                    result = max(tries, key=lambda r: r.get("rate", -1))
                    result.update(run=run, config=name, batches=kind)
                    results.append(result)
                    shown = f"{result['rate']:,.0f}/s" if "rate" in result else result["error"]
                    print(f"[{time.time() - started:5.0f} s] {name} {kind} {run}: {shown}", flush=True)

    steps = {name: args.image_steps if CONFIGS[name]["kind"] == "image" else args.steps for name in args.configs}
    header = [
        "# Training throughput: kvae vs hand-written loops",
        "",
        provenance("throughput.py", load_before, started)
        + (f", best of {args.repeats} runs per row" if args.repeats > 1 else "")
        + ".",
        "",
        "Data: " + "; ".join(f"{k}: {v}" for k, v in info.items()) + ".",
        "",
        (
            "Rates and step times are medians over the timed steps (rate = batch size / step time); tokens/s counts "
            "the non-pad target tokens (words and `<eos>`); CPU ms/step is the worker's CPU time (all threads) per "
            "step. kvae rows time `model.fit` on the images as one array and on the text batches from a Python "
            "generator. First step: from building the model to the end of its first training step (tracing and "
            "compilation included). Warm-up: one step per distinct batch shape (JAX compiles each) plus a few more."
        ),
    ]
    write_report(output, "\n".join(header + [""] + [table(name, results, steps[name]) + "\n" for name in args.configs]))

if __name__ == "__main__":
    main()
