"""Shared by the entry-point scripts: logging to stderr (Snakemake sends it to the rule's log)."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from fairl.provenance import versions


def setup_logging() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")


def parser(doc: str) -> argparse.ArgumentParser:
    """An argparse parser whose first option is --params: the rule's config section as JSON."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", required=True, type=json.loads, help="the config section, as JSON")
    return parser


def log_run(name: str, params: dict) -> None:
    logging.getLogger(name).info("params %s | versions %s", json.dumps(params, sort_keys=True), versions())


REPORT_DEFAULTS = {"top_k": 10, "max_chars": 160, "smoothing": 10}
"""Defaults of the optional `report` config section (tables and figures of the LM chain)."""


def named_paths(entries: list[str] | None, option: str) -> dict[str, str]:
    """Repeated NAME=PATH options as {NAME: PATH}, in the given order."""
    if not entries:
        raise SystemExit(f"this output needs {option} NAME=PATH (once per policy)")
    split = [entry.partition("=") for entry in entries]
    bad = [entry for entry, (name, eq, path) in zip(entries, split) if not (name and eq and path)]
    if bad:
        raise SystemExit(f"{option} takes NAME=PATH, got {bad}")
    return {name: path for name, _, path in split}
