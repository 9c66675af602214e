"""Tables: mean ± sd over seeds, and STARC reduction of each FA-IRL variant vs its base objective."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fairl.io import atomic_write_text
from fairl.metrics import paired_t_interval, verdict


def summarise(per_seed: pd.DataFrame, by: str | list[str], metrics: list[str]) -> pd.DataFrame:
    """One row per `by` value or combination (first-seen order): n_seeds and <metric>_mean, <metric>_sd."""
    keys = [by] if isinstance(by, str) else list(by)
    missing = [m for m in [*keys, "seed", *metrics] if m not in per_seed.columns]
    if missing:
        raise ValueError(f"per-seed table lacks column(s) {missing}; has {list(per_seed.columns)}")
    grouped = per_seed.groupby(keys, sort=False)
    table = pd.DataFrame({"n_seeds": grouped["seed"].nunique()})
    for metric in metrics:
        table[f"{metric}_mean"] = grouped[metric].mean()
        table[f"{metric}_sd"] = grouped[metric].std(ddof=1)
    return table.reset_index()


def add_starc_reduction(table: pd.DataFrame, method_of: dict[str, str], metric: str,
                        base_of: dict[str, str] | None = None) -> pd.DataFrame:
    """Relative reduction 1 - STARC(variant)/STARC(base objective), for fa_* variants.

    The base objective of an fa_max_margin variant is `base_of[variant]`, by default the
    variant named 'max_margin'.
    """
    means = dict(zip(table["variant"], table[f"{metric}_mean"]))
    reduction = []
    for variant in table["variant"]:
        base = (base_of or {}).get(variant, method_of[variant].removeprefix("fa_"))
        is_fa = method_of[variant].startswith("fa_")
        reduction.append(1 - means[variant] / means[base] if is_fa and base in means else np.nan)
    return table.assign(**{f"{metric}_reduction_vs_base": reduction})


def paired_differences(per_seed: pd.DataFrame, by: list[str], base_of: dict[str, str], metric: str,
                       better: str) -> pd.DataFrame:
    """Per `by` group and variant with a base: mean over seeds of (variant − base) of `metric`, its
    paired 95% t-interval and the verdict word (fairl.metrics.paired) for "the variant is `better`".

    Columns <metric>_diff, <metric>_diff_low, <metric>_diff_high, <metric>_n_paired, <metric>_verdict.
    """
    rows = []
    for keys, group in per_seed.groupby(by, sort=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        wide = group.pivot_table(index="seed", columns="variant", values=metric)
        for variant, base in base_of.items():
            if variant not in wide or base not in wide:
                continue
            mean, low, high, n = paired_t_interval((wide[variant] - wide[base]).to_numpy())
            rows.append({**dict(zip(by, keys)), "variant": variant, f"{metric}_diff": mean, f"{metric}_diff_low": low,
                         f"{metric}_diff_high": high, f"{metric}_n_paired": n,
                         f"{metric}_verdict": verdict(low, high, better)})
    columns = [*by, "variant", *(f"{metric}_{c}" for c in ("diff", "diff_low", "diff_high", "n_paired", "verdict"))]
    return pd.DataFrame(rows, columns=columns)


def interval_cell(mean: float, low: float, high: float, digits: int = 3) -> str:
    """'+0.012 [−0.003, +0.027]', or '' for a missing value."""
    if not np.isfinite(mean):
        return ""
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{mean:+.{digits}f}"
    return f"{mean:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def to_markdown(table: pd.DataFrame, metrics: list[str], digits: int = 3) -> str:
    """Markdown with 'mean ± sd' cells."""
    shown = table.drop(columns=[c for c in table.columns if c.endswith(("_mean", "_sd", "_verdict"))])
    for metric in metrics:
        mean, sd = table[f"{metric}_mean"], table[f"{metric}_sd"].fillna(0.0)
        shown[metric] = [f"{m:.{digits}f} ± {s:.{digits}f}" for m, s in zip(mean, sd)]
    for column in list(shown.columns):
        if column.endswith("_reduction_vs_base"):
            shown[column] = [f"{v:+.1%}" if np.isfinite(v) else "" for v in table[column]]
        if column.endswith("_diff"):
            metric = column.removesuffix("_diff")
            shown[f"{metric} − base [95% CI]"] = [interval_cell(*v) for v in zip(
                table[column], table[f"{metric}_diff_low"], table[f"{metric}_diff_high"])]
            shown[f"{metric}_verdict"] = table[f"{metric}_verdict"].fillna("")
            shown = shown.drop(columns=[column, f"{metric}_diff_low", f"{metric}_diff_high", f"{metric}_n_paired"])
    return shown.to_markdown(index=False)


def write_table(table: pd.DataFrame, markdown: str, csv_path: str | Path, md_path: str | Path, title: str) -> None:
    atomic_write_text(csv_path, table.to_csv(index=False, float_format="%.6g"))
    atomic_write_text(md_path, f"# {title}\n\n{markdown}\n")
