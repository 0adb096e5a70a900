"""`kvae generate FOLDER`: decode draws from the prior, sentences (text) or a PNG grid (images)."""

from pathlib import Path

from kvae.cli.options import positive_float, positive_int
from kvae.cli.runs import load_run


def add_parser(commands, parents):
    parser = commands.add_parser(
        "generate",
        parents=parents,
        help="sentences or images from the prior",
        description="Decode draws from the prior: sentences (text) or a PNG grid (image).",
    )
    parser.add_argument("folder", help="folder written by `kvae train`")
    parser.add_argument("--n", type=positive_int, default=10, help="how many (default 10)")
    parser.add_argument("--method", choices=("greedy", "beam", "sample"), default="greedy", help="text decoding")
    parser.add_argument("--temperature", type=positive_float, default=1.0, help="of --method sample")
    parser.add_argument(
        "--out", help="text: also write the sentences here; image: the PNG (default FOLDER/samples.png)"
    )
    parser.set_defaults(run=run)


def save_png(images, path, rows=None):
    import kvae
    from kvae.io import atomic_path

    with atomic_path(path, suffix=".tmp.png") as tmp:
        kvae.plotting.image_grid(images, rows=rows, path=tmp)
    print(f"wrote {path}")


def run(args):
    model, kind, _ = load_run(args.folder)
    if kind == "image":
        save_png(model.generate(args.n), Path(args.out or Path(args.folder) / "samples.png"))
        return 0
    sentences = model.generate(args.n, method=args.method, temperature=args.temperature)
    print("\n".join(sentences))
    if args.out:
        from kvae.io import atomic_write_text

        atomic_write_text(args.out, "\n".join(sentences) + "\n")
    return 0
