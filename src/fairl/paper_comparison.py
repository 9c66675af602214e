"""Paper vs reproduced: every number the paper reports (SPEC §4) beside this run's, and its claims.

The paper's numbers are data (paper_figures/paper_claims.yaml), read by `load_claims`. A
qualitative claim "FA-IRL beats IRL on m" is checked once per policy, objective (max-margin,
max-entropy) and judge, by comparing the FA-IRL variant with the standard-IRL variant of the
same objective; it holds when the mean difference has the claimed sign. Its sd over seeds,
√(sd_FA² + sd_IRL²), says whether the sign is beyond seed noise (re-RLHF is one run: no sd).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

NUMBER_KEYS = {"quantity", "source", "metric", "role", "value"}
CLAIM_KEYS = {"claim", "metric", "better"}
COLUMNS = ["kind", "quantity", "source", "policy", "objective", "variant", "judge", "paper", "reproduced",
           "reproduced_sd", "difference", "holds", "note"]


def load_claims(path: str | Path) -> dict:
    """The `numbers` and `claims` lists of a paper-claims YAML file, checked."""
    path = Path(path)
    data = yaml.safe_load(path.read_text()) if path.is_file() else None
    if not isinstance(data, dict) or not data.get("numbers") or not data.get("claims"):
        raise ValueError(f"{path} must be a YAML mapping with non-empty 'numbers' and 'claims' lists")
    for section, keys in (("numbers", NUMBER_KEYS), ("claims", CLAIM_KEYS)):
        for i, entry in enumerate(data[section]):
            missing = sorted(keys - set(entry))
            if missing:
                raise ValueError(f"{path}: {section}[{i}] lacks key(s) {missing}")
    for i, claim in enumerate(data["claims"]):
        if claim["better"] not in ("higher", "lower"):
            raise ValueError(f"{path}: claims[{i}].better must be 'higher' or 'lower', got {claim['better']!r}")
    return data


def measurements(classification: pd.DataFrame, starc: pd.DataFrame, toxicity: pd.DataFrame) -> pd.DataFrame:
    """Reproduced values in long form: policy, metric, role, objective, variant, judge, value, sd."""
    frames = []
    for table, metrics in ((classification, ["accuracy", "f1", "auc"]), (starc, ["starc"])):
        main = table[table["role"].isin(["irl", "fa_irl"])]
        for metric in metrics:
            frames.append(main[["policy", "role", "objective", "variant"]].assign(
                metric=metric, judge="", value=main[f"{metric}_mean"], sd=main[f"{metric}_sd"]))
    fa = starc[starc["role"] == "fa_irl"]
    frames.append(fa[["policy", "role", "objective", "variant"]].assign(
        metric="starc_reduction", judge="", value=fa["starc_reduction_vs_base"], sd=np.nan))
    frames.append(toxicity[["policy", "role", "objective", "variant", "judge"]].assign(
        metric="toxic_share", value=toxicity["toxic_share"], sd=np.nan))
    measured = pd.concat(frames, ignore_index=True)
    return measured.fillna({"objective": "", "variant": "", "judge": ""})


def compare_numbers(numbers: list[dict], measured: pd.DataFrame) -> pd.DataFrame:
    """One row per (paper number, matching reproduced value); a paper number with no match gets one row saying so."""
    rows = []
    policies = list(dict.fromkeys(measured["policy"]))
    for number in numbers:
        match = measured[(measured["metric"] == number["metric"]) & (measured["role"] == number["role"])]
        note = "paper: up to this value" if number.get("bound") == "up_to" else ""
        wanted = number.get("policy")
        if wanted is not None and wanted in policies:
            match = match[match["policy"] == wanted]
        elif wanted is not None:
            note = f"paper measured on {wanted}, not run here; reproduced on the policies of this config"
        base = {"kind": "number", "quantity": number["quantity"], "source": number["source"],
                "paper": float(number["value"]), "holds": None}
        if match.empty:
            rows.append({**base, "note": f"not reproduced: no {number['role']} result for {number['metric']}"})
        for _, m in match.iterrows():
            rows.append({**base, "policy": m["policy"], "objective": m["objective"], "variant": m["variant"],
                         "judge": m["judge"], "reproduced": m["value"], "reproduced_sd": m["sd"],
                         "difference": m["value"] - float(number["value"]), "note": note})
    return pd.DataFrame(rows, columns=COLUMNS)


def _paper_gap(numbers: list[dict], metric: str) -> float:
    """The paper's headline FA-IRL minus IRL value of `metric`, NaN when it reports no pair."""
    headline = {n["role"]: float(n["value"]) for n in numbers if n["metric"] == metric and "policy" not in n}
    return headline["fa_irl"] - headline["irl"] if {"fa_irl", "irl"} <= set(headline) else np.nan


