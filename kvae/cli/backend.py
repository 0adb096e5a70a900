"""`--backend`: set `KERAS_BACKEND` before Keras is imported, or restart the command under it."""

import os
import sys

from kvae.cli.options import BACKENDS, CLIError, Parser


def select_backend(argv, in_process):
    """Set `KERAS_BACKEND` from `--backend` (anywhere in `argv`) before Keras is imported; when Keras already runs
    another backend, restart the command line under the requested one (or refuse, when called in-process).
    Returns `argv` without `--backend`."""
    pre = Parser(prog="kvae", add_help=False, allow_abbrev=False)
    pre.add_argument("--backend", choices=BACKENDS)
    known, rest = pre.parse_known_args(argv)
    if known.backend is None:
        return rest
    keras = sys.modules.get("keras")
    current = keras.backend.backend() if keras is not None and hasattr(keras, "backend") else None
    if current not in (None, known.backend) and in_process:  # refused: the caller's environment stays as it was
        raise CLIError(
            f"--backend {known.backend}: Keras already runs on {current} in this process; set "
            f"KERAS_BACKEND={known.backend} before importing keras",
            code=2,
        )
    os.environ["KERAS_BACKEND"] = known.backend
    if current not in (None, known.backend):
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, "-m", "kvae", *argv])
    return rest
