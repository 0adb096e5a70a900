"""Argument checks for kvae's public constructors and methods: each returns the value, converted, or raises a
ValueError whose message names the argument and shows what it got.

>>> check_int(8, "latent_dim")
8
>>> check_number(0.5, "word_dropout", low=0, high=1, high_open=True)
0.5
"""

import math
import numbers


def check_int(value, name, minimum=1, allow_none=False):
    """An integer >= `minimum` (bools refused), or None when `allow_none`."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        none = " or None" if allow_none else ""
        raise ValueError(f"`{name}` must be an integer >= {minimum}{none}, got {value!r}.")
    return int(value)


def check_number(value, name, low=None, high=None, low_open=False, high_open=False):
    """A finite real number (bools refused) in the interval from `low` to `high` (None: unbounded; `*_open`: the
    bound itself excluded), as a float."""
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        if low is not None and high is not None:
            where = f" in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        elif low is not None:
            where = f" {'>' if low_open else '>='} {low}"
        elif high is not None:
            where = f" {'<' if high_open else '<='} {high}"
        else:
            where = ""
        raise ValueError(f"`{name}` must be a finite number{where}, got {value!r}.")
    return float(value)


def check_seed(seed, name="seed"):
    """None or a non-negative integer."""
    return check_int(seed, name, minimum=0, allow_none=True)


def check_choice(value, name, choices):
    """One of `choices` (strings or None)."""
    if not (value is None or isinstance(value, str)) or value not in choices:
        raise ValueError(f"`{name}` must be one of {tuple(choices)}, got {value!r}.")
    return value
