"""Paper vs reproduced: every number the paper reports beside this run's, and a verdict on each claim.

The paper's numbers are data (config/paper_claims.yaml), read by `load_claims`. A
qualitative claim "FA-IRL beats IRL on m" is checked once per policy, optimisation regime,
objective (max-margin, max-entropy) and judge, on the paired difference FA-IRL − IRL that the
reproduced tables carry (`<m>_diff`, its 95% interval and verdict: over seeds for F1, AUC and
STARC; for re-RLHF toxicity over the runs of each reward, paired by repeat, or over prompts by a paired bootstrap
for one run per reward: the `unit` of fairl.report.lm_tables.rerlhf_repeats_table). The verdict word
comes from the interval (fairl.metrics.paired): holds, contradicted or inconclusive.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from fairl.metrics import VERDICTS

NUMBER_KEYS = {"quantity", "source", "metric", "role", "value"}
CLAIM_KEYS = {"claim", "metric", "better"}
COLUMNS = ["kind", "quantity", "source", "policy", "regime", "objective", "variant", "judge", "paper", "reproduced",
           "reproduced_sd", "ci_low", "ci_high", "n_paired", "difference", "verdict", "note"]


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


DIFF_COLUMNS = ("diff", "diff_low", "diff_high", "n_paired", "verdict")


def measurements(classification: pd.DataFrame, starc: pd.DataFrame, toxicity: pd.DataFrame) -> pd.DataFrame:
    """Reproduced values in long form: policy, regime, metric, role, objective, variant, judge, value, sd, and for
    FA-IRL rows the paired difference to IRL (diff, diff_low, diff_high, n_paired, verdict) and what it is paired
    over (unit: seeds, runs or prompts)."""
    frames = []
    where = ["policy", "regime", "role", "objective", "variant"]

    def with_diff(frame, table, metric):
        for column in DIFF_COLUMNS:
            name = f"{metric}_{column}"
            frame[column] = table[name].to_numpy() if name in table else np.nan
        return frame

    for table, metrics in ((classification, ["accuracy", "f1", "auc"]), (starc, ["starc"])):
        main = table[table["role"].isin(["irl", "fa_irl"])]
        for metric in metrics:
            frames.append(with_diff(main[where].assign(metric=metric, judge="", value=main[f"{metric}_mean"],
                                                       sd=main[f"{metric}_sd"], unit="seeds"), main, metric))
    fa = starc[starc["role"] == "fa_irl"]
    frames.append(fa[where].assign(metric="starc_reduction", judge="", value=fa["starc_reduction_vs_base"], sd=np.nan,
                                   unit="seeds"))
    toxicity = toxicity.assign(regime=toxicity.get("regime", ""))
    frames.append(with_diff(toxicity[[*where, "judge", "unit"]].assign(metric="toxic_share", value=toxicity["toxic_share"],
                                                                       sd=np.nan), toxicity, "toxic_share"))
    measured = pd.concat(frames, ignore_index=True)
    return measured.fillna({"regime": "", "objective": "", "variant": "", "judge": ""})


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
                "paper": float(number["value"])}
        if match.empty:
            rows.append({**base, "note": f"not reproduced: no {number['role']} result for {number['metric']}"})
        for _, m in match.iterrows():
            rows.append({**base, "policy": m["policy"], "regime": m["regime"], "objective": m["objective"],
                         "variant": m["variant"],
                         "judge": m["judge"], "reproduced": m["value"], "reproduced_sd": m["sd"],
                         "difference": m["value"] - float(number["value"]), "note": note})
    return pd.DataFrame(rows, columns=COLUMNS)


def _paper_gap(numbers: list[dict], metric: str) -> float:
    """The paper's headline FA-IRL minus IRL value of `metric`, NaN when it reports no pair."""
    headline = {n["role"]: float(n["value"]) for n in numbers if n["metric"] == metric and "policy" not in n}
    return headline["fa_irl"] - headline["irl"] if {"fa_irl", "irl"} <= set(headline) else np.nan


