"""The files one stage of the LM chain hands the next, and the one reader of each.

Every reader checks what it reads before a number is computed from it: the file is whole (a
truncated or corrupt file is reported, not a pyarrow traceback), it has the columns or arrays its
consumers use, its numbers are finite, and it was made under the consumer's configuration (its
sidecar, fairl.provenance). Every error names the file and the rule that rebuilds it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fairl.provenance import require_consistent
from fairl.variants import reward_file, slug

if TYPE_CHECKING:
    from fairl.irl import LinearReward

PROMPTS_COLUMNS = ["prompt_id", "text", "split"]
"""Columns of prompts.parquet (rule prompts, fairl.lm.prompts.split_prompts) its consumers read."""
PAIRS_COLUMNS = ["prompt_id", "prompt", "completion_aligned", "completion_base", "reward_aligned", "reward_base",
                 "toxicity_aligned", "toxicity_base", "t_to_nt"]
"""Columns of pairs.parquet (rule pairs, fairl.lm.pairs.build_pairs), in order."""
LOG_COLUMNS = ["step", "reward", "kl", "toxicity", "wall_seconds"]
"""Columns of an RLHF run's step log (log.csv, published as final/training_log.csv; fairl.lm.rlhf), in order."""
EVALUATION_COLUMNS = ["reward", "prompt_id", "completion", "r_star", "log_ratio_to_base"]
"""Columns of one policy's scored eval generations, work/P/eval/NAME.parquet (rule eval_generations,
fairl.lm.toxicity.evaluate_policy), in order; one toxic-flag column per judge follows them."""
FEATURE_ARRAYS = ("h_pos", "h_neg", "prompt_id")
"""Arrays of features.npz: h(o+) and h(o-) row-aligned with the pairs table, and its prompt_id column."""


def rebuild(rule: str | None) -> str:
    return f"rebuild it (snakemake --forcerun {rule})" if rule else "rebuild it"


def read_table(path: str | Path, columns: list[str], rule: str | None = None) -> pd.DataFrame:
    """A CSV or Parquet file with at least `columns` and one row; errors name the file and `rule`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: build it first" + (f" (rule {rule})" if rule else ""))
    if path.stat().st_size == 0:
        raise ValueError(f"{path} is empty: {rebuild(rule)}")
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError, ValueError) as error:
        raise ValueError(f"{path} cannot be read as a table ({type(error).__name__}: {error}): {rebuild(rule)}") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks column(s) {missing}; it has {list(frame.columns)}: {rebuild(rule)}")
    if frame.empty:
        raise ValueError(f"{path} has a header but no rows: {rebuild(rule)}")
    return frame


def require_made_with(path: str | Path, rule: str, **expected: Any) -> dict[str, Any]:
    """The sidecar of `path`, after checking its config equals `expected` on each given key."""
    try:
        return require_consistent(path, **expected)
    except ValueError as error:
        raise ValueError(f"{error}\n(this consumer's configuration is the one in force: {rebuild(rule)})") from None


def read_prompts(path: str | Path, split: str | None = None) -> pd.DataFrame:
    """prompts.parquet, checked whole: all prompts, or the rows of one split (pairs, rlhf or eval)."""
    prompts = read_table(path, PROMPTS_COLUMNS, "prompts")
    return prompts if split is None else prompts[prompts["split"] == split]


def read_pairs(path: str | Path, generation: dict[str, Any], seed: int) -> pd.DataFrame:
    """pairs.parquet, checked whole and made with this configuration's generation settings and seed."""
    pairs = read_table(path, PAIRS_COLUMNS, "pairs")
    require_made_with(path, "pairs", generation=generation, seed=seed)
    return pairs


def read_evaluation(path: str | Path, name: str, generation: dict[str, Any], seed: int, precision: str) -> pd.DataFrame:
    """One policy's scored eval generations (rule eval_generations), checked whole: made for policy `name` with
    this configuration's generation settings, seed and precision, with finite r* and log-ratios."""
    table = read_table(path, EVALUATION_COLUMNS, "eval_generations")
    require_made_with(path, "eval_generations", generation=generation, seed=seed, precision=precision)
    if set(table["reward"]) != {name}:
        raise ValueError(f"{path} holds the generations of {sorted(set(table['reward']))}, not of {name!r}: "
                         f"{rebuild('eval_generations')}")
    numbers = table[["r_star", "log_ratio_to_base"]].to_numpy(dtype=np.float64)
    if not np.isfinite(numbers).all():
        raise ValueError(f"{path} has non-finite r* or log-ratios: {rebuild('eval_generations')}")
    return table


