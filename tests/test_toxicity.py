"""The toxicity stage in two steps: each policy's generations scored on their own (rule eval_generations, one job
per policy), then the table from all of them (rule toxicity). The split is sound only if a policy's evaluation does
not depend on what the process evaluated before it, and the table pairs every policy with the base."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from fairl.io import atomic_write_parquet
from fairl.lm.generation import GenerationConfig
from fairl.lm.policies import load_policy
from fairl.lm.stage_files import EVALUATION_COLUMNS, read_evaluation
from fairl.lm.toxicity import BASE, GROUND_TRUTH_JUDGE, evaluate_policy, toxic_column, toxicity_table
from fairl.provenance import write_sidecar

PROMPTS = pd.DataFrame({"prompt_id": np.arange(6), "text": ["you are an idiot", "have a nice day", "what a stupid",
                                                            "thanks for the", "shut up you", "I really enjoyed"]})
CONFIG = GenerationConfig(max_new_tokens=6, temperature=0.7, batch_size=4)


class LengthJudge:
    """A deterministic stand-in judge: longer texts are more toxic."""

    def __init__(self, name: str, scale: float):
        self.name, self.scale = name, scale

    def toxicity(self, texts):
        return np.array([min(1.0, len(text) / self.scale) for text in texts])

    def reward(self, texts):
        return -self.toxicity(texts)


JUDGES = {GROUND_TRUTH_JUDGE: LengthJudge(GROUND_TRUTH_JUDGE, 30.0), "other judge": LengthJudge("other judge", 15.0)}


@pytest.fixture(scope="module")
def policies(tiny_policy):
    base, tokenizer = load_policy(tiny_policy, device="cpu")
    moved, _ = load_policy(tiny_policy, device="cpu")
    with torch.no_grad():
        for parameter in moved.parameters():
            parameter.add_(0.2 * torch.randn_like(parameter, generator=torch.Generator().manual_seed(1)))
    return base, moved, tokenizer


def test_a_policys_evaluation_does_not_depend_on_what_the_process_evaluated_before(policies):
    base, moved, tokenizer = policies
    alone = evaluate_policy("moved", moved, base, tokenizer, PROMPTS, JUDGES, CONFIG, seed=3)
    evaluate_policy(BASE, base, base, tokenizer, PROMPTS, JUDGES, CONFIG, seed=3)  # consumes the global RNG
    torch.rand(17)
    after = evaluate_policy("moved", moved, base, tokenizer, PROMPTS, JUDGES, CONFIG, seed=3)
    pd.testing.assert_frame_equal(alone, after, check_exact=True)
    assert list(alone.columns) == [*EVALUATION_COLUMNS, toxic_column(GROUND_TRUTH_JUDGE), toxic_column("other judge")]
    other_seed = evaluate_policy("moved", moved, base, tokenizer, PROMPTS, JUDGES, CONFIG, seed=4)
    assert not other_seed["completion"].equals(alone["completion"])  # the seed is what fixes the samples


def test_the_table_pairs_each_policy_with_the_base_and_its_kl_is_the_mean_log_ratio(policies):
    base, moved, tokenizer = policies
    evaluated = {name: evaluate_policy(name, model, base, tokenizer, PROMPTS, JUDGES, CONFIG, seed=0)
                 for name, model in ((BASE, base), ("moved", moved))}
    generations, table = toxicity_table(evaluated, seed=0, n_boot=200)
    assert list(generations["reward"]) == [BASE] * 6 + ["moved"] * 6 and "log_ratio_to_base" not in generations
    assert list(table["judge"]) == [GROUND_TRUTH_JUDGE, "other judge"] * 2
    base_rows, moved_rows = table[table["reward"] == BASE], table[table["reward"] == "moved"]
    assert (base_rows["kl_to_base"] == 0).all() and (base_rows["diff_vs_reference"] == 0).all()
    assert np.allclose(moved_rows["kl_to_base"], evaluated["moved"]["log_ratio_to_base"].mean(), rtol=1e-12)
    assert (moved_rows["kl_to_base"] != 0).all()
    for judge in (GROUND_TRUTH_JUDGE, "other judge"):
        column = toxic_column(judge)
        expected = evaluated["moved"][column].mean() - evaluated[BASE][column].mean()
        row = moved_rows[moved_rows["judge"] == judge].iloc[0]
        assert row["diff_vs_reference"] == pytest.approx(expected)
        assert row["toxic_share"] == pytest.approx(evaluated["moved"][column].mean())
    assert moved_rows["mean_r_star"].iloc[0] == pytest.approx(evaluated["moved"]["r_star"].mean())


def test_the_table_refuses_generations_it_cannot_pair(policies):
    base, moved, tokenizer = policies
    evaluated = {name: evaluate_policy(name, model, base, tokenizer, PROMPTS, JUDGES, CONFIG, seed=0)
                 for name, model in ((BASE, base), ("moved", moved))}
    toxicity_table(evaluated, seed=0, n_boot=20)  # the matching generations pass
    with pytest.raises(ValueError, match="base policy's generations first"):
        toxicity_table({"moved": evaluated["moved"], BASE: evaluated[BASE]}, seed=0, n_boot=20)
    shuffled = evaluated["moved"].iloc[::-1].reset_index(drop=True)
    with pytest.raises(ValueError, match="'moved' answer other prompts"):
        toxicity_table({BASE: evaluated[BASE], "moved": shuffled}, seed=0, n_boot=20)
    one_judge = evaluated["moved"].drop(columns=toxic_column("other judge"))
    with pytest.raises(ValueError, match="evaluate every policy with the same judges"):
        toxicity_table({BASE: evaluated[BASE], "moved": one_judge}, seed=0, n_boot=20)


GENERATION = {"max_new_tokens": 6, "temperature": 0.7, "batch_size": 4}


def evaluation_file(tmp_path, table: pd.DataFrame, name: str = "moved"):
    path = tmp_path / f"{name}.parquet"
    atomic_write_parquet(table, path)
    write_sidecar(path, "eval_generations", {"seed": 0, "device": "cpu", "precision": "fp32", "generation": GENERATION})
    return path


def scored(name: str = "moved", r_star: float = 0.5) -> pd.DataFrame:
    return pd.DataFrame({"reward": name, "prompt_id": np.arange(3), "completion": ["a", "b", "c"],
                         "r_star": [r_star, 0.0, 1.0], "log_ratio_to_base": [0.1, 0.2, 0.3],
                         toxic_column(GROUND_TRUTH_JUDGE): [True, False, False]})


def test_an_evaluation_file_of_another_policy_setting_or_with_non_finite_numbers_is_refused(tmp_path):
    path = evaluation_file(tmp_path, scored())
    assert len(read_evaluation(path, "moved", GENERATION, 0, "fp32")) == 3  # the matching file passes
    with pytest.raises(ValueError, match=r"holds the generations of \['moved'\], not of 'base'"):
        read_evaluation(path, BASE, GENERATION, 0, "fp32")
    with pytest.raises(ValueError, match="max_new_tokens") as error:
        read_evaluation(path, "moved", {**GENERATION, "max_new_tokens": 8}, 0, "fp32")
    assert "snakemake --forcerun eval_generations" in str(error.value)
    with pytest.raises(ValueError, match="precision: input has 'fp32', this run has 'bf16'"):
        read_evaluation(path, "moved", GENERATION, 0, "bf16")
    (tmp_path / "nan").mkdir()
    broken = evaluation_file(tmp_path / "nan", scored(r_star=float("nan")))
    with pytest.raises(ValueError, match="non-finite r\\* or log-ratios"):
        read_evaluation(broken, "moved", GENERATION, 0, "fp32")
