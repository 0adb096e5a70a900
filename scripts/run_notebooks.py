"""Execute notebooks top to bottom with tiny settings (CI runs the examples this way from the built wheel).

    python scripts/run_notebooks.py examples/*.ipynb --out executed/

Each notebook runs in a kernel of this Python (`python3`, which Jupyter maps to `sys.executable`), in its own
folder under `--out`, with the tiny parameters injected after the cell tagged `parameters` (papermill's
convention): `EPOCHS = 1`, `TRAIN_SIZE = 32`, `TEST_SIZE = 32`, `HIDDEN_DIM = 16`, `OUT_DIR` (its folder).
`--param NAME=VALUE` (a Python literal) adds or overrides one. The executed notebook is written beside its
outputs; the output of its set-up cell (the first code cell: the install, the backend) is printed. Exit status 1
if a notebook fails (the failing cell's error is printed).
"""

import argparse
import ast
import sys
from pathlib import Path

TINY = {"EPOCHS": 1, "TRAIN_SIZE": 32, "TEST_SIZE": 32, "HIDDEN_DIM": 16}


def run_notebook(path, folder, parameters, timeout=600):
    """Execute `path` in `folder` with `parameters`; returns (ok, setup cell output, error text)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    folder.mkdir(parents=True, exist_ok=True)
    values = {**parameters, "OUT_DIR": str(folder / "outputs")}
    source = "\n".join(f"{key} = {value!r}" for key, value in values.items())
    index = next(i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", []))
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))
    client = NotebookClient(nb, kernel_name="python3", timeout=timeout, resources={"metadata": {"path": str(folder)}})
    error = ""
    try:
        client.execute()
    except CellExecutionError as e:
        error = str(e)
    finally:
        nbformat.write(nb, folder / Path(path).name)
    setup = next(cell for cell in nb.cells if cell.cell_type == "code")
    printed = "".join(output.get("text", "") for output in setup.get("outputs", []) if output.output_type == "stream")
    return not error, printed, error


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="one folder per notebook is made here")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a parameter (literal)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    args = parser.parse_args(argv)
    parameters = dict(TINY)
    for item in args.param:
        name, _, value = item.partition("=")
        parameters[name] = ast.literal_eval(value)
    failed = []
    for path in args.notebooks:
        ok, setup, error = run_notebook(path, args.out / path.stem, parameters, args.timeout)
        print(f"=== {path.name}: {'ok' if ok else 'FAILED'}; its set-up cell printed:\n{setup.rstrip()}")
        if not ok:
            print(error[-5000:])
            failed.append(path.name)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
