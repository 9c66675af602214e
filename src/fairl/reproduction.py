"""The reproduction check: every number a run regenerated, compared with the committed reference.

A configuration writes everything under its own output root (`output_root`, e.g. `out/default/`); its
committed reference is the `results/` folder under `reference` (the repository root for the default
configuration). Each table the run wrote under `<root>/results/` is compared with the file of the same
name under `<reference>/results/`, rows by position and columns by name:

- a **number** (a cell of a column that is numeric on both sides) is *exact* when both files hold the
  same float (NaN equals NaN), *within tolerance* when |run − reference| ≤ atol + rtol·|reference|, and
  *different* otherwise. The tolerance is for floating-point differences only (BLAS kernels and thread
  counts differ across CPUs and change the last digits); the defaults, rtol 1e-6 and atol 1e-9, are far
  below any difference a reader of the tables would see, so "within tolerance" never hides a changed result.
- a **text** cell (a name, a verdict word, a boolean) matches or differs.
- cells on one side only (a new column, a longer table, a file the reference does not have) are counted
  apart, as *only in this run* or *only in the reference*.

The reference's own check (`results/reproduction.csv.meta.json`) records the configuration it was made
with; when it differs from the run's, the report says which keys differ, since a comparison with the
reference of another configuration is no reproduction.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairl.io import atomic_write_csv, atomic_write_text

REPORT_CSV = "results/reproduction.csv"
REPORT_MARKDOWN = "results/reproduction.md"
# What the committed reference holds: the small tables and figures of a run (no work/, logs/ or benchmarks/).
REFERENCE_FOLDERS = ("results", "paper_figures")
COUNTS = ("cells", "exact", "within_tolerance", "different", "only_in_run", "only_in_reference")


@dataclass(frozen=True)
class Tolerance:
    rtol: float = 1e-6
    atol: float = 1e-9

    def __post_init__(self):
        if not (self.rtol >= 0 and self.atol >= 0):
            raise ValueError(f"reproduction tolerances must be ≥ 0, got rtol={self.rtol}, atol={self.atol}")


def _is_number(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _row(file: str, column: str, kind: str, **counts: Any) -> dict[str, Any]:
    row = {"file": file, "column": column, "kind": kind, **{key: 0 for key in COUNTS},
           "max_abs_difference": 0.0, "max_rel_difference": 0.0}
    row.update(counts)
    return row


def _kind(*columns: pd.Series) -> str:
    return "number" if all(_is_number(c) for c in columns) else "text"


def compare_column(file: str, name: str, run: pd.Series, reference: pd.Series, tolerance: Tolerance) -> dict[str, Any]:
    """Counts for one column present in both tables, over the rows both have."""
    n = min(len(run), len(reference))
    extra = {"only_in_run": max(len(run) - n, 0), "only_in_reference": max(len(reference) - n, 0)}
    a, b = run.iloc[:n].reset_index(drop=True), reference.iloc[:n].reset_index(drop=True)
    if _kind(run, reference) == "text":
        same = (a.isna() & b.isna()) | (a.astype(str) == b.astype(str))
        return _row(file, name, "text", cells=n, exact=int(same.sum()), different=int((~same).sum()), **extra)
    x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    both_nan = np.isnan(x) & np.isnan(y)
    exact = (x == y) | both_nan
    with np.errstate(invalid="ignore"):
        gap = np.abs(x - y)
        close = ~exact & (gap <= tolerance.atol + tolerance.rtol * np.abs(y))  # False where one side is NaN
    finite = ~exact & np.isfinite(gap)
    relative = gap[finite] / np.maximum(np.abs(y[finite]), np.finfo(float).tiny)
    return _row(file, name, "number", cells=n, exact=int(exact.sum()), within_tolerance=int(close.sum()),
                different=int((~exact & ~close).sum()), **extra,
                max_abs_difference=float(gap[finite].max()) if finite.any() else 0.0,
                max_rel_difference=float(relative.max()) if finite.any() else 0.0)


def _one_side(file: str, frame: pd.DataFrame, columns: Iterable[str], side: str) -> list[dict[str, Any]]:
    return [_row(file, c, _kind(frame[c]), cells=len(frame), **{side: len(frame)}) for c in columns]


def read_table(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a readable CSV table ({error}); rebuild it or restore it with git") from None


def compare_tables(tables: Iterable[str], run_root: Path, reference_root: Path, tolerance: Tolerance) -> pd.DataFrame:
    """One row per (file, column): the counts of the module docstring. `tables` are paths relative to both roots."""
    tables = list(dict.fromkeys(tables))
    rows = []
    for table in tables:
        run = read_table(run_root / table)
        reference_path = reference_root / table
        if not reference_path.is_file():
            rows += _one_side(table, run, run.columns, "only_in_run")
            continue
        reference = read_table(reference_path)
        rows += [compare_column(table, c, run[c], reference[c], tolerance) for c in run.columns if c in reference]
        rows += _one_side(table, run, [c for c in run.columns if c not in reference], "only_in_run")
        rows += _one_side(table, reference, [c for c in reference.columns if c not in run], "only_in_reference")
    excluded = {REPORT_CSV, *tables}
    for path in sorted((reference_root / "results").rglob("*.csv")):
        name = path.relative_to(reference_root).as_posix()
        if name not in excluded:
            reference = read_table(path)
            rows += _one_side(name, reference, reference.columns, "only_in_reference")
    return pd.DataFrame(rows, columns=["file", "column", "kind", *COUNTS, "max_abs_difference", "max_rel_difference"])


def _flatten(config: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(config, Mapping):
        flat = {}
        for key, value in config.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): config}


def config_differences(run: Mapping[str, Any], reference: Mapping[str, Any]) -> list[str]:
    """Dotted keys whose values differ between two configurations (lists compared whole)."""
    a, b = _flatten(json.loads(json.dumps(run))), _flatten(json.loads(json.dumps(reference)))
    return sorted(key for key in a.keys() | b.keys() if a.get(key, "<absent>") != b.get(key, "<absent>"))


def reproduced_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration that determines the numbers: all of it but where outputs go and what they are compared with."""
    return {key: value for key, value in config.items() if key not in ("output_root", "reference", "reproduction")}


