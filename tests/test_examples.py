"""Runs every example on tiny settings under the current KERAS_BACKEND: `examples/*.py` as scripts (a subprocess),
`examples/*.ipynb` through nbclient with the tiny parameters injected after the cell tagged `parameters`
(papermill's convention). Each must finish, fall back to the bundled data when its data path is missing, write its
files and print its key numbers. A new example is picked up by the globs; list its outputs in `EXPECTED`.
"""

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))

# The same tiny run for every example: script options `--epochs 1 ...`, notebook parameters `EPOCHS = 1 ...`.
TINY = {"epochs": 1, "train_size": 32, "test_size": 32, "hidden_dim": 16}
NUMBER = r"-?\d+\.\d+"

BACKENDS = ("tensorflow", "jax", "torch")
BACKEND = keras.backend.backend()
OTHER = BACKENDS[(BACKENDS.index(BACKEND) + 1) % len(BACKENDS)]  # switch_backends.py's default loading backend

# Per example: files it writes to its output folder, and regular expressions its output must match.
EXPECTED = {
    "image_vae.py": (
        ["samples.png", "reconstructions.png", "interpolation.png"],
        [rf"test: rec {NUMBER}  KL {NUMBER}  -ELBO {NUMBER}  active units \d+/32"],
    ),
    "switch_backends.py": (
        ["text_vae.keras", "sentences.txt", f"encodings_{BACKEND}.npy", f"encodings_{OTHER}.npy"],
        [rf"{BACKEND} vs {OTHER}: max \|difference\| = {NUMBER}e[-+]\d+", r"equal encodings: True"],
    ),
    "text_posteriors.ipynb": (
        ["results.json", "units_isotropic.png", "units_diagonal.png"],
        [f"Keras backend: {BACKEND}"]
        + [rf"{posterior} +{NUMBER} +{NUMBER} +\d/8 +{NUMBER}" for posterior in ("isotropic", "diagonal")],
    ),
    "posterior_collapse.ipynb": (
        ["results.json", "units_elbo.png", "units_capacity.png", "units_density_gap.png"],
        [f"Keras backend: {BACKEND}"]
        + [rf"{name} +{NUMBER} +{NUMBER} +{NUMBER} +\d/8 +\d/8" for name in ("elbo", "capacity", "density_gap")],
    ),
}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The examples' environment: this backend, and one JAX compilation cache for them all (the examples train a
    few identical models; the cache only saves compile time)."""
    cache = tmp_path_factory.mktemp("jax_cache")
    return {**os.environ, "KERAS_BACKEND": BACKEND, "JAX_COMPILATION_CACHE_DIR": str(cache)}


def check_outputs(name, out, text):
    """The example fell back to the bundled data, wrote its files (PNGs and JSON valid) and printed its numbers."""
    assert "bundled" in text, f"{name} did not say it fell back to the bundled data:\n{text[-3000:]}"
    files, patterns = EXPECTED.get(name, ([], []))
    written = sorted(p.name for p in out.iterdir())
    assert written, f"{name} wrote nothing to {out}"
    for file in files:
        path = out / file
        assert path.is_file() and path.stat().st_size > 0, f"{name} did not write {path.name} (wrote {written})"
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
        if path.suffix == ".json":
            numbers = [v for row in json.loads(path.read_text()).values() for v in row.values()]
            assert numbers and all(math.isfinite(v) for v in numbers), f"{path.name}: {numbers}"
    for pattern in patterns:
        assert re.search(pattern, text), f"{name}: no line matches {pattern!r} in:\n{text[-3000:]}"


def test_every_example_is_listed():
    found = {p.name for p in SCRIPTS + NOTEBOOKS}
    assert set(EXPECTED) <= found, f"EXPECTED lists missing examples: {sorted(set(EXPECTED) - found)}"
    assert len(SCRIPTS) >= 2 and len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script(script, tmp_path, env):
    out = tmp_path / "out"
    options = [f"--{key.replace('_', '-')}={value}" for key, value in TINY.items()]
    command = [sys.executable, str(script), *options, f"--data={tmp_path / 'missing'}", f"--out={out}"]
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, f"{script.name} failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
    check_outputs(script.name, out, run.stdout)


def read_notebook(path):
    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_layout(path):
    """Committed without outputs; the set-up cell first: it installs keras-vae (by its distribution name, failing
    loudly), sets KERAS_BACKEND from a visible choice and only then imports Keras; then the `parameters` cell."""
    nb = read_notebook(path)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), "commit notebooks without outputs"
    setup, params = code[:2]
    source = setup.source
    assert 'importlib.metadata.version("keras-vae")' in source and "KVAE_WHEEL" in source
    assert '"pip", "install"' in source and "check=True" in source, "a failed install must raise"
    assert "find_spec" not in source and '"kvae>=' not in source, "PyPI's `kvae` is another project"
    backend = source.index('os.environ.setdefault("KERAS_BACKEND", BACKEND)')
    assert re.search(r'^BACKEND = "jax"  # @param \["jax", "tensorflow", "torch"\]$', source, re.MULTILINE)
    first_import = re.search(r"^\s*(import|from) (kvae|keras)\b", source, re.MULTILINE)
    assert first_import and backend < first_import.start() and source.index("pip") < backend, "keras imported too early"
    assert "parameters" in params.metadata.get("tags", []), "the second code cell must be tagged `parameters`"
    defined = set(re.findall(r"^([A-Z_]+) = ", params.source, re.MULTILINE))
    assert {key.upper() for key in TINY} | {"OUT_DIR", "DATA_PATH"} <= defined, f"parameters cell defines {defined}"


def test_setup_cells_and_colab_links_follow_pyproject():
    """The install cells and the Colab links of README.md and examples/README.md are made from pyproject.toml's
    Repository URL by scripts/sync_links.py (run it after changing the URL)."""
    script = EXAMPLES.parent / "scripts" / "sync_links.py"
    run = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    url = re.search(
        r'^Repository = "(https://github\.com/[^"]+)"', (EXAMPLES.parent / "pyproject.toml").read_text(), re.MULTILINE
    ).group(1)
    owner_name = url.removeprefix("https://github.com/")
    for page in (EXAMPLES.parent / "README.md", EXAMPLES / "README.md"):
        links = re.findall(r"https://colab\.research\.google\.com/github/([^)\s]+)", page.read_text())
        assert sorted(links) == sorted(f"{owner_name}/blob/main/examples/{p.name}" for p in NOTEBOOKS), page
    for path in NOTEBOOKS:
        setup = next(cell for cell in read_notebook(path).cells if cell.cell_type == "code")
        assert f'REPOSITORY = "{url}"' in setup.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook(path, tmp_path, env):
    nb = read_notebook(path)
    out = tmp_path / "out"
    values = {key.upper(): value for key, value in TINY.items()}
    values.update(DATA_PATH=str(tmp_path / "missing.txt"), OUT_DIR=str(out))
    source = "\n".join(f"{key} = {value!r}" for key, value in values.items())
    index = next(i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", []))
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))
    client = NotebookClient(nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)  # raises CellExecutionError on any failing cell

    outputs = [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]
    text = "".join(output.get("text", "") for output in outputs if output.output_type == "stream")
    shown = sum("image/png" in output.get("data", {}) for output in outputs)
    saved = [file for file in EXPECTED.get(path.name, ([], []))[0] if file.endswith(".png")]
    assert shown >= len(saved), f"{path.name} shows {shown} figures, saves {saved}"
    check_outputs(path.name, out, text)
