"""Tables: mean ± sd over seeds, and STARC reduction of each FA-IRL variant vs its base objective."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fairl.io import atomic_write_text


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


def to_markdown(table: pd.DataFrame, metrics: list[str], digits: int = 3) -> str:
    """Markdown with 'mean ± sd' cells."""
    shown = table.drop(columns=[c for c in table.columns if c.endswith(("_mean", "_sd"))])
    for metric in metrics:
        mean, sd = table[f"{metric}_mean"], table[f"{metric}_sd"].fillna(0.0)
        shown[metric] = [f"{m:.{digits}f} ± {s:.{digits}f}" for m, s in zip(mean, sd)]
    for column in shown.columns:
        if column.endswith("_reduction_vs_base"):
            shown[column] = [f"{v:+.1%}" if np.isfinite(v) else "" for v in table[column]]
    return shown.to_markdown(index=False)


def write_table(table: pd.DataFrame, markdown: str, csv_path: str | Path, md_path: str | Path, title: str) -> None:
    atomic_write_text(csv_path, table.to_csv(index=False, float_format="%.6g"))
    atomic_write_text(md_path, f"# {title}\n\n{markdown}\n")
