"""Tables of the language-model chain, one row per policy × variant, mean ± sd over seeds.

Inputs are the chain's per-policy files (irl_metrics_per_seed.csv, toxicity.csv, pairs,
features, rewards); every reader checks the columns it needs and names the file that lacks
them. Which variant is an ablation, and of what, is `fairl.variants.variant_design`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fairl.irl import LinearReward
from fairl.lm.extraction import informative, pair_split
from fairl.lm.stage_files import parse_rlhf_run, read_table, rlhf_run
from fairl.lm.toxicity import toxic_column
from fairl.metrics import paired_t_interval, verdict
from fairl.metrics.bootstrap import bootstrap_difference
from fairl.report.tables import add_starc_reduction, paired_differences, summarise
from fairl.variants import slug

PER_SEED_COLUMNS = ["variant", "method", "regime", "seed", "pair_accuracy", "accuracy", "f1", "auc", "starc",
                    "converged"]
TOXICITY_COLUMNS = ["reward", "judge", "toxic_share", "ci_low", "ci_high", "diff_vs_reference", "diff_ci_low",
                    "diff_ci_high", "mean_r_star", "n_prompts", "kl_to_base"]
CLASSIFICATION_METRICS = ["accuracy", "f1", "auc"]
STARC_METRICS = ["starc"]
ABLATION_METRICS = ["pair_accuracy", "f1", "auc", "starc"]
def read_per_policy(paths: dict[str, str | Path], columns: list[str]) -> pd.DataFrame:
    """The files of every policy, stacked, with a leading `policy` column."""
    if not paths:
        raise ValueError("no policies given")
    frames = [read_table(path, columns).assign(policy=policy) for policy, path in paths.items()]
    stacked = pd.concat(frames, ignore_index=True)
    return stacked[["policy", *[c for c in stacked.columns if c != "policy"]]]


def with_design(per_seed: pd.DataFrame, design: pd.DataFrame) -> pd.DataFrame:
    """Per-seed metrics joined with the variant design, in config order of policies and variants."""
    unknown = sorted(set(per_seed["variant"]) - set(design["variant"]))
    if unknown:
        raise ValueError(f"IRL metrics hold variant(s) {unknown} that the config does not list: "
                         "the metrics are from another configuration; rebuild them")
    merged = per_seed.drop(columns=["method"]).merge(design, on="variant", how="left")
    merged["_policy"] = merged["policy"].map({p: i for i, p in enumerate(dict.fromkeys(per_seed["policy"]))})
    merged["_variant"] = merged["variant"].map({v: i for i, v in enumerate(design["variant"])})
    merged["_regime"] = merged["regime"].map({r: i for i, r in enumerate(dict.fromkeys(per_seed["regime"]))})
    order = ["_policy", "_regime", "_variant", "seed"]
    return merged.sort_values(order).drop(columns=order[:3])


KEYS = ["policy", "regime", "variant"]


def _summary(per_seed: pd.DataFrame, metrics: list[str], columns: list[str]) -> pd.DataFrame:
    table = summarise(per_seed, KEYS, [*metrics, "converged"])
    info = per_seed.drop_duplicates(KEYS).set_index(KEYS)[columns]
    table = table.merge(info, left_on=KEYS, right_index=True, how="left")
    return table[[*KEYS, *columns, *[c for c in table.columns if c not in {*KEYS, *columns}]]]


def with_paired_differences(table: pd.DataFrame, per_seed: pd.DataFrame, design: pd.DataFrame,
                            metrics: dict[str, str]) -> pd.DataFrame:
    """`table` with, per FA variant, the paired difference to its standard IRL over seeds, its 95%
    interval and verdict for each metric (`metrics`: name → 'higher' or 'lower' is better)."""
    base_of = {v: b for v, b in zip(design["variant"], design["base_variant"]) if b}
    for metric, better in metrics.items():
        table = table.merge(paired_differences(per_seed, ["policy", "regime"], base_of, metric, better),
                            on=KEYS, how="left")
    return table


def classification_table(per_seed: pd.DataFrame, design: pd.DataFrame) -> pd.DataFrame:
    """Held-out preference classification (accuracy, F1, ROC-AUC) of the standard and full FA-IRL variants,
    per regime, with FA-IRL minus IRL paired over seeds."""
    data = with_design(per_seed, design)
    data = data[data["role"] != "ablation"]
    table = _summary(data, CLASSIFICATION_METRICS, ["method", "objective", "role"])
    return with_paired_differences(table, data, design, {"f1": "higher", "auc": "higher"})


def starc_table(per_seed: pd.DataFrame, design: pd.DataFrame) -> pd.DataFrame:
    """STARC distance to r* of every variant, 1 - STARC(FA variant) / STARC(its standard objective), and
    the paired difference over seeds with its interval and verdict."""
    data = with_design(per_seed, design)
    table = _summary(data, STARC_METRICS, ["method", "objective", "role", "ablation"])
    method_of = dict(zip(design["variant"], design["method"]))
    base_of = {v: b for v, b in zip(design["variant"], design["base_variant"]) if b}
    parts = [add_starc_reduction(group, method_of, "starc", base_of)
             for _, group in table.groupby(["policy", "regime"], sort=False)]
    return with_paired_differences(pd.concat(parts, ignore_index=True), data, design, {"starc": "lower"})


def ablation_table(per_seed: pd.DataFrame, design: pd.DataFrame) -> pd.DataFrame:
    """Every FA-IRL variant (full and ablated) beside its standard objective, by objective."""
    data = with_design(per_seed, design)
    switch_columns = ["lambda_init", "lambda_schedule", "failure_path", "curriculum", "failure_mode",
                      "failure_reduction", "failure_trains"]
    table = _summary(data, ABLATION_METRICS, ["objective", "ablation", "role", *switch_columns])
    # The FA-IRL switches mean nothing for a standard-IRL row: leave its cells empty.
    table[switch_columns] = table[switch_columns].astype(object)
    table.loc[table["role"] == "irl", switch_columns] = None
    table["_policy"] = table["policy"].map({p: i for i, p in enumerate(dict.fromkeys(table["policy"]))})
    table["_regime"] = table["regime"].map({r: i for i, r in enumerate(dict.fromkeys(table["regime"]))})
    table["_objective"] = table["objective"].map({o: i for i, o in enumerate(dict.fromkeys(design["objective"]))})
    table = table.sort_values(["_policy", "_regime", "_objective"], kind="stable")
    table = table.drop(columns=["_policy", "_regime", "_objective"]).reset_index(drop=True)
    return with_paired_differences(table, data, design, {"starc": "lower"})


def rerlhf_toxicity_table(toxicity: pd.DataFrame, design: pd.DataFrame, generations: dict[str, pd.DataFrame],
                          regime: str, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Toxicity of the base policy and of each RLHF run on a reward (extracted in `regime`), under every judge;
    FA-IRL rows also carry the paired difference over prompts to the standard IRL of the same repeat.
    `toxicity["reward"]` names the runs (fairl.lm.stage_files.rlhf_run); a repeat's label says which."""
    by_slug = {slug(v): row for v, row in design.set_index("variant", drop=False).iterrows()}
    labels = {"base": ("base", "base policy", "", ""), "ground_truth": ("ground_truth", "ground-truth reward r*", "", "")}
    rows, regimes = [], []
    for run in toxicity["reward"]:
        reward, repeat = parse_rlhf_run(run)
        repeated = f", repeat {repeat}" if repeat else ""
        if reward in labels:
            role, label, variant, objective = labels[reward]
            rows.append((role, label + repeated, variant, objective))
            regimes.append("")
        elif reward in by_slug:
            row = by_slug[reward]
            name = {"irl": "IRL", "fa_irl": "FA-IRL"}.get(row["role"], f"FA-IRL ({row['ablation']})")
            rows.append((row["role"], f"{name}: {row['variant']}{repeated}", row["variant"], row["objective"]))
            regimes.append(regime)
        else:
            raise ValueError(f"toxicity table has reward {run!r}, neither base, ground_truth nor an IRL variant "
                             "of the config: it is from another configuration; rebuild it")
    role, label, variant, objective = zip(*rows)
    table = toxicity.assign(role=role, label=label, variant=variant, objective=objective, regime=regimes)
    front = ["policy", "reward", "label", "role", "variant", "regime", "objective", "judge"]
    table = table[[*front, *[c for c in TOXICITY_COLUMNS if c not in front]]].reset_index(drop=True)
    return table.join(_versus_standard_irl(table, design, generations, n_boot, seed))