def read_features(path: str | Path, pairs: pd.DataFrame, pairs_path: str | Path,
                  made_with: dict[str, Any] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """h(o+) and h(o-) of every pair in `pairs` (read from `pairs_path`), checked to belong to them and finite;
    with `made_with` (a config section holding the chain's `generation`, `features` and `precision`), checked by
    its sidecar to be computed under them."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: build it first (rule features)")
    if made_with:
        require_made_with(path, "features", generation=made_with["generation"], precision=made_with["precision"],
                          max_tokens=made_with["features"]["max_tokens"])
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in FEATURE_ARRAYS if k in data.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:  # truncated, corrupt, not an npz
        raise ValueError(f"{path} cannot be read ({type(error).__name__}: {error}): {rebuild('features')}") from None
    missing = [k for k in FEATURE_ARRAYS if k not in arrays]
    if missing:
        raise ValueError(f"{path} lacks array(s) {missing}: {rebuild('features')}")
    h_pos, h_neg, prompt_id = (arrays[k] for k in FEATURE_ARRAYS)
    if not np.array_equal(prompt_id, pairs["prompt_id"].to_numpy()):
        raise ValueError(f"{path} was computed for other pairs than {pairs_path}: {rebuild('features')}")
    if h_pos.shape != h_neg.shape or h_pos.ndim != 2:
        raise ValueError(f"{path}: h_pos {h_pos.shape} and h_neg {h_neg.shape} are not two equal matrices: "
                         f"{rebuild('features')}")
    for name, h in (("h_pos", h_pos), ("h_neg", h_neg)):
        bad = np.flatnonzero(~np.isfinite(h).all(axis=1))
        if bad.size:
            raise ValueError(f"{path}: {name} has non-finite values in {bad.size} row(s), first row {bad[0]} "
                             f"(prompt_id {prompt_id[bad[0]]}): {rebuild('features')}")
    return h_pos, h_neg


def read_reward(path: str | Path, made_with: dict[str, Any] | None = None) -> LinearReward:
    """A fitted reward (rule irl), with an error naming the file when it is missing or unreadable; with
    `made_with` (a config section holding the chain's `features` and `precision`), checked by its sidecar to be
    fitted on features of that contract and precision."""
    from fairl.irl import LinearReward

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no reward {path}: build it first (rule irl)")
    if made_with:
        require_made_with(path, "irl", features=made_with["features"], precision=made_with["precision"])
    try:
        return LinearReward.load(path)
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} cannot be read as a reward ({type(error).__name__}: {error}): "
                         f"{rebuild('irl')}") from None


def read_rewards(directory: str | Path, variants: list[str], regime: str, seed: int,
                 made_with: dict[str, Any] | None = None) -> dict[str, LinearReward]:
    """The reward of each named variant saved by rule irl in `directory`, for one regime and seed."""
    return {variant: read_reward(reward_file(str(Path(directory) / slug(variant)), regime, seed), made_with)
            for variant in variants}


def read_scored_pairs(pairs_path: str | Path, features_path: str | Path, reward_dir: str | Path, variants: list[str],
                      regime: str, seed: int, made_with: dict[str, Any]
                      ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, dict[str, LinearReward]]:
    """One policy's pairs, their features and the named variants' rewards (one regime, IRL seed `seed`), as the
    report layer scores them: the pairs made with `made_with`'s generation settings and chain seed, the
    features and the rewards under its feature contract and precision."""
    pairs = read_pairs(pairs_path, made_with["generation"], made_with["seed"])
    h_pos, h_neg = read_features(features_path, pairs, pairs_path, made_with)
    rewards = read_rewards(reward_dir, variants, regime, seed, made_with)
    return pairs, h_pos, h_neg, rewards


GROUND_TRUTH = "ground_truth"
"""The reward name of an RLHF run against r* (the others are re-RLHF runs, named by their reward file)."""


REPEAT_SEPARATOR = "-"
"""Between a reward's name and the repeat number in the name of an RLHF run; no reward name holds it (variant slugs
are letters, digits and underscores)."""


def rlhf_run(reward: str, repeat: int) -> str:
    """The name of the `repeat`-th RLHF run (from 0) against `reward` (GROUND_TRUTH or a variant slug): the reward's
    own name for the first run, `reward-1`, `reward-2`, ... for the repeats."""
    if repeat < 0 or REPEAT_SEPARATOR in reward:
        raise ValueError(f"no RLHF run {reward!r} repeat {repeat}: a repeat counts from 0, a reward name has no "
                         f"{REPEAT_SEPARATOR!r}")
    return reward if repeat == 0 else f"{reward}{REPEAT_SEPARATOR}{repeat}"


def parse_rlhf_run(run: str) -> tuple[str, int]:
    """(reward, repeat) of an RLHF run's name; the inverse of `rlhf_run`."""
    reward, separator, repeat = run.partition(REPEAT_SEPARATOR)
    if not separator:
        return reward, 0
    if not repeat.isdigit() or int(repeat) < 1 or str(int(repeat)) != repeat:
        raise ValueError(f"{run!r} is not the name of an RLHF run: REWARD or REWARD{REPEAT_SEPARATOR}N with N ≥ 1")
    return reward, int(repeat)


def reward_label(extracted_reward: str | Path | None) -> str:
    """What an RLHF policy's sidecar names as its reward: r*, or the extracted reward's file name."""
    return GROUND_TRUTH if extracted_reward is None else f"extracted:{Path(extracted_reward).name}"


def policy_sidecar(final: str | Path) -> Path:
    """The output an RLHF policy directory's sidecar describes (final/policy.meta.json), written inside final/
    before it is published."""
    return Path(final) / "policy"


def check_rlhf_policy(final: str | Path, rlhf: dict[str, Any], seed: int, precision: str, reward: str) -> None:
    """An RLHF'd policy directory (rule rlhf's final/) was trained under this configuration's lm.rlhf, seed and
    precision, against `reward` (a `reward_label`); the error names what differs and how to rebuild."""
    record = require_made_with(policy_sidecar(final), "rlhf", **rlhf, seed=seed, precision=precision)
    made = record.get("models", {}).get("reward")
    if made != reward:
        raise ValueError(f"{final} was trained against reward {made!r}, and this run expects {reward!r}: "
                         f"{rebuild('rlhf')}")
