"""Training from corpora larger than memory: peak memory and time of `kvae train text` on streamed shards.

For each size (default 0.2M, 1M and 4M lines) the bundled SNLI sample (10,000 sentences) is repeated and shuffled
into shards in a temporary folder (every other shard gzip-compressed; nothing is kept), then

    kvae train text --data 'DIR/*' --epochs 1 --steps-per-epoch 20 --test-size 200 (small model)

runs in a child process. Reported: the child's peak resident memory (`os.wait4`'s `ru_maxrss`), the vocabulary pass
(the time the command prints; and its CPU time in a child of its own, robust to a busy machine), the training epoch
(wall and CPU time from the "training" line to the epoch's line, the validation pass on the 200 held-out sentences
included) and the whole command. The issue asks for flat memory (4M / 0.2M <= 1.2)
and a vocabulary pass linear in lines.

    nice python benchmarks/streaming.py --backend torch --out benchmarks/results/streaming_cpu.md
"""

import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL = ["--latent-dim", "8", "--hidden-dim", "32", "--embedding-dim", "16", "--batch-size", "32"]


def write_shards(folder, lines, size, shards, seed=0):
    """`size` lines of `lines` repeated and shuffled, in `shards` files (odd ones gzip-compressed)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(np.resize(np.arange(len(lines)), size))
    for i, part in enumerate(np.array_split(order, shards)):
        text = "\n".join(lines[j] for j in part) + "\n"
        if i % 2:
            with gzip.open(folder / f"shard{i:03d}.txt.gz", "wt", encoding="utf-8", compresslevel=1) as f:
                f.write(text)
        else:
            (folder / f"shard{i:03d}.txt").write_text(text, encoding="utf-8")


VOCABULARY = """
import sys, time, kvae
lines = kvae.datasets.text_lines(sys.argv[1], stream=True)
cpu, wall = time.process_time(), time.perf_counter()
kvae.tokenizers.WordTokenizer().build_vocabulary(lines, verbose=False)
print(time.process_time() - cpu, time.perf_counter() - wall)
"""


def cpu_seconds(pid):
    """User + system CPU seconds of process `pid` so far (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_vocabulary(folder, backend):
    """(CPU s, wall s) of the vocabulary pass alone over the shards in `folder`, in a child process."""
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", VOCABULARY, str(folder / "shard*")]
    output = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    cpu, wall = map(float, output.split()[-2:])
    return cpu, wall


def run_train(folder, backend, steps):
    """Time and peak memory of one `kvae train text` child on the shards in `folder`."""
    command = [sys.executable, "-m", "kvae", "train", "text", "--data", str(folder / "shard*"), "--epochs", "1"]
    command += ["--steps-per-epoch", str(steps), "--test-size", "200", "--out", str(folder / "run"), *MODEL]
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    times, vocabulary, output = {}, None, []
    for line in child.stdout:
        output.append(line)
        now = time.perf_counter() - start
        found = re.search(r"vocabulary pass ([\d.]+) s", line)
        if found:
            vocabulary = float(found.group(1))
        if line.startswith("kvae: training"):
            times["train_start"] = now
            cpu_start = cpu_seconds(child.pid)
        if line.startswith(f"{steps}/{steps} "):
            times["train_end"] = now
            train_cpu = cpu_seconds(child.pid) - cpu_start
    _, status, usage = os.wait4(child.pid, 0)
    total = time.perf_counter() - start
    if status != 0 or vocabulary is None or len(times) != 2:
        raise RuntimeError("kvae train failed:\n" + "".join(output[-20:]))
    return {
        "peak_mib": usage.ru_maxrss / 1024,  # KiB on Linux
        "vocabulary_s": vocabulary,
        "train_s": times["train_end"] - times["train_start"],
        "train_cpu_s": train_cpu,
        "total_s": total,
    }


def table(rows, backend, steps):
    lines = [
        f"Backend {backend}, {steps} steps of batch 32 (latent 8, hidden 32, embedding 16), 200 held-out sentences.",
        "",
        "| lines | peak RSS (MiB) | vs smallest | vocabulary pass: wall in `kvae train` / alone (s) | "
        "CPU alone (s) | CPU µs / line | training epoch: wall / CPU (s) | command (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = rows[0]["peak_mib"]
    for r in rows:
        per_line = 1e6 * r["vocabulary_cpu_s"] / r["lines"]
        lines.append(
            f"| {r['lines']:,} | {r['peak_mib']:.0f} | {r['peak_mib'] / base:.2f} | {r['vocabulary_s']:.1f} / "
            f"{r['vocabulary_alone_s']:.1f} | {r['vocabulary_cpu_s']:.1f} | {per_line:.1f} | {r['train_s']:.1f} / "
            f"{r['train_cpu_s']:.1f} | {r['total_s']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000, 4_000_000])
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--out", help="markdown file for the table")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import kvae.datasets

    train, test = kvae.datasets.snli_sample()
    lines = train + test
    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="kvae_stream_") as tmp:
            folder = Path(tmp)
            write_shards(folder, lines, size, args.shards)
            cpu, wall = run_vocabulary(folder, args.backend)
            rows.append({"lines": size, "vocabulary_cpu_s": cpu, "vocabulary_alone_s": wall})
            rows[-1].update(run_train(folder, args.backend, args.steps))
        print(rows[-1], flush=True)
    text = table(rows, args.backend, args.steps)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