def summary_line(report: pd.DataFrame, reference: str | None = None, differing_keys: list[str] | None = None) -> str:
    """The one line the workflow prints at its end, e.g. '412 numbers: 398 exact, 14 within tolerance, 0 differ'."""
    numbers, text = report[report["kind"] == "number"], report[report["kind"] == "text"]
    if reference is None:
        return (f"reproduction: no committed reference for this configuration (reference: null); "
                f"{int(numbers['cells'].sum())} numbers regenerated, none compared")
    compared = int(numbers[["exact", "within_tolerance", "different"]].to_numpy().sum())
    line = (f"reproduction against {reference}/results: {compared}"
            f" numbers: {int(numbers['exact'].sum())} exact, {int(numbers['within_tolerance'].sum())} within tolerance, "
            f"{int(numbers['different'].sum())} differ; {int(text[['exact', 'different']].to_numpy().sum())} text cells: "
            f"{int(text['exact'].sum())} match, {int(text['different'].sum())} differ; "
            f"{int(report['only_in_run'].sum())} cells only in this run, "
            f"{int(report['only_in_reference'].sum())} only in the reference")
    if differing_keys:
        shown = ", ".join(differing_keys[:5]) + (" …" if len(differing_keys) > 5 else "")
        line += f" (NOT a reproduction: the reference was made with a different configuration: {shown})"
    return line


