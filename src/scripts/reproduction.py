"""Reproduction check of a run against the committed reference of its configuration (fairl.reproduction).

    python src/scripts/reproduction.py check --params '<json>' --root out/default --reference . \
        --tables results/lm/starc.csv ... --csv out/default/results/reproduction.csv \
        --markdown out/default/results/reproduction.md
    python src/scripts/reproduction.py publish --root out/default --reference .

`check` compares every table of the run with the reference's file of the same name and writes the
report; `publish` copies a finished run's results/ and paper_figures/ over the reference (then commit them).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from fairl import reproduction
from fairl.provenance import write_sidecar


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    checking = commands.add_parser("check", help="compare a run with the reference and write the report")
    checking.add_argument("--params", required=True, type=json.loads,
                          help='JSON: {"config": the run\'s configuration, "reference": label or null, '
                               '"tolerance": {rtol, atol}}')
    checking.add_argument("--root", required=True, type=Path, help="the run's output root")
    checking.add_argument("--reference", type=Path, help="the folder holding the reference's results/ (omit: none)")
    checking.add_argument("--tables", nargs="+", required=True, help="tables to compare, relative to both roots")
    checking.add_argument("--csv", required=True, type=Path)
    checking.add_argument("--markdown", required=True, type=Path)
    publishing = commands.add_parser("publish", help="copy a finished run's results/ and paper_figures/ over the reference")
    publishing.add_argument("--root", required=True, type=Path)
    publishing.add_argument("--reference", required=True, type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.command == "publish":
        copied = reproduction.publish(args.root, args.reference)
        print(f"published {len(copied)} files from {args.root} to {args.reference}: review them with `git status`, then commit")
        return
    params = args.params
    tolerance = reproduction.tolerance_from(params.get("tolerance"))
    report, summary, differing = reproduction.check(args.tables, args.root, args.reference, params.get("reference"),
                                                   params["config"], tolerance)
    reproduction.write(report, summary, tolerance, differing, args.csv, args.markdown)
    write_sidecar(args.csv, "reproduction", params)
    logging.getLogger("reproduction").info(summary)


if __name__ == "__main__":
    main()
