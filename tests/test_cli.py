"""Tests for the `kvae` command line (kvae.cli): train / evaluate / generate / interpolate on the bundled data and on
folders of images, the files a run writes, exact `--resume` after an interruption, the NaN guard, one-line errors
with exit codes, global options before or after the command, one line per epoch when not on a terminal,
`--tensorboard`, and a quiet, fast start (`kvae --help` imports no Keras; nothing on stderr).

Commands run in-process through `kvae.cli.main([...])` (subprocess tests cover `python -m kvae`). Models are
tiny (latent 4, hidden 16, 200 training examples, 1-4 epochs). Backend independent: run under
KERAS_BACKEND=tensorflow, jax and torch.
"""

import csv
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import kvae
from kvae.cli import CLIError, held_out, load_data, main, options, read_examples

TINY = ["--train-size", "200", "--latent-dim", "4", "--hidden-dim", "16", "--batch-size", "50", "--quiet"]
TEXT = ["train", "text", "--data", "snli-sample", "--test-size", "20", "--embedding-dim", "8", *TINY]
TEXT += ["--train-size", "100", "--batch-size", "100"]  # one batch: one compiled LSTM step (JAX compiles per length)
IMAGE = ["train", "image", "--data", "fashion-mnist-sample", "--test-size", "20", *TINY]
IMAGE_RUN = [*IMAGE, "--epochs", "4", "--objective", "capacity", "--c", "5", "--anneal-steps", "12", "--no-shuffle"]


def run(capsys, *argv):
    """(exit status, stdout, stderr) of `kvae argv`."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def error_line(err):
    """The single `kvae: error: ...` line of stderr (and no traceback)."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("kvae:")]
    assert len(lines) == 1, err
    return lines[0]