def _versus_standard_irl(table: pd.DataFrame, design: pd.DataFrame, generations: dict[str, pd.DataFrame],
                         n_boot: int, seed: int) -> pd.DataFrame:
    """Per FA-IRL row: toxic share minus that of the standard IRL of its objective re-RLHF'd alongside (the same
    repeat), paired over the same prompts (bootstrap 95% interval), and the verdict on 'FA-IRL is less toxic'."""
    base_of = dict(zip(design["variant"], design["base_variant"]))
    columns = [f"toxic_share_{c}" for c in ("diff", "diff_low", "diff_high", "n_paired", "verdict")]
    out = pd.DataFrame(index=table.index, columns=columns, dtype=object)
    for i, row in table.iterrows():
        base = base_of.get(row["variant"]) if row["role"] in ("fa_irl", "ablation") else None
        if not isinstance(base, str):
            continue
        irl_run = rlhf_run(slug(base), parse_rlhf_run(row["reward"])[1])
        if irl_run not in set(table.loc[table["policy"] == row["policy"], "reward"]):
            continue
        frame = generations[row["policy"]]
        column = toxic_column(row["judge"])
        if column not in frame:
            raise ValueError(f"the generations of {row['policy']} have no column {column!r}: rebuild the toxicity stage")
        flags = {r: g.set_index("prompt_id")[column] for r, g in frame.groupby("reward")}
        fa, irl = flags[row["reward"]], flags[irl_run].reindex(flags[row["reward"]].index)
        diff, low, high = bootstrap_difference(fa.to_numpy(bool), irl.to_numpy(bool), n_boot, seed)
        out.loc[i] = [diff, low, high, len(fa), verdict(low, high, "lower")]
    return out


