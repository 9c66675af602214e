"""Theorem 1: F_FA ⊊ F when failure margins are tightened (M_fail > M)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fairl.irl.feasibility import constraint_margins, is_feasible


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_pairs=st.integers(1, 40),
    dim=st.integers(1, 6),
    margin=st.floats(0.01, 1.0),
    extra=st.floats(0.01, 1.0),
)
def test_every_fa_feasible_reward_is_irl_feasible(seed, n_pairs, dim, margin, extra):
    rng = np.random.default_rng(seed)
    # orient every constraint so that a known direction θ0 satisfies it: feasible sets are non-empty
    theta0 = rng.standard_normal(dim)
    diff = rng.standard_normal((n_pairs, dim))
    diff *= np.sign(diff @ theta0)[:, None]
    diff += 0.1 * theta0 / np.linalg.norm(theta0)
    failures = rng.random(n_pairs) < 0.4
    irl = constraint_margins(n_pairs, np.zeros(n_pairs, bool), margin, margin + extra)
    fa = constraint_margins(n_pairs, failures, margin, margin + extra)
    n_fa_feasible = 0
    for scale in np.geomspace(0.01, 1000, 40):
        for _ in range(5):
            theta = scale * (theta0 + 0.05 * rng.standard_normal(dim))
            if is_feasible(theta, diff, fa):
                n_fa_feasible += 1
                assert is_feasible(theta, diff, irl)
    assert n_fa_feasible > 0  # the implication was actually exercised

def test_inclusion_is_strict_on_a_constructed_example():
    # two pairs in R²; the second is a failure. θ meets its constraint with slack in [M, M_fail).
    diff = np.array([[1.0, 0.0], [0.0, 1.0]])
    margin, margin_failure = 0.1, 0.2
    failures = np.array([False, True])
    theta = np.array([1.0, 0.15])
    assert is_feasible(theta, diff, constraint_margins(2, np.zeros(2, bool), margin, margin_failure))
    assert not is_feasible(theta, diff, constraint_margins(2, failures, margin, margin_failure))
    # and the FA set is not empty: it is a strict, non-trivial subset
    assert is_feasible(np.array([1.0, 0.3]), diff, constraint_margins(2, failures, margin, margin_failure))
