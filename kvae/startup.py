"""What kvae does before Keras or TensorFlow is imported (`import kvae` runs this module first).

TensorFlow is a dependency of kvae (its `tf.data` pipelines feed every backend), but it is imported only where it is
needed: by Keras under `KERAS_BACKEND=tensorflow`, and by the text pipelines. Its first import writes a few lines
of C++ logs to the process's stderr (`WARNING: All log messages before absl::InitializeLog() ...`, oneDNN, CUDA
stubs) that `TF_CPP_MIN_LOG_LEVEL` does not silence, because they are written before TensorFlow reads it. So:

- `TF_CPP_MIN_LOG_LEVEL` defaults to 3 when unset (TensorFlow's C++ logs off; its errors still raise in Python);
- whoever imports `tensorflow` first (Keras, kvae, your code), the import runs with the file descriptor 2 captured,
  and what it wrote goes back to stderr without TensorFlow's and absl's log lines (anything else, Python warnings
  included, is kept);
- right after the import, still filtered, TensorFlow lists its devices (where it probes CUDA and logs
  "failed call to cuInit" on machines without a GPU), and under the JAX and PyTorch backends, where it only feeds
  data, its GPUs are hidden from it (`tf.config.set_visible_devices([], "GPU")`): it creates no GPU device and
  takes none of the GPU memory that JAX or PyTorch need.

Set `TF_CPP_MIN_LOG_LEVEL` to 0, 1 or 2 before importing kvae to see TensorFlow's logs again; set
`KVAE_TF_GPU=1` to leave TensorFlow its GPUs under JAX and PyTorch.

`command_line_start()` tells `kvae/__init__.py` whether the process is the `kvae` command starting (the console
script or `python -m kvae`): then the package defers its submodules, so that `kvae --help` and `kvae --version`
answer without importing Keras.
"""

import contextlib
import importlib.abc
import importlib.machinery
import json
import os
import re
import sys
import tempfile

#: The level `TF_CPP_MIN_LOG_LEVEL` gets when it is unset: 3, because TensorFlow logs information as errors too
#: ("oneDNN supports DT_INT64 only on platforms with AVX-512" when a text pipeline runs); its real errors reach
#: Python as exceptions.
DEFAULT_TF_LOG_LEVEL = "3"

_ABSL_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\] ")
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_PYTHON_LINE = re.compile(r"^(\S+\.py:\d+: \w+|Traceback |\s+File \")")


def is_tensorflow_log(line, previous_dropped=False):
    """Whether `line` (of what TensorFlow's import wrote to stderr) is a TensorFlow/absl log line: a line in absl's
    format (`I0000 00:00:... file.cc:12] ...`), absl's preamble, or the continuation of a dropped log line."""
    if line.startswith(_ABSL_PREAMBLE) or _ABSL_LINE.match(line):
        return True
    return previous_dropped and bool(line.strip()) and not _PYTHON_LINE.match(line)


def filter_tensorflow_logs(text):
    """`text` without its TensorFlow/absl log lines (see `is_tensorflow_log`)."""
    kept, dropped = [], False
    for line in text.splitlines(keepends=True):
        dropped = is_tensorflow_log(line, dropped)
        if not dropped:
            kept.append(line)
    return "".join(kept)


@contextlib.contextmanager
def quiet_stderr_fd():
    """Capture the file descriptor 2 (C++ logs included) for the block; afterwards write what was captured back to
    stderr, TensorFlow's log lines removed. A no-op where fd 2 cannot be redirected."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = filter_tensorflow_logs(capture.read().decode("utf-8", errors="replace"))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def keras_backend():
    """The backend Keras runs or will run (without importing Keras): its config when loaded, else `KERAS_BACKEND`,
    else `~/.keras/keras.json` (or `$KERAS_HOME`), else "tensorflow"."""
    config = sys.modules.get("keras.src.backend.config")
    if config is not None and hasattr(config, "backend"):
        return config.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    with contextlib.suppress(OSError, ValueError, AttributeError), open(os.path.join(home, "keras.json")) as f:
        return json.load(f).get("backend") or "tensorflow"
    return "tensorflow"


class _QuietLoader(importlib.abc.Loader):
    """Runs TensorFlow's own loader with stderr filtered, then hides its GPUs under the other Keras backends."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        _remove_finder()
        with quiet_stderr_fd():
            self.loader.exec_module(module)
            # Find the devices now, while stderr is filtered: TensorFlow logs its CUDA probing ("failed call to
            # cuInit" on machines without a GPU) when it first lists them.
            with contextlib.suppress(Exception):
                module.config.list_physical_devices()
                if keras_backend() != "tensorflow" and os.environ.get("KVAE_TF_GPU") != "1":
                    module.config.set_visible_devices([], "GPU")

    def __getattr__(self, name):  # get_resource_reader, is_package, ...: TensorFlow's loader answers
        return getattr(self.loader, name)


def _remove_finder():
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _QuietTensorFlowFinder)]


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` the usual way and wraps its loader in `_QuietLoader`, which takes this finder out of
    `sys.meta_path` when it runs (a mere `importlib.util.find_spec("tensorflow")` leaves it in place)."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow():
    """Set the default `TF_CPP_MIN_LOG_LEVEL` and, unless TensorFlow is already imported or its logs were asked
    for (`TF_CPP_MIN_LOG_LEVEL` 0, 1 or 2), filter its first import (see the module's docstring). Idempotent."""
    requested = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    if requested == "1" and "jax" in sys.modules:  # `import jax` sets 1 when unset: its default, not a choice
        requested = None
    if requested is None:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = DEFAULT_TF_LOG_LEVEL
    if "tensorflow" in sys.modules or requested in ("0", "1", "2"):
        return
    if not any(isinstance(finder, _QuietTensorFlowFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())


def command_line_start():
    """Whether this process is the `kvae` command starting: the console script `kvae` (`sys.argv[0]`), or
    `python -m kvae` while Python locates the module (`sys.argv[0] == "-m"`)."""
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.splitext(os.path.basename(argv0))[0] in ("kvae", "kvae-script"):
        return True
    if argv0 != "-m":
        return False
    original = list(getattr(sys, "orig_argv", []))
    for i, arg in enumerate(original):
        module = original[i + 1] if arg == "-m" and i + 1 < len(original) else arg[2:] if arg.startswith("-m") else ""
        if module:
            return module.split(".")[0] == "kvae"
    return False
