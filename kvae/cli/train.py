"""`kvae train text|image`: train a model and write it, its options, history and evaluation to `--out`."""

import contextlib
import importlib.util
import inspect
import json
import shutil
import tempfile
import time
from pathlib import Path

from kvae.cli.data import is_streamed, load_data, stream_data
from kvae.cli.evaluate import evaluate_and_write
from kvae.cli.options import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_DATA,
    IMAGE_DATA,
    MODELS,
    OBJECTIVES,
    POSTERIORS,
    PRIORS,
    TEXT_DATA,
    CLIError,
    fraction,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
    progress_verbosity,
)
from kvae.cli.runs import read_json

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
RESUMABLE = ("out", "epochs", "resume", "backend", "kvae_version", "tensorboard")


def add_parser(commands, parents):
    train = commands.add_parser(
        "train",
        parents=parents,
        help="train a model and write it to a folder",
        description="Train a text or image VAE; everything goes to --out.",
    )
    train.add_argument("kind", choices=sorted(MODELS), help="text (TextVAE) or image (ImageVAE)")
    train.add_argument(
        "--data",
        help="text: snli-sample (default) or a file with one sentence (or "
        "label<TAB>sentence) per line, gzip if it ends in .gz; a quoted glob ('shards/*.txt.gz') or a file with "
        "--steps-per-epoch is streamed, never held in memory; image: fashion-mnist-sample (default), fashion-mnist (the "
        "full set via kvae.datasets.fashion_mnist), a folder of image files (PNG, JPEG, ...; subfolders "
        "included) or of Fashion-MNIST IDX files, or .npy/.npz",
    )
    train.add_argument("--out", required=True, help="output folder")
    train.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="also log to TensorBoard in DIR: losses, KL, active units and MI per epoch; image models: a grid of "
        "reconstructions",
    )
    images = train.add_argument_group("images from a folder (--data DIR)")
    images.add_argument(
        "--image-size",
        type=positive_int,
        nargs=2,
        metavar=("H", "W"),
        help="resize every image to H x W pixels (default 28 28)",
    )
    images.add_argument("--color-mode", choices=("grayscale", "rgb"), help="default: grayscale")
    model = train.add_argument_group("model")
    model.add_argument("--posterior", choices=POSTERIORS, default="isotropic")
    model.add_argument("--prior", choices=PRIORS, default="normal")
    model.add_argument("--latent-dim", type=positive_int, help="latent units (default: 16 text, 32 image)")
    model.add_argument(
        "--hidden-dim",
        type=positive_int,
        help="text: LSTM size or Transformer width (default 128); image: width of both hidden layers (mlp, default "
        "200) or channels (conv)",
    )
    model.add_argument("--embedding-dim", type=positive_int, help="word embedding size (text, default 50)")
    model.add_argument("--max-vocabulary", type=positive_int, default=20000, help="vocabulary cap (text)")
    model.add_argument(
        "--architecture",
        choices=("lstm", "transformer", "mlp", "conv"),
        help="text: lstm (default) or transformer; image: mlp (default) or conv",
    )
    model.add_argument(
        "--tokenizer",
        choices=("word", "wordpiece", "sentencepiece"),
        help="text vocabulary: words (default) or subwords learnt from the training sentences",
    )
    model.add_argument(
        "--likelihood",
        choices=("bernoulli", "gaussian", "logistic"),
        help="image p(x|z) (default: bernoulli; logistic for colour photographs)",
    )
    objective = train.add_argument_group("objective")
    objective.add_argument("--objective", choices=OBJECTIVES, help="default: density_gap (text), elbo (image)")
    objective.add_argument("--c", type=nonnegative_float, help="capacity: target KL in nats")
    objective.add_argument("--beta", type=nonnegative_float, help="beta, capacity: KL weight")
    objective.add_argument("--anneal-steps", type=nonnegative_int, help="beta, capacity: annealing steps")
    objective.add_argument("--annealing", choices=("linear", "cyclic"), help="beta: schedule of the weight")
    objective.add_argument("--samples", type=positive_int, help="density_gap: Monte Carlo samples; iwae: k")
    objective.add_argument("--target", type=nonnegative_float, help="free_bits: nats per unit")
    fit = train.add_argument_group("training")
    fit.add_argument("--epochs", type=positive_int, default=10)
    fit.add_argument(
        "--precision",
        choices=("float32", "mixed_bfloat16", "mixed_float16"),
        default="float32",
        help="Keras dtype policy: mixed_* run the networks in 16 bits, posteriors and losses in float32 "
        "(mixed_float16 with loss scaling)",
    )
    fit.add_argument(
        "--steps-per-epoch",
        type=positive_int,
        help="batches per epoch (Keras fit's steps_per_epoch); streamed text repeats without end, so epochs go on "
        "through the corpus",
    )
    fit.add_argument("--batch-size", type=positive_int, help="default: 32 text, 128 image")
    fit.add_argument("--learning-rate", type=positive_float, help="Adam step (default: 2e-3 text, 1e-3 image)")
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
        "--validation-data",
        metavar="FILE",
        help="streamed text: held-out sentences, its first --test-size lines (default 1000); without it the first "
        "--test-size lines of --data are held out and training streams the rest",
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
    train.set_defaults(run=run)


