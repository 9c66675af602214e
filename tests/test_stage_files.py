"""Readers of the LM chain's stage files: a corrupt, non-finite or differently configured input stops the
consumer with the file and the rule that rebuilds it named; the matching input passes (negative controls)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairl.io import atomic_save_npz, atomic_write_parquet
from fairl.lm.stage_files import (
    PAIRS_COLUMNS,
    check_rlhf_policy,
    policy_sidecar,
    read_features,
    read_pairs,
    read_reward,
    read_table,
    reward_label,
)
from fairl.provenance import write_sidecar

GENERATION = {"max_new_tokens": 8, "temperature": 1.0, "top_p": 1.0, "batch_size": 16}


def pairs_table(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame({
        "prompt_id": np.arange(n), "prompt": ["p"] * n, "completion_aligned": ["a"] * n, "completion_base": ["b"] * n,
        "reward_aligned": np.ones(n), "reward_base": np.zeros(n), "toxicity_aligned": np.zeros(n),
        "toxicity_base": np.ones(n), "t_to_nt": np.ones(n, dtype=bool),
    })[PAIRS_COLUMNS]


@pytest.fixture
def pairs_file(tmp_path):
    path = tmp_path / "pairs.parquet"
    atomic_write_parquet(pairs_table(), path)
    write_sidecar(path, "pairs", {"seed": 0, "device": "cpu", "generation": GENERATION})
    return path


def test_pairs_made_with_other_generation_settings_are_refused_with_the_key_named(pairs_file):
    assert len(read_pairs(pairs_file, GENERATION, 0)) == 4  # the matching configuration passes
    with pytest.raises(ValueError) as error:
        read_pairs(pairs_file, {**GENERATION, "max_new_tokens": 4}, 0)
    message = str(error.value)
    assert str(pairs_file) in message and "generation" in message and "'max_new_tokens': 8" in message
    assert "snakemake --forcerun pairs" in message
    with pytest.raises(ValueError, match="seed: input has 0, this run has 1"):
        read_pairs(pairs_file, GENERATION, 1)


def test_a_pairs_file_without_sidecar_is_refused(tmp_path):
    path = tmp_path / "pairs.parquet"
    atomic_write_parquet(pairs_table(), path)
    with pytest.raises(FileNotFoundError, match="no sidecar"):
        read_pairs(path, GENERATION, 0)


def test_a_corrupt_parquet_names_the_file_and_the_rule_that_rebuilds_it(pairs_file):
    pairs_file.write_bytes(pairs_file.read_bytes()[:40])  # truncated, as by a full disk
    with pytest.raises(ValueError) as error:
        read_table(pairs_file, PAIRS_COLUMNS, "pairs")
    assert f"{pairs_file} cannot be read as a table" in str(error.value)
    assert "snakemake --forcerun pairs" in str(error.value) and "Traceback" not in str(error.value)


def features_file(tmp_path, h_pos, prompt_id=None):
    path = tmp_path / "features.npz"
    n = len(h_pos)
    atomic_save_npz(path, h_pos=h_pos, h_neg=np.zeros_like(h_pos),
                    prompt_id=np.arange(n) if prompt_id is None else prompt_id)
    return path


def test_non_finite_features_name_the_file_the_row_and_the_prompt(tmp_path):
    pairs = pairs_table()
    h = np.ones((4, 3))
    h_pos, h_neg = read_features(features_file(tmp_path, h), pairs, "pairs.parquet")
    assert np.array_equal(h_pos, h) and h_neg.shape == (4, 3)
    h[2, 1] = np.nan
    path = features_file(tmp_path, h, prompt_id=np.array([10, 11, 12, 13]))
    pairs["prompt_id"] = [10, 11, 12, 13]
    with pytest.raises(ValueError) as error:
        read_features(path, pairs, "pairs.parquet")
    assert f"{path}: h_pos has non-finite values in 1 row(s), first row 2 (prompt_id 12)" in str(error.value)
    assert "snakemake --forcerun features" in str(error.value)


def test_features_of_other_pairs_or_a_corrupt_file_are_refused(tmp_path):
    path = features_file(tmp_path, np.ones((4, 3)), prompt_id=np.array([0, 1, 3, 2]))
    with pytest.raises(ValueError, match="computed for other pairs than pairs.parquet"):
        read_features(path, pairs_table(), "pairs.parquet")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=f"{path} cannot be read"):
        read_features(path, pairs_table(), "pairs.parquet")


def test_a_reward_fitted_under_another_feature_contract_is_refused(tmp_path):
    """The check re-RLHF makes (src/scripts/rlhf.py) before scoring R(o) with the reward's encoder."""
    from fairl.irl import fit_reward

    rng = np.random.default_rng(0)
    reward = fit_reward(rng.normal(size=(20, 3)) + 1, rng.normal(size=(20, 3)), "max_margin", seed=0)
    path = tmp_path / "reward.npz"
    reward.save(path)
    write_sidecar(path, "irl", {"features": {"batch_size": 8, "max_tokens": 32}, "precision": "fp32"})
    section = {"seed": 0, "features": {"batch_size": 8, "max_tokens": 32}, "precision": "fp32"}  # as rlhf's params
    assert np.array_equal(read_reward(path, made_with=section).theta_d, reward.theta_d)
    with pytest.raises(ValueError, match="features: input has .*'max_tokens': 32.* this run has .*'max_tokens': 128"):
        read_reward(path, made_with={**section, "features": {"batch_size": 8, "max_tokens": 128}})
    assert np.array_equal(read_reward(path).theta_d, reward.theta_d)
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="cannot be read as a reward.*snakemake --forcerun irl"):
        read_reward(path)


