"""The `kvae` command line (also `python -m kvae`): train, evaluate, generate and interpolate.

    kvae train text --data snli-sample --posterior isotropic --objective capacity --c 15 --epochs 10 --out runs/igp
    kvae evaluate runs/igp
    kvae generate runs/igp --n 10
    kvae interpolate runs/igp "a man is sleeping ." "two dogs play in the snow ."
    kvae train image --data fashion-mnist-sample --epochs 5 --out runs/images
    kvae demo

`train` writes into its `--out` folder: `model.keras` (saved atomically after every finite epoch, so it always
holds the last good model), `config.json` (the options, read by the other commands), `vocab.txt` (text models),
`history.csv` (per-epoch metrics), `evaluation.json` (held-out metrics) and, with `--resume`, `backup/` (the state
to continue an interrupted run from). The backend is `KERAS_BACKEND` or `--backend`. Errors print one line
`kvae: error: ...` and exit with 2 (usage) or 1 (runtime failure); `--debug` shows the traceback instead.
"""

import argparse
import inspect
import json
import math
import os
import shutil
import sys
from pathlib import Path

BACKENDS = ("tensorflow", "jax", "torch")
TEXT_DATA = ("snli-sample",)
IMAGE_DATA = ("fashion-mnist-sample", "fashion-mnist")
MODELS = {"text": "text_vae", "image": "image_vae"}
DEFAULT_DATA = {"text": "snli-sample", "image": "fashion-mnist-sample"}
DEFAULT_BATCH_SIZE = {"text": 32, "image": 128}
# CLI option -> objective constructor argument(s) it may set (the first one the objective accepts).
OBJECTIVE_OPTIONS = {
    "c": ("c",),
    "beta": ("beta",),
    "anneal_steps": ("anneal_steps",),
    "annealing": ("annealing",),
    "samples": ("samples", "k"),
    "target": ("target",),
}
# Options that may change between a run and its `--resume`.
RESUMABLE = ("out", "epochs", "resume", "backend", "kvae_version")


class CLIError(Exception):
    """A failure reported as one line `kvae: error: ...`; `code` 2 for usage errors, 1 for runtime failures."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse whose errors become a `CLIError` (one line, exit code 2) instead of usage text and `sys.exit`."""

    def error(self, message):
        raise CLIError(f"{message} (see `{self.prog} --help`)", code=2)


