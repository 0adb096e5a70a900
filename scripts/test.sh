#!/usr/bin/env bash
# Install into .venv, lint (`ruff check .`), then run the whole test suite once per Keras backend. Fails if any backend fails or runs no test.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k objectives`.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh || exit 1
. .venv/bin/activate
status=0
summary=""
echo "=== ruff check ==="
if python -m ruff check .; then summary+="ruff: clean"$'\n'; else status=1; summary+="ruff: violations"$'\n'; fi
for backend in tensorflow jax torch; do
  echo "=== KERAS_BACKEND=$backend ==="
  start=$(date +%s)
  KERAS_BACKEND=$backend python -m pytest -q "$@"
  rc=$?
  took=$(( $(date +%s) - start ))
  if [ $rc -eq 5 ]; then echo "KERAS_BACKEND=$backend ran no test"; fi
  if [ $rc -ne 0 ]; then status=1; fi
  summary+="$backend: exit $rc in ${took}s"$'\n'
done
echo "=== summary ==="
printf '%s' "$summary"
exit $status
