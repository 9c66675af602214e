"""Paired intervals over seeds and the verdict word read from them, on hand-made differences."""

import numpy as np
import pytest
from scipy import stats

from fairl.metrics import paired_t_interval, verdict


def test_interval_is_the_student_t_interval_of_the_differences():
    d = np.array([0.1, 0.3, 0.2, 0.4])
    mean, low, high, n = paired_t_interval(d)
    half = stats.t.ppf(0.975, 3) * d.std(ddof=1) / 2
    assert (mean, n) == (pytest.approx(0.25), 4)
    assert (low, high) == (pytest.approx(0.25 - half), pytest.approx(0.25 + half))


@pytest.mark.parametrize(("differences", "better", "expected"), [
    ([0.10, 0.12, 0.11, 0.13], "higher", "holds"),          # clearly above 0, higher claimed
    ([0.10, 0.12, 0.11, 0.13], "lower", "contradicted"),    # clearly above 0, lower claimed
    ([-0.10, -0.12, -0.11, -0.13], "lower", "holds"),
    ([-0.10, -0.12, -0.11, -0.13], "higher", "contradicted"),
    ([0.05, -0.04, 0.03, -0.05], "higher", "inconclusive"),  # the interval contains 0
    ([0.05, -0.04, 0.03, -0.05], "lower", "inconclusive"),
    ([0.30], "higher", "inconclusive"),                     # one seed: no interval, no verdict
    ([0.2, 0.2, 0.2], "higher", "holds"),                   # no spread: a zero-width interval above 0
])
def test_verdict_comes_from_the_interval(differences, better, expected):
    _, low, high, _ = paired_t_interval(differences)
    assert verdict(low, high, better) == expected


def test_a_large_mean_with_a_wide_interval_is_not_a_win():
    """The point estimate favours the method; the interval does not exclude 0: inconclusive."""
    mean, low, high, _ = paired_t_interval([0.5, -0.3, 0.6, -0.2, 0.4])
    assert mean > 0 and low < 0 < high and verdict(low, high, "higher") == "inconclusive"


def test_non_finite_differences_are_dropped_and_bad_direction_rejected():
    assert paired_t_interval([0.1, np.nan, 0.2, 0.3])[3] == 3
    assert paired_t_interval([])[3] == 0
    with pytest.raises(ValueError, match="higher' or 'lower"):
        verdict(0.1, 0.2, "better")