# ------------------------------------------------------------------------------------------------ argument types
def _number(kind, low, inclusive, what):
    """An argparse type: `kind(text)`, finite and >= `low` (> `low` unless `inclusive`)."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if not math.isfinite(value) or not (value >= low if inclusive else value > low):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    return parse


positive_int = _number(int, 1, True, "a positive integer")
nonnegative_int = _number(int, 0, True, "an integer >= 0")
positive_float = _number(float, 0.0, False, "a positive number")
nonnegative_float = _number(float, 0.0, True, "a number >= 0")


def fraction(text):
    value = _number(float, 0.0, False, "a number in (0, 1)")(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1), got {text!r}")
    return value


# ------------------------------------------------------------------------------------------------------ parser
def build_parser():
    import kvae

    common = _Parser(add_help=False)
    common.add_argument("--backend", choices=BACKENDS, help="Keras backend (default: $KERAS_BACKEND)")
    common.add_argument("--quiet", action="store_true", help="no progress bars or information messages")
    common.add_argument("--debug", action="store_true", help="show the full traceback of an error")

    parser = _Parser(prog="kvae", description="Train and use kvae's variational autoencoders.", parents=[common])
    parser.add_argument("--version", action="version", version=f"kvae {kvae.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    train = commands.add_parser(
        "train",
        parents=[common],
        help="train a model and write it to a folder",
        description="Train a text or image VAE; everything goes to --out.",
    )
    train.add_argument("kind", choices=sorted(MODELS), help="text (TextVAE) or image (ImageVAE)")
    train.add_argument(
        "--data",
        help="text: snli-sample (default) or a file with one sentence (or "
        "label<TAB>sentence) per line; image: fashion-mnist-sample (default), fashion-mnist (the "
        "full set via kvae.datasets.fashion_mnist), a folder of Fashion-MNIST IDX files, or .npy/.npz",
    )
    train.add_argument("--out", required=True, help="output folder")
    model = train.add_argument_group("model")
    model.add_argument("--posterior", choices=kvae.list_posteriors(), default="isotropic")
    model.add_argument("--prior", choices=kvae.list_priors(), default="normal")
    model.add_argument("--latent-dim", type=positive_int, help="latent units (default: 8 text, 32 image)")
    model.add_argument(
        "--hidden-dim",
        type=positive_int,
        help="LSTM size (text, default 128); image: width of both hidden layers (mlp, default 200) or channels (conv)",
    )
    model.add_argument("--embedding-dim", type=positive_int, help="word embedding size (text, default 50)")
    model.add_argument("--max-vocabulary", type=positive_int, default=20000, help="vocabulary cap (text)")
    model.add_argument("--architecture", choices=("mlp", "conv"), help="image networks (default: mlp)")
    objective = train.add_argument_group("objective")
    objective.add_argument("--objective", choices=kvae.list_objectives(), help="default: capacity (text), elbo (image)")
    objective.add_argument("--c", type=nonnegative_float, help="capacity: target KL in nats")
    objective.add_argument("--beta", type=nonnegative_float, help="beta, capacity: KL weight")
    objective.add_argument("--anneal-steps", type=nonnegative_int, help="beta, capacity: annealing steps")
    objective.add_argument("--annealing", choices=("linear", "cyclic"), help="beta: schedule of the weight")
    objective.add_argument("--samples", type=positive_int, help="density_gap: Monte Carlo samples; iwae: k")
    objective.add_argument("--target", type=nonnegative_float, help="free_bits: nats per unit")
    fit = train.add_argument_group("training")
    fit.add_argument("--epochs", type=positive_int, default=10)
    fit.add_argument("--batch-size", type=positive_int, help="default: 32 text, 128 image")
    fit.add_argument("--learning-rate", type=positive_float, help="Adam step (default: 5e-4 text, 1e-3 image)")
    fit.add_argument("--seed", type=nonnegative_int, default=0, help="seed of weights, sampling and data split")
    fit.add_argument("--train-size", type=positive_int, help="use only this many training examples")
    fit.add_argument("--test-size", type=positive_int, help="use only this many held-out examples")
    fit.add_argument(
        "--validation-split",
        type=fraction,
        default=0.1,
        help="held-out fraction of data without a test split (files; default 0.1)",
    )
    fit.add_argument(
        "--no-shuffle",
        dest="shuffle",
        action="store_false",
        help="keep the data order (a resumed run then matches an uninterrupted one exactly)",
    )
    fit.add_argument(
        "--resume",
        action="store_true",
        help="back up every epoch to OUT/backup and continue from it when rerun with --resume",
    )
    train.set_defaults(run=run_train)

    evaluate = commands.add_parser(
        "evaluate",
        parents=[common],
        help="evaluate a trained model",
        description="Held-out metrics of a trained model, printed and written as JSON.",
    )
    evaluate.add_argument("folder", help="folder written by `kvae train`")
    evaluate.add_argument("--data", help="evaluate on this data (a file: all of it) instead of the held-out split")
    evaluate.add_argument(
        "--test-size", type=positive_int, help="use only this many examples (default: as in training)"
    )
    evaluate.add_argument("--out", help="JSON file to write (default: FOLDER/evaluation.json)")
    evaluate.set_defaults(run=run_evaluate)

    generate = commands.add_parser(
        "generate",
        parents=[common],
        help="sentences or images from the prior",
        description="Decode draws from the prior: sentences (text) or a PNG grid (image).",
    )
    generate.add_argument("folder", help="folder written by `kvae train`")
    generate.add_argument("--n", type=positive_int, default=10, help="how many (default 10)")
    generate.add_argument("--method", choices=("greedy", "beam", "sample"), default="greedy", help="text decoding")
    generate.add_argument("--temperature", type=positive_float, default=1.0, help="of --method sample")
    generate.add_argument(
        "--out", help="text: also write the sentences here; image: the PNG (default FOLDER/samples.png)"
    )
    generate.set_defaults(run=run_generate)

    interpolate = commands.add_parser(
        "interpolate",
        parents=[common],
        help="decode the line between two inputs",
        description="Decode points on the line between the posterior means of two "
        "sentences (text) or of two held-out images given by index (image).",
    )
    interpolate.add_argument("folder", help="folder written by `kvae train`")
    interpolate.add_argument("a", help="first sentence (image: index of a held-out image)")
    interpolate.add_argument("b", help="second sentence (image: index of a held-out image)")
    interpolate.add_argument("--steps", type=_number(int, 2, True, "an integer >= 2"), default=5)
    interpolate.add_argument("--out", help="image: the PNG (default FOLDER/interpolation.png)")
    interpolate.set_defaults(run=run_interpolate)

    commands.add_parser(
        "demo",
        add_help=False,
        help="train and show the default text model on the bundled SNLI sample (`kvae demo --help`)",
    )
    return parser


# ------------------------------------------------------------------------------------------------------- data
def load_data(kind, data, seed=0, validation_split=0.1):
    """(train, held-out) examples: lists of sentences or uint8/float image arrays."""
    import numpy as np

    import kvae

    if kind == "text" and data == "snli-sample":
        return kvae.datasets.snli_sample()
    if kind == "image" and data == "fashion-mnist-sample":
        (x_train, _), (x_test, _) = kvae.datasets.fashion_mnist_sample()
        return x_train, x_test
    if kind == "image" and data == "fashion-mnist":
        (x_train, _), (x_test, _) = kvae.datasets.fashion_mnist()
        return x_train, x_test
    examples = read_examples(kind, data)
    if len(examples) < 2:
        raise CLIError(f"--data {data}: needs at least 2 examples to hold some out, found {len(examples)}")
    order = np.random.default_rng(seed).permutation(len(examples))
    held = max(1, round(validation_split * len(examples)))
    if kind == "text":
        return [examples[i] for i in order[held:]], [examples[i] for i in order[:held]]
    return examples[order[held:]], examples[order[:held]]


def read_examples(kind, data):
    """All the examples of the file or folder `data` (`--data`)."""
    import numpy as np

    import kvae

    names = TEXT_DATA if kind == "text" else IMAGE_DATA
    path = Path(data).expanduser()
    if not path.exists():
        raise CLIError(f"--data {data}: no such file or folder (bundled {kind} data: {', '.join(names)})")
    if kind == "text":
        if path.is_dir():
            raise CLIError(f"--data {data}: is a folder; give a text file with one sentence per line")
        sentences = kvae.datasets.text_lines(path)
        if all("\t" in line for line in sentences):  # label<TAB>sentence
            sentences = kvae.datasets.text_lines(path, labels=True)[0]
        return sentences
    if path.is_dir():
        (x_train, _), (x_test, _) = kvae.datasets.fashion_mnist(path)
        return np.concatenate([x_train, x_test])
    try:
        loaded = np.load(path, allow_pickle=False)  # .npy: an array; .npz: an archive of arrays
        if hasattr(loaded, "files"):
            with loaded:
                keys = [key for key in ("x_train", "x_test") if key in loaded.files] or loaded.files[:1]
                x = np.concatenate([loaded[key] for key in keys]) if keys else np.zeros((0,))
        else:
            x = loaded
    except (OSError, ValueError, EOFError) as e:
        raise CLIError(f"--data {data}: not a .npy/.npz image array ({_one_line(e)})") from e
    if x.ndim not in (3, 4) or len(x) == 0:
        raise CLIError(f"--data {data}: expected images (N, H, W) or (N, H, W, C), got shape {x.shape}")
    return x


# ----------------------------------------------------------------------------------------------------- train
def _objective(kind, args):
    """The `objective` argument for `create_model`: None (the model's default) or {"name": ..., **options}."""
    import kvae

    options = {key: getattr(args, key) for key in OBJECTIVE_OPTIONS if getattr(args, key) is not None}
    if args.objective is None and not options:
        return None
    name = args.objective or inspect.signature(kvae.registry.MODELS[MODELS[kind]]).parameters["objective"].default
    accepted = inspect.signature(kvae.objectives.OBJECTIVES[name]).parameters
    resolved = {}
    for key, value in options.items():
        target = next((p for p in OBJECTIVE_OPTIONS[key] if p in accepted), None)
        if target is None:
            valid = [
                f"--{k.replace('_', '-')}" for k, ps in OBJECTIVE_OPTIONS.items() if any(p in accepted for p in ps)
            ]
            raise CLIError(
                f"--{key.replace('_', '-')} does not apply to the {name} objective "
                f"(its options: {', '.join(valid) or 'none'})",
                code=2,
            )
        resolved[target] = value
    return {"name": name, **resolved}


def _model_kwargs(args, objective, vocabulary):
    kwargs = {"posterior": args.posterior, "prior": args.prior, "seed": args.seed}
    optional = {"objective": objective, "latent_dim": args.latent_dim, "learning_rate": args.learning_rate}
    if args.kind == "text":
        optional.update(
            embedding_dim=args.embedding_dim,
            hidden_dim=args.hidden_dim,
            vocabulary=vocabulary,
            max_vocabulary=args.max_vocabulary,
        )
    else:
        optional.update(
            architecture=args.architecture, hidden_dims=None if args.hidden_dim is None else [args.hidden_dim] * 2
        )
    kwargs.update({key: value for key, value in optional.items() if value is not None})
    return kwargs


def _run_config(args):
    config = {key: value for key, value in vars(args).items() if key not in ("run", "quiet", "debug", "backend")}
    if config["data"] not in TEXT_DATA + IMAGE_DATA:
        config["data"] = str(Path(config["data"]).expanduser().resolve())
    return config


def _check_resume(folder, config):
    path = folder / "config.json"
    if not path.exists():
        return
    previous = read_json(path)
    changed = [
        key
        for key in sorted(set(config) | set(previous))
        if key not in RESUMABLE and config.get(key) != previous.get(key)
    ]
    if changed:
        detail = ", ".join(f"--{k.replace('_', '-')} {previous.get(k)!r} -> {config.get(k)!r}" for k in changed)
        raise CLIError(
            f"--resume: {folder} was trained with other options ({detail}); rerun the same command "
            "or use another --out",
            code=2,
        )


def run_train(args):
    import keras

    import kvae
    from kvae.callbacks import NaNGuard, NonFiniteLossError
    from kvae.io import atomic_write_text

    args.data = args.data or DEFAULT_DATA[args.kind]
    args.batch_size = args.batch_size or DEFAULT_BATCH_SIZE[args.kind]
    config = _run_config(args)
    objective = _objective(args.kind, args)  # option errors before any work
    folder = Path(args.out).expanduser()
    if folder.exists() and not folder.is_dir():
        raise CLIError(f"--out {args.out}: exists and is not a folder", code=2)
    if args.resume:
        _check_resume(folder, config)
    keras.utils.set_random_seed(args.seed)
    train, test = load_data(args.kind, args.data, args.seed, args.validation_split)
    train, test = train[: args.train_size], test[: args.test_size]
    vocabulary = None
    if args.kind == "text":
        vocab_path = folder / "vocab.txt"
        if args.resume and vocab_path.exists():
            vocabulary = vocab_path.read_text(encoding="utf-8").splitlines()
        else:
            tokenizer = kvae.tokenizers.WordTokenizer(max_vocabulary=args.max_vocabulary)
            vocabulary = list(tokenizer.build_vocabulary(train, verbose=not args.quiet).vocabulary)
    model = kvae.create_model(MODELS[args.kind], **_model_kwargs(args, objective, vocabulary))
    if not args.resume:  # a fresh run: no stale backup to resume from, no old model taken for this run's last good one
        shutil.rmtree(folder / "backup", ignore_errors=True)
        for name in ("model.keras", "evaluation.json", "history.csv"):
            (folder / name).unlink(missing_ok=True)
    if vocabulary is not None:
        atomic_write_text(folder / "vocab.txt", "\n".join(vocabulary) + "\n")
    config.update(backend=keras.backend.backend(), kvae_version=kvae.__version__)
    atomic_write_text(folder / "config.json", json.dumps(config, indent=2) + "\n")

    # In this order: an epoch is logged, then backed up; the guard reads the restored step and raises last.
    callbacks = [keras.callbacks.CSVLogger(str(folder / "history.csv"), append=args.resume)]
    if args.resume:
        callbacks.append(keras.callbacks.BackupAndRestore(str(folder / "backup"), delete_checkpoint=False))
    callbacks.append(NaNGuard(checkpoint=str(folder / "model.keras"), raise_error=True, verbose=False))
    if not args.quiet:
        print(
            f"kvae: training a {type(model).__name__} on {len(train)} examples ({len(test)} held out), "
            f"backend {keras.backend.backend()}, output in {folder}"
        )
    try:
        model.fit(
            train,
            validation_data=test,
            epochs=args.epochs,
            batch_size=args.batch_size,
            shuffle=args.shuffle,
            callbacks=callbacks,
            verbose=0 if args.quiet else 1,
        )
    except NonFiniteLossError as e:
        raise CLIError(f"training diverged: {e.report}") from e
    model.save(folder / "model.keras")
    _evaluate(model, args.kind, test, args.batch_size, folder / "evaluation.json", args.quiet)
    return 0


# -------------------------------------------------------------------------------------------- using a model
def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise CLIError(f"{path}: cannot read it ({e})") from e


def load_run(folder):
    """(model, kind, config) of a folder written by `kvae train`."""
    import keras

    import kvae

    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise CLIError(f"{folder}: no such model folder")
    path = folder / "model.keras"
    if not path.is_file():
        raise CLIError(f"{folder}: not a kvae model folder (no model.keras; `kvae train ... --out {folder}` makes one)")
    config = read_json(folder / "config.json") if (folder / "config.json").exists() else {}
    try:
        model = keras.saving.load_model(path)
    except Exception as e:
        raise CLIError(
            f"{path}: cannot load the model, the file is damaged or not a kvae model "
            f"({type(e).__name__}: {_one_line(e)})"
        ) from e
    if isinstance(model, kvae.TextVAE):
        return model, "text", config
    if isinstance(model, kvae.ImageVAE):
        return model, "image", config
    raise CLIError(f"{path}: a {type(model).__name__}, not a TextVAE or ImageVAE")


def _held_out(kind, config, data=None):
    """Evaluation examples: `data` (a file: all of it; a bundled name: its test split), else the run's held-out
    split (the same seed and split as in training)."""
    if data is None:
        data = config.get("data", DEFAULT_DATA[kind])
        return load_data(kind, data, config.get("seed", 0), config.get("validation_split", 0.1))[1]
    if data in TEXT_DATA + IMAGE_DATA:
        return load_data(kind, data)[1]
    return read_examples(kind, data)


def evaluation(model, kind, data, batch_size=256):
    """The evaluation dict: the objective's terms (`model.evaluate`), latent metrics, BLEU-2 for text."""
    import numpy as np

    import kvae

    results = model.evaluate(data, batch_size=batch_size, return_dict=True, verbose=0)
    report = {"examples": len(data), **{key: float(value) for key, value in results.items()}}
    try:
        latent = kvae.metrics.evaluate_latent(model, data, batch_size=batch_size, verbose=False, samples=2000)
    except ValueError as e:  # a non-Gaussian posterior (vMF): no latent metrics
        report["latent_metrics"] = f"skipped: {e}"
    else:
        for key in ("mutual_information", "active_units", "consistent_units", "unit_variances"):
            value = latent[key]
            report[key] = np.asarray(value).tolist() if key == "unit_variances" else value
    report["latent_dim"] = model.latent_dim
    if kind == "text":
        report["bleu2"] = float(kvae.metrics.bleu(data, model.reconstruct(data), n=2))
    return report


def _evaluate(model, kind, data, batch_size, path, quiet=False):
    from kvae.io import atomic_write_text

    report = evaluation(model, kind, data, batch_size)
    atomic_write_text(path, json.dumps(report, indent=2) + "\n")
    shown = {"rec": "rec", "kl": "KL", "mutual_information": "MI", "bleu2": "BLEU-2"}
    line = "  ".join(f"{label} {report[key]:.3f}" for key, label in shown.items() if key in report)
    if "active_units" in report:
        line += f"  AU {report['active_units']}/{report['latent_dim']}"
    print(f"{report['examples']} examples: {line}" + ("" if quiet else f"\n(written to {path})"))
    return report


def run_evaluate(args):
    model, kind, config = load_run(args.folder)
    test_size = args.test_size or (config.get("test_size") if args.data is None else None)  # as in training
    data = _held_out(kind, config, args.data)[:test_size]
    path = Path(args.out) if args.out else Path(args.folder) / "evaluation.json"
    _evaluate(model, kind, data, 256 if kind == "image" else 32, path, args.quiet)
    return 0


def _save_png(images, path, rows=None):
    import kvae
    from kvae.io import atomic_path

    with atomic_path(path, suffix=".tmp.png") as tmp:
        kvae.plotting.image_grid(images, rows=rows, path=tmp)
    print(f"wrote {path}")


def run_generate(args):
    model, kind, _ = load_run(args.folder)
    if kind == "image":
        _save_png(model.sample(args.n), Path(args.out or Path(args.folder) / "samples.png"))
        return 0
    sentences = model.generate(args.n, method=args.method, temperature=args.temperature)
    print("\n".join(sentences))
    if args.out:
        from kvae.io import atomic_write_text

        atomic_write_text(args.out, "\n".join(sentences) + "\n")
    return 0


def run_interpolate(args):
    import numpy as np

    model, kind, config = load_run(args.folder)
    if kind == "text":
        for t, sentence in zip(np.linspace(0, 1, args.steps), model.interpolate(args.a, args.b, steps=args.steps)):
            print(f"{t:.2f}  {sentence}")
        return 0
    images = _held_out(kind, config)
    try:
        ends = images[[int(args.a), int(args.b)]]
    except (ValueError, IndexError):
        raise CLIError(
            f"for an image model, A and B are indices of held-out images in [0, {len(images)}), "
            f"got {args.a!r} and {args.b!r}",
            code=2,
        ) from None
    means = model.encode(ends)
    t = np.linspace(0.0, 1.0, args.steps)[:, None]
    _save_png(
        model.decode((1 - t) * means[0] + t * means[1]),
        Path(args.out or Path(args.folder) / "interpolation.png"),
        rows=1,
    )
    return 0


# ------------------------------------------------------------------------------------------------------- main
def _one_line(error):
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return "; ".join(lines) or type(error).__name__


def _select_backend(argv, in_process):
    """Set `KERAS_BACKEND` from `--backend` before Keras is imported; when Keras already runs another backend,
    restart the command line under the requested one (or refuse, when called in-process)."""
    pre = _Parser(prog="kvae", add_help=False, allow_abbrev=False)
    pre.add_argument("--backend", choices=BACKENDS)
    known, rest = pre.parse_known_args(argv)
    if known.backend is None:
        return rest
    keras = sys.modules.get("keras")
    current = keras.backend.backend() if keras is not None else None
    os.environ["KERAS_BACKEND"] = known.backend
    if current not in (None, known.backend):
        if in_process:
            raise CLIError(
                f"--backend {known.backend}: Keras already runs on {current} in this process; set "
                f"KERAS_BACKEND={known.backend} before importing keras",
                code=2,
            )
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, "-m", "kvae", *argv])
    return rest


def main(argv=None):
    """Run the command line `argv` (default: `sys.argv[1:]`); returns the exit status."""
    in_process = argv is not None
    argv = list(sys.argv[1:] if argv is None else argv)
    args = None
    try:
        rest = _select_backend(argv, in_process)
        if rest[:1] == ["demo"]:
            from kvae.demo import main as demo

            demo(rest[1:])
            return 0
        args = build_parser().parse_args(argv)
        return args.run(args)
    except SystemExit as e:  # --help, --version, the demo's own parser
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except KeyboardInterrupt:
        if args is not None and args.debug:
            raise
        hint = (
            " (rerun the same command to continue from the last finished epoch)"
            if getattr(args, "resume", False)
            else ""
        )
        print(f"kvae: interrupted{hint}", file=sys.stderr)
        return 130
    except Exception as e:
        if args is not None and args.debug:
            raise
        print(f"kvae: error: {_one_line(e)}", file=sys.stderr)
        return e.code if isinstance(e, CLIError) else 1


if __name__ == "__main__":
    sys.exit(main())