def test_a_reward_save_killed_midway_leaves_no_file_named_like_the_reward(tmp_path, monkeypatch):
    from fairl.irl import fit_reward

    rng = np.random.default_rng(0)
    reward = fit_reward(rng.normal(size=(20, 3)) + 1, rng.normal(size=(20, 3)), "max_margin", seed=0)
    real_savez = np.savez

    def killed(file, **arrays):
        real_savez(file, **arrays)
        raise KeyboardInterrupt  # after the bytes, before the rename

    monkeypatch.setattr(np, "savez", killed)
    with pytest.raises(KeyboardInterrupt):
        reward.save(tmp_path / "reward.npz")
    assert list(tmp_path.iterdir()) == []


RLHF = {"steps": 4, "learning_rate": 1e-5, "beta": 0.05}


def test_an_rlhf_policy_trained_under_other_settings_or_reward_is_refused(tmp_path):
    final = tmp_path / "final"
    final.mkdir()
    reward = reward_label(tmp_path / "fa_max_margin_converged_seed0.npz")
    write_sidecar(policy_sidecar(final), "rlhf", {**RLHF, "seed": 0, "precision": "fp32", "features": {}}, 0,
                  models={"base": "base", "reward": reward})
    check_rlhf_policy(final, RLHF, 0, "fp32", reward)  # the matching configuration passes
    with pytest.raises(ValueError) as error:
        check_rlhf_policy(final, {**RLHF, "steps": 8}, 0, "fp32", reward)
    assert "steps: input has 4, this run has 8" in str(error.value)
    assert "snakemake --forcerun rlhf" in str(error.value)
    with pytest.raises(ValueError, match="precision: input has 'fp32', this run has 'bf16'"):
        check_rlhf_policy(final, RLHF, 0, "bf16", reward)
    with pytest.raises(ValueError, match="trained against reward 'extracted:fa_max_margin_converged_seed0.npz'.*"
                                         "expects 'ground_truth'"):
        check_rlhf_policy(final, RLHF, 0, "fp32", reward_label(None))
    with pytest.raises(FileNotFoundError, match="has no sidecar"):
        check_rlhf_policy(tmp_path, RLHF, 0, "fp32", reward)
