import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml

from fairl.synthetic.data import SyntheticConfig, make_synthetic_preferences

REPO = Path(__file__).resolve().parents[1]

# Near-deterministic preferences, enough pairs per dimension: every method should recover r*.
REALISABLE = SyntheticConfig(n_pairs=3000, dim=16, hard_fraction=0.3, rationality=50.0, hard_gap=0.5)


SHARED_RUN_FILES = ("tests/test_workflow.py", "tests/test_slurm.py")
"""The test files that use the shared tiny run (`tiny_run`): under pytest-xdist they go to one worker."""


def pytest_collection_modifyitems(items):
    """The long workflow tests (marked slow) first, so that each of the two workers (pyproject's addopts) starts
    on one of them and the short tests fill in around them; and a check that only SHARED_RUN_FILES use tiny_run."""
    stray = sorted({item.nodeid.split("::")[0] for item in items if "tiny_run" in getattr(item, "fixturenames", ())}
                   - set(SHARED_RUN_FILES))
    if stray:
        raise pytest.UsageError(f"{stray} use the tiny_run fixture: add them to tests/conftest.py's SHARED_RUN_FILES "
                                "so that pytest-xdist runs them on the worker that holds the run")
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Each test file on one worker (module fixtures run once), and SHARED_RUN_FILES together on one: `tiny_run` is
    a session fixture, and on two workers it would run twice. (xdist's own `--dist loadgroup` marks do not take
    effect under pytest 9: its worker renames a test's `_nodeid`, which pytest 9 no longer reads.) Another `--dist`
    asked for on the command line gets xdist's own scheduler."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedRunScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = nodeid.split("::", 1)[0]
            return "tiny_run" if file in SHARED_RUN_FILES else file

    return SharedRunScheduling(config, log)


@pytest.fixture(scope="session")
def realisable():
    return make_synthetic_preferences(REALISABLE, seed=0)


@pytest.fixture
def small_pairs():
    rng = np.random.default_rng(0)
    h_neg = rng.standard_normal((64, 5))
    h_pos = h_neg + rng.standard_normal((64, 5)) + np.array([1.0, 0, 0, 0, 0])
    return h_pos, h_neg


@pytest.fixture
def hub_offline(monkeypatch):
    """The hub's offline switches, as a user sets them, made to take effect in this process too: huggingface_hub
    and datasets read them once, at import, so once an earlier test has imported them setting the variables
    alone leaves the hub online, and a lookup waits for its network time-outs (46 s here) instead of failing."""
    for switch in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.setenv(switch, "1")
    for module, names in (("huggingface_hub.constants", ("HF_HUB_OFFLINE",)),
                          ("datasets.config", ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))):
        if module in sys.modules:
            for name in names:
                monkeypatch.setattr(sys.modules[module], name, True)


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


TINY = "tests/config/tiny.yaml"
"""The tiny configuration: the whole workflow end to end in a few minutes."""
TINY_OUT = yaml.safe_load((REPO / TINY).read_text())["output_root"]
"""Where the tiny configuration's outputs go, relative to a checkout."""


def run(workdir: Path, *args: str, configfile: str | Path = TINY, timeout: float = 600) -> subprocess.CompletedProcess:
    """snakemake ARGS... on `configfile` (last: --configfile takes several values) in `workdir`, on 2 cores."""
    command = [sys.executable, "-m", "snakemake", *args, "--cores", "2", "--configfile", str(configfile)]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=timeout)


@dataclass(frozen=True)
class TinyRun:
    workdir: Path
    """The fresh clone the run happened in (other tests may add files to it, never change its outputs)."""
    done: subprocess.CompletedProcess
    seconds: float
    before: dict[str, bytes]
    """Every file of the clone before the run, and right after it (`after`)."""
    after: dict[str, bytes]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> TinyRun:
    """`snakemake all` on the tiny configuration, once per session, in a fresh clone: the run the workflow tests
    inspect and the local reference the SLURM and restart tests compare against. Once, because it is the longest
    setup of the suite; shared, so that no test depends on another test having run it first."""
    workdir = fresh_clone(tmp_path_factory.mktemp("tiny_run"))
    before = snapshot(workdir)
    start = time.monotonic()
    done = run(workdir, "all", timeout=900)
    seconds = time.monotonic() - start
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
    return TinyRun(workdir, done, seconds, before, snapshot(workdir))


def copy_of_run(finished: TinyRun, root: Path) -> Path:
    """The finished tiny run copied into `root` with Snakemake's records and every modification time, so that a
    test can rewind it and re-run only the rest (tests/test_workflow.py, `rewind`) instead of the whole workflow
    from a fresh clone."""
    shutil.copytree(finished.workdir, root, symlinks=True, dirs_exist_ok=True)
    return root
