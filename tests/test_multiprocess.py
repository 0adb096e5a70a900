"""Training on several processes (`kvae.distribute.initialize`): 2 local processes (127.0.0.1, one CPU device each)
train an ImageVAE and a TextVAE with the same per-step losses as one process fed the same global batches, and only
process 0 writes files.

Each scenario runs this file as a script in subprocesses: 2 workers (JAX: `KERAS_DISTRIBUTION_*` variables;
TensorFlow: `TF_CONFIG` with two workers) and 1 reference process, all with the same global batches. The workers
also run `kvae train image` (tiny) into their own `--out` folder: process 0 must write the run, process 1 nothing.
JAX runs in the jax session of the suite, TensorFlow in the tensorflow one; PyTorch (no Keras distribution API)
checks that `initialize` refuses the environment with a one-line error.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
BATCH = 32
STEPS = 3
CLI = ["train", "image", "--train-size", "64", "--test-size", "32", "--epochs", "2", "--batch-size", "32"]
CLI += ["--no-shuffle", "--seed", "0", "--latent-dim", "4", "--hidden-dim", "16", "--quiet"]


# ---------------------------------------------------------------------------------------- the subprocess side
def train(kind):
    """Per-step (running-mean) loss, reg and rec over `STEPS` global batches of `BATCH`."""
    import keras

    import kvae

    keras.utils.set_random_seed(0)
    history = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: history.append([float(logs[k]) for k in ("loss", "reg", "rec")])
    )
    with kvae.distribute.data_parallel():
        if kind == "image":
            x = kvae.datasets.fashion_mnist_sample()[0][0][: BATCH * STEPS]
            model = kvae.ImageVAE(latent_dim=4, hidden_dims=(16,), objective="density_gap", seed=3)
        else:  # sentences of <= 6 words: every batch pads to 8 tokens
            x = [s for s in kvae.datasets.snli_sample()[0] if len(s.split()) <= 6][: BATCH * STEPS]
            model = kvae.TextVAE(latent_dim=4, embedding_dim=8, hidden_dim=16, max_vocabulary=300, seed=3)
        model.compile(optimizer=keras.optimizers.SGD(0.05))
        model.fit(x, epochs=1, batch_size=BATCH, shuffle=False, callbacks=[record], verbose=0)
    return history


def worker(out):
    """One process: the two trainings, then (on the workers) the command line into `out/process-<index>`."""
    import kvae
    import kvae.cli

    processes = kvae.distribute.initialize()
    result = {"processes": processes, "chief": kvae.distribute.is_chief()}
    result.update({kind: train(kind) for kind in ("image", "text")})
    if processes > 1:
        folder = Path(out) / f"process-{kvae.distribute.process_index()}"
        result["cli"] = kvae.cli.main([*CLI, "--out", str(folder)])
    print("RESULTS " + json.dumps(result), flush=True)


# -------------------------------------------------------------------------------------------- the tests
def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def cluster_env(index, ports):
    env = dict(os.environ, KERAS_BACKEND=BACKEND, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    env.pop("XLA_FLAGS", None)
    if BACKEND == "jax":
        env.update(
            KERAS_DISTRIBUTION_JOB_ADDRESSES=",".join(f"127.0.0.1:{p}" for p in ports),
            KERAS_DISTRIBUTION_NUM_PROCESSES=str(len(ports)),
            KERAS_DISTRIBUTION_PROCESS_ID=str(index),
        )
    else:
        cluster = {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}
        env["TF_CONFIG"] = json.dumps(cluster)
    return env


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    if BACKEND not in ("jax", "tensorflow"):
        pytest.skip(f"keras.distribution does not cover KERAS_BACKEND={BACKEND!r}")
    out = tmp_path_factory.mktemp("multiprocess")
    ports = free_ports(2)
    single = dict(os.environ, KERAS_BACKEND=BACKEND, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    single.pop("XLA_FLAGS", None)
    envs = [cluster_env(0, ports), cluster_env(1, ports), single]
    command = [sys.executable, __file__, str(out)]
    started = [
        subprocess.Popen(command, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for e in envs
    ]
    results = []
    try:
        for process in started:
            stdout, stderr = process.communicate(timeout=240)
            lines = [line for line in stdout.splitlines() if line.startswith("RESULTS ")]
            assert process.returncode == 0 and lines, stdout[-3000:] + stderr[-3000:]
            results.append(json.loads(lines[-1][len("RESULTS ") :]))
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
    return {"out": out, "workers": results[:2], "single": results[2]}


@pytest.mark.parametrize("kind", ["image", "text"])
def test_two_processes_follow_the_one_process_trajectory(runs, kind):
    assert [w["processes"] for w in runs["workers"]] == [2, 2] and runs["single"]["processes"] == 1
    one = np.asarray(runs["single"][kind])
    assert one.shape == (STEPS, 3) and np.all(np.isfinite(one)) and not np.allclose(one[0], one[-1])
    for result in runs["workers"]:  # every process logs the global batch's loss
        np.testing.assert_allclose(np.asarray(result[kind]), one, rtol=1e-5, atol=1e-5)


def test_only_process_zero_writes_files(runs):
    assert [w["chief"] for w in runs["workers"]] == [True, False]
    assert [w["cli"] for w in runs["workers"]] == [0, 0]
    written = sorted(p.name for p in (runs["out"] / "process-0").iterdir())
    assert written == ["config.json", "evaluation.json", "history.csv", "model.keras"]
    assert not (runs["out"] / "process-1").exists()


def test_torch_refuses_several_processes():
    if BACKEND != "torch":
        pytest.skip("the refusal is PyTorch's")
    import kvae

    os.environ["KERAS_DISTRIBUTION_NUM_PROCESSES"] = "2"
    try:
        with pytest.raises(NotImplementedError, match="KERAS_DISTRIBUTION_NUM_PROCESSES asks for several processes"):
            kvae.distribute.initialize()
    finally:
        del os.environ["KERAS_DISTRIBUTION_NUM_PROCESSES"]
    assert kvae.distribute.initialize() == 1 and kvae.distribute.is_chief()


if __name__ == "__main__":
    worker(sys.argv[1])
