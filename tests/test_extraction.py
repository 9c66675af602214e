"""Reward extraction on LM pairs: ties (identical completions) are left out, rewards are calibrated to r*."""

import numpy as np
import pandas as pd
import pytest

from fairl.lm.extraction import extract_rewards
from fairl.variants import Variant

N, DIM = 120, 5


@pytest.fixture(scope="module")
def pairs_and_features():
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(DIM)
    theta /= np.linalg.norm(theta)
    h_pos, h_neg = rng.standard_normal((N, DIM)) + 3 * theta, rng.standard_normal((N, DIM))  # r* orders ~98%
    ties = np.arange(0, N, 5)
    h_neg[ties] = h_pos[ties]
    aligned = [f"aligned {i}" for i in range(N)]
    base = [aligned[i] if i in set(ties) else f"base {i}" for i in range(N)]
    pairs = pd.DataFrame({"prompt_id": np.arange(N), "completion_aligned": aligned, "completion_base": base,
                          "reward_aligned": h_pos @ theta, "reward_base": h_neg @ theta,
                          "toxicity_aligned": rng.uniform(size=N), "toxicity_base": rng.uniform(size=N)})
    return pairs, h_pos, h_neg, ties


def test_ties_are_dropped_and_counted(pairs_and_features):
    pairs, h_pos, h_neg, ties = pairs_and_features
    metrics, _, rewards = extract_rewards(pairs, h_pos, h_neg, [Variant("mm", "max_margin", {"steps": 50})], [0, 1], 0.25,
                                          ["converged", "equal_budget"])
    assert (metrics["n_ties_dropped"] == len(ties)).all()
    assert (metrics["n_train"] + metrics["n_test"] == N - len(ties)).all()
    # A tie would count as a wrong pair under every reward; without ties this easy data is ordered well.
    assert (metrics["pair_accuracy"] > 0.9).all()
    assert set(rewards) == {("mm", regime, seed) for regime in ("converged", "equal_budget") for seed in (0, 1)}
    assert metrics.loc[metrics["regime"] == "converged", "converged"].all()
    assert not metrics.loc[metrics["regime"] == "equal_budget", "converged"].any()


def test_rewards_are_calibrated_to_r_star_on_the_training_outputs(pairs_and_features):
    pairs, h_pos, h_neg, _ = pairs_and_features
    _, _, rewards = extract_rewards(pairs, h_pos, h_neg, [Variant("me", "max_entropy", {})], [0], 0.25, ["converged"])
    scores = rewards[("me", "converged", 0)].score(np.concatenate([h_pos, h_neg]))
    truth = np.concatenate([pairs["reward_aligned"], pairs["reward_base"]])
    # Calibrated on the training outputs only, so on all outputs mean and spread agree closely, not exactly.
    assert abs(scores.mean() - truth.mean()) < 0.3 * truth.std()
    assert scores.std() == pytest.approx(truth.std(), rel=0.3)


def test_features_of_other_pairs_are_refused(pairs_and_features):
    pairs, h_pos, h_neg, _ = pairs_and_features
    with pytest.raises(ValueError, match="rebuild the features"):
        extract_rewards(pairs.iloc[:-1], h_pos, h_neg, [Variant("mm", "max_margin", {})], [0], 0.25, ["converged"])
