"""benchmarks/precision_speed.py runs and reports both precisions (its timings are measured, never asserted)."""

import subprocess
import sys

from tests.conftest import REPO


def test_precision_benchmark_reports_fp32_and_bf16(tmp_path):
    out = tmp_path / "precision.md"
    done = subprocess.run([sys.executable, "benchmarks/precision_speed.py", "--tokens", "16", "--repeats", "1",
                           "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {line.split("|")[1].strip(): line.split("|")[2:4] for line in out.read_text().splitlines()
            if line.startswith("| fp32") or line.startswith("| bf16")}
    assert set(rows) == {"fp32", "bf16"}
    assert float(rows["fp32"][1]) == 1.0 and all(float(ms) > 0 for ms, _ in rows.values())
    assert "bfloat16 instructions (AVX512-BF16/AMX): " in out.read_text() and "--tokens 16" in out.read_text()