def read_history(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text_run")
    keras.utils.set_random_seed(0)
    options = ["--objective", "capacity", "--c", "3", "--anneal-steps", "4"]
    assert main([*TEXT, "--epochs", "1", *options, "--out", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("image_run")
    assert main([*IMAGE_RUN, "--out", str(folder)]) == 0
    return folder


def test_train_text_writes_the_run_folder(text_run):
    config = json.loads((text_run / "config.json").read_text())
    assert config["kind"] == "text" and config["c"] == 3 and config["backend"] == keras.backend.backend()
    model = keras.saving.load_model(text_run / "model.keras")
    assert isinstance(model, kvae.TextVAE) and model.latent_dim == 4 and model.hidden_dim == 16
    assert model.objective.c == 3 and model.objective.anneal_steps == 4
    assert int(keras.ops.convert_to_numpy(model.objective.step)) == 1  # 1 epoch of 1 batch
    vocabulary = (text_run / "vocab.txt").read_text().splitlines()
    assert vocabulary[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"] and vocabulary == list(model.tokenizer.vocabulary)
    history = read_history(text_run / "history.csv")
    assert len(history) == 1 and {"loss", "rec", "kl", "val_loss"} <= set(history[0])
    evaluation = json.loads((text_run / "evaluation.json").read_text())
    test = held_out("text", config, None)[: config["test_size"]]
    expected = kvae.metrics.evaluation_report(model, test, batch_size=config["batch_size"])  # the saved model's
    assert evaluation["examples"] == len(test) == 20
    for key in ("rec", "kl", "mutual_information", "active_units", "consistent_units", "bleu2"):
        assert evaluation[key] == pytest.approx(expected[key], rel=1e-4, abs=1e-6), key


def test_evaluate_generate_interpolate_text(text_run, tmp_path, capsys):
    out = tmp_path / "eval.json"
    code, printed, _ = run(capsys, "evaluate", text_run, "--out", out, "--backend", keras.backend.backend())
    assert code == 0 and "20 examples: rec" in printed
    evaluated, at_training = json.loads(out.read_text()), json.loads((text_run / "evaluation.json").read_text())
    for key in ("examples", "kl", "mutual_information", "active_units", "bleu2"):  # the same held-out split
        assert evaluated[key] == pytest.approx(at_training[key], rel=1e-4, abs=1e-6), key

    code, printed, _ = run(capsys, "generate", text_run, "--n", 3, "--out", tmp_path / "generated.txt")
    assert code == 0 and len(printed.splitlines()) == 3
    assert (tmp_path / "generated.txt").read_text().splitlines() == printed.splitlines()

    code, printed, _ = run(capsys, "interpolate", text_run, "a man is sleeping .", "two dogs play .", "--steps", 3)
    lines = printed.splitlines()
    assert code == 0 and len(lines) == 3 and lines[0].startswith("0.00") and lines[-1].startswith("1.00")


def test_train_image_generate_interpolate(image_run, tmp_path, capsys):
    model = keras.saving.load_model(image_run / "model.keras")
    assert isinstance(model, kvae.ImageVAE) and model.image_shape == (28, 28) and model.hidden_dims == (16, 16)
    evaluation = json.loads((image_run / "evaluation.json").read_text())
    assert evaluation["examples"] == 20 and "bleu2" not in evaluation and np.isfinite(evaluation["mutual_information"])
    code, _, _ = run(capsys, "generate", image_run, "--n", 4)
    assert code == 0 and (image_run / "samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, _ = run(capsys, "interpolate", image_run, 0, 1, "--steps", 3, "--out", tmp_path / "line.png")
    assert code == 0 and (tmp_path / "line.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, err = run(capsys, "interpolate", image_run, "a shoe", "a shirt")
    assert code == 2 and "indices of held-out images" in error_line(err)


def test_resume_after_interruption_matches_an_uninterrupted_run(image_run, tmp_path, capsys, monkeypatch):
    """4 epochs in one go (`image_run`) == 2 epochs, a KeyboardInterrupt, then the same command again (weights,
    annealing step, random state, the metrics of every epoch and the final evaluation)."""
    from kvae.callbacks import NaNGuard

    original = NaNGuard.on_epoch_end

    def interrupt_after_two_epochs(self, epoch, logs=None):
        original(self, epoch, logs)
        if epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(NaNGuard, "on_epoch_end", interrupt_after_two_epochs)
    resumed = [*IMAGE_RUN, "--out", tmp_path / "resumed", "--resume"]
    code, _, err = run(capsys, *resumed)
    assert code == 130 and "rerun the same command" in err
    assert len(read_history(tmp_path / "resumed" / "history.csv")) == 2
    monkeypatch.undo()
    assert run(capsys, *resumed)[0] == 0

    whole = read_history(image_run / "history.csv")
    again = read_history(tmp_path / "resumed" / "history.csv")
    assert [row["epoch"] for row in again] == ["0", "1", "2", "3"]
    for a, b in zip(whole, again):
        np.testing.assert_allclose([float(a[k]) for k in a], [float(b[k]) for k in a], rtol=1e-4, atol=1e-5)
    first, second = (keras.saving.load_model(folder / "model.keras") for folder in (image_run, tmp_path / "resumed"))
    assert int(keras.ops.convert_to_numpy(second.objective.step)) == 16  # 4 epochs of 4 steps
    for a, b in zip(first.weights, second.weights):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), rtol=1e-4, atol=1e-5)
    evaluations = [json.loads((folder / "evaluation.json").read_text()) for folder in (image_run, tmp_path / "resumed")]
    assert evaluations[0]["rec"] == pytest.approx(evaluations[1]["rec"], rel=1e-4)


def test_train_a_transformer_on_subwords_and_resume_it(tmp_path, capsys):
    """`--architecture transformer --tokenizer sentencepiece`: the saved model is that network on that vocabulary,
    and `--resume` rebuilds the same vocabulary from the run folder (vocab.txt: the base64 SentencePiece model; word
    and WordPiece vocabularies are one token per line) and goes on training."""
    tokenizer = "sentencepiece"
    argv = [*TEXT, "--architecture", "transformer", "--tokenizer", tokenizer, "--max-vocabulary", "300"]
    assert run(capsys, *argv, "--epochs", "1", "--out", tmp_path, "--resume")[0] == 0
    first = keras.saving.load_model(tmp_path / "model.keras")
    assert (first.architecture, first.tokenizer_type) == ("transformer", tokenizer)
    assert run(capsys, *argv, "--epochs", "2", "--out", tmp_path, "--resume")[0] == 0
    second = keras.saving.load_model(tmp_path / "model.keras")
    assert second.tokenizer.get_config()["vocabulary"] == first.tokenizer.get_config()["vocabulary"]
    assert len(read_history(tmp_path / "history.csv")) == 2
    assert any(np.abs(np.asarray(a) - np.asarray(b)).max() > 0 for a, b in zip(first.get_weights(), second.get_weights()))


def test_a_diverging_run_stops_with_the_guard_report(tmp_path, capsys):
    code, _, err = run(capsys, *IMAGE, "--epochs", "2", "--learning-rate", "1e30", "--out", tmp_path)
    line = error_line(err)
    assert code == 1 and "training diverged: non-finite loss" in line and "epoch 1, batch" in line
    assert "last finite metrics" in line and not (tmp_path / "evaluation.json").exists()


def test_text_files_may_hold_labels(tmp_path):
    plain, labelled = tmp_path / "plain.txt", tmp_path / "labelled.tsv"
    plain.write_text("a man is sleeping .\n\ntwo dogs play .\n")
    labelled.write_text("0\ta man is sleeping .\n1\ttwo dogs play .\n")
    expected = ["a man is sleeping .", "two dogs play ."]
    assert read_examples("text", str(plain)) == read_examples("text", str(labelled)) == expected
    train, held_out = load_data("text", str(plain), seed=0, validation_split=0.1)
    assert sorted(train + held_out) == expected and len(held_out) == 1


@pytest.fixture
def bad_inputs(tmp_path):
    """Paths to broken inputs: an empty text file, a binary one, a flat .npy, a folder without a model, a damaged
    model file."""
    (tmp_path / "empty.txt").write_text("\n\n")
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00\x9c" * 50)
    np.save(tmp_path / "flat.npy", np.zeros(10))
    (tmp_path / "no_model").mkdir()
    (tmp_path / "damaged").mkdir()
    (tmp_path / "damaged" / "model.keras").write_bytes(b"PK\x03\x04 not really a zip")
    return tmp_path


FAILURES = [  # argv (paths relative to the bad_inputs folder, "{run}": the trained text run), exit code, message
    (["evaluate", "missing"], 1, "no such model folder"),
    (["generate", "no_model"], 1, "not a kvae model folder"),
    (["interpolate", "damaged", "a", "b"], 1, "not a .keras model file"),
    (["train", "text", "--posterior", "spherical", "--out", "o"], 2, "--posterior"),
    (["train", "text", "--epochs", "0", "--out", "o"], 2, "--epochs: must be a positive integer"),
    (["train", "image", "--c", "3", "--out", "o"], 2, "--c does not apply to the elbo objective"),
    (["train", "text", "--data", "nowhere.txt", "--out", "o"], 1, "no such file"),
    (["train", "text", "--data", "empty.txt", "--out", "o"], 1, "no sentences"),
    (["train", "text", "--data", "binary.txt", "--out", "o"], 1, "binary.txt"),
    (["train", "image", "--data", "flat.npy", "--out", "o"], 1, "expected images"),
    ([*TEXT, "--epochs", "1", "--latent-dim", "5", "--out", "{run}", "--resume"], 2, "--latent-dim 4 -> 5"),
    (["frobnicate"], 2, "invalid choice"),
    (["train", "text", "--architecture", "conv", "--out", "o"], 2, "text models are lstm or transformer"),
    (["train", "image", "--tokenizer", "wordpiece", "--out", "o"], 2, "--tokenizer applies to text models"),
]
PATH_ARGS = {"missing", "no_model", "damaged", "o", "nowhere.txt", "empty.txt", "binary.txt", "flat.npy"}


@pytest.mark.parametrize(("argv", "expected_code", "message"), FAILURES, ids=lambda v: v if isinstance(v, str) else None)
def test_failures_are_one_line_errors_with_exit_codes(argv, expected_code, message, bad_inputs, request, capsys):
    run_folder = request.getfixturevalue("text_run") if "{run}" in argv else None
    argv = [bad_inputs / a if a in PATH_ARGS else run_folder if a == "{run}" else a for a in argv]
    code, _, err = run(capsys, *argv)
    line = error_line(err)
    assert code == expected_code and line.startswith("kvae: error: ") and message in line, line
    assert not (bad_inputs / "o" / "model.keras").exists()


def test_debug_shows_the_traceback_and_backend_mismatch_is_refused(tmp_path, capsys):
    with pytest.raises(CLIError, match="no such model folder"):
        main(["evaluate", str(tmp_path / "missing"), "--debug"])
    other = next(b for b in ("tensorflow", "jax", "torch") if b != keras.backend.backend())
    code, _, err = run(capsys, "--backend", other, "evaluate", tmp_path)
    assert code == 2 and f"--backend {other}" in error_line(err)
    assert os.environ.get("KERAS_BACKEND") == keras.backend.backend()  # a refused --backend changes nothing


def test_help_lists_the_registry_and_the_demo(capsys):
    code, out, _ = run(capsys, "train", "--help")
    assert code == 0 and all(name in out for name in kvae.list_posteriors() + kvae.list_objectives())
    code, out, _ = run(capsys, "demo", "--help")
    assert code == 0 and "--posterior" in out


def subprocess_env():
    """This process's environment without the test-suite's TensorFlow log level: kvae's own defaults apply."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    return {**env, "KERAS_BACKEND": keras.backend.backend()}


def kvae_command(*argv, timeout=300):
    command = [sys.executable, "-m", "kvae", *map(str, argv)]
    return subprocess.run(command, check=False, capture_output=True, text=True, env=subprocess_env(), timeout=timeout)


def test_python_dash_m_kvae_help_and_version_are_quiet_and_import_no_keras():
    result = kvae_command("--help")
    assert result.returncode == 0 and result.stderr == ""
    assert all(command in result.stdout for command in ("train", "evaluate", "generate", "interpolate", "demo"))
    result = kvae_command("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"kvae {kvae.__version__}" and result.stderr == ""
    command = [sys.executable, "-X", "importtime", "-m", "kvae", "train", "--help"]
    result = subprocess.run(command, check=False, capture_output=True, text=True, env=subprocess_env(), timeout=120)
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert result.returncode == 0 and "--posterior" in result.stdout and "kvae.cli" in imported
    assert not {"keras", "tensorflow", "jax", "torch", "numpy"} & imported


def test_import_kvae_and_commands_write_nothing_to_stderr(tmp_path):
    # `import keras` first: JAX sets TF's log level; under TensorFlow, Keras imports TensorFlow before kvae can act.
    orders = ["import kvae, keras"] + (["import keras, kvae"] if keras.backend.backend() != "tensorflow" else [])
    for code in orders:
        code += "; print(keras.backend.backend())"
        result = subprocess.run(
            [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=subprocess_env(), timeout=300
        )
        assert result.returncode == 0 and result.stdout.strip() == keras.backend.backend()
        assert result.stderr == ""
    # A text run: tf.data pipelines, TensorFlow's oneDNN kernels, keras-hub's sampler; a fresh process each time.
    result = kvae_command(*TEXT, "--train-size", 40, "--test-size", 8, "--epochs", 1, "--out", tmp_path / "run")
    assert result.returncode == 0 and result.stdout.startswith("8 examples: rec") and result.stderr == ""
    result = kvae_command("generate", tmp_path / "run", "--n", 2)  # loads the model (the command's lazy imports)
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 2
    assert result.stderr == ""


def test_tensorflow_log_lines_are_filtered():
    from kvae.startup import filter_tensorflow_logs

    text = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1796450540.915339    3491 port.cc:153] oneDNN custom operations are on.\n"
        "I0000 00:00:1796450540.954602    3491 cpu_feature_guard.cc:227] This TensorFlow binary is optimized.\n"
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.\n"
        "E0000 00:00:1796451149.425406    9744 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\n"
        "/x/y.py:3: UserWarning: a real warning\n"
        "  warnings.warn('a real warning')\n"
        "something else\n"
    )
    kept = "/x/y.py:3: UserWarning: a real warning\n  warnings.warn('a real warning')\nsomething else\n"
    assert filter_tensorflow_logs(text) == kept


def test_the_parser_names_match_the_registry():
    assert options.POSTERIORS == tuple(kvae.list_posteriors())
    assert options.PRIORS == tuple(kvae.list_priors())
    assert options.OBJECTIVES == tuple(kvae.list_objectives())
    assert set(options.MODELS.values()) <= set(kvae.list_models())


def test_global_options_before_or_after_the_command(tmp_path, capsys):
    tiny = [*IMAGE, "--train-size", "50", "--epochs", "1"]
    outputs = []
    for where, argv in (("before", ["--quiet", *tiny]), ("after", [*tiny, "--quiet"])):
        assert "--quiet" in argv
        code, out, err = run(capsys, *argv, "--out", tmp_path / where)
        assert code == 0 and err == ""
        outputs.append(out)
    for out in outputs:  # quiet: no progress, no information line; only the evaluation line
        assert out.count("\n") == 1 and out.startswith("20 examples: rec"), out
    # Without --quiet the same run prints its information line and its epoch, whichever side `--debug` is on.
    code, out, _ = run(capsys, "--debug", *[a for a in tiny if a != "--quiet"], "--out", tmp_path / "loud")
    assert code == 0 and "kvae: training an ImageVAE on 50 examples (20 held out)" in out
    assert sum(" - loss: " in line for line in out.splitlines()) == 1
    for argv in (["--debug", "generate", tmp_path / "missing"], ["generate", tmp_path / "missing", "--debug"]):
        with pytest.raises(CLIError, match="no such model folder"):
            main([str(a) for a in argv])
    for argv in (["generate", tmp_path / "missing"], ["generate", tmp_path / "missing", "--quiet"]):
        code, _, err = run(capsys, *argv)
        assert code == 1 and "no such model folder" in error_line(err)


def test_progress_is_one_line_per_epoch_when_output_is_not_a_terminal(tmp_path, capsys):
    argv = [a for a in IMAGE if a != "--quiet"]
    code, out, _ = run(capsys, *argv, "--train-size", "100", "--epochs", "2", "--out", tmp_path)
    assert code == 0 and "\r" not in out and "\x1b" not in out and "━" not in out  # no progress bar refreshes
    epoch_lines = [line for line in out.splitlines() if " - loss: " in line]
    assert len(epoch_lines) == 2 and "Epoch 1/2" in out and "Epoch 2/2" in out, out
    assert all("val_loss" in line for line in epoch_lines)


def read_tensorboard(folder):
    """{tag: number of values} of the TensorBoard event files in `folder`."""
    import tensorflow as tf

    tags = {}
    for path in folder.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                tags[value.tag] = tags.get(value.tag, 0) + 1
    return tags


def test_tensorboard_logs_losses_latent_metrics_and_reconstructions(tmp_path, capsys):
    logs = tmp_path / "tb"
    argv = [*IMAGE, "--train-size", "100", "--epochs", "2", "--out", tmp_path / "run", "--tensorboard", logs]
    code, _, _ = run(capsys, *argv)
    assert code == 0 and (tmp_path / "run" / "history.csv").is_file()
    train, validation = read_tensorboard(logs / "train"), read_tensorboard(logs / "validation")
    assert {"epoch_loss", "epoch_rec", "epoch_kl"} <= set(train) and train["epoch_loss"] == 2, train
    assert train["reconstructions"] == 2
    assert {"epoch_loss", "epoch_kl", "epoch_au", "epoch_mi"} <= set(validation), validation
    history = read_history(tmp_path / "run" / "history.csv")
    assert 0 <= float(history[-1]["val_au"]) <= 4


def write_images(folder, count, size, mode):
    from PIL import Image

    rng = np.random.default_rng(0)
    channels = {"L": (), "RGB": (3,)}[mode]
    for i in range(count):
        sub = folder / ("a" if i % 2 else "b")  # subfolders are read too
        sub.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, size=(*size, *channels), dtype=np.uint8)
        Image.fromarray(pixels, mode=mode).save(sub / f"{i}.png")


def test_train_image_reads_a_folder_of_images(tmp_path, capsys):
    gray, color = tmp_path / "gray", tmp_path / "color"
    write_images(gray, 20, (30, 20), "L")
    write_images(color, 20, (9, 7), "RGB")
    x = read_examples("image", str(gray))
    assert x.shape == (20, 28, 28) and x.dtype == np.uint8  # default: grayscale 28 x 28
    x = read_examples("image", str(color), image_size=(12, 10), color_mode="rgb")
    assert x.shape == (20, 12, 10, 3) and x.dtype == np.uint8 and x.max() > 128
    tiny = ["--latent-dim", "2", "--hidden-dim", "8", "--epochs", "1", "--quiet", "--batch-size", "9"]
    code, _, _ = run(
        capsys,
        "train",
        "image",
        "--data",
        color,
        "--image-size",
        8,
        6,
        "--color-mode",
        "rgb",
        *tiny,
        "--out",
        tmp_path / "run",
    )
    assert code == 0
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert model.image_shape == (8, 6, 3)
    assert json.loads((tmp_path / "run" / "evaluation.json").read_text())["examples"] == 2  # 10% of 20 held out
    code, _, _ = run(capsys, "interpolate", tmp_path / "run", 0, 1, "--steps", 3)
    assert code == 0 and (tmp_path / "run" / "interpolation.png").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "train", "image", "--data", empty, "--out", tmp_path / "o")
    assert code == 1 and "a folder without images" in error_line(err)
    code, _, err = run(capsys, "train", "text", "--image-size", 8, 8, "--out", tmp_path / "o")
    assert code == 2 and "apply to image models" in error_line(err)


def test_only_the_kvae_command_starts_lazily(monkeypatch):
    """`import kvae` defers its submodules only for the console script `kvae` and `python -m kvae` (so that `kvae
    --help` needs no Keras); everywhere else it imports the whole API (every class registered with Keras)."""
    from kvae import startup

    cases = [
        ("/venv/bin/kvae", ["/venv/bin/python", "/venv/bin/kvae", "--help"], True),
        ("-m", ["python", "-m", "kvae", "--help"], True),
        ("-m", ["python", "-X", "importtime", "-mkvae.cli"], True),
        ("-m", ["python", "-m", "kvae_other"], False),
        ("/venv/lib/pytest/__main__.py", ["python", "-m", "pytest"], False),
        ("-c", ["python", "-c", "import kvae"], False),
        ("/venv/lib/ipykernel_launcher.py", ["python", "-m", "ipykernel_launcher"], False),
    ]
    for argv0, original, expected in cases:
        monkeypatch.setattr(sys, "argv", [argv0])
        monkeypatch.setattr(sys, "orig_argv", original)
        assert startup.command_line_start() is expected, (argv0, original)


def test_demo_takes_the_global_options_before_it():
    from kvae.cli import _demo_arguments

    assert _demo_arguments(["--quiet", "--debug", "demo", "--epochs", "1"]) == ["--epochs", "1"]
    assert _demo_arguments(["demo"]) == []
    assert _demo_arguments(["train", "text", "demo"]) is None and _demo_arguments(["--quiet"]) is None
