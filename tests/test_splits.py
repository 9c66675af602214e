import numpy as np
import pandas as pd
import pytest

from fairl.lm.extraction import pair_split
from fairl.splits import train_test_split


def test_groups_of_one_item_give_the_ungrouped_split():
    for seed in range(5):
        plain = train_test_split(50, 0.2, seed)
        grouped = train_test_split(50, 0.2, seed, groups=np.arange(100, 150)[::-1])
        assert all(np.array_equal(a, b) for a, b in zip(plain, grouped))


def test_a_group_is_never_on_both_sides():
    groups = np.repeat(np.arange(40), 3)[np.random.default_rng(0).permutation(120)]  # rows of a group scattered
    train, test = train_test_split(len(groups), 0.25, seed=3, groups=groups)
    assert not set(groups[train]) & set(groups[test])
    assert sorted(np.r_[train, test]) == list(range(120))
    assert len(set(groups[test])) == 10  # round(0.25 * 40) groups, all three rows of each
    assert len(test) == 30
    # a negative control: the ungrouped split of the same rows splits groups
    plain_train, plain_test = train_test_split(len(groups), 0.25, seed=3)
    assert set(groups[plain_train]) & set(groups[plain_test])


def test_grouped_split_refuses_mismatched_or_too_few_groups():
    with pytest.raises(ValueError, match="one label per item"):
        train_test_split(10, 0.2, 0, groups=np.arange(9))
    with pytest.raises(ValueError, match="3 groups"):
        train_test_split(30, 0.2, 0, groups=np.repeat(np.arange(3), 10))


def test_pair_split_keeps_the_pairs_of_a_prompt_together_and_drops_ties():
    pairs = pd.DataFrame({"prompt_id": np.repeat(np.arange(20), 4),
                          "completion_aligned": [f"a{i}" for i in range(80)],
                          "completion_base": [f"b{i}" for i in range(80)]})
    pairs.loc[[5, 6], "completion_base"] = pairs.loc[[5, 6], "completion_aligned"]  # two ties
    train, test = pair_split(pairs, 0.2, seed=0)
    assert not {5, 6} & (set(train) | set(test))
    ids = pairs["prompt_id"].to_numpy()
    assert not set(ids[train]) & set(ids[test])
    assert len(set(ids[test])) == 4
