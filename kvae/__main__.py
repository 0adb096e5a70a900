"""`python -m kvae demo`: train and show kvae's default text model on the bundled SNLI sample."""

import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] != "demo":
        print("usage: python -m kvae demo [--posterior isotropic|diagonal] [--epochs N] [--help]")
        return 0 if (not argv or argv[0] in ("-h", "--help")) else 2
    from kvae.demo import main as demo

    demo(argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
