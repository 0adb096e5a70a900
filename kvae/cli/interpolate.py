"""`kvae interpolate FOLDER A B`: decode the line between the posterior means of two sentences or images."""

from pathlib import Path

from kvae.cli.data import held_out
from kvae.cli.generate import save_png
from kvae.cli.options import CLIError, number
from kvae.cli.runs import load_run


def add_parser(commands, parents):
    parser = commands.add_parser(
        "interpolate",
        parents=parents,
        help="decode the line between two inputs",
        description="Decode points on the line between the posterior means of two "
        "sentences (text) or of two held-out images given by index (image).",
    )
    parser.add_argument("folder", help="folder written by `kvae train`")
    parser.add_argument("a", help="first sentence (image: index of a held-out image)")
    parser.add_argument("b", help="second sentence (image: index of a held-out image)")
    parser.add_argument("--steps", type=number(int, 2, True, "an integer >= 2"), default=5)
    parser.add_argument("--out", help="image: the PNG (default FOLDER/interpolation.png)")
    parser.set_defaults(run=run)


def run(args):
    import numpy as np

    model, kind, config = load_run(args.folder)
    if kind == "text":
        for t, sentence in zip(np.linspace(0, 1, args.steps), model.interpolate(args.a, args.b, steps=args.steps)):
            print(f"{t:.2f}  {sentence}")
        return 0
    images = held_out(kind, config)
    try:
        a, b = images[int(args.a)], images[int(args.b)]
    except (ValueError, IndexError):
        raise CLIError(
            f"for an image model, A and B are indices of held-out images in [0, {len(images)}), "
            f"got {args.a!r} and {args.b!r}",
            code=2,
        ) from None
    path = Path(args.out or Path(args.folder) / "interpolation.png")
    save_png(model.interpolate(a, b, steps=args.steps), path, rows=1)
    return 0
