#!/usr/bin/env bash
# The package as a user gets it: build the sdist and the wheel, `twine check` them, install the wheel into a fresh
# virtual environment (PyTorch pinned first, as in install.sh) and, from an empty folder with no repository files:
# `import kvae` and `kvae --help` print nothing on stderr under each backend, `kvae --help` is timed (median of 5),
# the README's quick start runs for 1 epoch, `kvae train text --data snli-sample --epochs 1` and `kvae generate`
# run, and the example notebooks run from the wheel (tiny settings, scripts/run_notebooks.py).
# KVAE_PACKAGE_BACKEND picks the backend of the training steps (default: torch, the fastest on CPU for the text
# model; JAX compiles once per sentence-length bucket). Needs the package index (or a local mirror).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
PYTHON=${PYTHON:-python3}
BACKEND=${KVAE_PACKAGE_BACKEND:-torch}
work=$(mktemp -d "${TMPDIR:-/tmp}/kvae-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
step() { echo "--- $* ($(date +%H:%M:%S))"; }
fail() { echo "check_package: FAILED: $*" >&2; exit 1; }

step "build the sdist and the wheel, twine check"
"$PYTHON" -m venv "$work/tools"
"$work/tools/bin/python" -m pip install -q build twine
"$work/tools/bin/python" -m build --sdist --wheel --outdir "$work/dist" "$repo" >"$work/build.log" 2>&1 \
  || { tail -30 "$work/build.log"; fail "build"; }
"$work/tools/bin/python" -m twine check --strict "$work"/dist/*
wheel=$(ls "$work"/dist/keras_vae-*.whl)
ls -l "$work"/dist

step "install the wheel into a fresh virtual environment"
"$PYTHON" -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q --upgrade pip
"$py" -m pip install -q "${KVAE_TORCH:-torch==2.13.0}"
"$py" -m pip install -q "$wheel[jax,torch]" nbclient nbformat ipykernel
export PATH="$work/venv/bin:$PATH"
unset PYTHONPATH

mkdir "$work/run"
cd "$work/run"  # no repository files here: everything comes from the wheel
"$py" - <<'PY'
import importlib.metadata as md
from pathlib import Path

import kvae

dist = md.distribution("keras-vae")
assert dist.metadata["Name"] == "keras-vae", dist.metadata["Name"]
assert "site-packages" in kvae.__file__ and not Path("kvae").exists(), kvae.__file__
assert md.version("keras-vae") == kvae.__version__
print(f"{dist.metadata['Name']} {dist.version} from {Path(kvae.__file__).parent}")
print("requires:", "; ".join(r for r in dist.requires if "extra ==" not in r))
PY

step "nothing on stderr from import kvae and kvae --help, under each backend"
for backend in tensorflow jax torch; do
  KERAS_BACKEND=$backend "$py" -c "import kvae" 2>"$work/stderr" || fail "import kvae under $backend"
  [ ! -s "$work/stderr" ] || { cat "$work/stderr"; fail "import kvae wrote to stderr under $backend"; }
  KERAS_BACKEND=$backend kvae --help >/dev/null 2>"$work/stderr" || fail "kvae --help under $backend"
  [ ! -s "$work/stderr" ] || { cat "$work/stderr"; fail "kvae --help wrote to stderr under $backend"; }
  echo "$backend: import kvae and kvae --help: stderr empty"
done
kvae --version
"$py" - <<'PY'
import statistics, subprocess, time

times = []
for _ in range(5):
    start = time.perf_counter()
    subprocess.run(["kvae", "--help"], check=True, capture_output=True)
    times.append(time.perf_counter() - start)
print(f"kvae --help: median {statistics.median(times):.3f} s of 5 ({', '.join(f'{t:.3f}' for t in times)})")
assert statistics.median(times) < 2.0
PY

export KERAS_BACKEND=$BACKEND
step "the README's quick start, 1 epoch ($BACKEND)"
"$py" - "$repo/README.md" <<'PY'
import re
import sys

readme = open(sys.argv[1], encoding="utf-8").read()
code = re.search(r"```python\n(.*?)```", readme, re.DOTALL).group(1)
code = re.sub(r"epochs=\d+", "epochs=1, verbose=2", code)  # 1 epoch, one line per epoch in the log
print(code)
exec(compile(code, "README quick start", "exec"), {})
print("README quick start: ok")
PY

step "kvae train text --data snli-sample --epochs 1, kvae generate ($BACKEND)"
kvae train text --data snli-sample --epochs 1 --out "$work/run/text" 2>"$work/stderr" \
  || { cat "$work/stderr"; fail "kvae train"; }
[ ! -s "$work/stderr" ] || { cat "$work/stderr"; fail "kvae train wrote to stderr"; }
kvae generate "$work/run/text" --n 3 2>"$work/stderr" || { cat "$work/stderr"; fail "kvae generate"; }
[ ! -s "$work/stderr" ] || { cat "$work/stderr"; fail "kvae generate wrote to stderr"; }

step "the notebooks, from the wheel ($BACKEND)"
cp "$repo"/examples/*.ipynb "$repo/scripts/run_notebooks.py" "$work/run/"
KVAE_WHEEL="$wheel" "$py" run_notebooks.py ./*.ipynb --out "$work/run/notebooks"
step "package checks passed"
