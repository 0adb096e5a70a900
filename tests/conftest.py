"""Shared fixtures: every test starts from the same global seed (Python, NumPy and the backend)."""

import keras
import pytest


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
