"""Which private-API fast paths this installation may take; every one has a public fallback.

kvae's PyTorch fast paths reach into private APIs: `torch._fused_adam_` and Keras's Adam slots
(`_get_variable_index`, `_momentums`, `_velocities`, `_velocity_hats`) for `kvae.optimizers.Adam`, and
`torch._VF.lstm` for `kvae.layers.LSTM`. Each runs only when its check here passes: the private names exist, the
installed Keras and PyTorch are releases it was tested with (`TESTED`, the bounds of pyproject.toml), and the
environment does not say `KVAE_FAST_PATHS=0`. Otherwise kvae takes Keras's public path, which gives the same numbers
(tests/test_optimizers.py, tests/test_layers.py and tests/test_fast_paths.py run both).
"""

import functools
import os

import keras

# Releases the fast paths were tested with: [first, last] (major, minor), inclusive.
TESTED = {"keras": ((3, 8), (3, 15)), "torch": ((2, 1), (2, 13))}


def enabled():
    """False when the environment says `KVAE_FAST_PATHS=0` (read at every call, so tests and users can switch)."""
    return os.environ.get("KVAE_FAST_PATHS", "1") != "0"


def _release(version):
    major, minor = (int("".join(c for c in part if c.isdigit()) or 0) for part in version.split(".")[:2])
    return major, minor


def tested(name, version):
    """True when `version` of package `name` ("keras", "torch") lies in the tested range."""
    low, high = TESTED[name]
    return low <= _release(version) <= high


@functools.cache
def _torch_ready(*private_names):
    import torch

    if not (tested("keras", keras.__version__) and tested("torch", torch.__version__)):
        return False
    owner = {"_fused_adam_": torch, "lstm": torch._VF}
    return all(hasattr(owner[name], name) for name in private_names)


def fused_adam(optimizer):
    """May `optimizer` (a `keras.optimizers.Adam`) be updated by `torch._fused_adam_`?"""
    slots = ("_get_variable_index", "_momentums", "_velocities") + (("_velocity_hats",) if optimizer.amsgrad else ())
    return (
        enabled()
        and keras.backend.backend() == "torch"
        and _torch_ready("_fused_adam_")
        and all(hasattr(optimizer, slot) for slot in slots)
    )


def native_lstm():
    """May `kvae.layers.LSTM` call PyTorch's native LSTM kernel (`torch._VF.lstm`)?"""
    return enabled() and keras.backend.backend() == "torch" and _torch_ready("lstm")


def seed_generators(layer):
    """The `keras.random.SeedGenerator`s `layer` owns itself (not its sub-layers'), in creation order: Keras's
    private `_seed_generators` list where it exists, else the generators found among the layer's attributes."""
    owned = getattr(layer, "_seed_generators", None)
    if enabled() and isinstance(owned, list):
        return list(owned)
    found = []
    for value in vars(layer).values():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(item, keras.random.SeedGenerator) and all(item is not seen for seen in found):
                found.append(item)
    return found