def objective_argument(kind, args):
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


def model_kwargs(args, objective, vocabulary):
    kwargs = {"posterior": args.posterior, "prior": args.prior, "seed": args.seed}
    optional = {"objective": objective, "latent_dim": args.latent_dim, "learning_rate": args.learning_rate}
    if args.kind == "text":
        optional.update(
            embedding_dim=args.embedding_dim,
            hidden_dim=args.hidden_dim,
            vocabulary=vocabulary,
            max_vocabulary=args.max_vocabulary,
            architecture=args.architecture,
            tokenizer=args.tokenizer,
        )
    else:
        optional.update(
            architecture=args.architecture,
            hidden_dims=None if args.hidden_dim is None else [args.hidden_dim] * 2,
            likelihood=args.likelihood,
        )
    kwargs.update({key: value for key, value in optional.items() if value is not None})
    return kwargs


def run_config(args):
    """The options that define the run (written to config.json; `--resume` must repeat them)."""
    config = {key: value for key, value in vars(args).items() if key not in ("run", "quiet", "debug", "backend")}
    if config["data"] not in TEXT_DATA + IMAGE_DATA:
        config["data"] = str(Path(config["data"]).expanduser().resolve())
    if config["validation_data"] is not None:
        config["validation_data"] = str(Path(config["validation_data"]).expanduser().resolve())
    return config


def check_resume(folder, config):
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


def _article(word):
    return "an" if word[:1].upper() in "AEIOU" else "a"


def run(args):
    import keras

    import kvae

    if args.kind == "text" and (args.image_size or args.color_mode):
        raise CLIError("--image-size and --color-mode apply to image models (kvae train image)", code=2)
    if args.kind == "image" and args.tokenizer:
        raise CLIError("--tokenizer applies to text models (kvae train text)", code=2)
    kinds = {"text": ("lstm", "transformer"), "image": ("mlp", "conv")}[args.kind]
    if args.architecture not in (None, *kinds):
        raise CLIError(f"--architecture {args.architecture}: {args.kind} models are {' or '.join(kinds)}", code=2)
    if args.tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise CLIError(
            "--tensorboard needs the tensorboard package: pip install tensorboard (or keras-vae[tensorboard])", code=2
        )
    args.data = args.data or DEFAULT_DATA[args.kind]
    args.batch_size = args.batch_size or DEFAULT_BATCH_SIZE[args.kind]
    config = run_config(args)
    objective = objective_argument(args.kind, args)  # option errors before any work
    folder = Path(args.out).expanduser()
    if folder.exists() and not folder.is_dir():
        raise CLIError(f"--out {args.out}: exists and is not a folder", code=2)
    if args.resume:
        check_resume(folder, config)
    processes = kvae.distribute.initialize()  # several processes: KERAS_DISTRIBUTION_* (JAX) or TF_CONFIG
    if processes > 1 and args.resume:
        raise CLIError("--resume is not supported with several processes (KERAS_DISTRIBUTION_* or TF_CONFIG)", code=2)
    chief = kvae.distribute.is_chief()  # only process 0 writes to --out
    keras.mixed_precision.set_global_policy(args.precision)
    keras.utils.set_random_seed(args.seed)
    image = {"image_size": args.image_size, "color_mode": args.color_mode or "grayscale"}
    streamed = is_streamed(args.kind, args.data, args.steps_per_epoch)
    if streamed:
        train, test = stream_data(args.data, args.validation_data, args.test_size)
        train = train if args.train_size is None else train.take(args.train_size)
    elif args.validation_data is not None:
        raise CLIError("--validation-data applies to streamed text (a glob --data, or --steps-per-epoch)", code=2)
    else:
        train, test = load_data(args.kind, args.data, args.seed, args.validation_split, **image)
        train, test = train[: args.train_size], test[: args.test_size]
    args.streamed = streamed
    vocabulary = None
    if args.kind == "text":
        vocab_path = folder / "vocab.txt"  # words or pieces, one per line; SentencePiece: its base64 model
        if args.resume and vocab_path.exists():
            vocabulary = vocab_path.read_text(encoding="utf-8").splitlines()
            vocabulary = vocabulary[0] if args.tokenizer == "sentencepiece" else vocabulary
        else:
            tokenizer = kvae.tokenizers.get(args.tokenizer or "word", max_vocabulary=args.max_vocabulary)
            start = time.perf_counter()
            vocabulary = tokenizer.build_vocabulary(train, verbose=not args.quiet).get_config()["vocabulary"]
            if not args.quiet:
                print(f"kvae: vocabulary pass {time.perf_counter() - start:.1f} s", flush=True)
    with contextlib.ExitStack() as stack:
        if processes > 1:
            stack.enter_context(kvae.distribute.data_parallel())
        saves = folder if chief else None
        if not chief and keras.backend.backend() == "tensorflow":  # saving is collective there: every worker saves
            saves = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kvae-worker-")))
        model = kvae.create_model(MODELS[args.kind], **model_kwargs(args, objective, vocabulary))
        fit_and_save(model, args, folder if chief else None, saves, train, test, config, vocabulary)
    if processes > 1:  # evaluate outside the processes' mesh, on the saved model
        if not chief:
            return 0
        model = keras.saving.load_model(folder / "model.keras")
    evaluate_and_write(model, test, args.batch_size, folder / "evaluation.json", args.quiet)
    return 0


