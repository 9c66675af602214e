"""benchmarks/workflow_speed.py compares two runs' outputs byte for byte: what it leaves out, and that a real
difference is caught. (Timing the two runs themselves is the script's job, never a test's.)"""

import importlib.util
import sys

from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("workflow_speed", REPO / "benchmarks/workflow_speed.py")
workflow_speed = importlib.util.module_from_spec(spec)
sys.path.insert(0, str(REPO / "benchmarks"))  # where the script finds its helper (benchmarks/markdown_report.py)
try:
    spec.loader.exec_module(workflow_speed)
finally:
    sys.path.remove(str(REPO / "benchmarks"))


def fake_run(root, wall="1.5", table="a,b\n1,2\n", pid="123"):
    (root / "results").mkdir(parents=True)
    (root / "results/table.csv").write_text(table)
    (root / "results/table.csv.meta.json").write_text(f'{{"computed_on": "{wall}"}}')
    run = root / "work/p/rlhf/ground_truth"
    (run / "final").mkdir(parents=True)
    (run / "checkpoints/checkpoint-2").mkdir(parents=True)
    (run / "checkpoints/checkpoint-2/state.json").write_text(wall)
    (run / ".writer.lock").write_text(pid)
    for log in (run / "log.csv", run / "final/training_log.csv"):
        log.write_text(f"step,reward,wall_seconds\n1,0.5,{wall}\n")
    (root / "logs").mkdir()
    (root / "logs/rlhf.log").write_text(wall)
    return root


def test_runs_differing_only_in_timing_and_provenance_compare_equal(tmp_path):
    first = workflow_speed.products(fake_run(tmp_path / "a"))
    second = workflow_speed.products(fake_run(tmp_path / "b", wall="9.9", pid="456"))
    assert first == second
    assert sorted(first) == ["results/table.csv", "work/p/rlhf/ground_truth/final/training_log.csv",
                             "work/p/rlhf/ground_truth/log.csv"]
    assert b"wall_seconds" not in first["work/p/rlhf/ground_truth/log.csv"]


def test_a_changed_number_is_a_difference(tmp_path):
    first = workflow_speed.products(fake_run(tmp_path / "a"))
    second = workflow_speed.products(fake_run(tmp_path / "b", table="a,b\n1,3\n"))
    assert first != second and first["results/table.csv"] != second["results/table.csv"]


def test_a_file_only_one_run_writes_is_new_not_different(tmp_path):
    first = workflow_speed.products(fake_run(tmp_path / "a"))
    fake_run(tmp_path / "b", table="a,b\n1,3\n")
    (tmp_path / "b/work/p/eval").mkdir(parents=True)
    (tmp_path / "b/work/p/eval/base.parquet").write_bytes(b"new")
    second = workflow_speed.products(tmp_path / "b")
    assert workflow_speed.compare(first, second) == (["results/table.csv"], [], ["work/p/eval/base.parquet"])
    assert workflow_speed.compare(second, first) == (["results/table.csv"], ["work/p/eval/base.parquet"], [])
    assert workflow_speed.compare(first, first) == ([], [], [])
