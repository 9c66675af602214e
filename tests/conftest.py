from pathlib import Path

import numpy as np
import pytest

from fairl.synthetic import SyntheticConfig, make_synthetic_preferences

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
    from fairl.policies import build_tiny_policy

    return str(build_tiny_policy(tmp_path_factory.mktemp("tiny") / "policy", CORPUS, seed=0))