def fit_and_save(model, args, folder, saves, train, test, config, vocabulary):
    """Write the run's files to `folder`, fit `model` and save it to `saves` (the same folder, or a scratch one
    on other TensorFlow workers); None (other processes): train only."""
    import keras

    import kvae
    from kvae.callbacks import NaNGuard, NonFiniteLossError
    from kvae.io import atomic_write_text

    if (
        folder is not None and not args.resume
    ):  # a fresh run: no stale backup to resume from, no old model taken for this run's last good one
        shutil.rmtree(folder / "backup", ignore_errors=True)
        for name in ("model.keras", "evaluation.json", "history.csv"):
            (folder / name).unlink(missing_ok=True)
    if folder is not None and vocabulary is not None:
        lines = [vocabulary] if isinstance(vocabulary, str) else vocabulary
        atomic_write_text(folder / "vocab.txt", "\n".join(lines) + "\n")
    config.update(backend=keras.backend.backend(), kvae_version=kvae.__version__)
    if folder is not None:
        atomic_write_text(folder / "config.json", json.dumps(config, indent=2) + "\n")

    # In this order: the latent metrics join the epoch's logs, the epoch is logged, then backed up; the guard reads
    # the restored step and raises last.
    callbacks = []
    if args.tensorboard and folder is not None:
        from kvae.cli.tensorboard import tensorboard_callbacks

        callbacks += tensorboard_callbacks(model, args.kind, test, Path(args.tensorboard).expanduser())
    if folder is not None:
        callbacks.append(keras.callbacks.CSVLogger(str(folder / "history.csv"), append=args.resume))
    if args.resume:
        callbacks.append(keras.callbacks.BackupAndRestore(str(folder / "backup"), delete_checkpoint=False))
    checkpoint = None if saves is None else str(saves / "model.keras")
    callbacks.append(NaNGuard(checkpoint=checkpoint, raise_error=True, verbose=False))
    if not args.quiet and folder is not None:
        print(
            f"kvae: training {_article(type(model).__name__)} {type(model).__name__} on "
            f"{f'a stream of {args.data}' if args.streamed else f'{len(train)} examples'} "
            f"({len(test)} held out), "
            f"backend {keras.backend.backend()}, output in {folder}",
            flush=True,
        )
    try:
        model.fit(
            train,
            validation_data=test,
            epochs=args.epochs,
            steps_per_epoch=args.steps_per_epoch,
            batch_size=args.batch_size,
            shuffle=args.shuffle,
            callbacks=callbacks,
            verbose=progress_verbosity(args.quiet) if folder is not None else 0,
        )
    except NonFiniteLossError as e:
        raise CLIError(f"training diverged: {e.report}") from e
    if saves is not None:
        model.save(saves / "model.keras")
