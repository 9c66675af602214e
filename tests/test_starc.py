import numpy as np
import pytest

from fairl.metrics import canonicalise, starc_distance

RNG = np.random.default_rng(0)
N = 20000
REWARD = RNG.standard_normal(N)
GROUPS = np.repeat(np.arange(N // 4), 4)


def test_zero_for_positive_scaling_plus_any_per_prompt_shift():
    shift = RNG.standard_normal(N // 4)[GROUPS] * 100
    assert starc_distance(REWARD, 3.7 * REWARD + shift, GROUPS) < 1e-12
    assert starc_distance(REWARD, 0.01 * REWARD + 5.0) < 1e-12


def test_per_prompt_shift_is_not_removed_without_groups():
    shift = RNG.standard_normal(N // 4)[GROUPS] * 10
    assert starc_distance(REWARD, REWARD + shift) > 0.5


def test_one_for_the_negated_reward():
    assert np.isclose(starc_distance(REWARD, -REWARD, GROUPS), 1.0)
    assert np.isclose(starc_distance(REWARD, -2 * REWARD + 1), 1.0)


def test_about_root_half_for_independent_noise():
    noise = np.random.default_rng(1).standard_normal(N)
    assert abs(starc_distance(REWARD, noise, GROUPS) - np.sqrt(2) / 2) < 0.01
    assert abs(starc_distance(REWARD, noise) - np.sqrt(2) / 2) < 0.01


def test_invariant_to_permuting_outputs():
    other = REWARD + 0.5 * np.random.default_rng(2).standard_normal(N)
    perm = np.random.default_rng(3).permutation(N)
    d = starc_distance(REWARD, other, GROUPS)
    assert 0.1 < d < 0.5
    assert np.isclose(starc_distance(REWARD[perm], other[perm], GROUPS[perm]), d)


def test_symmetric_and_bounded():
    other = np.random.default_rng(4).standard_normal(N) + REWARD
    d = starc_distance(REWARD, other, GROUPS)
    assert np.isclose(d, starc_distance(other, REWARD, GROUPS)) and 0 <= d <= 1


def test_canonicalisation_zeroes_every_group_mean():
    centred = canonicalise(REWARD, GROUPS)
    assert np.allclose(np.bincount(GROUPS, weights=centred), 0)


@pytest.mark.parametrize(
    ("r_a", "r_b", "groups", "message"),
    [
        (np.ones(10), np.arange(10.0), None, "r_a is constant"),
        (np.arange(10.0), np.repeat(5.0, 10) + np.float32(1e-7) * np.arange(10), None, "r_b is constant"),
        (np.arange(10.0), np.repeat([1.0, 2.0], 5), np.repeat([0, 1], 5), "r_b is constant within every prompt"),
        (np.arange(10.0), np.arange(9.0), None, "same outputs"),
        (np.arange(10.0), np.arange(10.0), np.arange(10), "single output"),
        (np.arange(10.0), np.arange(10.0), np.arange(5), "one prompt id per output"),
        (np.r_[np.nan, np.arange(9.0)], np.arange(10.0), None, "NaN or inf"),
        (np.ones((2, 5)), np.ones((2, 5)), None, "1-D"),
        (np.ones(1), np.ones(1), None, "at least 2"),
    ],
)
def test_bad_input_raises(r_a, r_b, groups, message):
    with pytest.raises(ValueError, match=message):
        starc_distance(r_a, r_b, groups)
