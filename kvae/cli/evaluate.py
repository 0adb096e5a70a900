"""`kvae evaluate FOLDER`: held-out metrics of a trained model, printed and written as JSON."""

import json
from pathlib import Path

from kvae.cli.data import held_out
from kvae.cli.options import positive_int
from kvae.cli.runs import load_run


def add_parser(commands, parents):
    parser = commands.add_parser(
        "evaluate",
        parents=parents,
        help="evaluate a trained model",
        description="Held-out metrics of a trained model, printed and written as JSON.",
    )
    parser.add_argument("folder", help="folder written by `kvae train`")
    parser.add_argument("--data", help="evaluate on this data (a file: all of it) instead of the held-out split")
    parser.add_argument("--test-size", type=positive_int, help="use only this many examples (default: as in training)")
    parser.add_argument("--out", help="JSON file to write (default: FOLDER/evaluation.json)")
    parser.set_defaults(run=run)


def evaluate_and_write(model, data, batch_size, path, quiet=False):
    from kvae.io import atomic_write_text
    from kvae.metrics import evaluation_report, format_report

    report = evaluation_report(model, data, batch_size)
    atomic_write_text(path, json.dumps(report, indent=2) + "\n")
    print(format_report(report) + ("" if quiet else f"\n(written to {path})"))
    return report


def run(args):
    model, kind, config = load_run(args.folder)
    test_size = args.test_size or (config.get("test_size") if args.data is None else None)  # as in training
    data = held_out(kind, config, args.data)[:test_size]
    path = Path(args.out) if args.out else Path(args.folder) / "evaluation.json"
    evaluate_and_write(model, data, 256 if kind == "image" else 32, path, args.quiet)
    return 0
