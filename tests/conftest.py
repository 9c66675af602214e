import shutil
from pathlib import Path

import numpy as np
import pytest

from fairl.synthetic.data import SyntheticConfig, make_synthetic_preferences

REPO = Path(__file__).resolve().parents[1]

# Near-deterministic preferences, enough pairs per dimension: every method should recover r*.
REALISABLE = SyntheticConfig(n_pairs=3000, dim=16, hard_fraction=0.3, rationality=50.0, hard_gap=0.5)


@pytest.fixture(scope="session")
def realisable():
    return make_synthetic_preferences(REALISABLE, seed=0)


@pytest.fixture
def small_pairs():
    rng = np.random.default_rng(0)
    h_neg = rng.standard_normal((64, 5))
    h_pos = h_neg + rng.standard_normal((64, 5)) + np.array([1.0, 0, 0, 0, 0])
    return h_pos, h_neg


CORPUS = [
    "you are an idiot and a fool", "have a nice day my friend", "what a stupid thing to say",
    "thanks for the kind words", "shut up you moron", "I really enjoyed the article",
] * 10


@pytest.fixture(scope="session")
def tiny_policy(tmp_path_factory):
    """A tiny random GPT-NeoX saved as a local Hugging Face directory."""
    from fairl.lm.policies import build_tiny_policy

    return str(build_tiny_policy(tmp_path_factory.mktemp("tiny") / "policy", CORPUS, seed=0))


# What a fresh clone does not have: everything .gitignore keeps out of the repository (and git's own folder).
NOT_IN_A_CLONE = {".git", ".venv", "out", "work", "logs", ".snakemake", ".pytest_cache", ".hypothesis", "report.html"}


def _ignored(path: Path) -> bool:
    relative = path.relative_to(REPO).as_posix()
    return path.name in {"__pycache__"} or path.name.endswith(".egg-info") or relative == "benchmarks/out"


def fresh_clone(root: Path) -> Path:
    """Copy the repository into `root` as a clone would hold it: tracked files, committed results and figures
    included, nothing that git ignores (no outputs of earlier runs, no environment). Links stay links."""
    root.mkdir(parents=True, exist_ok=True)
    for source in sorted(REPO.iterdir()):
        if source.name in NOT_IN_A_CLONE:
            continue
        target = root / source.name
        if source.is_symlink():
            target.symlink_to(source.readlink())
        elif source.is_dir():
            shutil.copytree(source, target, symlinks=True,
                            ignore=lambda folder, names: [n for n in names if _ignored(Path(folder) / n)])
        else:
            shutil.copy2(source, target)
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` (links not followed) and its bytes."""
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file() and not path.is_symlink()}