REPEATS_INTERVALS = {"toxic_share": ("ci_low", "ci_high"), "diff_vs_reference": ("diff_ci_low", "diff_ci_high"),
                     "diff_vs_r_star": ("diff_vs_r_star_low", "diff_vs_r_star_high"),
                     "toxic_share_diff": ("toxic_share_diff_low", "toxic_share_diff_high")}
"""Each quantity of the repeats table and the columns of its 95% interval."""


def rerlhf_repeats_table(toxicity: pd.DataFrame, design: pd.DataFrame) -> pd.DataFrame:
    """Each reward's RLHF runs (rows of the rerlhf_toxicity table) summarised, per policy and judge.

    With one run per reward the row is that run's, its intervals over prompts (paired bootstrap; `unit` prompts).
    With several, every quantity is the mean over runs with a Student-t 95% interval over them (`unit` runs):
    the toxic share, its difference to the base policy, to r*'s run of the same repeat, and, on FA-IRL rows, to
    the standard IRL run of the same repeat (same RL seed, rewards fitted on the same IRL split), with the verdict
    on 'FA-IRL is less toxic' read from that interval."""
    parsed = toxicity["reward"].map(parse_rlhf_run)
    table = toxicity.assign(run=toxicity["reward"], reward=parsed.str[0], repeat=parsed.str[1])
    keys = ["policy", "reward", "judge"]
    share = table.set_index(["policy", "reward", "judge", "repeat"])["toxic_share"]
    base_of = dict(zip(design["variant"], design["base_variant"]))
    rows = []
    for (policy, reward, judge), runs in table.groupby(keys, sort=False):
        first = runs.iloc[0]
        row = {c: first[c] for c in ("policy", "reward", "role", "variant", "regime", "objective", "judge")}
        row["label"] = first["label"]
        n_runs = len(runs)
        row.update(n_runs=n_runs, unit="prompts" if n_runs == 1 else "runs",
                   mean_r_star=runs["mean_r_star"].mean(), kl_to_base=runs["kl_to_base"].mean(),
                   n_prompts=int(runs["n_prompts"].iloc[0]))
        if n_runs == 1:
            for quantity, (low, high) in REPEATS_INTERVALS.items():
                if quantity in first:  # all but diff_vs_r_star: a run's table holds no difference to r*
                    row.update({quantity: first[quantity], low: first[low], high: first[high]})
            row["toxic_share_n_paired"] = first.get("toxic_share_n_paired")
        else:
            def over_runs(values, quantity, row=row):
                mean, low, high, n = paired_t_interval(values)
                low_name, high_name = REPEATS_INTERVALS[quantity]
                row.update({quantity: mean, low_name: low, high_name: high})
                return n

            repeats = runs["repeat"].to_numpy()
            shares = runs["toxic_share"].to_numpy(np.float64)
            over_runs(shares, "toxic_share")
            over_runs(runs["diff_vs_reference"].to_numpy(np.float64), "diff_vs_reference")
            if first["role"] not in ("base", "ground_truth"):
                r_star = share.reindex([(policy, "ground_truth", judge, r) for r in repeats]).to_numpy(np.float64)
                over_runs(shares - r_star, "diff_vs_r_star")
            irl = base_of.get(first["variant"]) if first["role"] in ("fa_irl", "ablation") else None
            if isinstance(irl, str) and (policy, slug(irl), judge, repeats[0]) in share.index:
                baseline = share.reindex([(policy, slug(irl), judge, r) for r in repeats]).to_numpy(np.float64)
                row["toxic_share_n_paired"] = over_runs(shares - baseline, "toxic_share_diff")
        if pd.notna(row.get("toxic_share_diff")):
            row["toxic_share_verdict"] = verdict(row["toxic_share_diff_low"], row["toxic_share_diff_high"], "lower")
        rows.append(row)
    columns = ["policy", "reward", "label", "role", "variant", "regime", "objective", "judge", "n_runs", "unit",
               *[c for quantity, bounds in REPEATS_INTERVALS.items() for c in (quantity, *bounds)],
               "toxic_share_n_paired", "toxic_share_verdict", "mean_r_star", "kl_to_base", "n_prompts"]
    return pd.DataFrame(rows).reindex(columns=columns)


