#!/usr/bin/env bash
# Install into .venv, lint (`ruff check .`), then run the whole test suite once per Keras backend. Fails if any backend fails or runs no test.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k objectives`.
# KVAE_TEST_JOBS (default 2) backend sessions run at once, each into its own log, printed whole when it ends: most of
# a session is single-threaded Python and compilation, so two sessions share two cores with little loss. Set
# KVAE_TEST_JOBS=1 to run them one after the other with live output.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh || exit 1
. .venv/bin/activate
jobs=${KVAE_TEST_JOBS:-2}
backends=(tensorflow jax torch)  # the longest first
status=0
summary=""
echo "=== ruff check ==="
if python -m ruff check .; then summary+="ruff: clean"$'\n'; else status=1; summary+="ruff: violations"$'\n'; fi
logs=$(mktemp -d)
run_backend() {  # backend -> exit status in $logs/$backend.rc, time in $logs/$backend.s
  local backend=$1 start
  start=$(date +%s)
  if [ "$jobs" -gt 1 ]; then
    KERAS_BACKEND=$backend python -m pytest -q "${@:2}" >"$logs/$backend.log" 2>&1
  else
    KERAS_BACKEND=$backend python -m pytest -q "${@:2}"
  fi
  echo $? >"$logs/$backend.rc"
  echo $(( $(date +%s) - start )) >"$logs/$backend.s"
}
for backend in "${backends[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  [ "$jobs" -gt 1 ] && echo "=== KERAS_BACKEND=$backend started $(date +%T) ==="
  if [ "$jobs" -gt 1 ]; then run_backend "$backend" "$@" & else echo "=== KERAS_BACKEND=$backend ==="; run_backend "$backend" "$@"; fi
done
wait
for backend in "${backends[@]}"; do
  rc=$(cat "$logs/$backend.rc")
  if [ "$jobs" -gt 1 ]; then echo "=== KERAS_BACKEND=$backend ==="; cat "$logs/$backend.log"; fi
  if [ "$rc" -eq 5 ]; then echo "KERAS_BACKEND=$backend ran no test"; fi
  if [ "$rc" -ne 0 ]; then status=1; fi
  summary+="$backend: exit $rc in $(cat "$logs/$backend.s")s"$'\n'
done
rm -rf "$logs"
echo "=== summary ==="
printf '%s' "$summary"
exit $status
