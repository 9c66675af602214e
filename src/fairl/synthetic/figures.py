"""The synthetic benchmark's figure: STARC to r* per generator and regime, and the failure curriculum."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import seaborn as sns

from fairl.report.figures import plt, save


def plot_synthetic_benchmark(per_seed: pd.DataFrame, per_round: pd.DataFrame, paths: list[str | Path]) -> None:
    """Per generator: STARC to r* of every variant in both optimisation regimes; then the
    failure-set size per round and the curriculum of the first FA variant."""
    sns.set_theme(style="whitegrid", context="paper", font_scale=1.1)
    generators = list(dict.fromkeys(per_seed["generator"]))
    order = list(dict.fromkeys(per_seed["variant"]))
    fig, axes = plt.subplots(2, max(2, len(generators)), figsize=(14, 10), constrained_layout=True)
    letters = iter("ABCDEFGH")
    for ax, generator in zip(axes[0], generators):
        data = per_seed[per_seed["generator"] == generator]
        sns.barplot(data, y="variant", x="starc_iid", hue="regime", order=order, errorbar="sd", ax=ax)
        ax.set_title(f"{next(letters)}. STARC to r*, generator '{generator}' (mean ± sd; lower is better)")
        ax.set_xlabel("STARC distance to r* on i.i.d. outputs")
        ax.set_ylabel("")
    if not per_round.empty:
        rounds = per_round.assign(curve=per_round["generator"] + ", " + per_round["regime"])
        first = rounds["variant"].iloc[0]
        sns.lineplot(rounds[rounds["variant"] == first], x="round", y="n_failures", hue="curve", errorbar="sd",
                     ax=axes[1, 0])
        axes[1, 0].set_title(f"{next(letters)}. Failure-set size |F_t| per round of {first} (mean ± sd)")
        axes[1, 0].set_ylabel("failures (training pairs, log scale)")
        axes[1, 0].set_yscale("log")
        sns.move_legend(axes[1, 0], "upper right", fontsize="small", title=None)
        one = rounds[(rounds["variant"] == first) & (rounds["curve"] == rounds["curve"].iloc[0])]
        one = one[one["seed"] == one["seed"].iloc[0]]
        ax = axes[1, 1]
        ax.plot(one["round"], one["lambda"], label="λ_t (failure weight)")
        ax.set_ylabel("λ_t")
        twin = ax.twinx()
        twin.plot(one["round"], one["sampling_rate"], color="C1", label="p_t (sampling rate)")
        twin.plot(one["round"], one["gamma"] / one["gamma"].abs().max(), color="C2", label="γ_t (scaled to max |γ|)")
        twin.set_ylabel("p_t, γ_t / max|γ|")
        twin.grid(False)
        lines, more = ax.get_legend_handles_labels(), twin.get_legend_handles_labels()
        ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper right")
        ax.set_title(f"{next(letters)}. Curriculum of {first}")
        ax.set_xlabel("round")
    fig.suptitle("Synthetic known-reward benchmark: standard IRL vs FA-IRL, converged and at an equal budget",
                 fontsize=14)
    save(fig, paths)
