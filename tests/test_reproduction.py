"""The reproduction check (fairl.reproduction): exact, within tolerance, different, and what is on one side only."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from fairl import reproduction
from fairl.reproduction import Tolerance, check, compare_tables, config_differences, publish, summary_line
from tests.conftest import REPO

TABLE = "results/lm/starc.csv"


def write(root, frame, name=TABLE):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def reference():
    return pd.DataFrame({"variant": ["max_margin", "fa_max_margin", "fa_max_entropy"],
                         "starc_mean": [0.4612, 0.4598, 0.25], "n_seeds": [5, 5, 5],
                         "verdict": ["", "inconclusive", "holds"]})


def totals(report):
    return report.groupby("kind")[["cells", "exact", "within_tolerance", "different", "only_in_run",
                                   "only_in_reference"]].sum()


def test_identical_tables_are_exact(tmp_path, reference):
    write(tmp_path / "run", reference), write(tmp_path / "ref", reference)
    report = compare_tables([TABLE], tmp_path / "run", tmp_path / "ref", Tolerance())
    counts = totals(report)
    assert counts.loc["number", "exact"] == 6 and counts.loc["number", "different"] == 0
    assert counts.loc["text", "exact"] == 6 and counts.loc["text", "different"] == 0


def test_last_digit_noise_is_within_tolerance_and_a_real_change_differs(tmp_path, reference):
    run = reference.copy()
    run.loc[0, "starc_mean"] *= 1 + 1e-9          # floating-point noise
    run.loc[1, "starc_mean"] = 0.4699             # a changed result
    run.loc[2, "verdict"] = "inconclusive"        # a changed verdict word
    write(tmp_path / "run", run), write(tmp_path / "ref", reference)
    report = compare_tables([TABLE], tmp_path / "run", tmp_path / "ref", Tolerance()).set_index("column")
    assert report.loc["starc_mean", ["exact", "within_tolerance", "different"]].tolist() == [1, 1, 1]
    assert report.loc["starc_mean", "max_abs_difference"] == pytest.approx(0.0101)
    assert report.loc["verdict", ["exact", "different"]].tolist() == [2, 1]
    assert report.loc["n_seeds", "exact"] == 3


def test_negated_numbers_all_differ(tmp_path, reference):
    """Negative control: a table and its negation share no number (the tolerance does not absorb it)."""
    run = reference.copy()
    run[["starc_mean", "n_seeds"]] *= -1
    write(tmp_path / "run", run), write(tmp_path / "ref", reference)
    counts = totals(compare_tables([TABLE], tmp_path / "run", tmp_path / "ref", Tolerance(rtol=0.5)))
    assert counts.loc["number", "different"] == 6 and counts.loc["number", "exact"] == 0


def test_nan_equals_nan_but_not_a_number(tmp_path, reference):
    ref, run = reference.copy(), reference.copy()
    ref.loc[0, "starc_mean"] = np.nan
    run.loc[0, "starc_mean"] = np.nan
    run.loc[1, "starc_mean"] = np.nan
    write(tmp_path / "run", run), write(tmp_path / "ref", ref)
    report = compare_tables([TABLE], tmp_path / "run", tmp_path / "ref", Tolerance()).set_index("column")
    assert report.loc["starc_mean", ["exact", "within_tolerance", "different"]].tolist() == [2, 0, 1]


def test_cells_on_one_side_only_are_counted_apart(tmp_path, reference):
    run = pd.concat([reference, reference.iloc[:1]], ignore_index=True).assign(new=1.0).drop(columns="n_seeds")
    write(tmp_path / "run", run), write(tmp_path / "ref", reference)
    write(tmp_path / "ref", reference, "results/lm/judge_auc.csv")  # a table this run did not make
    write(tmp_path / "run", reference, "results/lm/new.csv")        # a table the reference does not have
    report = compare_tables([TABLE, "results/lm/new.csv"], tmp_path / "run", tmp_path / "ref", Tolerance())
    by = report.set_index(["file", "column"])
    assert by.loc[(TABLE, "new"), "only_in_run"] == 4
    assert by.loc[(TABLE, "n_seeds"), "only_in_reference"] == 3
    assert by.loc[(TABLE, "starc_mean"), "only_in_run"] == 1  # the extra row
    assert by.loc[("results/lm/judge_auc.csv", "starc_mean"), "only_in_reference"] == 3
    assert by.loc[("results/lm/new.csv", "variant"), "only_in_run"] == 3


def test_config_differences_name_the_keys():
    run = {"lm": {"rlhf": {"steps": 100, "beta": 0.05}, "seed": 0}, "synthetic": {"seeds": [0, 1]}}
    ref = {"lm": {"rlhf": {"steps": 50, "beta": 0.05}, "seed": 0}, "synthetic": {"seeds": [0, 1, 2]}}
    assert config_differences(run, ref) == ["lm.rlhf.steps", "synthetic.seeds"]
    assert config_differences(run, json.loads(json.dumps(run))) == []


def test_check_reads_the_reference_configuration_and_says_when_it_differs(tmp_path, reference):
    write(tmp_path / "run", reference), write(tmp_path / "ref", reference)
    config = {"output_root": "out/x", "reference": ".", "lm": {"seed": 0}}
    report, line, differing = check([TABLE], tmp_path / "run", tmp_path / "ref", ".", config, Tolerance())
    assert differing == [] and "6 numbers: 6 exact, 0 within tolerance, 0 differ" in line and "NOT" not in line
    (tmp_path / "ref" / (reproduction.REPORT_CSV + ".meta.json")).write_text(
        json.dumps({"config": {"config": {"lm": {"seed": 1}}}}))
    _, line, differing = check([TABLE], tmp_path / "run", tmp_path / "ref", ".", config, Tolerance())
    assert differing == ["lm.seed"] and "NOT a reproduction" in line and "lm.seed" in line


def test_no_reference_counts_without_comparing(tmp_path, reference):
    write(tmp_path / "run", reference)
    report, line, _ = check([TABLE], tmp_path / "run", None, None, {}, Tolerance())
    assert report[["exact", "within_tolerance", "different"]].to_numpy().sum() == 0
    assert line.startswith("reproduction: no committed reference") and "6 numbers regenerated" in line


def test_a_reference_without_results_is_refused(tmp_path, reference):
    write(tmp_path / "run", reference)
    with pytest.raises(FileNotFoundError, match="no results/ folder"):
        check([TABLE], tmp_path / "run", tmp_path / "nowhere", ".", {}, Tolerance())


def test_unreadable_table_names_the_file(tmp_path, reference):
    write(tmp_path / "ref", reference)
    (tmp_path / "run" / "results/lm").mkdir(parents=True)
    (tmp_path / "run" / TABLE).write_bytes(b'a,b\n"1,2\n3,4,5,6\n')
    with pytest.raises(ValueError, match="starc.csv is not a readable CSV"):
        compare_tables([TABLE], tmp_path / "run", tmp_path / "ref", Tolerance())


def test_negative_tolerance_is_refused():
    with pytest.raises(ValueError, match="≥ 0"):
        Tolerance(rtol=-1)
    with pytest.raises(ValueError, match="unknown keys"):
        reproduction.tolerance_from({"rtol": 1e-6, "relative": 1})


def test_summary_line_counts():
    report = pd.DataFrame([
        {"file": "a", "column": "x", "kind": "number", "cells": 10, "exact": 7, "within_tolerance": 2, "different": 1,
         "only_in_run": 3, "only_in_reference": 0},
        {"file": "a", "column": "y", "kind": "text", "cells": 10, "exact": 10, "within_tolerance": 0, "different": 0,
         "only_in_run": 0, "only_in_reference": 2}])
    line = summary_line(report, ".")
    assert "10 numbers: 7 exact, 2 within tolerance, 1 differ" in line
    assert "10 text cells: 10 match, 0 differ" in line and "3 cells only in this run, 2 only in the reference" in line


def test_script_checks_then_publishes(tmp_path, reference):
    """The rule's command, then the documented publish command: the reference then reproduces exactly."""
    run, ref = tmp_path / "run", tmp_path / "ref"
    changed = reference.assign(starc_mean=reference["starc_mean"] + 0.01)
    write(run, changed), write(ref, reference)
    (run / "paper_figures").mkdir()
    (run / "paper_figures/lm_starc.png").write_bytes(b"png")
    script = str(REPO / "src/scripts/reproduction.py")
    params = json.dumps({"config": {"lm": {"seed": 0}}, "reference": ".", "tolerance": {"rtol": 1e-6}})

    def check_run():
        done = subprocess.run([sys.executable, script, "check", "--params", params, "--root", str(run),
                               "--reference", str(ref), "--tables", TABLE, "--csv", str(run / reproduction.REPORT_CSV),
                               "--markdown", str(run / reproduction.REPORT_MARKDOWN)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return reproduction.summary_of(run)

    assert "6 numbers: 3 exact, 0 within tolerance, 3 differ" in check_run()
    assert "| `results/lm/starc.csv` | starc_mean | number | 0 | 3 |" in (run / reproduction.REPORT_MARKDOWN).read_text()
    done = subprocess.run([sys.executable, script, "publish", "--root", str(run), "--reference", str(ref)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (ref / "paper_figures/lm_starc.png").read_bytes() == b"png"
    assert (ref / "results/reproduction.csv.meta.json").is_file()  # the configuration the reference was made with
    assert "6 numbers: 6 exact, 0 within tolerance, 0 differ" in check_run() and "NOT" not in check_run()


def test_publish_refuses_an_unfinished_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="finish the run"):
        publish(tmp_path / "run", tmp_path / "ref")
