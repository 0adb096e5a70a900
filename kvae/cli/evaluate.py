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


def evaluation(model, kind, data, batch_size=256):
    """The evaluation dict: the objective's terms (`model.evaluate`), latent metrics, BLEU-2 for text (on the 0-100
    scale of `kvae.metrics.bleu`)."""
    import numpy as np

    import kvae

    results = model.evaluate(data, batch_size=batch_size, return_dict=True, verbose=0)
    report = {"examples": len(data), **{key: float(value) for key, value in results.items()}}
    try:
        latent = kvae.metrics.evaluate_latent(model, data, batch_size=batch_size, verbose=False, samples=2000)
    except ValueError as e:  # a non-Gaussian posterior (vMF): no latent metrics
        report["latent_metrics"] = f"skipped: {e}"
    else:
        for key in ("mutual_information", "active_units", "consistent_units", "unit_variances"):
            value = latent[key]
            report[key] = np.asarray(value).tolist() if key == "unit_variances" else value
    report["latent_dim"] = model.latent_dim
    if kind == "text":
        report["bleu2"] = float(kvae.metrics.bleu(data, model.reconstruct(data), n=2))
    return report


def report_line(report):
    """One line of the evaluation: `rec 41.2  KL 5.0  MI 3.1  BLEU-2 12.8/100  AU 8/8`."""
    shown = {"rec": "rec", "kl": "KL", "mutual_information": "MI", "bleu2": "BLEU-2"}
    line = "  ".join(
        f"{label} {report[key]:.1f}/100" if key == "bleu2" else f"{label} {report[key]:.3f}"
        for key, label in shown.items()
        if key in report
    )
    if "active_units" in report:
        line += f"  AU {report['active_units']}/{report['latent_dim']}"
    return f"{report['examples']} examples: {line}"


def evaluate_and_write(model, kind, data, batch_size, path, quiet=False):
    from kvae.io import atomic_write_text

    report = evaluation(model, kind, data, batch_size)
    atomic_write_text(path, json.dumps(report, indent=2) + "\n")
    print(report_line(report) + ("" if quiet else f"\n(written to {path})"))
    return report


def run(args):
    model, kind, config = load_run(args.folder)
    test_size = args.test_size or (config.get("test_size") if args.data is None else None)  # as in training
    data = held_out(kind, config, args.data)[:test_size]
    path = Path(args.out) if args.out else Path(args.folder) / "evaluation.json"
    evaluate_and_write(model, kind, data, 256 if kind == "image" else 32, path, args.quiet)
    return 0
