"""Run folders written by `kvae train`: their `config.json` and `model.keras`."""

import json
from pathlib import Path

from kvae.cli.options import CLIError, one_line


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise CLIError(f"{path}: cannot read it ({e})") from e


def load_run(folder):
    """(model, kind, config) of a folder written by `kvae train`."""
    from kvae.io import load_model
    from kvae.models import ImageVAE, TextVAE  # registers every kvae class with Keras before loading

    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise CLIError(f"{folder}: no such model folder")
    path = folder / "model.keras"
    if not path.is_file():
        raise CLIError(f"{folder}: not a kvae model folder (no model.keras; `kvae train ... --out {folder}` makes one)")
    config = read_json(folder / "config.json") if (folder / "config.json").exists() else {}
    try:
        model = load_model(path)
    except ValueError as e:
        if "not a .keras model file" not in str(e):
            raise
        raise CLIError(f"{path}: not a .keras model file, so the file is damaged or not from `kvae train`") from e
    except Exception as e:
        raise CLIError(
            f"{path}: cannot load the model, the file is damaged or not a kvae model "
            f"({type(e).__name__}: {one_line(e)})"
        ) from e
    if isinstance(model, TextVAE):
        return model, "text", config
    if isinstance(model, ImageVAE):
        return model, "image", config
    raise CLIError(f"{path}: a {type(model).__name__}, not a TextVAE or ImageVAE")
