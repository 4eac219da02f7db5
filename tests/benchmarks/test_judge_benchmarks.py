"""The judge benchmarks run on a tiny subset and produce well-formed reports (structure and logic, never timings)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from benchmarks import judge_fidelity, judge_speed
from benchmarks.common import load_completions, load_problems_by_id, shared_missing
from harness.problems import Difficulty, Platform, Problem
from harness.problems import TestCase as Case
from harness.problems import TestType as Kind
from harness.verdicts import Limits, SampleResult, Verdict
from harness.verdicts import TestOutcome as Outcome

needs_shared = pytest.mark.skipif(shared_missing() is not None, reason=f"real data unavailable: {shared_missing()}")


def problem(tests, func_name=None) -> Problem:
    kind = Kind.FUNCTIONAL if func_name else Kind.STDIN
    return Problem("q", "t", "c", Platform.ATCODER, "c", datetime(2024, 9, 1), "", Difficulty.EASY,
                   tuple(Case(i, o, kind) for i, o in tests), (), {"func_name": func_name} if func_name else {})


def test_truncation_matches_the_official_rule():
    assert judge_fidelity.truncate_official("abc") == "abc"
    long = "x" * 150 + "y" * 200
    cut = judge_fidelity.truncate_official(long)
    assert cut == "x" * 150 + "...(truncated) ..." + "y" * 150 and len(cut) == 318


def test_official_failing_test_is_identified_only_when_it_is_ours():
    big = "1\n" * 400
    p = problem([("1 2\n", "3\n"), (big, "400\n")])
    row = {"official_graded": False, "official_metadata": {"error_code": -2, "inputs": "1 2\n", "expected": "3\n"}}
    assert judge_fidelity.official_failure(row, p) == ("test", 0)
    row["official_metadata"]["expected"] = "4\n"  # same input, other expected output: not our test
    assert judge_fidelity.official_failure(row, p) == ("unknown", None)
    truncated = {"official_graded": False,
                 "official_metadata": {"error_code": -3, "inputs": judge_fidelity.truncate_official(big)}}
    assert judge_fidelity.official_failure(truncated, p) == ("test", 1)
    assert judge_fidelity.official_failure({"official_graded": True}, p) == ("pass", None)
    no_inputs = {"official_graded": False, "official_metadata": {"error_code": -2, "error_message": "Wrong Answer"}}
    assert judge_fidelity.official_failure(no_inputs, p) == ("unknown", None)
    compile_err = {"official_graded": False,
                   "official_metadata": {"error_code": -4, "error_message": "Error during testing: invalid syntax"}}
    assert judge_fidelity.official_failure(compile_err, p) == ("sample", None)


def test_function_call_inputs_are_matched_as_python_repr():
    p = problem([('"ab"\n[1, 2]\ntrue', "3")], func_name="f")
    row = {"official_graded": False, "official_metadata": {"inputs": "['ab', [1, 2], True]", "expected": "3"}}
    assert judge_fidelity.official_failure(row, p) == ("test", 0)


def test_official_defects_are_recognised():
    p = problem([("1", "1")])
    for code, needle in [
        ("import sys\nfor line in sys.stdin:\n    print(line)", "iterates sys.stdin"),
        ("print(open(0).read())", "open(0)"),
        ("import os\nprint(os.read(0, 100))", "os.read"),
        ("import sys\nsys.stdout.buffer.write(b'1')", "buffer"),
        ("x = 0\ndef f():\n    global x\n    x += 1\nf()\nprint(x)", "global"),
        ("def main():\n    print(1)\nif __name__ == '__main__':\n    main()\nx = 1", "__main__"),
        ("import sys\nprint(sum(int(x) for x in sys.stdin.readlines()))", "readlines"),
    ]:
        assert any(needle in d for d in judge_fidelity.official_defects({"code": code}, p)), code
    assert judge_fidelity.official_defects({"code": "print(input())"}, p) == []
    fp = problem([("1", "[[1, 2]]")], func_name="f")
    row = {"code": "x", "official_metadata": {"output": "[(1, 2)]", "expected": "[[1, 2]]"}}
    assert any("tuples" in d for d in judge_fidelity.official_defects(row, fp))


def test_compare_counts_agreement_and_classifies_every_disagreement():
    p = problem([("1", "1")])
    problems = {"q": p}
    rows = [
        {"question_id": "q", "official_graded": True, "code": "a"},
        {"question_id": "q", "official_graded": True, "code": "b"},
        {"question_id": "q", "official_graded": False, "code": "import sys\nfor l in sys.stdin: print(l)",
         "official_metadata": {"error_code": -2, "inputs": "1", "expected": "1"}},
        {"question_id": "q", "official_graded": False, "code": "c", "official_metadata": {"error_code": -2}},
    ]
    results = [
        {"verdict": "passed", "failed_test": None, "detail": "", "tests": []},
        {"verdict": "time_limit", "failed_test": 0, "detail": "cpu", "tests": [{"cpu_s": 6.1}]},
        {"verdict": "passed", "failed_test": None, "detail": "", "tests": []},
        {"verdict": "passed", "failed_test": None, "detail": "", "tests": []},
    ]
    report = judge_fidelity.compare(rows, results, problems, Limits())
    assert report["n_checkable"] == 3 and report["n_agree"] == 1
    assert report["disagreement_causes"] == {"time-limit borderline": 1, "official-grader defect": 1}
    assert report["agreement_excluding_official_defects"] == pytest.approx(1 / 2)
    assert report["not_checkable"] == {"unknown: ours pass": 1}


def test_early_exit_policy_costs():
    p = problem([("a", "a"), ("bbb", "b"), ("cc", "c")])  # hardest-first order: 1, 2, 0
    outcomes = [Outcome(0, Verdict.PASSED, cpu_s=1.0), Outcome(1, Verdict.PASSED, cpu_s=3.0),
                Outcome(2, Verdict.WRONG_ANSWER, cpu_s=2.0)]
    result = SampleResult(Verdict.WRONG_ANSWER, tests_run=3, tests_total=3, failed_test=2, tests=outcomes)
    costs = judge_speed.early_exit_costs([result], [p])
    assert costs["all_tests"] == {"tests": 3, "cpu_s": 6.0}
    assert costs["official_early_exit"] == {"tests": 3, "cpu_s": 6.0}
    assert costs["hardest-first_early_exit"] == {"tests": 2, "cpu_s": 5.0}
    assert costs["public-first_early_exit"] == {"tests": 3, "cpu_s": 6.0}  # all three are public here


@needs_shared
def test_real_failure_records_identify_some_of_our_tests():
    problems = load_problems_by_id()
    kinds = {judge_fidelity.official_failure(r, problems[r["question_id"]])[0] for r in load_completions()[1000:2600]}
    assert {"pass", "test", "unknown"} <= kinds


@needs_shared
def test_fidelity_script_runs_on_a_small_subset(tmp_path):
    out = tmp_path / "fidelity.json"
    assert judge_fidelity.main(["--limit", "12", "--workers", "2", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["n_completions"] == 12
    assert {"n_checkable", "agreement", "disagreements", "disagreement_causes", "not_checkable"} <= set(report)
    assert report["n_checkable"] + sum(report["not_checkable"].values()) == 12


def test_speed_script_quick_run_has_every_figure(tmp_path):
    out = tmp_path / "speed.json"
    assert judge_speed.main(["--quick", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    overhead = report["overhead"]
    for label in ("stdin", "function_call"):
        assert {"per_test_ms", "per_sample_ms", "per_test_overhead_ms", "per_test_vs_fork_exec_floor"} <= set(
            overhead[label])
    assert overhead["floor_fork_exec_ms"] > 0 and overhead["floor_fork_wait_ms"] > 0
    if shared_missing() is None:
        t = report["throughput"]
        assert t["samples"] == 12 and t["tests_run"] >= 12 and t["children_cpu_s"] > 0
        assert report["throughput_hardest_first"]["samples"] == 12
        assert t["cpu_utilization_children"] > 0  # tiny runs are dominated by runner start-up: no bound
        assert report["early_exit"]["verdicts_identical"] is True
        assert report["early_exit"]["tests_all"] >= report["early_exit"]["tests_early_exit"]
        assert report["stability"]["samples"] == 6 and report["stability"]["busy_processes"] >= 0
        assert isinstance(report["stability"]["changes"], list)


def test_what_works_officially_is_not_labelled_an_official_defect():
    p = problem([("1", "1")])
    for code in ("print(1)\nexit()", "import sys\ns = sys.stdin.readline()[:-1]\nprint(s)",
                 "import sys\nprint(sys.stdin.buffer.read().split())"):
        assert judge_fidelity.official_defects({"code": code}, p) == [], code
    assert any("quit()" in d for d in judge_fidelity.official_defects({"code": "print(1)\nquit()"}, p))


def test_speed_comparison_quotes_the_median_of_each_figure():
    from benchmarks.judge_speed_compare import medians

    rows = [{"samples_per_s": {"current": c, "baseline": b, "ratio": round(c / b, 3)}, "verdict_changes": v}
            for c, b, v in ((90.0, 100.0, 0), (110.0, 100.0, 2), (95.0, 80.0, 0))]
    m = medians(rows)
    assert m["samples_per_s"] == {"current": 95.0, "baseline": 100.0, "ratio": 1.1}
    assert m["verdict_changes"] == 2  # any change in any round shows
    assert medians([]) == {}
