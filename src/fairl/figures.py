"""Figures (seaborn), saved as PDF for print and PNG for the README."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402


def objective_of(method: str) -> str:
    return "max-margin" if method.endswith("max_margin") else "max-entropy"


def plot_synthetic_benchmark(per_seed: pd.DataFrame, per_round: pd.DataFrame, paths: list[str | Path]) -> None:
    """Four panels: STARC to r*, held-out pair accuracy and AUC, failure-set size per round, schedule."""
    sns.set_theme(style="whitegrid", context="paper", font_scale=1.1)
    data = per_seed.assign(objective=per_seed["method"].map(objective_of))
    order = list(dict.fromkeys(data["variant"]))
    fig, axes = plt.subplots(2, 2, figsize=(13, 9), constrained_layout=True)

    starc = data.melt(id_vars=["variant", "objective"], value_vars=["starc_iid", "starc_pairs"],
                      var_name="evaluated on", value_name="STARC distance to r*")
    starc["evaluated on"] = starc["evaluated on"].map({"starc_iid": "i.i.d. outputs", "starc_pairs": "held-out pairs"})
    sns.barplot(starc, y="variant", x="STARC distance to r*", hue="evaluated on", order=order,
                errorbar="sd", ax=axes[0, 0])
    axes[0, 0].set_title("A. Distance to the true reward (lower is better)")
    axes[0, 0].set_ylabel("")

    classify = data.melt(id_vars=["variant"], value_vars=["pair_accuracy", "auc", "f1"],
                         var_name="metric", value_name="held-out score")
    sns.pointplot(classify, y="variant", x="held-out score", hue="metric", order=order, errorbar="sd",
                  linestyle="none", dodge=0.4, ax=axes[0, 1])
    axes[0, 1].set_title("B. Held-out preference classification")
    axes[0, 1].set_ylabel("")
    sns.move_legend(axes[0, 1], "lower center", bbox_to_anchor=(0.5, -0.22), ncol=3, title=None)

    if not per_round.empty:
        sns.lineplot(per_round, x="round", y="n_failures", hue="variant", errorbar="sd", ax=axes[1, 0])
        axes[1, 0].set_title("C. Failure-set size |F_t| per round (mean ± sd over seeds)")
        axes[1, 0].set_ylabel("|F_t| (training pairs, log scale)")
        axes[1, 0].set_yscale("log")
        sns.move_legend(axes[1, 0], "upper right", ncol=2, fontsize="small", title=None)
        first = per_round[per_round["variant"] == per_round["variant"].iloc[0]]
        first = first[first["seed"] == first["seed"].iloc[0]]
        ax = axes[1, 1]
        ax.plot(first["round"], first["lambda"], label="λ_t (failure weight)")
        ax.set_ylabel("λ_t")
        twin = ax.twinx()
        twin.plot(first["round"], first["sampling_rate"], color="C1", label="p_t (sampling rate)")
        twin.plot(first["round"], first["gamma"] / first["gamma"].abs().max(), color="C2",
                  label="γ_t (scaled to max |γ|)")
        twin.set_ylabel("p_t, γ_t / max|γ|")
        twin.grid(False)
        lines = ax.get_legend_handles_labels()
        more = twin.get_legend_handles_labels()
        ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper right")
        ax.set_title(f"D. Curriculum of {first['variant'].iloc[0]}")
        ax.set_xlabel("round")
    fig.suptitle("Synthetic known-reward benchmark: standard IRL vs FA-IRL and its ablations", fontsize=14)
    save(fig, paths)


def save(fig: plt.Figure, paths: list[str | Path]) -> None:
    """Save to each path; no creation date is embedded, so a rerun gives identical bytes."""
    for path in paths:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        metadata = {"CreationDate": None} if str(path).endswith(".pdf") else None
        fig.savefig(path, dpi=150, metadata=metadata)
    plt.close(fig)
