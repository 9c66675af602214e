"""Figures of the language-model chain (seaborn; PDF for print, PNG for the README).

Each function takes tidy DataFrames (per-seed metrics joined with `fairl.variants.variant_design`,
RLHF step logs, FA-IRL rounds, scored outputs) and writes one figure to every path given.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns

from fairl.irl import LinearReward
from fairl.lm.extraction import pair_split
from fairl.lm.toxicity import TOXIC_THRESHOLD
from fairl.report.figures import plt, save

LOG_METRICS = {"toxicity": "batch toxicity (r* judge)", "reward": "mean training reward",
               "kl": "KL to base per token"}


def _theme() -> None:
    sns.set_theme(style="whitegrid", context="paper", font_scale=1.15)


def _empty(ax: plt.Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, transform=ax.transAxes)
    ax.set_axis_off()


def plot_classification(data: pd.DataFrame, paths: list[str | Path]) -> None:
    """Accuracy, F1 and ROC-AUC of standard and full FA-IRL variants, bars = mean, whiskers = sd over seeds."""
    _theme()
    main = data[data["role"] != "ablation"]
    long = main.melt(id_vars=["policy", "variant"], value_vars=["accuracy", "f1", "auc"], var_name="metric")
    long["metric"] = long["metric"].map({"accuracy": "accuracy", "f1": "F1", "auc": "ROC-AUC"})
    grid = sns.catplot(long, kind="bar", x="variant", y="value", hue="policy", col="metric", errorbar="sd",
                       capsize=0.15, height=4, aspect=1.0, sharey=True)
    grid.set_axis_labels("", "held-out score (mean ± sd over seeds)")
    grid.set_titles("{col_name}")
    for ax in grid.axes.flat:
        ax.tick_params(axis="x", labelrotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
        ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    grid.figure.suptitle("Preference classification of held-out pairs: standard IRL vs FA-IRL")
    grid.tight_layout()  # leaves room for the legend outside the panels
    save(grid.figure, paths)


def plot_starc(data: pd.DataFrame, paths: list[str | Path]) -> None:
    """STARC distance to r* of every variant (lower is better), mean ± sd over seeds."""
    _theme()
    order = list(dict.fromkeys(data["variant"]))
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.45 * len(order)), constrained_layout=True)
    sns.barplot(data, y="variant", x="starc", hue="policy", order=order, errorbar="sd", capsize=0.2, ax=ax)
    ax.set_xlabel("STARC distance to r* (0 = same reward, 1 = opposite; lower is better)")
    ax.set_ylabel("")
    ax.set_title("Distance of each extracted reward to the ground-truth reward r*")
    save(fig, paths)


def plot_rerlhf_training(logs: pd.DataFrame, smoothing: int, paths: list[str | Path]) -> None:
    """Batch toxicity, training reward and KL over RLHF steps, one line per reward (rolling mean of each run; with
    several runs of a reward, their mean and its 95% band)."""
    _theme()
    policies = list(dict.fromkeys(logs["policy"]))
    metrics = [m for m in LOG_METRICS if logs[m].notna().any()]
    fig, axes = plt.subplots(len(metrics), len(policies), figsize=(max(8.0, 5.5 * len(policies)), 3.2 * len(metrics)),
                             squeeze=False, constrained_layout=True, sharex="col")
    smooth = logs.sort_values("step").groupby(["policy", "run"], sort=False)
    for row, metric in enumerate(metrics):
        smoothed = logs.assign(**{metric: smooth[metric].transform(lambda s: s.rolling(smoothing, min_periods=1).mean())})
        for col, policy in enumerate(policies):
            ax = axes[row, col]
            sns.lineplot(smoothed[smoothed["policy"] == policy], x="step", y=metric, hue="label", ax=ax,
                         legend=row == 0 and col == len(policies) - 1)
            ax.set_ylabel(LOG_METRICS[metric])
            ax.set_title(policy if row == 0 else "")
    if axes[0, -1].get_legend() is not None:
        handles, labels = axes[0, -1].get_legend_handles_labels()
        axes[0, -1].get_legend().remove()
        fig.legend(handles, labels, loc="outside lower center", ncol=min(3, len(labels)), title="RLHF reward")
    fig.align_ylabels(axes[:, 0])
    fig.get_layout_engine().set(w_pad=0.12)  # room for the y labels: without it the longest one touched the edge
    runs = int(logs.groupby(["policy", "label"])["run"].nunique().max())
    over_runs = f"; line: mean of {runs} runs, band: its 95% interval" if runs > 1 else ""
    fig.suptitle(f"(Re-)RLHF training on each reward\n(rolling mean over {smoothing} steps{over_runs})")
    save(fig, paths)


def plot_lambda_sweep(data: pd.DataFrame, paths: list[str | Path]) -> None:
    """STARC and F1 against λ_0, fixed vs decayed λ_t, for variants that change only λ; dotted: standard IRL."""
    _theme()
    sweep = data[data["role"].isin(["fa_irl", "ablation"]) & data["failure_path"] & data["curriculum"]
                 & (data["failure_mode"] == "margin")]
    settings = sweep.drop_duplicates(["objective", "lambda_init", "lambda_schedule"]).groupby("objective").size()
    objectives = [o for o in dict.fromkeys(data["objective"]) if settings.get(o, 0) >= 2]
    fig, axes = plt.subplots(2, max(len(objectives), 1), figsize=(6 * max(len(objectives), 1), 7), squeeze=False,
                             constrained_layout=True)
    if not objectives:
        for ax in axes.flat:
            _empty(ax, "no λ sweep in this config: add FA-IRL variants that differ only in lambda_init / fixed_lambda")
    for col, objective in enumerate(objectives):
        part = sweep[sweep["objective"] == objective]
        baseline = data[(data["role"] == "irl") & (data["objective"] == objective)]
        for row, (metric, label) in enumerate((("starc", "STARC to r* (lower is better)"), ("f1", "held-out F1"))):
            ax = axes[row, col]
            sns.lineplot(part, x="lambda_init", y=metric, hue="lambda_schedule", style="lambda_schedule",
                         hue_order=["decayed", "fixed"], style_order=["decayed", "fixed"], markers=True,
                         err_style="bars", errorbar="sd", ax=ax)
            if not baseline.empty:
                ax.axhline(baseline[metric].mean(), color="grey", linestyle=":", label="standard IRL")
            lambdas = sorted(part["lambda_init"].unique())
            ax.set_xscale("log")
            ax.set_xticks(lambdas, [f"{v:g}" for v in lambdas])
            ax.minorticks_off()
            ax.set_xlabel("λ_0 (initial failure weight, log scale)")
            ax.set_ylabel(label)
            ax.set_title(f"FA-IRL, {objective} objective" if row == 0 else "")
            ax.legend(title="λ_t", fontsize="small")
    fig.suptitle("λ sweep: failure weight fixed at λ_0 vs decayed from λ_0\n(mean ± sd over seeds and policies)")
    save(fig, paths)


def plot_failure_curriculum(rounds: pd.DataFrame, paths: list[str | Path]) -> None:
    """|F_t|, γ_t, λ_t and p_t per round for every FA-IRL variant (mean ± sd over seeds)."""
    _theme()
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
    panels = [("n_failures", "A. failure-set size |F_t| (training pairs)"), ("gamma", "B. failure threshold γ_t"),
              ("lambda", "C. failure weight λ_t"), ("sampling_rate", "D. failure sampling rate p_t")]
    style = "policy" if rounds["policy"].nunique() > 1 else None
    for ax, (column, title) in zip(axes.flat, panels):
        if rounds.empty:
            _empty(ax, "no FA-IRL variant in this config")
            continue
        sns.lineplot(rounds, x="round", y=column, hue="variant", style=style, errorbar="sd", ax=ax,
                     legend=column == "n_failures")
        ax.set_title(title, loc="left")
        ax.set_ylabel("")
    legend = axes[0, 0].get_legend()
    if legend is not None:  # one legend for all panels, below them
        handles, labels = axes[0, 0].get_legend_handles_labels()
        legend.remove()
        fig.legend(handles, labels, loc="outside lower center", ncol=min(4, len(labels)), fontsize="small")
    fig.suptitle("FA-IRL curriculum per round")
    save(fig, paths)


def scored_outputs(pairs: pd.DataFrame, h_pos: np.ndarray, h_neg: np.ndarray, rewards: dict[str, LinearReward],
                   test_fraction: float, seed: int) -> pd.DataFrame:
    """Every held-out output (o+ and o-) scored by r* and by each reward, with the judge's toxic label."""
    _, test = pair_split(pairs, test_fraction, seed)
    held = pairs.iloc[test]
    toxic = np.concatenate([held["toxicity_aligned"], held["toxicity_base"]]) >= TOXIC_THRESHOLD
    scores = {"r* (ground truth)": np.concatenate([held["reward_aligned"], held["reward_base"]])}
    for name, reward in rewards.items():
        scores[name] = np.concatenate([reward.score(h_pos[test]), reward.score(h_neg[test])])
    frames = [pd.DataFrame({"reward": name, "value": value, "toxic": np.where(toxic, "toxic", "non-toxic")})
              for name, value in scores.items()]
    return pd.concat(frames, ignore_index=True)


def plot_reward_distributions(scored: pd.DataFrame, paths: list[str | Path]) -> None:
    """Reward of toxic vs non-toxic held-out outputs under r* and each extracted (r*-calibrated) reward."""
    _theme()
    policies = list(dict.fromkeys(scored["policy"]))
    fig, axes = plt.subplots(len(policies), 1, figsize=(10, 4 * len(policies)), squeeze=False, constrained_layout=True)
    for ax, policy in zip(axes[:, 0], policies):
        part = scored[scored["policy"] == policy]
        sns.violinplot(part, x="reward", y="value", hue="toxic", hue_order=["non-toxic", "toxic"], split=True,
                       inner="quart", cut=0, density_norm="width", ax=ax)
        counts = part.drop_duplicates("reward").shape[0]
        n = len(part) // max(counts, 1)
        ax.set_title(f"{policy}: {n} held-out outputs, toxic = judge score ≥ {TOXIC_THRESHOLD}")
        ax.set_xlabel("")
        ax.set_ylabel("reward (extracted rewards calibrated to r*)")
        ax.tick_params(axis="x", rotation=20)
    fig.suptitle("Reward distributions of toxic vs non-toxic outputs")
    save(fig, paths)
