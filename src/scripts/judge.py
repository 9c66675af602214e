"""Judge stage: the ground-truth judge defining r* and the independent evaluation judge, each saved as a
self-contained judge directory that every later job reads without touching the network. An `embedding`
judge is trained here on the insults train split; model judges (hf_classifier, detoxify) are fetched or
copied from their local files once, here. Each judge's held-out AUC on the insults test split is written
to a table where the config names a test file.

    python src/scripts/judge.py --params '<json of config["lm"]["ground_truth"]>' --out work/judge \
        --evaluation-out work/evaluation_judge --auc results/lm/judge_auc.csv
"""

from __future__ import annotations

import _common
from fairl.io import atomic_write_csv
from fairl.lm.judges import materialise_judges


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--out", required=True, help="judge directory of r*")
    parser.add_argument("--evaluation-out", required=True, help="judge directory of the evaluation judge")
    parser.add_argument("--auc", required=True, help="CSV of each judge's held-out ROC-AUC on the insults test split")
    args = parser.parse_args()
    _common.setup_logging()
    params = args.params
    _common.log_run("judge", params)
    auc = materialise_judges(params, args.out, args.evaluation_out)
    atomic_write_csv(auc, args.auc)


if __name__ == "__main__":
    main()
