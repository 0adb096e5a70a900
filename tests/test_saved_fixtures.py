"""`.keras` files saved by an earlier kvae (tests/fixtures, made by `make_fixtures.py` before the posterior/prior
redesign of issue 16) load under every backend and encode (and greedily decode) as they did when saved."""

import json
import os

import keras
import numpy as np
import pytest

import kvae  # noqa: F401  (registers the saved classes)

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
with open(os.path.join(FIXTURES, "manifest.json")) as _f:
    MANIFEST = json.load(_f)
IMAGE_MODELS = [name for name in MANIFEST["models"] if name != "text_vae"]


def _expected(name):
    return (np.load(os.path.join(FIXTURES, f"{name}_mean.npy")), np.load(os.path.join(FIXTURES, f"{name}_log_var.npy")))


def test_text_vae_fixture_encodes_and_decodes_as_saved():
    model = keras.saving.load_model(os.path.join(FIXTURES, "text_vae.keras"))
    sentences = MANIFEST["sentences"]
    mean, log_var = model.encode(sentences, return_log_var=True)
    want_mean, want_log_var = _expected("text_vae")
    np.testing.assert_allclose(mean, want_mean, atol=1e-5)
    np.testing.assert_allclose(log_var, want_log_var, atol=1e-5)
    assert model.reconstruct(sentences, method="greedy", max_length=12) == MANIFEST["models"]["text_vae"]["greedy"]


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_image_fixture_encodes_as_saved(name):
    model = keras.saving.load_model(os.path.join(FIXTURES, f"{name}.keras"))
    assert type(model).__name__ == MANIFEST["models"][name]["class"]
    mean, log_var = model.encode(np.load(os.path.join(FIXTURES, "images.npy")), return_log_var=True)
    want_mean, want_log_var = _expected(name)
    np.testing.assert_allclose(mean, want_mean, atol=1e-5)
    np.testing.assert_allclose(log_var, want_log_var, atol=1e-5)
