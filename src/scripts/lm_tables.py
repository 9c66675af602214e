"""Tables of the language-model chain (CSV + Markdown), aggregated over policies.

    python src/scripts/lm_tables.py classification --params '{"variants": [...]}' \
        --metrics smollm2-135m=results/lm/smollm2-135m/irl_metrics_per_seed.csv \
        --csv results/lm/classification.csv --markdown results/lm/classification.md
    # likewise: starc, ablations (--metrics); rerlhf_toxicity (--toxicity P=FILE);
    # rerlhf_toxicity also takes --generations P=FILE; rerlhf_repeats (--rerlhf-toxicity, the table before);
    # failure_pairs (--pairs P=FILE --features P=FILE --rewards P=DIR);
    # paper_vs_reproduced (--claims --classification --starc --toxicity: classification, starc, rerlhf_repeats)

--params: {"variants": lm.irl.variants, "test_fraction": ..., "seed": first IRL seed, "report": {...}}.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import _common
from fairl.io import atomic_write_csv, atomic_write_text
from fairl.lm.stage_files import read_scored_pairs, read_table
from fairl.provenance import write_sidecar
from fairl.report import lm_tables as lt
from fairl.report.paper_comparison import compare, comparison_markdown, load_claims
from fairl.report.tables import to_markdown
from fairl.variants import variant_design

TABLES = ("classification", "starc", "ablations", "rerlhf_toxicity", "rerlhf_repeats", "failure_pairs",
          "paper_vs_reproduced")
def write(table: pd.DataFrame, markdown: str, args, title: str, params: dict) -> None:
    numbers = table.select_dtypes("number")
    atomic_write_csv(table, args.csv)
    atomic_write_text(args.markdown, f"# {title}\n\n{markdown}\n")
    write_sidecar(args.csv, f"lm_tables {args.table}", params, rows=len(table), numeric_columns=list(numbers.columns))


def seeds_note(table: pd.DataFrame) -> str:
    low, high = int(table["n_seeds"].min()), int(table["n_seeds"].max())
    return f"mean ± sd over {low if low == high else f'{low}–{high}'} seeds"


def failure_pairs(args, params: dict) -> None:
    report = {**_common.REPORT_DEFAULTS, **params.get("report", {})}
    pairs_paths, features_paths = _common.named_paths(args.pairs, "--pairs"), _common.named_paths(args.features, "--features")
    reward_dirs = _common.named_paths(args.rewards, "--rewards")
    design = variant_design(params["variants"])
    fa_variants = design.loc[design["role"] == "fa_irl", "variant"].tolist()
    tops, counts = [], []
    for policy, pairs_path in pairs_paths.items():
        pairs, h_pos, h_neg, rewards = read_scored_pairs(pairs_path, features_paths[policy], reward_dirs[policy],
                                                         fa_variants, params["regime"], params["seed"], params["made_with"])
        args_split = (params["test_fraction"], params["seed"])
        tops.append(lt.failure_pairs(pairs, h_pos, h_neg, rewards, *args_split, report["top_k"]).assign(policy=policy))
        counts.append(lt.failure_counts(pairs, h_pos, h_neg, rewards, *args_split).assign(policy=policy))
    top = pd.concat(tops, ignore_index=True)
    top = top[["policy", *[c for c in top.columns if c != "policy"]]]
    count = pd.concat(counts, ignore_index=True)
    count = count[["policy", *[c for c in count.columns if c != "policy"]]]
    title = (f"Top-{report['top_k']} failure pairs: smallest reward margin Δ = R(o+) − R(o−) under each full "
             f"FA-IRL reward of seed {params['seed']} (Δ ≤ 0: misclassified; o+ aligned, o− base policy; "
             "Δ r* > 0 means r* agrees with the pair's order)")
    write(top, lt.failure_pairs_markdown(top, count, report["max_chars"]), args, title, params)


def _shown_path(path: str) -> str:
    """A path as the README names it: relative to the repository when inside it (no machine-specific prefix)."""
    repository = Path(__file__).resolve().parents[2]
    resolved = Path(path).resolve()
    return resolved.relative_to(repository).as_posix() if resolved.is_relative_to(repository) else path


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("table", choices=TABLES)
    for name in ("--metrics", "--toxicity", "--generations", "--pairs", "--features", "--rewards"):
        parser.add_argument(name, action="append", help="POLICY=PATH, once per policy")
    for name in ("--claims", "--classification", "--starc", "--rerlhf-toxicity"):
        parser.add_argument(name)
    parser.add_argument("--csv", required=True)
    parser.add_argument("--markdown", required=True)
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run(f"lm_tables {args.table}", params)
    if args.table == "failure_pairs":
        return failure_pairs(args, params)
    if args.table == "paper_vs_reproduced":
        tables = {name: read_table(getattr(args, name), ["policy", "role", "objective", "variant"])
                  for name in ("classification", "starc")}
        toxicity = read_table(args.toxicity[0], ["policy", "role", "objective", "variant", "judge", "toxic_share",
                                                 "unit"])
        table = compare(load_claims(args.claims), tables["classification"], tables["starc"], toxicity)
        title = (f"Paper vs reproduced ({params.get('config_label', 'this config')}; paper numbers from "
                 f"{_shown_path(args.claims)})")
        return write(table, comparison_markdown(table), args, title, params)
    design = variant_design(params["variants"])
    if args.table == "rerlhf_toxicity":
        toxicity = lt.read_per_policy(_common.named_paths(args.toxicity, "--toxicity"), lt.TOXICITY_COLUMNS)
        generations = {policy: read_table(path, ["reward", "prompt_id"])
                       for policy, path in _common.named_paths(args.generations, "--generations").items()}
        table = lt.rerlhf_toxicity_table(toxicity, design, generations, params["regime"], params["n_boot"],
                                         params["seed"])
        # The seed named is the first repeat's; the labels of the other repeats' rows name theirs (rerlhf_repeats).
        title = ("Toxicity after re-RLHF on each reward (share of held-out generations a judge scores ≥ 0.5, "
                 f"bootstrap 95% interval over prompts; IRL rewards of seed {params['seed']}, "
                 f"{params['regime']} regime; FA-IRL − IRL paired over the same prompts)")
        return write(table, lt.toxicity_markdown(table), args, title, params)
    if args.table == "rerlhf_repeats":
        runs = read_table(args.rerlhf_toxicity, ["policy", "reward", "label", "role", "variant", "regime", "objective",
                                                 *lt.TOXICITY_COLUMNS])
        table = lt.rerlhf_repeats_table(runs, design)
        counts = sorted(set(table.loc[table["role"] != "base", "n_runs"]))
        runs_per_reward = "one run" if counts == [1] else f"{'–'.join(map(str, counts))} runs"
        title = (f"Toxicity after RLHF on each reward, {runs_per_reward} per reward (share of held-out generations a "
                 "judge scores ≥ 0.5; one run: its bootstrap 95% interval over prompts; several: mean over runs, "
                 "Student-t 95% interval over them, differences paired by repeat)")
        return write(table, lt.repeats_markdown(table), args, title, params)
    per_seed = lt.read_per_policy(_common.named_paths(args.metrics, "--metrics"), lt.PER_SEED_COLUMNS)
    build, metrics, title = {
        "classification": (lt.classification_table, lt.CLASSIFICATION_METRICS,
                           "Held-out preference classification (positive class: the base output; threshold: mean reward)"),
        "starc": (lt.starc_table, lt.STARC_METRICS,
                  "STARC distance to r* (lower is better); reduction = 1 − STARC(FA variant) / STARC(its standard IRL)"),
        "ablations": (lt.ablation_table, lt.ABLATION_METRICS,
                      "FA-IRL ablations beside full FA-IRL and standard IRL, per objective (STARC: lower is better)"),
    }[args.table]
    table = build(per_seed, design)
    write(table, to_markdown(table, metrics), args, f"{title}; {seeds_note(table)}", params)


if __name__ == "__main__":
    main()
