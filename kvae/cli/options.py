"""What every `kvae` command shares: the error type, the argparse subclass, argument types and the names of the
zoo (kept here as plain tuples, so that `kvae --help` needs no Keras; `tests/test_cli.py` checks them against
`kvae.list_posteriors()`, `list_priors()` and `list_objectives()`)."""

import argparse
import math
import sys

BACKENDS = ("tensorflow", "jax", "torch")
TEXT_DATA = ("snli-sample",)
IMAGE_DATA = ("fashion-mnist-sample", "fashion-mnist")
MODELS = {"text": "text_vae", "image": "image_vae"}
DEFAULT_DATA = {"text": "snli-sample", "image": "fashion-mnist-sample"}
DEFAULT_BATCH_SIZE = {"text": 32, "image": 128}
POSTERIORS = ("batchnorm", "delta", "deterministic", "diagonal", "isotropic", "vmf")
PRIORS = ("hyperspherical", "mog", "moig", "normal")
OBJECTIVES = ("beta", "capacity", "density_gap", "elbo", "free_bits", "iwae", "reconstruction")


class CLIError(Exception):
    """A failure reported as one line `kvae: error: ...`; `code` 2 for usage errors, 1 for runtime failures."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """argparse whose errors become a `CLIError` (one line, exit code 2) instead of usage text and `sys.exit`."""

    def error(self, message):
        raise CLIError(f"{message} (see `{self.prog} --help`)", code=2)


def add_global_options(parser, subcommand=False):
    """`--backend`, `--quiet` and `--debug`, accepted before the command (`kvae --quiet train ...`) and after it
    (`kvae train ... --quiet`) with the same effect: on a subcommand their default is `SUPPRESS`, so that a
    subcommand that does not repeat an option keeps the value given before it."""
    default = argparse.SUPPRESS if subcommand else None
    flag_default = argparse.SUPPRESS if subcommand else False
    parser.add_argument("--backend", choices=BACKENDS, default=default, help="Keras backend (default: $KERAS_BACKEND)")
    parser.add_argument(
        "--quiet", action="store_true", default=flag_default, help="no progress bars or information messages"
    )
    parser.add_argument(
        "--debug", action="store_true", default=flag_default, help="show the full traceback of an error"
    )


def progress_verbosity(quiet):
    """Keras's `verbose` for `fit`: 0 when quiet, a progress bar on a terminal, one line per epoch otherwise (logs,
    pipes, CI)."""
    if quiet:
        return 0
    isatty = getattr(sys.stdout, "isatty", None)
    return 1 if isatty is not None and isatty() else 2


# ------------------------------------------------------------------------------------------------ argument types
def number(kind, low, inclusive, what):
    """An argparse type: `kind(text)`, finite and >= `low` (> `low` unless `inclusive`)."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if not math.isfinite(value) or not (value >= low if inclusive else value > low):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    return parse


positive_int = number(int, 1, True, "a positive integer")
nonnegative_int = number(int, 0, True, "an integer >= 0")
positive_float = number(float, 0.0, False, "a positive number")
nonnegative_float = number(float, 0.0, True, "a number >= 0")


def fraction(text):
    value = number(float, 0.0, False, "a number in (0, 1)")(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1), got {text!r}")
    return value


def one_line(error):
    """An exception's message on one line (its lines joined by "; ")."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return "; ".join(lines) or type(error).__name__
