"""repro.datasets: exact test shapes of TACO and SYNTHETIC-1 records, the wrapper stripped, DeepCoder's curation
with the real judge running the gold solutions, and decontamination flagging a planted near-copy of a real v6
statement. Fixtures are hand-made rows in the sources' real shapes (tests/repro/fixtures/*_shapes.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.judge import Judge
from harness.verdicts import Limits
from repro.data import read_rows, to_problem
from repro.datasets.curation import MIN_TESTS, curate
from repro.datasets.decontamination import decontaminate_ngrams, write_report
from repro.datasets.sources import row_from_synthetic1, row_from_taco, strip_synthetic1_wrapper

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "lcb"


@pytest.fixture(scope="module")
def taco() -> dict[int, dict]:
    return {raw["id"]: row_from_taco(raw, i) for i, raw in enumerate(read_rows(FIXTURES / "taco_shapes.jsonl"))}


@pytest.fixture(scope="module")
def synthetic() -> list[dict]:
    return [row_from_synthetic1(raw) for raw in read_rows(FIXTURES / "synthetic1_shapes.jsonl")]


def _io(row: dict) -> list[tuple[str, str]]:
    return [(t.input, t.output) for t in to_problem(row).tests]


def test_taco_list_valued_stdin_tests_are_lines_not_json(taco):
    assert _io(taco[101]) == [("3\n1 2 3", "6"), ("1\n5", "5"), ("2\n-1 1", "0"), ("4\n1 1 1 1", "4"),
                              ("2\n10 20", "30")]
    assert not any('"' in i for i, _ in _io(taco[101]))
    assert taco[101]["contest_date"] == "2019-03-02T00:00:00" and taco[101]["platform"] == "codeforces"


def test_taco_function_call_shapes(taco):
    double = to_problem(taco[102])
    assert double.func_name == "double_all"
    assert [(t.input, t.output) for t in double.tests][:2] == [("[1, 2]", "[2, 4]"), ("[]", "[]")]  # unwrapped
    assert taco[102]["alt_tests"][0] == ["[1, 2]", "[[2, 4]]"]  # the stored reading, kept for the gold check
    assert double.starter_code.startswith("class Solution:\n    def double_all(self, xs):")
    add = to_problem(taco[103])
    assert [(t.input, t.output) for t in add.tests][:2] == [("1\n2", "3"), ("0\n0", "0")]  # one argument per line
    assert "alt_tests" not in taco[103]  # plain values cannot be a wrapped list
    assert taco[102]["gold_solutions"] == ["def double_all(xs):\n    return [2 * x for x in xs]"]


def test_synthetic1_wrapper_is_stripped_and_gold_unfenced(synthetic):
    rev, square = synthetic
    assert rev["question_content"] == ("Read a line of text and print it reversed.\n\n-----Examples-----\nInput\n"
                                       "abc\n\nOutput\ncba")
    assert rev["gold_solutions"] == ["print(input()[::-1])"]
    assert _io(rev)[0] == ("abc\n", "cba\n")
    assert square["question_content"] == "Write a function square(n) that returns n squared."
    assert to_problem(square).func_name == "square" and _io(square)[1] == ("2", "4")
    assert strip_synthetic1_wrapper("No wrapper here.") == "No wrapper here."


def test_deepcoder_curation_with_the_real_judge(taco, synthetic):
    rows = [taco[i] for i in sorted(taco)] + synthetic
    with Judge(workers=2, limits=Limits(time_limit_s=5, memory_limit_mb=512)) as judge:
        kept, report = curate(rows, judge)
    ids = [r["id"] for r in kept]
    assert ids == ["taco_verified/101", "taco_verified/102", "taco_verified/103", "taco_verified/104",
                   "synthetic1/vfc_1", "synthetic1/vfc_2"]
    dropped = report.as_dict()["dropped"]
    assert dropped["gold_solution_fails"] == ["taco_verified/105"]
    assert dropped["fewer_than_min_tests"] == ["taco_verified/106"] and MIN_TESTS == 5
    assert dropped["unsupported_interactive"] == ["taco_verified/107"]
    assert dropped["duplicate_statement"] == ["taco_verified/108"]  # same statement as 101, other formatting
    # the gold solution settles ambiguous function-call outputs: double_all and square are wrapped, head is not
    assert report.readings == {"taco_verified/102": "unwrapped", "taco_verified/104": "stored",
                               "synthetic1/vfc_2": "unwrapped"}
    head = to_problem(next(r for r in kept if r["id"] == "taco_verified/104"))
    assert head.tests[0].output == "[1]"
    assert all("alt_tests" not in r for r in kept)


def test_decontamination_flags_a_planted_near_copy_of_a_v6_statement(tmp_path, taco):
    path = SHARED / "release_v6_problems.jsonl"
    if not path.exists():
        pytest.skip(f"shared data not found: {path.resolve()} (see REFERENCE.md section 8)")
    from harness.problems import load_problems

    v6 = load_problems(str(path), "release_v6", "2024-08-01", "2025-05-01").problems
    target = max(v6[:40], key=lambda p: len(p.question_content))
    words = target.question_content.split()
    edited = " ".join(w.upper() if i % 17 == 0 else w for i, w in enumerate(words))  # reformatted, case changes
    edited = edited.replace(" and ", " & ", 2) + "\nNote: this version was lightly edited."
    planted = dict(taco[101], id="taco_verified/planted", question_content=edited)
    kept, report = decontaminate_ngrams([taco[101], planted, taco[103]], v6)
    assert [r["id"] for r in kept] == ["taco_verified/101", "taco_verified/103"]
    assert report["flagged"] == 1 and report["overlaps"][0]["id"] == "taco_verified/planted"
    assert report["overlaps"][0]["eval_id"] == target.question_id and report["overlaps"][0]["containment"] > 0.5
    json_path, md_path = write_report(report, tmp_path)
    assert json.loads(json_path.read_text())["flagged"] == 1
    assert "taco_verified/planted" in md_path.read_text() and target.question_id in md_path.read_text()


def test_build_cli_writes_the_dataset_and_reports(tmp_path, capsys):
    path = SHARED / "release_v6_problems.jsonl"
    if not path.exists():
        pytest.skip(f"shared data not found: {path.resolve()} (see REFERENCE.md section 8)")
    from repro.datasets.build import main

    out = tmp_path / "set"
    assert main(["--out", str(out), "--taco", str(FIXTURES / "taco_shapes.jsonl"), "--synthetic1",
                 str(FIXTURES / "synthetic1_shapes.jsonl"), "--eval-dataset", str(path), "--no-gold-check"]) == 0
    rows = read_rows(out / "train.jsonl")
    assert len(rows) == 7 and "gold_solutions" not in rows[0]  # 105 stays: no gold check here
    summary = json.loads((out / "curation.json").read_text())
    assert summary["kept"] == 7 and summary["duplicates"] == 1  # 108: same statement as 101
    assert summary["curation"]["dropped_counts"] == {"unsupported_interactive": 1, "fewer_than_min_tests": 1,
                                                     "duplicate_statement": 0}
    assert (out / "decontamination.md").read_text().startswith("# Decontamination")
    assert main(["--out", str(out), "--taco", str(tmp_path / "missing.jsonl"), "--eval-dataset", str(path)]) == 2
    assert capsys.readouterr().err.startswith("error: no such file")
