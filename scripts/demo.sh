#!/usr/bin/env bash
# Install into .venv, then run kvae's main job on its bundled default data (`python -m kvae demo`).
# KERAS_BACKEND picks the backend (default: tensorflow); extra arguments go to the demo, e.g. `--epochs 2`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
. .venv/bin/activate
python -m kvae demo "$@"
