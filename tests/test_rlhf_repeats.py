"""RLHF repeats and several completions per pairs prompt, end to end on the tiny chain: every reward RLHF'd twice
(repeat 1: seed lm.seed + 1, the second IRL seed's reward), every run evaluated, the repeats table's verdicts read
from an interval over runs, and the paper comparison reading them."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import TINY, fresh_clone

pytestmark = pytest.mark.slow

OUT = "out/tiny_repeats"
OVERLAY = f"""output_root: {OUT}
lm:
  rlhf_repeats: 2
  irl: {{seeds: [0, 1]}}
  pairs: {{completions_per_prompt: 2}}
"""
TARGETS = ["results/lm/rerlhf_repeats.csv", "results/paper_vs_reproduced.csv", "paper_figures/lm_rerlhf_training.png"]
RUNS = ["ground_truth", "ground_truth-1", "max_margin", "max_margin-1", "fa_max_margin", "fa_max_margin-1"]


@pytest.fixture(scope="module")
def repeats_run(tmp_path_factory):
    workdir = fresh_clone(tmp_path_factory.mktemp("repeats"))
    (workdir / "repeats.yaml").write_text(OVERLAY)
    done = subprocess.run([sys.executable, "-m", "snakemake", *TARGETS, "--cores", "2", "--configfile", TINY,
                           "repeats.yaml"], cwd=workdir, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-5000:]
    return workdir / OUT


def test_every_run_is_trained_with_its_seed_against_its_reward_and_evaluated(repeats_run):
    for run, seed, reward in (("fa_max_margin-1", 1, "extracted:fa_max_margin_equal_budget_seed1.npz"),
                              ("fa_max_margin", 0, "extracted:fa_max_margin_equal_budget_seed0.npz"),
                              ("ground_truth-1", 1, "ground_truth")):
        sidecar = json.loads((repeats_run / f"work/tiny/rlhf/{run}/final/policy.meta.json").read_text())
        assert sidecar["seed"] == seed and sidecar["models"]["reward"] == reward, run
    toxicity = pd.read_csv(repeats_run / "results/lm/rerlhf_toxicity.csv")
    assert list(dict.fromkeys(toxicity["reward"])) == ["base", *RUNS]
    assert set(toxicity.loc[toxicity["reward"] == "fa_max_margin-1", "label"]) == {"FA-IRL: fa_max_margin, repeat 1"}


def test_pairs_hold_two_completions_per_prompt(repeats_run):
    pairs = pd.read_parquet(repeats_run / "work/tiny/pairs.parquet")
    assert (pairs.groupby("prompt_id").size() == 2).all() and pairs["prompt_id"].nunique() == 40
    metrics = pd.read_csv(repeats_run / "results/lm/tiny/irl_metrics_per_seed.csv")
    assert ((metrics["n_train"] + metrics["n_test"] + metrics["n_ties_dropped"]) == len(pairs)).all()


def test_repeats_table_summarises_the_runs_of_each_reward(repeats_run):
    runs = pd.read_csv(repeats_run / "results/lm/rerlhf_toxicity.csv")
    table = pd.read_csv(repeats_run / "results/lm/rerlhf_repeats.csv")
    assert list(dict.fromkeys(table["reward"])) == ["base", "ground_truth", "max_margin", "fa_max_margin"]
    repeated = table[table["reward"] != "base"]
    assert (repeated["n_runs"] == 2).all() and (repeated["unit"] == "runs").all()
    assert (table.loc[table["reward"] == "base", "unit"] == "prompts").all()
    for _, row in repeated.iterrows():
        shares = runs.loc[runs["reward"].str.fullmatch(rf"{row['reward']}(-1)?") & (runs["judge"] == row["judge"]),
                          "toxic_share"]
        assert len(shares) == 2 and row["toxic_share"] == pytest.approx(shares.mean())
    fa = table[table["role"] == "fa_irl"]
    assert len(fa) == 2 and fa["toxic_share_verdict"].isin(["holds", "contradicted", "inconclusive"]).all()
    assert (fa["toxic_share_n_paired"] == 2).all() and fa["diff_vs_r_star"].notna().all()
    claims = pd.read_csv(repeats_run / "results/paper_vs_reproduced.csv")
    toxic = claims[(claims["kind"] == "claim") & claims["quantity"].str.contains("toxic")]
    assert len(toxic) == 2 and toxic["note"].str.contains("paired over 2 runs").all()
    assert (repeats_run / "paper_figures/lm_rerlhf_training.png").stat().st_size > 10_000
