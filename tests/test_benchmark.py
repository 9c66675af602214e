"""The synthetic benchmark: both generators, both regimes, numbers independent of the worker count."""

import pandas as pd

from fairl.benchmark import run_benchmark
from fairl.synthetic import SyntheticConfig
from fairl.variants import Variant

GENERATORS = {"boltzmann": SyntheticConfig(n_pairs=200, dim=6),
              "boundary": SyntheticConfig(n_pairs=200, dim=6, noiseless=True, hard_fraction=0.15)}
VARIANTS = [Variant("max_entropy", "max_entropy", {"steps": 20, "max_steps": 200}),
            Variant("fa_max_entropy", "fa_max_entropy", {"rounds": 10, "max_steps": 200, "inner_steps": 3})]


def test_benchmark_is_the_same_with_one_or_two_workers():
    runs = [run_benchmark(GENERATORS, VARIANTS, [0, 1], ["converged", "equal_budget"], n_iid_outputs=200, workers=w)
            for w in (1, 2)]
    (one, rounds_one), (two, rounds_two) = runs
    pd.testing.assert_frame_equal(one, two)
    pd.testing.assert_frame_equal(rounds_one, rounds_two)
    assert len(one) == 2 * 2 * 2 * 2  # generators × regimes × variants × seeds
    assert set(one["generator"]) == set(GENERATORS) and set(one["regime"]) == {"converged", "equal_budget"}
    budget = one[one["regime"] == "equal_budget"]
    assert set(budget["gradient_evaluations"]) == {20, 10}  # the steps each variant was given: 20, and 10 rounds × 1
    # the split is drawn apart from the generator: hard pairs are in train and test alike
    assert (one["hard_share_test"] - one["hard_share_train"]).abs().max() < 0.15
