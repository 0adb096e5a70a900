"""`python -m kvae`: the `kvae` command line (`kvae.cli`); `python -m kvae demo` trains and shows the default model."""

import sys

from kvae.cli import main

if __name__ == "__main__":
    sys.exit(main())
