"""Step time and held-out loss, float32 vs mixed_bfloat16, on this machine's CPU (per backend).

Models: TextVAE 128/512/32 and 50/128/8 (embedding / LSTM / latent) on the bundled SNLI sample, and the default
ImageVAE on the Fashion-MNIST sample. Each is trained `--steps` Adam steps from the same seed in each precision;
reported: the median step time after the first `--warmup` steps (compilation), the held-out loss
(`model.evaluate(test)["loss"]`) after the same steps, and the relative change of that loss (the target: mixed
precision costs at most 1% of held-out loss).

    KERAS_BACKEND=jax nice python benchmarks/precision.py --steps 300
    KERAS_BACKEND=tensorflow nice python benchmarks/precision.py --steps 300
    KERAS_BACKEND=torch nice python benchmarks/precision.py --steps 300

Rows are appended to `<out>/precision_cpu.md` (default benchmarks/results/).
"""

import argparse
import time
from pathlib import Path

import keras
import numpy as np

import kvae

MODELS = {
    "text 128/512/32": ("text", {"embedding_dim": 128, "hidden_dim": 512, "latent_dim": 32}),
    "text 50/128/8": ("text", {"embedding_dim": 50, "hidden_dim": 128, "latent_dim": 8}),
    "image (default)": ("image", {}),
}


def data(kind):
    if kind == "text":
        train, test = kvae.datasets.snli_sample()
        return list(train), list(test)[:1000]
    (train, _), (test, _) = kvae.datasets.fashion_mnist_sample()
    return train, test


def run(name, precision, steps, warmup, batch_size, seed=0):
    kind, options = MODELS[name]
    keras.mixed_precision.set_global_policy(precision)
    try:
        keras.utils.set_random_seed(seed)
        train, test = data(kind)
        model = (kvae.TextVAE if kind == "text" else kvae.ImageVAE)(seed=seed, **options)
        times = []
        clock = keras.callbacks.LambdaCallback(
            on_train_batch_begin=lambda b, logs: times.append(time.perf_counter()),
            on_train_batch_end=lambda b, logs: times.append(time.perf_counter()),
        )
        per_epoch = max(1, len(train) // batch_size)
        epochs = -(-steps // per_epoch)
        model.fit(
            train,
            epochs=epochs,
            batch_size=batch_size,
            steps_per_epoch=min(per_epoch, steps),
            callbacks=[clock],
            verbose=0,
        )
        durations = np.asarray(times[1::2]) - np.asarray(times[0::2])
        start = time.perf_counter()
        loss = model.evaluate(test, batch_size=batch_size, verbose=0, return_dict=True)["loss"]
        print(
            f"{name} {precision}: fit {times[-1] - times[0]:.0f}s, evaluate {time.perf_counter() - start:.0f}s",
            flush=True,
        )
        return float(np.median(durations[warmup:])) * 1e3, float(loss), len(durations)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument(
        "--noise-floor",
        action="store_true",
        help="also train float32 from seed 1: the change between two float32 seeds, beside the precision's",
    )
    args = parser.parse_args()
    backend = keras.backend.backend()
    rows = []
    for name in MODELS:
        (t32, l32, n), (t16, l16, _) = (
            run(name, p, args.steps, args.warmup, args.batch_size) for p in ("float32", "mixed_bfloat16")
        )
        change = (l16 - l32) / abs(l32)
        floor = ""
        if args.noise_floor:
            other = run(name, "float32", args.steps, args.warmup, args.batch_size, seed=1)[1]
            floor = f" {100 * (other - l32) / abs(l32):+.2f}% |"
        rows.append(
            f"| {backend} | {name} | {n} | {t32:.1f} | {t16:.1f} | {t32 / t16:.2f}x | {l32:.3f} | {l16:.3f} "
            f"| {100 * change:+.2f}% |{floor}"
        )
        print(rows[-1], flush=True)
    path = Path(args.out) / "precision_cpu.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(
            "| backend | model | steps | float32 ms/step | bf16 ms/step | speed-up | held-out loss f32 | "
            "held-out loss bf16 | change |" + (" float32 seed 1 vs seed 0 |" if args.noise_floor else "") + "\n"
            "|---|---|---|---|---|---|---|---|---|" + ("---|" if args.noise_floor else "") + "\n"
        )
    with path.open("a") as f:
        f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
