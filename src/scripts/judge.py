"""Judge stage: the ground-truth judge defining r*. An `embedding` judge is trained here on the
insults train split and its held-out AUC on the test split written to a table.

    python src/scripts/judge.py --params '<json of config["lm"]["ground_truth"]>' --out work/judge --auc results/lm/judge_auc.csv
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

import _common
from fairl.io import atomic_write_csv
from fairl.judges import load_judge, load_judge_dir, save_judge_spec, train_embedding_judge
from fairl.metrics import roc_auc
from fairl.prompts import load_insults
from fairl.provenance import write_sidecar


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--out", required=True)
    parser.add_argument("--auc", required=True, help="CSV of each judge's held-out ROC-AUC on the insults test split")
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run("judge", params)
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    # Held-out AUC on the insults test split where the config names one (the offline default);
    # the paper configuration's judges are published classifiers and are not re-scored here.
    test = load_insults(params["test_file"]) if params.get("test_file") else None
    rows = []
    if params["kind"] == "embedding":
        if test is None:
            raise ValueError("an embedding judge is trained and scored here: set lm.ground_truth.test_file "
                             "(e.g. test_with_solutions.csv)")
        train = load_insults(params["train_file"])
        if params.get("max_train"):
            train = train.sample(n=min(params["max_train"], len(train)), random_state=params.get("seed", 0))
            test = test.sample(n=min(params["max_train"], len(test)), random_state=params.get("seed", 0))
        judge = train_embedding_judge(train["text"].tolist(), train["label"].to_numpy(), c=params.get("c", 1.0),
                                      seed=params.get("seed", 0))
        judge.save(out)
        n_train = len(train)
    else:
        save_judge_spec(out, {k: v for k, v in params.items()
                              if k not in ("train_file", "test_file", "max_train", "evaluation_judge")})
        judge, n_train = load_judge_dir(out, params.get("device", "auto")), 0
    evaluation = load_judge(params["evaluation_judge"], params.get("device", "auto"))
    for role, scored, trained_on in (("ground truth r*", judge, n_train), ("independent evaluation", evaluation, 0)):
        rows.append({"judge": getattr(scored, "name", params.get("model", params["kind"])), "role": role,
                     "n_train": trained_on, "n_test": 0 if test is None else len(test),
                     "test_auc": float("nan") if test is None
                     else roc_auc(test["label"].to_numpy() == 1, scored.toxicity(test["text"].tolist()))})
    atomic_write_csv(pd.DataFrame(rows), args.auc)
    write_sidecar(out / "judge", "judge", params)


if __name__ == "__main__":
    main()
