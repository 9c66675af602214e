"""benchmarks/irl_speed.py runs and reports scikit-learn beside each method it times (its timings are measured,
never asserted), with the command that made the table."""

import subprocess
import sys

from tests.conftest import REPO


def test_irl_benchmark_reports_sklearn_and_each_method(tmp_path):
    out = tmp_path / "irl_speed.md"
    done = subprocess.run([sys.executable, "benchmarks/irl_speed.py", "--n-pairs", "400", "--dim", "16",
                           "--repeats", "2", "--methods", "max_entropy", "fa_max_entropy", "--regimes", "converged",
                           "--dtype", "float32", "--sklearn-tol", "1e-7", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text()
    rows = {cells[1].strip(): cells[2:] for cells in (line.split("|") for line in text.splitlines())
            if len(cells) > 3 and cells[2].strip() == "converged"}
    assert set(rows) == {"sklearn LogisticRegression (lbfgs, tol 1e-07)", "max_entropy", "fa_max_entropy"}
    assert all(float(cells[1]) > 0 and 0.5 < float(cells[3]) <= 1.0 for cells in rows.values())  # seconds, accuracy
    assert float(rows["sklearn LogisticRegression (lbfgs, tol 1e-07)"][-2]) == 1.0  # ratio_to_sklearn
    assert "--sklearn-tol 1e-7" in text and "float32 features" in text
