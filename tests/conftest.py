"""Shared fixtures: every test starts from the same global seed (Python, NumPy and the backend).

Under JAX, the session keeps its compiled programs in a fresh on-disk compilation cache, so that the many tests that
build the same small models compile each program once (about a third less time on test_text_vae + test_harness);
KVAE_TEST_JAX_CACHE=0 turns it off. Subprocesses started by tests do not share it.
"""

import os
import tempfile

import keras
import pytest

if keras.backend.backend() == "jax" and os.environ.get("KVAE_TEST_JAX_CACHE", "1") != "0":
    import jax

    jax.config.update("jax_compilation_cache_dir", tempfile.mkdtemp(prefix="kvae-jax-cache-"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
