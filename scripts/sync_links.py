"""Make the notebooks' set-up cells and the "Open in Colab" links from the repository URL in pyproject.toml.

The repository URL is written in one place, `[project.urls] Repository` in pyproject.toml. This script writes, from
it, the first code cell of every `examples/*.ipynb` (install keras-vae from the repository, or the wheel named by
`KVAE_WHEEL`; choose the Keras backend; import), the Colab links between the `colab-links` markers of README.md
and examples/README.md, and the install commands between README.md's `install` markers.

    python scripts/sync_links.py           # rewrite what is out of date
    python scripts/sync_links.py --check   # exit 1 and name what is out of date (tests/test_examples.py runs it)
"""

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))
START, END = "<!-- colab-links:start -->", "<!-- colab-links:end -->"
INSTALL_START, INSTALL_END = "<!-- install:start -->", "<!-- install:end -->"
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"

SETUP_CELL = """# Set-up, run first (Colab, any fresh environment): install keras-vae, choose the Keras backend, import.
import importlib.metadata
import os
import subprocess
import sys

REPOSITORY = "{repository}"
try:  # already installed (e.g. `pip install -e .` in a clone): keep it, unless KVAE_WHEEL names a wheel to install
    importlib.metadata.version("keras-vae")
    requirement = os.environ.get("KVAE_WHEEL")
except importlib.metadata.PackageNotFoundError:
    requirement = os.environ.get("KVAE_WHEEL") or f"keras-vae @ git+{{REPOSITORY}}"
if requirement:
    print("pip install", requirement)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", requirement], check=True)  # fails: "Run all" stops

# The Keras backend, "jax", "tensorflow" or "torch". Keras reads it once, at its first import: to switch, change it
# and restart the kernel (Colab: Runtime > Restart session). A KERAS_BACKEND already in the environment wins.
BACKEND = "jax"  # @param ["jax", "tensorflow", "torch"]
os.environ.setdefault("KERAS_BACKEND", BACKEND)
if os.environ["KERAS_BACKEND"] != BACKEND:
    print(f"KERAS_BACKEND={{os.environ['KERAS_BACKEND']}} is set in the environment: it wins over BACKEND = {{BACKEND!r}}")

import kvae  # noqa: E402 (after KERAS_BACKEND; before keras, so that TensorFlow's start-up logs are filtered)

import keras  # noqa: E402, I001

print(f"keras-vae {{kvae.__version__}}, Keras {{keras.__version__}}, backend {{keras.backend.backend()}}")"""


def repository_url():
    """`[project.urls] Repository` of pyproject.toml, without a trailing slash or `.git`."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    try:
        import tomllib

        url = tomllib.loads(text)["project"]["urls"]["Repository"]
    except ImportError:  # Python 3.10
        url = re.search(r'^Repository\s*=\s*"([^"]+)"', text, re.MULTILINE).group(1)
    return url.rstrip("/").removesuffix(".git")


def colab_url(repository, notebook):
    """The Colab address of `notebook` (a path under the repository) on the main branch of a GitHub repository."""
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+)", repository)
    if match is None:
        raise SystemExit(f"pyproject.toml: Repository {repository!r} is not https://github.com/OWNER/NAME")
    owner, name = match.groups()
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/main/{notebook}"


def links_block(repository, prefix):
    """The Markdown between the markers: one line per notebook, its Colab badge and its name (a link to the file,
    relative to the page: `prefix`)."""
    lines = [START]
    for path in NOTEBOOKS:
        relative = path.relative_to(ROOT).as_posix()
        url = colab_url(repository, relative)
        lines.append(f"- [![Open In Colab]({BADGE})]({url}) [`{path.name}`]({prefix}{path.name})")
    lines.append(END)
    return "\n".join(lines)


def install_block(repository):
    """README's install commands (a fenced bash block) between the install markers."""
    return "\n".join(
        [
            INSTALL_START,
            "```bash",
            f'pip install "keras-vae @ git+{repository}"        # then: import kvae, or the `kvae` command',
            f'pip install "keras-vae[jax] @ git+{repository}"   # extras: jax, torch (<2.14), tensorboard',
            "```",
            INSTALL_END,
        ]
    )


def synced_markdown(text, block, name, start=START, end=END):
    if start not in text or end not in text:
        raise SystemExit(f"{name}: no {start} ... {end} markers")
    return re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, count=1, flags=re.DOTALL)


def synced_notebook(path, repository):
    """The notebook's JSON text with its first code cell set to the set-up cell."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cell = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    lines = SETUP_CELL.format(repository=repository).split("\n")
    cell["source"] = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"  # as nbformat writes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    repository = repository_url()
    targets = {path: synced_notebook(path, repository) for path in NOTEBOOKS}
    for page, prefix in ((ROOT / "README.md", "examples/"), (ROOT / "examples" / "README.md", "")):
        targets[page] = synced_markdown(page.read_text(encoding="utf-8"), links_block(repository, prefix), page.name)
    readme = ROOT / "README.md"
    targets[readme] = synced_markdown(
        targets[readme], install_block(repository), readme.name, start=INSTALL_START, end=INSTALL_END
    )
    stale = [path for path, text in targets.items() if path.read_text(encoding="utf-8") != text]
    for path in stale:
        name = path.relative_to(ROOT)
        if args.check:
            print(f"{name}: out of date with pyproject.toml's Repository (run python scripts/sync_links.py)")
        else:
            path.write_text(targets[path], encoding="utf-8")
            print(f"updated {name}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
