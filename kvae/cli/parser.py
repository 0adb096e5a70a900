"""The `kvae` argument parser: global options, one sub-parser per command (each defined in its module)."""

from kvae.cli import evaluate, generate, interpolate, train
from kvae.cli.options import Parser, add_global_options


def version():
    import kvae

    return kvae.__version__


def build_parser():
    parser = Parser(prog="kvae", description="Train and use kvae's variational autoencoders.")
    add_global_options(parser)
    parser.add_argument("--version", action="version", version=f"kvae {version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    shared = Parser(add_help=False)
    add_global_options(shared, subcommand=True)
    for command in (train, evaluate, generate, interpolate):
        command.add_parser(commands, [shared])
    commands.add_parser(
        "demo",
        add_help=False,
        help="train and show the default text model on the bundled SNLI sample (`kvae demo --help`)",
    )
    return parser
