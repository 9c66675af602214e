"""Wall time of every reward-extraction method vs scikit-learn's LogisticRegression (lbfgs).

The textbook linear max-entropy IRL is logistic regression on difference vectors
h+ - h-; we give scikit-learn each difference with a random sign and the sign as label
(no intercept), so both classes exist. All fits run in one process, same data.

    python benchmarks/irl_speed.py                       # 20,000 train pairs, d = 1024 (README figures)
    python benchmarks/irl_speed.py --n-pairs 500 --dim 16 --out /tmp/speed.md   # smoke run
    python benchmarks/irl_speed.py --methods max_entropy --regimes converged --dtype float32   # the sklearn race
    python benchmarks/irl_speed.py --methods max_entropy --regimes converged --sklearn-tol 1e-7   # equal tolerance

Each method is fitted once cold (its first call in the process: lazy imports, allocator warm-up) and then
`--repeats` times warm; the table gives the warm median and the first call's excess over it.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import pandas as pd
import torch
from markdown_report import command_line, write_markdown
from sklearn.linear_model import LogisticRegression

from fairl.irl import METHODS, fit_reward
from fairl.splits import train_test_split
from fairl.synthetic.data import SyntheticConfig, make_synthetic_preferences
from fairl.variants import REGIMES


def timed(fit, repeats: int):
    """(result of the last fit, median wall time of `repeats` warm fits, first call's excess over that median)."""
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        result = fit()
        times.append(time.perf_counter() - start)
    warm = float(np.median(times[1:]))
    return result, warm, times[0] - warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-pairs", type=int, default=20000, help="training pairs")
    parser.add_argument("--dim", type=int, default=1024, help="feature dimension d")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="fits per method; the median time is reported")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS, help="methods to time")
    parser.add_argument("--regimes", nargs="+", default=list(REGIMES), choices=REGIMES, help="regimes to time")
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"],
                        help="dtype of the features handed to every fit, scikit-learn's included")
    parser.add_argument("--sklearn-tol", type=float, default=1e-4,
                        help="scikit-learn's stopping tolerance (its default 1e-4; our converged fits stop at a "
                             "gradient ∞-norm of 1e-7, fairl.irl.hyperparameters)")
    parser.add_argument("--out", default="results/irl_speed.md", help="Markdown table to write")
    args = parser.parse_args()

    n_total = int(round(args.n_pairs / 0.8))
    data = make_synthetic_preferences(SyntheticConfig(n_pairs=n_total, dim=args.dim), args.seed)
    train, test = train_test_split(n_total, 0.2, args.seed)
    a, b = data.subset(train), data.subset(test)
    h_pos, h_neg = a.h_pos.astype(args.dtype), a.h_neg.astype(args.dtype)
    rows = []

    diff = h_pos - h_neg
    sign = np.random.default_rng(args.seed).choice([-1.0, 1.0], len(diff))
    logistic = LogisticRegression(solver="lbfgs", fit_intercept=False, max_iter=1000, tol=args.sklearn_tol)
    fit_sklearn = lambda: logistic.fit(diff * sign[:, None], sign > 0)  # noqa: E731
    logreg, sklearn_time, sklearn_first = timed(fit_sklearn, args.repeats)
    sklearn_acc = float(np.mean((b.h_pos - b.h_neg) @ logreg.coef_[0] > 0))
    rows.append({"method": f"sklearn LogisticRegression (lbfgs, tol {args.sklearn_tol:g})", "regime": "converged",
                 "seconds": sklearn_time, "first_call_extra_seconds": sklearn_first, "held_out_pair_accuracy": sklearn_acc,
                 "gradient_evaluations": None,
                 "iterations": int(logreg.n_iter_[0]), "converged": bool(logreg.n_iter_[0] < 1000)})

    for regime in args.regimes:
        for method in args.methods:
            reward, seconds, first = timed(lambda: fit_reward(h_pos, h_neg, method, seed=args.seed, optimisation=regime),
                                           args.repeats)
            accuracy = float(np.mean(reward.score(b.h_pos) > reward.score(b.h_neg)))
            rows.append({"method": method, "regime": regime, "seconds": seconds, "first_call_extra_seconds": first,
                         "held_out_pair_accuracy": accuracy,
                         "gradient_evaluations": reward.convergence["gradient_evaluations"],
                         "iterations": None, "converged": reward.convergence["settled"]})

    table = pd.DataFrame(rows)
    table["ratio_to_sklearn"] = table["seconds"] / sklearn_time
    header = (
        f"# IRL fit time: {len(diff)} training pairs, d = {args.dim}, {len(test)} held-out pairs\n\n"
        f"{platform.processor() or platform.machine()}, torch {torch.__version__} with {torch.get_num_threads()} "
        f"threads; {args.dtype} features; one cold fit, then the median of {args.repeats} warm fits each; "
        f"command: `{command_line()}`\n\n"
    )
    write_markdown(args.out, header, table)


if __name__ == "__main__":
    main()