def percent(value, low, high, sign: str = "") -> str:
    """A share or a difference of shares as 'x [low, high]' in percent or percentage points (`sign` '+' for a
    difference); '' where there is no value, no brackets where there is no interval."""
    if pd.isna(value):
        return ""
    bounds = f" [{100 * low:.1f}, {100 * high:.1f}]" if pd.notna(low) and pd.notna(high) else ""
    return f"{100 * value:{sign}.1f}{bounds}"


def repeats_markdown(table: pd.DataFrame) -> str:
    """The repeats table with each quantity as 'x [low, high]' in percent or percentage points."""
    def column(quantity, sign="+"):
        low, high = REPEATS_INTERVALS[quantity]
        return [percent(*v, sign=sign) for v in zip(table[quantity], table[low], table[high])]

    shown = pd.DataFrame({
        "policy": table["policy"], "reward": table["label"], "judge": table["judge"], "runs": table["n_runs"],
        "interval over": table["unit"], "% toxic [95% CI]": column("toxic_share", sign=""),
        "Δ vs base, pp": column("diff_vs_reference"), "Δ vs r*, pp": column("diff_vs_r_star"),
        "FA-IRL − IRL, pp": column("toxic_share_diff"), "verdict": table["toxic_share_verdict"].fillna(""),
        "mean r*": [f"{v:.3f}" for v in table["mean_r_star"]],
        "KL to base": [f"{v:.3f}" if np.isfinite(v) else "" for v in table["kl_to_base"].astype(float)],
    })
    return shown.to_markdown(index=False)


def failure_pairs(pairs: pd.DataFrame, h_pos: np.ndarray, h_neg: np.ndarray, rewards: dict[str, LinearReward],
                  test_fraction: float, seed: int, top_k: int) -> pd.DataFrame:
    """The top_k pairs with the smallest reward margin Δ = R(o+) - R(o-) under each reward.

    These are what FA-IRL's failure set F_t = {Δ_i < γ_t} holds at the end: misclassified
    pairs (Δ ≤ 0) first, then near-ties. `split` says whether the reward was fitted on them;
    tie pairs (identical completions), which no reward can order, are not ranked.
    """
    if len(pairs) != len(h_pos) or h_pos.shape != h_neg.shape:
        raise ValueError(f"{len(pairs)} pairs but features of shape {h_pos.shape} and {h_neg.shape}")
    train, test = pair_split(pairs, test_fraction, seed)
    split = np.full(len(pairs), "", dtype=object)
    split[train], split[test] = "train", "test"
    ranked = np.flatnonzero(informative(pairs))  # ties (identical completions) state no preference
    frames = []
    for variant, reward in rewards.items():
        delta = reward.score(h_pos) - reward.score(h_neg)
        f_pos, f_neg = reward.score_paths(h_pos)[1], reward.score_paths(h_neg)[1]
        order = ranked[np.argsort(delta[ranked], kind="stable")[:top_k]]
        chosen = pairs.iloc[order]
        frames.append(pd.DataFrame({
            "variant": variant, "rank": np.arange(1, len(order) + 1), "split": split[order],
            "prompt_id": chosen["prompt_id"].to_numpy(), "reward_margin": delta[order],
            "failure_path_margin": (f_pos - f_neg)[order], "misclassified": delta[order] <= 0,
            "r_star_margin": (chosen["reward_aligned"] - chosen["reward_base"]).to_numpy(),
            "r_star_aligned": chosen["reward_aligned"].to_numpy(), "r_star_base": chosen["reward_base"].to_numpy(),
            "toxicity_aligned": chosen["toxicity_aligned"].to_numpy(), "toxicity_base": chosen["toxicity_base"].to_numpy(),
            "t_to_nt": chosen["t_to_nt"].to_numpy(), "prompt": chosen["prompt"].to_numpy(),
            "completion_aligned": chosen["completion_aligned"].to_numpy(),
            "completion_base": chosen["completion_base"].to_numpy(),
        }))
    if not frames:
        raise ValueError("no FA-IRL reward to rank pairs by: the config has no full FA-IRL variant")
    return pd.concat(frames, ignore_index=True)


