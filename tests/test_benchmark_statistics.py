"""The statistics `benchmarks/text_posteriors.py --report` uses to say whether two backends agree."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from text_posteriors import holm, welch_p  # noqa: E402


def test_holm_steps_down_and_stops_at_the_first_kept_null():
    # Thresholds 0.05/3, 0.05/2, 0.05/1 for the sorted p-values.
    assert holm([(0.04, "c"), (0.001, "a"), (0.01, "b")]) == ["a", "b", "c"]
    assert holm([(0.03, "a"), (0.03, "b")]) == []  # 0.03 > 0.05/2: nothing rejected, not even the second
    assert holm([(0.02, "a"), (0.001, "b"), (0.5, "c")]) == ["b", "a"]
    assert holm([(0.001, "a")] + [(0.0004, f"x{i}") for i in range(119)]) == [f"x{i}" for i in range(119)] + ["a"]
    assert holm([(0.001, "a")] + [(0.9, f"x{i}") for i in range(119)]) == []  # 0.001 > 0.05/120


def test_welch_p_separates_clear_differences_from_noise():
    assert welch_p([16, 16, 16], [16, 16]) == 1.0
    assert welch_p([16, 16, 16], [15, 15]) == 0.0
    assert welch_p([2.21, 2.29, 2.12, 2.17, 2.40], [3.31, 3.51, 3.85, 3.59, 3.83]) < 0.001
    assert welch_p([5.1, 6.3, 5.8, 6.0], [5.9, 5.2, 6.4, 5.6]) > 0.5