def check_claims(claims: list[dict], numbers: list[dict], measured: pd.DataFrame) -> pd.DataFrame:
    """Per claim and (policy, regime, objective, judge): FA-IRL − IRL, its 95% interval and the verdict."""
    rows = []
    for claim in claims:
        data = measured[(measured["metric"] == claim["metric"]) & (measured["role"] == "fa_irl")]
        if BETTER.get(claim["metric"]) != claim["better"]:
            raise ValueError(f"claim {claim['claim']!r}: the reproduced tables read {claim['metric']} as "
                             f"{BETTER.get(claim['metric'], 'no verdict')!r} is better, the claim says {claim['better']!r}")
        paper = _paper_gap(numbers, claim["metric"])
        base = {"kind": "claim", "quantity": claim["claim"], "source": "paper [S]", "paper": paper}
        if data.empty:
            rows.append({**base, "note": f"not reproduced: no FA-IRL result for {claim['metric']}"})
        for _, fa in data.iterrows():
            where = {"policy": fa["policy"], "regime": fa["regime"], "objective": fa["objective"], "judge": fa["judge"],
                     "variant": f"{fa['variant']} − its standard IRL"}
            if not np.isfinite(fa["diff"]):
                rows.append({**base, **where, "verdict": "inconclusive",
                             "note": f"cannot check: the reproduced table has no paired FA-IRL − IRL difference for "
                                     f"{fa['objective']} (no standard IRL of that objective, or a table written "
                                     "before paired differences: rebuild it)"})
                continue
            unit = fa["unit"]
            rows.append({**base, **where, "reproduced": fa["diff"], "ci_low": fa["diff_low"], "ci_high": fa["diff_high"],
                         "n_paired": fa["n_paired"], "difference": fa["diff"] - paper if np.isfinite(paper) else np.nan,
                         "verdict": fa["verdict"],
                         "note": f"FA-IRL − IRL, paired over {int(fa['n_paired'])} {unit}; {claim['better']} is better"})
    return pd.DataFrame(rows, columns=COLUMNS)


BETTER = {"f1": "higher", "auc": "higher", "accuracy": "higher", "starc": "lower", "toxic_share": "lower"}
"""The direction in which the reproduced tables' verdicts are read (fairl.report.lm_tables)."""


def compare(claims_file: dict, classification: pd.DataFrame, starc: pd.DataFrame,
            toxicity: pd.DataFrame) -> pd.DataFrame:
    measured = measurements(classification, starc, toxicity)
    return pd.concat([compare_numbers(claims_file["numbers"], measured),
                      check_claims(claims_file["claims"], claims_file["numbers"], measured)], ignore_index=True)


def comparison_markdown(table: pd.DataFrame) -> str:
    """A verdict count per claim and regime, then the claim checks and the numbers as Markdown tables."""
    def fmt(value):
        return "" if value is None or (isinstance(value, float) and not np.isfinite(value)) else f"{value:.3f}"

    claims = table[table["kind"] == "claim"]
    lines = ["## Qualitative claims", "",
             "FA-IRL minus standard IRL of the same objective, with a 95% interval; the verdict is read from "
             "the interval: holds (excludes 0 in the paper's direction), contradicted (excludes 0 the other way), "
             "inconclusive (contains 0).", ""]
    for claim, group in claims.groupby("quantity", sort=False):
        checked = group.dropna(subset=["verdict"])
        if checked.empty:
            lines.append(f"- **{claim}**: cannot be checked with this configuration.")
            continue
        parts = []
        for regime, by_regime in checked.groupby("regime", sort=False):
            counts = by_regime["verdict"].value_counts()
            tally = ", ".join(f"{verdict} {int(counts.get(verdict, 0))}" for verdict in VERDICTS)
            parts.append(f"{regime or 'one run'}: {tally} (of {len(by_regime)})")
        lines.append(f"- **{claim}**: " + "; ".join(parts) + ".")
    shown = table.assign(
        paper=table["paper"].map(fmt), reproduced=table["reproduced"].map(fmt),
        reproduced_sd=table["reproduced_sd"].map(fmt), difference=table["difference"].map(fmt),
        interval=[f"[{fmt(lo)}, {fmt(hi)}]" if np.isfinite(lo) and np.isfinite(hi) else ""
                  for lo, hi in zip(table["ci_low"].astype(float), table["ci_high"].astype(float))],
    ).fillna("")
    claim_columns = ["quantity", "policy", "regime", "objective", "judge", "paper", "reproduced", "interval",
                     "verdict", "note"]
    number_columns = ["quantity", "source", "policy", "regime", "variant", "judge", "paper", "reproduced",
                      "reproduced_sd", "difference", "note"]
    lines += ["", "## Claim checks (FA-IRL minus standard IRL of the same objective; 95% interval)", "",
              shown[shown["kind"] == "claim"][claim_columns].to_markdown(index=False), "",
              "## Every reported number beside the reproduced one (difference = reproduced − paper)", "",
              shown[shown["kind"] == "number"][number_columns].to_markdown(index=False)]
    return "\n".join(lines)