def failure_counts(pairs: pd.DataFrame, h_pos: np.ndarray, h_neg: np.ndarray, rewards: dict[str, LinearReward],
                   test_fraction: float, seed: int) -> pd.DataFrame:
    """Per reward and split: pairs, misclassified pairs (Δ ≤ 0), and how many of those are T→NT pairs."""
    train, test = pair_split(pairs, test_fraction, seed)
    rows = []
    for variant, reward in rewards.items():
        wrong = reward.score(h_pos) <= reward.score(h_neg)
        for name, index in (("train", train), ("test", test)):
            rows.append({"variant": variant, "split": name, "n_pairs": len(index),
                         "n_misclassified": int(wrong[index].sum()),
                         "n_misclassified_t_to_nt": int((wrong & pairs["t_to_nt"].to_numpy(bool))[index].sum())})
    return pd.DataFrame(rows)


def toxicity_markdown(table: pd.DataFrame) -> str:
    """'% toxic [95% CI]' and the paired difference to the base policy in percentage points."""
    shown = pd.DataFrame({
        "policy": table["policy"], "reward": table["label"], "judge": table["judge"],
        "% toxic [95% CI]": [percent(*v) for v in zip(table["toxic_share"], table["ci_low"], table["ci_high"])],
        "Δ vs base, pp [95% CI]": [percent(*v, sign="+") for v in
                                   zip(table["diff_vs_reference"], table["diff_ci_low"], table["diff_ci_high"])],
        "mean r*": [f"{v:.3f}" for v in table["mean_r_star"]],
        "KL to base": [f"{v:.3f}" if np.isfinite(v) else "" for v in table["kl_to_base"].astype(float)],
        "FA-IRL − IRL, pp [95% CI]": [percent(*v, sign="+") for v in
                                      zip(table["toxic_share_diff"], table["toxic_share_diff_low"],
                                          table["toxic_share_diff_high"])],
        "verdict": table["toxic_share_verdict"].fillna(""),
        "prompts": table["n_prompts"],
    })
    return shown.to_markdown(index=False)


def clip(text: str, max_chars: int) -> str:
    """One line of at most max_chars characters, safe inside a Markdown table cell."""
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def failure_pairs_markdown(top: pd.DataFrame, counts: pd.DataFrame, max_chars: int) -> str:
    lines = ["## How many pairs each reward misclassifies (Δ ≤ 0)", "", counts.to_markdown(index=False), ""]
    for (policy, variant), group in top.groupby(["policy", "variant"], sort=False):
        lines += [f"## {policy}: {variant}", ""]
        shown = pd.DataFrame({
            "#": group["rank"], "split": group["split"], "Δ reward": group["reward_margin"].map("{:+.3f}".format),
            "Δ R_F": group["failure_path_margin"].map("{:+.3f}".format),
            "Δ r*": group["r_star_margin"].map("{:+.3f}".format), "T→NT": group["t_to_nt"].map({True: "yes", False: ""}),
            "prompt": [clip(t, max_chars) for t in group["prompt"]],
            "o+ (aligned)": [clip(t, max_chars) for t in group["completion_aligned"]],
            "o- (base)": [clip(t, max_chars) for t in group["completion_base"]],
        })
        lines += [shown.to_markdown(index=False), ""]
    return "\n".join(lines)
