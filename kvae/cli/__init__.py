"""The `kvae` command line (also `python -m kvae`): train, evaluate, generate and interpolate.

    kvae train text --data snli-sample --posterior isotropic --objective capacity --c 15 --epochs 10 --out runs/igp
    kvae evaluate runs/igp
    kvae generate runs/igp --n 10
    kvae interpolate runs/igp "a man is sleeping ." "two dogs play in the snow ."
    kvae train image --data fashion-mnist-sample --epochs 5 --out runs/images
    kvae train image --data photos/ --image-size 64 64 --color-mode rgb --architecture conv --out runs/photos
    kvae demo

One module per command (`train`, `evaluate`, `generate`, `interpolate`), `parser` (the argument parser), `options`
(global options, argument types, the error type), `data` (`--data`), `runs` (run folders), `backend` (`--backend`:
restart under another Keras backend) and `tensorboard` (`--tensorboard`). Only the standard library is imported
before a command runs, so `kvae --help` and `kvae --version` answer without importing Keras.

`train` writes into its `--out` folder: `model.keras` (saved atomically after every finite epoch, so it always
holds the last good model), `config.json` (the options, read by the other commands), `vocab.txt` (text models),
`history.csv` (per-epoch metrics), `evaluation.json` (held-out metrics) and, with `--resume`, `backup/` (the state
to continue an interrupted run from). The global options `--backend`, `--quiet` and `--debug` go before or after
the command. The backend is `KERAS_BACKEND` or `--backend`. Progress: a progress bar on a terminal, one line per
epoch when the output is a file or a pipe. Errors print one line `kvae: error: ...` and exit with 2 (usage) or 1
(runtime failure); `--debug` shows the traceback instead.
"""

import sys

from kvae.cli.backend import select_backend
from kvae.cli.data import held_out, load_data, read_examples
from kvae.cli.options import CLIError
from kvae.cli.parser import build_parser
from kvae.cli.runs import load_run

__all__ = ["CLIError", "build_parser", "held_out", "load_data", "load_run", "main", "read_examples"]

_FLAGS = ("--quiet", "--debug")


def _demo_arguments(argv):
    """The demo's own arguments when `argv` runs `kvae [--quiet] [--debug] demo ...`, else None."""
    for i, arg in enumerate(argv):
        if arg not in _FLAGS:
            return argv[i + 1 :] if arg == "demo" else None
    return None


def main(argv=None):
    """Run the command line `argv` (default: `sys.argv[1:]`); returns the exit status."""
    in_process = argv is not None
    argv = [str(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    debug = "--debug" in argv
    args = None
    try:
        rest = select_backend(argv, in_process)
        demo_argv = _demo_arguments(rest)
        if demo_argv is not None:
            from kvae.demo import main as demo

            demo(demo_argv)
            return 0
        args = build_parser().parse_args(argv)
        debug = args.debug
        return args.run(args)
    except SystemExit as e:  # --help, --version, the demo's own parser
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except KeyboardInterrupt:
        if debug:
            raise
        hint = (
            " (rerun the same command to continue from the last finished epoch)"
            if getattr(args, "resume", False)
            else ""
        )
        print(f"kvae: interrupted{hint}", file=sys.stderr)
        return 130
    except Exception as e:
        if debug:
            raise
        from kvae.cli.options import one_line

        print(f"kvae: error: {one_line(e)}", file=sys.stderr)
        return e.code if isinstance(e, CLIError) else 1


if __name__ == "__main__":
    sys.exit(main())
