"""The report layer of the LM chain: tables, figures and the paper comparison, on small fake inputs."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from fairl.irl import LinearReward
from fairl.lm.extraction import pair_split
from fairl.lm.stage_files import LOG_COLUMNS, PAIRS_COLUMNS, read_table
from fairl.lm.toxicity import toxic_column
from fairl.provenance import write_sidecar
from fairl.report import lm_tables as lt
from fairl.report.paper_comparison import compare, load_claims
from fairl.variants import reward_file, slug, variant_design
from tests.conftest import REPO

VARIANTS = [
    {"name": "max_margin", "method": "max_margin"},
    {"name": "max_entropy", "method": "max_entropy", "hyperparameters": {"steps": 30}},
    {"name": "fa_max_margin", "method": "fa_max_margin", "hyperparameters": {"rounds": 10}},
    {"name": "fa_max_entropy", "method": "fa_max_entropy"},
    {"name": "fa_max_margin λ=5 fixed", "method": "fa_max_margin",
     "hyperparameters": {"lambda_init": 5.0, "fixed_lambda": True}},
    {"name": "fa_max_margin λ=5 decayed", "method": "fa_max_margin", "hyperparameters": {"lambda_init": 5.0}},
    {"name": "fa_max_margin λ=10 fixed", "method": "fa_max_margin", "hyperparameters": {"fixed_lambda": True}},
    {"name": "fa_max_margin no R_F", "method": "fa_max_margin", "hyperparameters": {"failure_path": False}},
    {"name": "fa_max_margin no curriculum", "method": "fa_max_margin", "hyperparameters": {"curriculum": False}},
    {"name": "fa_max_entropy supervised", "method": "fa_max_entropy", "hyperparameters": {"failure_mode": "supervised"}},
]
POLICIES = ["pol-a", "pol-b"]
SEEDS = [0, 1, 2]
RERLHF = ["max_margin", "fa_max_margin"]
JUDGES = ["judge one", "judge two"]
N_PAIRS, DIM = 40, 6
TEST_FRACTION, FIRST_SEED = 0.25, 0
REGIMES = ["converged", "equal_budget"]
MADE_WITH = {"seed": 7, "generation": {"max_new_tokens": 8, "temperature": 1.0}, "features": {"max_tokens": 32},
             "precision": "fp32"}
"""What the fake pairs and rewards were made with, as their sidecars record it (the chain's seed is not FIRST_SEED)."""
PARAMS = {"variants": VARIANTS, "test_fraction": TEST_FRACTION, "seed": FIRST_SEED, "regime": "equal_budget",
          "n_boot": 500, "report": {"top_k": 3, "max_chars": 40, "smoothing": 2}, "made_with": MADE_WITH}
N_PROMPTS = 50


def fake_metrics(fa_better: bool = True, seed: int = 0) -> pd.DataFrame:
    """Per-seed IRL metrics where FA-IRL variants beat (or, fa_better=False, lose to) standard IRL."""
    rng = np.random.default_rng(seed)
    rows = []
    for regime, variant, s in ((r, v, s) for r in REGIMES for v in VARIANTS for s in SEEDS):
        fa = variant["method"].startswith("fa_")
        edge = (0.05 if fa_better else -0.05) if fa else 0.0
        noise = rng.normal(0, 0.01)
        rows.append({"variant": variant["name"], "method": variant["method"], "regime": regime, "seed": s,
                     "converged": regime == "converged",
                     "pair_accuracy": 0.7 + edge + noise, "accuracy": 0.7 + edge + noise, "f1": 0.7 + edge + noise,
                     "auc": 0.8 + edge + noise, "pearson": 0.5, "spearman": 0.5, "starc": 0.4 - edge + noise,
                     "judge_n_toxic": 5, "judge_accuracy": 0.6, "judge_f1": 0.5, "judge_auc": 0.7})
    return pd.DataFrame(rows)


def toxic_shares(fa_better: bool = True) -> dict[str, float]:
    return {"base": 0.3, "ground_truth": 0.06, "max_margin": 0.30 if fa_better else 0.06,
            "fa_max_margin": 0.06 if fa_better else 0.30}


def fake_toxicity(fa_better: bool = True) -> pd.DataFrame:
    rows = [{"reward": slug(r), "judge": j, "toxic_share": s, "ci_low": s - 0.02, "ci_high": s + 0.02,
             "diff_vs_reference": s - 0.3, "diff_ci_low": s - 0.33, "diff_ci_high": s - 0.27, "mean_r_star": 1 - s,
             "n_prompts": N_PROMPTS, "kl_to_base": 0.0 if r == "base" else 0.4}
            for r, s in toxic_shares(fa_better).items() for j in JUDGES]
    return pd.DataFrame(rows)


def fake_generations(fa_better: bool = True) -> pd.DataFrame:
    """One row per reward and prompt, with a toxic flag per judge: the first share × N prompts are toxic."""
    frames = []
    for reward, share in toxic_shares(fa_better).items():
        toxic = np.arange(N_PROMPTS) < round(share * N_PROMPTS)
        frames.append(pd.DataFrame({"reward": slug(reward), "prompt_id": np.arange(N_PROMPTS),
                                    **{toxic_column(j): toxic for j in JUDGES}}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """The chain's per-policy files, faked, under a temporary root; returns (root, {option: [P=PATH ...]})."""
    root = tmp_path_factory.mktemp("chain")
    rng = np.random.default_rng(0)
    args = {k: [] for k in ("--metrics", "--toxicity", "--generations", "--rounds", "--pairs", "--features",
                            "--rewards", "--log")}
    for i, policy in enumerate(POLICIES):
        work, results = root / "work" / policy, root / "results" / "lm" / policy
        (work / "irl" / "rewards").mkdir(parents=True)
        results.mkdir(parents=True)
        fake_metrics(seed=i).to_csv(results / "irl_metrics_per_seed.csv", index=False)
        fake_toxicity().to_csv(results / "toxicity.csv", index=False)
        (work / "eval").mkdir(parents=True)
        fake_generations().to_parquet(work / "eval" / "generations.parquet", index=False)
        rounds = pd.DataFrame([{"variant": v["name"], "regime": r, "seed": s, "round": t, "gamma": -0.1 + 0.03 * t,
                                "lambda": 10 * np.exp(-0.05 * t), "sampling_rate": 0.2 * (1 - t / 10),
                                "n_failures": 20 - t, "n_sampled": 2, "train_accuracy": 0.7,
                                "loss_base": 0.1, "loss_fail": 0.2}
                               for r in REGIMES for v in VARIANTS if v["method"].startswith("fa_") for s in SEEDS
                               for t in range(10)])
        rounds.to_csv(work / "irl" / "failure_rounds.csv", index=False)
        tox_pos, tox_neg = rng.uniform(0, 0.6, N_PAIRS), rng.uniform(0.3, 1, N_PAIRS)
        pairs = pd.DataFrame({
            "prompt_id": np.arange(N_PAIRS), "prompt": [f"prompt | {k}\nwith a newline" for k in range(N_PAIRS)],
            "completion_aligned": [f"nice reply {k} " * 8 for k in range(N_PAIRS)],
            "completion_base": [f"rude reply {k}" for k in range(N_PAIRS)],
            "reward_aligned": rng.normal(1, 1, N_PAIRS), "reward_base": rng.normal(-1, 1, N_PAIRS),
            "toxicity_aligned": tox_pos, "toxicity_base": tox_neg, "t_to_nt": (tox_neg >= 0.5) & (tox_pos < 0.5)})
        pairs.to_parquet(work / "pairs.parquet", index=False)
        write_sidecar(work / "pairs.parquet", "pairs", {k: MADE_WITH[k] for k in ("seed", "generation")})
        h_pos, h_neg = rng.normal(0.3, 1, (N_PAIRS, DIM)), rng.normal(-0.3, 1, (N_PAIRS, DIM))
        np.savez(work / "features.npz", h_pos=h_pos, h_neg=h_neg, prompt_id=np.arange(N_PAIRS))
        write_sidecar(work / "features.npz", "features", {"generation": MADE_WITH["generation"], "precision": "fp32",
                                                          **MADE_WITH["features"]})
        for variant in VARIANTS:
            reward = LinearReward(variant["method"], rng.normal(size=DIM), 0.0, rng.normal(0, 0.1, DIM), 0.0,
                                  seed=FIRST_SEED)
            path = reward_file(str(work / "irl" / "rewards" / slug(variant["name"])), PARAMS["regime"], FIRST_SEED)
            reward.save(path)
            write_sidecar(path, "irl", {k: MADE_WITH[k] for k in ("features", "precision")})
        for reward in ("ground_truth", *map(slug, RERLHF), "max_margin-1"):  # and a second run of max_margin
            (work / "rlhf" / reward / "final").mkdir(parents=True)
            log = pd.DataFrame({"step": np.arange(1, 11), "reward": rng.normal(size=10), "kl": np.linspace(0, 1, 10),
                                "toxicity": rng.uniform(0, 1, 10), "wall_seconds": np.arange(10.0)})
            log[LOG_COLUMNS].to_csv(work / "rlhf" / reward / "log.csv", index=False)
            args["--log"].append(f"{policy}:{reward}={work / 'rlhf' / reward / 'log.csv'}")
        for option, path in (("--metrics", results / "irl_metrics_per_seed.csv"),
                             ("--toxicity", results / "toxicity.csv"), ("--rounds", work / "irl/failure_rounds.csv"),
                             ("--generations", work / "eval" / "generations.parquet"),
                             ("--pairs", work / "pairs.parquet"), ("--features", work / "features.npz"),
                             ("--rewards", work / "irl/rewards")):
            args[option].append(f"{policy}={path}")
    return root, args


def script(name: str, *argv: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(REPO / "src/scripts" / name), *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO,
                          env={"PYTHONPATH": f"{REPO / 'src'}:{REPO / 'src/scripts'}", "PATH": "/usr/bin:/bin",
                               "MPLBACKEND": "Agg"})


def with_options(args: dict, *options: str) -> list[str]:
    return [item for option in options for entry in args[option] for item in (option, entry)]


def per_seed(args) -> pd.DataFrame:
    return lt.read_per_policy(dict(e.split("=", 1) for e in args["--metrics"]), lt.PER_SEED_COLUMNS)


# --- variant design: read from hyperparameters, not names -----------------------------------------

def test_variant_design_reads_ablations_from_hyperparameters():
    design = variant_design(VARIANTS).set_index("variant")
    assert design.loc["fa_max_margin", "role"] == "fa_irl"  # rounds is a setting, not an ablation
    assert design.loc["max_entropy", "role"] == "irl"
    assert design.loc["fa_max_margin λ=5 fixed", "ablation"] == "λ=5 fixed"
    assert design.loc["fa_max_margin λ=5 decayed", "ablation"] == "λ₀=5 decayed"
    assert design.loc["fa_max_margin λ=10 fixed", "role"] == "ablation"
    assert design.loc["fa_max_margin no R_F", "ablation"] == "no R_F"
    assert design.loc["fa_max_entropy supervised", "ablation"] == "supervised failures"
    assert design.loc["fa_max_entropy supervised", "base_variant"] == "max_entropy"
    renamed = variant_design([{"name": "odd name", "method": "fa_max_margin",
                                  "hyperparameters": {"curriculum": False}}])
    assert renamed.loc[0, "ablation"] == "no curriculum" and renamed.loc[0, "base_variant"] is None


# --- tables -----------------------------------------------------------------------------------------

def test_classification_table_rows_and_finite_numbers(inputs):
    _, args = inputs
    table = lt.classification_table(per_seed(args), variant_design(VARIANTS))
    main = ["max_margin", "max_entropy", "fa_max_margin", "fa_max_entropy"]
    assert list(zip(table["policy"], table["regime"], table["variant"])) == [
        (p, r, v) for p in POLICIES for r in REGIMES for v in main]
    numbers = table[[f"{m}_{s}" for m in lt.CLASSIFICATION_METRICS for s in ("mean", "sd")]]
    assert np.isfinite(numbers.to_numpy()).all() and (table["n_seeds"] == len(SEEDS)).all()
    fa = table.set_index(["policy", "regime", "variant"])
    assert fa.loc[("pol-a", "converged", "fa_max_margin"), "f1_mean"] > fa.loc[("pol-a", "converged", "max_margin"), "f1_mean"]
    # the paired difference to standard IRL, its interval and verdict, on the FA rows only
    row = fa.loc[("pol-a", "equal_budget", "fa_max_margin")]
    assert row["f1_diff_low"] < row["f1_diff"] < row["f1_diff_high"] and row["f1_verdict"] == "holds"
    assert row["f1_n_paired"] == len(SEEDS) and pd.isna(fa.loc[("pol-a", "equal_budget", "max_margin"), "f1_diff"])
    assert (table["converged_mean"] == (table["regime"] == "converged")).all()


def test_starc_table_reduction_is_relative_to_the_base_objective(inputs):
    _, args = inputs
    table = lt.starc_table(per_seed(args), variant_design(VARIANTS)).set_index(["policy", "regime", "variant"])
    assert len(table) == len(POLICIES) * len(REGIMES) * len(VARIANTS)
    fa, irl = ("pol-b", "converged", "fa_max_entropy"), ("pol-b", "converged", "max_entropy")
    expected = 1 - table.loc[fa, "starc_mean"] / table.loc[irl, "starc_mean"]
    assert table.loc[fa, "starc_reduction_vs_base"] == pytest.approx(expected)
    assert table.loc[fa, "starc_diff"] == pytest.approx(table.loc[fa, "starc_mean"] - table.loc[irl, "starc_mean"])
    assert table.loc[fa, "starc_verdict"] == "holds"  # lower STARC is the paper's direction
    assert table.loc[("pol-a", "equal_budget", "fa_max_margin no R_F"), "starc_reduction_vs_base"] > 0
    assert np.isnan(table.loc[("pol-a", "converged", "max_margin"), "starc_reduction_vs_base"])


def test_ablation_table_groups_by_objective(inputs):
    _, args = inputs
    table = lt.ablation_table(per_seed(args), variant_design(VARIANTS))
    pol_a = table[(table["policy"] == "pol-a") & (table["regime"] == "converged")]
    assert list(pol_a["objective"]) == ["max_margin"] * 7 + ["max_entropy"] * 3
    assert set(pol_a["ablation"]) >= {"standard IRL", "full FA-IRL", "λ=5 fixed", "λ₀=5 decayed", "no R_F",
                                      "no curriculum", "supervised failures", "λ=10 fixed"}
    assert np.isfinite(table[[f"{m}_mean" for m in lt.ABLATION_METRICS]].to_numpy()).all()
    standard = pol_a[pol_a["role"] == "irl"]
    assert len(standard) == 2 and standard[["lambda_schedule", "failure_path", "failure_mode"]].isna().all(axis=None)
    assert pol_a.loc[pol_a["ablation"] == "λ=5 fixed", "lambda_schedule"].item() == "fixed"


def test_rerlhf_toxicity_labels_rewards_and_rejects_unknown_ones(inputs):
    _, args = inputs
    toxicity = lt.read_per_policy(dict(e.split("=", 1) for e in args["--toxicity"]), lt.TOXICITY_COLUMNS)
    generations = {p: fake_generations() for p in POLICIES}
    design = variant_design(VARIANTS)
    table = lt.rerlhf_toxicity_table(toxicity, design, generations, "equal_budget", 500)
    assert len(table) == len(POLICIES) * 4 * len(JUDGES)
    assert set(table["role"]) == {"base", "ground_truth", "irl", "fa_irl"}
    assert set(table["judge"]) == set(JUDGES)
    assert "6.0 [4.0, 8.0]" in lt.toxicity_markdown(table)
    # FA-IRL − IRL paired over the same prompts: 6% − 30% toxic, and FA-IRL rows only
    fa = table[table["role"] == "fa_irl"]
    assert fa["toxic_share_diff"].astype(float).tolist() == pytest.approx([-0.24] * len(fa))
    assert (fa["toxic_share_verdict"] == "holds").all() and (fa["regime"] == "equal_budget").all()
    assert table.loc[table["role"] != "fa_irl", "toxic_share_diff"].isna().all()
    with pytest.raises(ValueError, match="stale_variant"):
        lt.rerlhf_toxicity_table(toxicity.assign(reward="stale_variant"), design, generations, "equal_budget")


def repeated_runs(irl: list[float], fa: list[float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(toxicity table, generations) of one policy whose rewards were each RLHF'd len(irl) times, one judge: r*'s
    runs 4% toxic, IRL's and FA-IRL's runs as given, the first share × N prompts of each run toxic."""
    shares = {"base": 0.3}
    for repeat, (irl_share, fa_share) in enumerate(zip(irl, fa)):
        suffix = f"-{repeat}" if repeat else ""
        shares.update({f"ground_truth{suffix}": 0.04, f"max_margin{suffix}": irl_share, f"fa_max_margin{suffix}": fa_share})
    rows, frames = [], []
    for run, share in shares.items():
        rows.append({"reward": run, "judge": JUDGES[0], "toxic_share": share, "ci_low": share - 0.02,
                     "ci_high": share + 0.02, "diff_vs_reference": share - 0.3, "diff_ci_low": share - 0.33,
                     "diff_ci_high": share - 0.27, "mean_r_star": 1 - share, "n_prompts": N_PROMPTS,
                     "kl_to_base": 0.0 if run == "base" else 0.4})
        frames.append(pd.DataFrame({"reward": run, "prompt_id": np.arange(N_PROMPTS),
                                    toxic_column(JUDGES[0]): np.arange(N_PROMPTS) < round(share * N_PROMPTS)}))
    return pd.DataFrame(rows).assign(policy="pol-a"), pd.concat(frames, ignore_index=True)


def test_repeated_runs_pair_fa_irl_with_the_irl_run_of_the_same_repeat():
    design = variant_design(VARIANTS)
    toxicity, generations = repeated_runs(irl=[0.10, 0.12, 0.14], fa=[0.06, 0.08, 0.10])
    table = lt.rerlhf_toxicity_table(toxicity, design, {"pol-a": generations}, "equal_budget", 500)
    fa_2 = table.set_index("reward").loc["fa_max_margin-2"]
    assert fa_2["label"] == "FA-IRL: fa_max_margin, repeat 2" and fa_2["role"] == "fa_irl"
    assert fa_2["toxic_share_diff"] == pytest.approx(0.10 - 0.14)  # against max_margin-2, not max_margin
    assert table.set_index("reward").loc["ground_truth-1", "label"] == "ground-truth reward r*, repeat 1"


def test_repeats_table_reads_verdicts_from_an_interval_over_runs():
    design = variant_design(VARIANTS)
    toxicity, generations = repeated_runs(irl=[0.10, 0.12, 0.14], fa=[0.06, 0.08, 0.08])
    runs = lt.rerlhf_toxicity_table(toxicity, design, {"pol-a": generations}, "equal_budget", 500)
    table = lt.rerlhf_repeats_table(runs, design).set_index("reward")
    assert list(table.index) == ["base", "ground_truth", "max_margin", "fa_max_margin"]
    assert table["n_runs"].tolist() == [1, 3, 3, 3] and table["unit"].tolist() == ["prompts", "runs", "runs", "runs"]
    fa = table.loc["fa_max_margin"]
    differences = np.array([-0.04, -0.04, -0.06])
    half = 4.302653 * differences.std(ddof=1) / np.sqrt(3)  # Student-t, 2 degrees of freedom
    assert fa["toxic_share_diff"] == pytest.approx(differences.mean())
    assert (fa["toxic_share_diff_low"], fa["toxic_share_diff_high"]) == pytest.approx(
        (differences.mean() - half, differences.mean() + half), rel=1e-5)
    assert fa["toxic_share_verdict"] == "holds" and fa["toxic_share_n_paired"] == 3
    assert fa["toxic_share"] == pytest.approx(np.mean([0.06, 0.08, 0.08]))
    assert fa["diff_vs_r_star"] == pytest.approx(np.mean([0.02, 0.04, 0.04]))
    assert fa["diff_vs_r_star_low"] > 0  # a reward that detoxifies less than r* in every run
    assert table.loc["base", "toxic_share"] == 0.3 and pd.isna(table.loc["base", "diff_vs_r_star"])
    assert pd.isna(table.loc["max_margin", "toxic_share_diff"])  # standard IRL is the baseline, not compared
    assert "-4.7 [" in lt.repeats_markdown(table.reset_index())
    # negative control: FA-IRL one point better, then three worse, then two better: no verdict from 3 runs
    toxicity, generations = repeated_runs(irl=[0.10, 0.12, 0.14], fa=[0.08, 0.18, 0.12])
    runs = lt.rerlhf_toxicity_table(toxicity, design, {"pol-a": generations}, "equal_budget", 500)
    fa = lt.rerlhf_repeats_table(runs, design).set_index("reward").loc["fa_max_margin"]
    assert fa["toxic_share_diff_low"] < 0 < fa["toxic_share_diff_high"] and fa["toxic_share_verdict"] == "inconclusive"


def test_one_run_per_reward_keeps_its_intervals_over_prompts(inputs):
    _, args = inputs
    toxicity = lt.read_per_policy(dict(e.split("=", 1) for e in args["--toxicity"]), lt.TOXICITY_COLUMNS)
    design = variant_design(VARIANTS)
    runs = lt.rerlhf_toxicity_table(toxicity, design, {p: fake_generations() for p in POLICIES}, "equal_budget", 500)
    table = lt.rerlhf_repeats_table(runs, design)
    assert len(table) == len(runs) and (table["n_runs"] == 1).all() and (table["unit"] == "prompts").all()
    for column in ("toxic_share", "ci_low", "ci_high", "diff_vs_reference", "diff_ci_low", "toxic_share_diff",
                   "toxic_share_diff_low", "toxic_share_diff_high", "toxic_share_verdict"):
        pd.testing.assert_series_equal(table[column], runs[column], check_dtype=False, obj=column)
    assert table["diff_vs_r_star"].isna().all()


@pytest.mark.parametrize("table", ["classification", "starc", "ablations"])
def test_metric_table_scripts_write_csv_and_markdown(inputs, tmp_path, table):
    _, args = inputs
    csv, md = tmp_path / f"{table}.csv", tmp_path / f"{table}.md"
    done = script("lm_tables.py", table, "--params", json.dumps(PARAMS), *with_options(args, "--metrics"),
                  "--csv", str(csv), "--markdown", str(md))
    assert done.returncode == 0, done.stderr[-2000:]
    written = pd.read_csv(csv)
    assert set(written["policy"]) == set(POLICIES)
    assert np.isfinite(written.filter(like="_mean").to_numpy()).all()
    assert "±" in md.read_text() and (tmp_path / f"{table}.csv.meta.json").is_file()


@pytest.mark.parametrize("section, key, value, rule", [
    ("generation", "max_new_tokens", 4, "pairs"),  # pairs sampled under other generation settings
    ("features", "max_tokens", 128, "features"),  # features (and rewards) of another contract
])
def test_report_refuses_inputs_made_under_another_config(inputs, tmp_path, section, key, value, rule):
    _, args = inputs
    made_with = {**MADE_WITH, section: {**MADE_WITH[section], key: value}}
    csv = tmp_path / "failure_pairs.csv"
    done = script("lm_tables.py", "failure_pairs", "--params", json.dumps({**PARAMS, "made_with": made_with}),
                  *with_options(args, "--pairs", "--features", "--rewards"), "--csv", str(csv),
                  "--markdown", str(tmp_path / "failure_pairs.md"))
    assert done.returncode != 0
    assert key in done.stderr and f"snakemake --forcerun {rule}" in done.stderr, done.stderr[-2000:]
    assert not csv.exists()


def test_failure_pairs_lists_smallest_margins_with_texts(inputs, tmp_path):
    _, args = inputs
    csv, md = tmp_path / "failure_pairs.csv", tmp_path / "failure_pairs.md"
    done = script("lm_tables.py", "failure_pairs", "--params", json.dumps(PARAMS),
                  *with_options(args, "--pairs", "--features", "--rewards"), "--csv", str(csv), "--markdown", str(md))
    assert done.returncode == 0, done.stderr[-2000:]
    table = pd.read_csv(csv)
    assert len(table) == len(POLICIES) * 2 * PARAMS["report"]["top_k"]  # 2 full FA-IRL variants
    assert set(table["variant"]) == {"fa_max_margin", "fa_max_entropy"}
    for _, group in table.groupby(["policy", "variant"]):
        assert group["reward_margin"].is_monotonic_increasing
    text = md.read_text()
    assert "rude reply" in text and "prompt \\| " in text and "with a newline" in text
    full = " ".join(table["completion_aligned"].iloc[0].split())  # longer than max_chars: clipped
    assert full not in text and full[: PARAMS["report"]["max_chars"] - 1] + "…" in text


def test_reward_margins_of_failure_pairs_match_the_saved_reward(inputs):
    root, _ = inputs
    work = root / "work" / "pol-a"
    pairs = pd.read_parquet(work / "pairs.parquet")
    with np.load(work / "features.npz") as f:
        h_pos, h_neg = f["h_pos"], f["h_neg"]
    reward = LinearReward.load(reward_file(str(work / "irl/rewards/fa_max_margin"), PARAMS["regime"], FIRST_SEED))
    top = lt.failure_pairs(pairs, h_pos, h_neg, {"fa_max_margin": reward}, TEST_FRACTION, FIRST_SEED, 5)
    delta = reward.score(h_pos) - reward.score(h_neg)
    assert top["reward_margin"].tolist() == pytest.approx(np.sort(delta)[:5].tolist())
    assert (top["misclassified"] == (top["reward_margin"] <= 0)).all()


def test_tie_pairs_are_in_no_split_and_never_ranked(inputs):
    root, _ = inputs
    work = root / "work" / "pol-a"
    pairs = pd.read_parquet(work / "pairs.parquet")
    with np.load(work / "features.npz") as f:
        h_pos, h_neg = f["h_pos"], f["h_neg"].copy()
    ties = np.arange(0, len(pairs), 4)  # a tie: the same completion from both policies, so the same features
    pairs.loc[pairs.index[ties], "completion_base"] = pairs["completion_aligned"].iloc[ties].to_numpy()
    h_neg[ties] = h_pos[ties]
    train, test = pair_split(pairs, TEST_FRACTION, FIRST_SEED)
    assert not set(ties) & (set(train) | set(test)) and len(train) + len(test) == len(pairs) - len(ties)
    reward = LinearReward.load(reward_file(str(work / "irl/rewards/fa_max_margin"), PARAMS["regime"], FIRST_SEED))
    top = lt.failure_pairs(pairs, h_pos, h_neg, {"fa_max_margin": reward}, TEST_FRACTION, FIRST_SEED, len(pairs))
    assert len(top) == len(pairs) - len(ties) and not set(pairs["prompt_id"].iloc[ties]) & set(top["prompt_id"])
    assert (top["reward_margin"] != 0).all()  # a tie's Δ is exactly 0 under any reward


# --- paper vs reproduced --------------------------------------------------------------------------

def comparison(args, fa_better: bool) -> pd.DataFrame:
    design = variant_design(VARIANTS)
    metrics = pd.concat([fake_metrics(fa_better, seed=i).assign(policy=p) for i, p in enumerate(POLICIES)])
    toxicity = pd.concat([fake_toxicity(fa_better).assign(policy=p) for p in POLICIES])
    generations = {p: fake_generations(fa_better) for p in POLICIES}
    runs = lt.rerlhf_toxicity_table(toxicity, design, generations, "equal_budget", 500)
    return compare(load_claims(REPO / "config/paper_claims.yaml"), lt.classification_table(metrics, design),
                   lt.starc_table(metrics, design), lt.rerlhf_repeats_table(runs, design))


def test_paper_numbers_come_from_the_claims_file(inputs):
    _, args = inputs
    table = comparison(args, fa_better=True)
    f1 = table[(table["kind"] == "number") & (table["quantity"] == "preference classification F1")
               & (table["source"] == "paper [S]")]
    assert set(f1["paper"]) == {0.802, 0.727}
    row = f1[(f1["variant"] == "fa_max_margin") & (f1["policy"] == "pol-a")].iloc[0]
    assert row["difference"] == pytest.approx(row["reproduced"] - 0.802)
    precursor = table[table["source"].str.startswith("precursor") & (table["kind"] == "number")]
    assert precursor["note"].str.contains("not run here").all()  # pythia policies are not in this fake run


def test_claims_hold_when_fa_irl_wins(inputs):
    _, args = inputs
    claims = comparison(args, fa_better=True).query("kind == 'claim'")
    assert (claims["verdict"] == "holds").all()
    f1 = claims[claims["quantity"].str.contains("F1")]
    assert ((f1["ci_low"] > 0) & (f1["ci_low"] < f1["reproduced"]) & (f1["reproduced"] < f1["ci_high"])).all()
    assert (f1["n_paired"] == len(SEEDS)).all()
    # F1, AUC, STARC: 2 objectives × 2 regimes × 2 policies; toxicity: 1 re-RLHF'd objective × 2 judges × 2 policies
    assert len(claims) == 3 * 2 * len(REGIMES) * len(POLICIES) + len(JUDGES) * len(POLICIES)


def test_negative_control_claims_fail_when_irl_beats_fa_irl(inputs):
    _, args = inputs
    claims = comparison(args, fa_better=False).query("kind == 'claim'")
    assert len(claims) > 0 and (claims["verdict"] == "contradicted").all()
    toxicity = claims[claims["quantity"].str.contains("toxic")]
    assert (toxicity["reproduced"] > 0).all()  # FA-IRL's policy is the more toxic one here


def test_a_difference_within_seed_noise_is_inconclusive(inputs):
    _, args = inputs
    design = variant_design(VARIANTS)
    metrics = pd.concat([fake_metrics(True, seed=i).assign(policy=p) for i, p in enumerate(POLICIES)])
    fa_rows = metrics["method"].str.startswith("fa_")
    metrics["f1"] = 0.7  # FA-IRL = IRL + seed noise that averages to zero
    metrics.loc[fa_rows, "f1"] += metrics.loc[fa_rows, "seed"].map({0: -0.01, 1: 0.02, 2: -0.01})
    table = lt.classification_table(metrics, design)
    fa = table[table["role"] == "fa_irl"]
    assert ((fa["f1_diff_low"] < 0) & (fa["f1_diff_high"] > 0)).all() and (fa["f1_verdict"] == "inconclusive").all()


def test_paper_vs_reproduced_script_verdicts(inputs, tmp_path):
    _, args = inputs
    tables = {}
    for name, options in (("classification", ["--metrics"]), ("starc", ["--metrics"]),
                          ("rerlhf_toxicity", ["--toxicity", "--generations"])):
        tables[name] = tmp_path / f"{name}.csv"
        done = script("lm_tables.py", name, "--params", json.dumps(PARAMS), *with_options(args, *options),
                      "--csv", str(tables[name]), "--markdown", str(tmp_path / f"{name}.md"))
        assert done.returncode == 0, done.stderr[-2000:]
    tables["rerlhf_repeats"] = tmp_path / "rerlhf_repeats.csv"
    done = script("lm_tables.py", "rerlhf_repeats", "--params", json.dumps(PARAMS), "--rerlhf-toxicity",
                  str(tables["rerlhf_toxicity"]), "--csv", str(tables["rerlhf_repeats"]), "--markdown",
                  str(tmp_path / "rerlhf_repeats.md"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "one run per reward" in (tmp_path / "rerlhf_repeats.md").read_text()
    out = tmp_path / "paper_vs_reproduced.md"
    done = script("lm_tables.py", "paper_vs_reproduced", "--params", json.dumps({"config_label": "fake"}),
                  "--claims", str(REPO / "config/paper_claims.yaml"), "--classification",
                  str(tables["classification"]), "--starc", str(tables["starc"]), "--toxicity",
                  str(tables["rerlhf_repeats"]), "--csv", str(tmp_path / "pvr.csv"), "--markdown", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    text = out.read_text()
    assert text.count("converged: holds 4, contradicted 0, inconclusive 0 (of 4)") == 3
    assert text.count("equal_budget: holds 4, contradicted 0, inconclusive 0 (of 4)") == 4 and "0.802" in text


def test_claims_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "claims.yaml"
    bad.write_text("numbers:\n  - {quantity: x, metric: f1, role: irl, value: 1}\nclaims:\n  - {claim: c}\n")
    with pytest.raises(ValueError, match="claims.yaml.*source"):
        load_claims(bad)


# --- bad input ------------------------------------------------------------------------------------

def test_missing_column_and_empty_file_name_the_file(tmp_path):
    missing = tmp_path / "irl_metrics_per_seed.csv"
    fake_metrics().drop(columns=["f1"]).to_csv(missing, index=False)
    with pytest.raises(ValueError, match=r"irl_metrics_per_seed.csv lacks column\(s\) \['f1'\]"):
        lt.read_per_policy({"p": missing}, lt.PER_SEED_COLUMNS)
    empty = tmp_path / "toxicity.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="toxicity.csv is empty"):
        read_table(empty, lt.TOXICITY_COLUMNS)
    broken = tmp_path / "pairs.parquet"
    broken.write_text("not parquet")
    with pytest.raises(ValueError, match="pairs.parquet cannot be read"):
        read_table(broken, PAIRS_COLUMNS)
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(lt.TOXICITY_COLUMNS) + "\n")
    with pytest.raises(ValueError, match="header.csv has a header but no rows"):
        read_table(header_only, lt.TOXICITY_COLUMNS)


def test_script_reports_the_bad_file(tmp_path):
    empty = tmp_path / "irl_metrics_per_seed.csv"
    empty.write_text("")
    done = script("lm_tables.py", "classification", "--params", json.dumps(PARAMS), "--metrics", f"p={empty}",
                  "--csv", str(tmp_path / "c.csv"), "--markdown", str(tmp_path / "c.md"))
    assert done.returncode != 0 and f"{empty} is empty" in done.stderr
    assert not (tmp_path / "c.csv").exists()


# --- figures --------------------------------------------------------------------------------------

@pytest.mark.parametrize("figure, options", [
    ("classification", ["--metrics"]), ("starc", ["--metrics"]), ("lambda_sweep", ["--metrics"]),
    ("failure_curriculum", ["--rounds"]), ("rerlhf_training", ["--log"]),
    ("reward_distributions", ["--pairs", "--features", "--rewards"]),
])
def test_figures_are_written(inputs, tmp_path, figure, options):
    _, args = inputs
    out = [tmp_path / f"{figure}.pdf", tmp_path / f"{figure}.png"]
    done = script("lm_figures.py", figure, "--params", json.dumps(PARAMS), *with_options(args, *options),
                  "--out", *map(str, out))
    assert done.returncode == 0, done.stderr[-3000:]
    for path in out:
        assert path.stat().st_size > 10_000


# --- the Snakemake rules, on the fake chain outputs -------------------------------------------------

# The report rules themselves run in tests/test_workflow.py, on the tiny chain's real outputs.
