"""The lint and format gate: ruff on every Python file, snakefmt on the workflow (Snakefile, rules/).

Settings live in pyproject.toml ([tool.ruff], [tool.snakefmt]); the fix for a failure is
`.venv/bin/ruff check --fix .` or `.venv/bin/snakefmt Snakefile rules`.
"""

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / command[0]), *command[1:]], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing():
    done = run("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_snakefmt_would_change_nothing():
    done = run("snakefmt", "--check", "Snakefile", "rules")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_gate_fails_on_a_lint_error(tmp_path):
    """Negative control: the same ruff invocation rejects an unused import and a misformatted rule."""
    (tmp_path / "bad.py").write_text("import os\n")
    done = run("ruff", "check", "--no-cache", str(tmp_path / "bad.py"))
    assert done.returncode != 0 and "F401" in done.stdout
    (tmp_path / "bad.smk").write_text('rule a:\n    output: "x"\n    shell:   "touch {output}"\n')
    done = run("snakefmt", "--check", str(tmp_path / "bad.smk"))
    assert done.returncode != 0