def check_claims(claims: list[dict], numbers: list[dict], measured: pd.DataFrame) -> pd.DataFrame:
    """Per claim and (policy, objective, judge): FA-IRL minus IRL, and whether its sign is the claimed one."""
    rows = []
    for claim in claims:
        data = measured[(measured["metric"] == claim["metric"]) & measured["role"].isin(["fa_irl", "irl"])]
        paper = _paper_gap(numbers, claim["metric"])
        base = {"kind": "claim", "quantity": claim["claim"], "source": "paper [S]", "paper": paper}
        if data.empty:
            rows.append({**base, "note": f"not reproduced: no result for {claim['metric']}"})
        for (policy, objective, judge), group in data.groupby(["policy", "objective", "judge"], sort=False):
            fa, irl = group[group["role"] == "fa_irl"], group[group["role"] == "irl"]
            where = {"policy": policy, "objective": objective, "judge": judge}
            if fa.empty or irl.empty:
                missing = "FA-IRL" if fa.empty else "standard IRL"
                rows.append({**base, **where, "note": f"cannot check: no {missing} result for {objective}"})
                continue
            gap = float(fa["value"].iloc[0] - irl["value"].iloc[0])
            gap_sd = float(np.hypot(fa["sd"].iloc[0], irl["sd"].iloc[0]))  # NaN for single-run measurements
            holds = bool(gap > 0) if claim["better"] == "higher" else bool(gap < 0)
            rows.append({**base, **where, "variant": f"{fa['variant'].iloc[0]} − {irl['variant'].iloc[0]}",
                         "reproduced": gap, "reproduced_sd": gap_sd, "difference": gap - paper, "holds": holds,
                         "note": f"FA-IRL − IRL; {claim['better']} is better"})
    return pd.DataFrame(rows, columns=COLUMNS)


def compare(claims_file: dict, classification: pd.DataFrame, starc: pd.DataFrame,
            toxicity: pd.DataFrame) -> pd.DataFrame:
    measured = measurements(classification, starc, toxicity)
    return pd.concat([compare_numbers(claims_file["numbers"], measured),
                      check_claims(claims_file["claims"], claims_file["numbers"], measured)], ignore_index=True)


def comparison_markdown(table: pd.DataFrame) -> str:
    """A verdict per claim, then the claim checks and the numbers as Markdown tables."""
    def fmt(value):
        return "" if value is None or (isinstance(value, float) and not np.isfinite(value)) else f"{value:.3f}"

    claims = table[table["kind"] == "claim"]
    lines = ["## Qualitative claims", ""]
    for claim, group in claims.groupby("quantity", sort=False):
        checked = group["holds"].dropna()
        verdict = (f"holds in {int(checked.sum())} of {len(checked)} comparisons" if len(checked)
                   else "cannot be checked with this configuration")
        lines.append(f"- **{claim}**: {verdict}.")
    shown = table.assign(
        paper=table["paper"].map(fmt), reproduced=table["reproduced"].map(fmt),
        reproduced_sd=table["reproduced_sd"].map(fmt), difference=table["difference"].map(fmt),
        holds=table["holds"].map(lambda h: "yes" if h is True else "no" if h is False else ""),
    ).fillna("")
    claim_columns = ["quantity", "policy", "objective", "judge", "variant", "paper", "reproduced", "reproduced_sd",
                     "difference", "holds", "note"]
    number_columns = ["quantity", "source", "policy", "variant", "judge", "paper", "reproduced", "reproduced_sd",
                      "difference", "note"]
    lines += ["", "## Claim checks (FA-IRL minus standard IRL of the same objective)", "",
              shown[shown["kind"] == "claim"][claim_columns].to_markdown(index=False), "",
              "## Every reported number beside the reproduced one (difference = reproduced − paper)", "",
              shown[shown["kind"] == "number"][number_columns].to_markdown(index=False)]
    return "\n".join(lines)