def to_markdown(report: pd.DataFrame, summary: str, tolerance: Tolerance, differing_keys: list[str] | None) -> str:
    lines = ["# Reproduction check", "", summary, "",
             f"Tolerance: |run − reference| ≤ {tolerance.atol:g} + {tolerance.rtol:g}·|reference| "
             "(floating-point differences only; see fairl.reproduction).", ""]
    if differing_keys:
        lines += ["Configuration keys that differ from the reference's: " + ", ".join(f"`{k}`" for k in differing_keys), ""]
    if report.empty:
        return "\n".join(lines + ["No tables compared."]) + "\n"
    per_file = report.groupby("file", sort=False)[list(COUNTS)].sum().reset_index()
    lines += ["| file | cells | exact | within tolerance | different | only in this run | only in the reference |",
              "|---|---|---|---|---|---|---|"]
    lines += [f"| `{r.file}` | {r.cells} | {r.exact} | {r.within_tolerance} | {r.different} | {r.only_in_run} | "
              f"{r.only_in_reference} |" for r in per_file.itertuples()]
    changed = report[(report["different"] > 0) | (report["within_tolerance"] > 0)]
    if not changed.empty:
        lines += ["", "Columns with differences (largest absolute and relative difference over the column's numbers):", "",
                  "| file | column | kind | within tolerance | different | max abs difference | max rel difference |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| `{r.file}` | {r.column} | {r.kind} | {r.within_tolerance} | {r.different} | "
                  f"{r.max_abs_difference:.3g} | {r.max_rel_difference:.3g} |" for r in changed.itertuples()]
    return "\n".join(lines) + "\n"


def check(tables: Iterable[str], run_root: Path, reference_root: Path | None, reference_label: str | None,
          config: Mapping[str, Any], tolerance: Tolerance) -> tuple[pd.DataFrame, str, list[str]]:
    """Compare, and read the reference's configuration: (report, summary line, differing config keys)."""
    tables = list(tables)
    if reference_root is None:
        report = compare_tables(tables, run_root, run_root, tolerance)  # every cell against itself: counts only
        report[["exact", "within_tolerance", "different"]] = 0
        return report, summary_line(report), []
    if not (reference_root / "results").is_dir():
        raise FileNotFoundError(f"the reference {reference_root} has no results/ folder: set `reference` to the "
                                "folder that holds this configuration's committed results, or to null")
    report = compare_tables(tables, run_root, reference_root, tolerance)
    sidecar = reference_root / (REPORT_CSV + ".meta.json")
    differing = []
    if sidecar.is_file():
        differing = config_differences(reproduced_config(config), json.loads(sidecar.read_text())["config"]["config"])
    return report, summary_line(report, reference_label, differing), differing


def write(report: pd.DataFrame, summary: str, tolerance: Tolerance, differing: list[str], csv: Path, markdown: Path) -> None:
    atomic_write_csv(report, csv)
    atomic_write_text(markdown, to_markdown(report, summary, tolerance, differing))


def summary_of(run_root: Path) -> str | None:
    """The summary line of the last check under `run_root` (the first line after the title), or None."""
    path = run_root / REPORT_MARKDOWN
    if not path.is_file():
        return None
    lines = [line for line in path.read_text().splitlines()[1:] if line.strip()]
    return lines[0] if lines else None


def publish(run_root: Path, reference_root: Path) -> list[str]:
    """Copy a finished run's results/ and paper_figures/ over the reference (the committed files); returns what was copied.

    Only files the workflow declares are published: tables (with their Markdown and sidecars) and figures.
    """
    if not (run_root / REPORT_CSV).is_file():
        raise FileNotFoundError(f"{run_root} has no {REPORT_CSV}: finish the run (`snakemake all`) before publishing it")
    copied = []
    for folder in REFERENCE_FOLDERS:
        for path in sorted((run_root / folder).rglob("*")):
            if path.is_file() and path.suffix in {".csv", ".md", ".json", ".pdf", ".png"}:
                target = reference_root / path.relative_to(run_root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                copied.append(target.relative_to(reference_root).as_posix())
    return copied


def tolerance_from(section: Mapping[str, Any] | None) -> Tolerance:
    section = dict(section or {})
    unknown = set(section) - {"rtol", "atol"}
    if unknown:
        raise ValueError(f"reproduction: unknown keys {sorted(unknown)} (allowed: rtol, atol)")
    return Tolerance(**{k: float(v) for k, v in section.items()})


__all__ = ["Tolerance", "check", "compare_tables", "config_differences", "publish", "summary_line", "summary_of",
           "tolerance_from", "write"]
