#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment `.venv` and install kvae with every backend and the test tools.
# PyTorch is pinned to the CPU build that this project's machines carry (an unpinned torch pulls a multi-GB CUDA
# build); set KVAE_TORCH to change the pin, e.g. KVAE_TORCH="torch" on a GPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q "${KVAE_TORCH:-torch==2.13.0}"
# The distribution was called `kvae` before it became `keras-vae` (PyPI's `kvae` is another project): drop an
# editable install under the old name, which would own the same `kvae` package and command.
if python -m pip show -q kvae >/dev/null 2>&1; then python -m pip uninstall -q -y kvae; fi
python -m pip install -q -e ".[jax,torch,test]"
python - <<'PY'
import importlib.metadata as md
print("installed:", ", ".join(f"{p} {md.version(p)}" for p in ("keras-vae", "keras", "tensorflow", "jax", "torch", "keras-hub")))
PY
