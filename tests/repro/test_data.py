"""repro.data: source adapters into one schema, statement hashing, decontamination, and that the judge grades a
training row exactly like an evaluation problem (small local fixtures; the real release_v6 file when present)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.problems import TestCase as LcbTest
from harness.problems import encode_private_tests
from harness.verdicts import Limits, Verdict
from repro.config import DataSettings
from repro.data import (
    TRAINING_COLUMNS,
    as_training_rows,
    build_training_set,
    decontaminate,
    load_training_rows,
    normalize_statement,
    read_rows,
    row_from_synthetic1,
    row_from_taco,
    rows_from_lcb,
    statement_hash,
    to_problem,
    to_trl_dataset,
    with_prompt,
    write_rows,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "lcb"


def _taco() -> list[dict]:
    return read_rows(FIXTURES / "taco_sample.jsonl")


def _lcb_row(qid: str, content: str, date: str, private=()) -> dict:
    return {
        "question_id": qid, "question_title": qid, "question_content": content, "platform": "atcoder",
        "contest_id": "c", "contest_date": date, "starter_code": "", "difficulty": "easy",
        "public_test_cases": json.dumps([{"input": "3\n", "output": "9\n", "testtype": "stdin"}]),
        "private_test_cases": encode_private_tests(private), "metadata": "{}",
    }


def test_taco_rows_stdin_and_call_based():
    rows = [row_from_taco(raw, i) for i, raw in enumerate(_taco())]
    stdin, call, empty = rows[0], rows[1], rows[2]
    assert empty is None
    assert stdin["id"] == "taco_verified/11" and stdin["difficulty"] == "easy" and stdin["platform"] == "atcoder"
    assert stdin["contest_date"] == "2021-05-01T00:00:00"
    problem = to_problem(stdin)
    assert [t.input for t in problem.tests] == ["2 3\n", "10 0\n", "7 7\n"] and problem.func_name is None
    assert len(problem.public_tests) == 1  # one visible example, the rest hidden
    cp = to_problem(call)
    assert cp.func_name == "double_all" and call["difficulty"] == "hard" and call["contest_date"] == ""
    assert cp.starter_code.startswith("class Solution:\n    def double_all(self, xs):")
    assert [(t.input, t.output) for t in cp.tests] == [("[1, 2]", "[2, 4]"), ("[]", "[]")]


def test_synthetic1_keeps_python_tasks_only():
    raws = read_rows(FIXTURES / "synthetic1_sample.jsonl")
    rows = [row_from_synthetic1(r) for r in raws]
    assert rows[2] is None  # a C++ record
    call = to_problem(rows[1])  # function-call records become LeetCode-style rows (one JSON argument per line)
    assert call.func_name == "f" and [(t.input, t.output) for t in call.tests] == [("1", "2")]
    row = rows[0]
    assert row["id"] == "synthetic1/pi_1" and row["source"] == "synthetic1" and row["difficulty"] == "easy"
    assert [t.output for t in to_problem(row).tests] == ["cba\n", "yx\n"]


def test_training_rows_grade_like_eval_problems():
    """The schema is what the judge needs: reference solutions pass, a wrong one fails, on both test kinds."""
    from harness.judge import grade

    limits = Limits(time_limit_s=5)
    stdin = to_problem(row_from_taco(_taco()[0], 0))
    call = to_problem(row_from_taco(_taco()[1], 1))
    reverse = to_problem(row_from_synthetic1(read_rows(FIXTURES / "synthetic1_sample.jsonl")[0]))
    assert grade(stdin, "a,b=map(int,input().split())\nprint(a*b)", limits).verdict is Verdict.PASSED
    assert grade(stdin, "a,b=map(int,input().split())\nprint(a+b)", limits).verdict is Verdict.WRONG_ANSWER
    good = "class Solution:\n    def double_all(self, xs):\n        return [2 * x for x in xs]\n"
    assert grade(call, good, limits).verdict is Verdict.PASSED
    assert grade(reverse, "print(input()[::-1])", limits).verdict is Verdict.PASSED


def test_statement_hash_ignores_formatting_only():
    a = "Given $N$ integers,\n  print   the SUM."
    assert normalize_statement(a) == "given n integers print the sum"
    assert statement_hash(a) == statement_hash("given N integers — print the sum")
    assert statement_hash(a) != statement_hash("Given N integers, print the product.")


def test_rows_from_lcb_decodes_hidden_tests_and_adds_prompt():
    row = rows_from_lcb([_lcb_row("x1", "Read N; print N squared.", "2024-01-02T00:00:00",
                                  private=[LcbTest("4\n", "16\n")])], prompt_style="lcb-generic")[0]
    assert set(TRAINING_COLUMNS) <= set(row)
    assert json.loads(row["private_test_cases"]) == [{"input": "4\n", "output": "16\n", "testtype": "stdin"}]
    assert row["prompt"][-1]["role"] == "user" and "Read N; print N squared." in row["prompt"][-1]["content"]
    assert row["id"] == "lcb/x1"
    assert [t.output for t in to_problem(row).tests] == ["9\n", "16\n"]


def test_decontaminate_by_date_hash_and_duplicates():
    eval_problem = to_problem(_lcb_row("e1", "Read N, then print N squared: this statement duplicates an "
                                             "evaluation problem.", "2024-09-01T00:00:00"))
    lcb = rows_from_lcb([
        _lcb_row("old", "An old problem.", "2024-07-31T12:00:00"),  # cutoff day is inside the training window
        _lcb_row("new", "A new problem.", "2024-08-01T00:00:00"),
    ])
    taco = [row_from_taco(raw, i) for i, raw in enumerate(_taco())]
    taco = [r for r in taco if r is not None]
    dup = dict(taco[0], id="taco_verified/dup")
    kept, report = decontaminate([*lcb, *taco, dup], [eval_problem], "2024-07-31")
    assert [r["id"] for r in kept] == ["lcb/old", "taco_verified/11", "taco_verified/12"]
    assert report.dropped_by_date == ["lcb/new"]
    assert report.dropped_by_hash == ["taco_verified/14"]  # same statement modulo case and punctuation
    assert report.dropped_duplicates == ["taco_verified/dup"] and report.kept == 3


def test_local_path_loading_and_trl_dataset(tmp_path):
    taco = [r for r in (row_from_taco(raw, i) for i, raw in enumerate(_taco())) if r is not None]
    path = write_rows(tmp_path / "train.jsonl", taco)
    rows, report = build_training_set(DataSettings(path=str(path), max_rows=2, prompt_style="lcb-generic"), [])
    assert len(rows) == 2 and report.kept == 3 and all(r["prompt"] for r in rows)
    assert load_training_rows(DataSettings(path=str(path)), []) == [with_prompt(r, "lcb-generic") for r in taco]
    lcb = _lcb_row("x2", "Read N; print N squared.", "2024-01-02T00:00:00")
    converted = as_training_rows([lcb, rows[0]], "plain", source="toy")
    assert converted[0]["id"] == "toy/x2" and converted[0]["prompt"] == [
        {"role": "user", "content": "Read N; print N squared."}]
    assert converted[1] is rows[0]
    ds = to_trl_dataset(rows)
    assert ds.column_names == list(TRAINING_COLUMNS) and len(ds) == 2
    with pytest.raises(ValueError, match="lack columns"):
        to_trl_dataset([{"question_content": "x"}])
    assert with_prompt(taco[0], "lcb-generic")["prompt"][0]["role"] == "system"


def test_release_v6_split_against_the_v6_window():
    path = SHARED / "release_v6_problems.jsonl"
    if not path.exists():
        pytest.skip(f"shared data not found: {path.resolve()} (see REFERENCE.md section 8)")
    from harness.problems import load_problems

    eval_set = load_problems(str(path), "release_v6", "2024-08-01", "2025-05-01").problems
    assert len(eval_set) == 454
    rows = rows_from_lcb(read_rows(path))
    kept, report = decontaminate(rows, eval_set, "2024-07-31")
    before = sum(r["contest_date"] < "2024-08-01" for r in rows)
    assert all(r["contest_date"] < "2024-08-01" for r in kept)
    assert len(report.dropped_by_date) == len(rows) - before >= 454  # the eval window and later
    assert len(kept) + len(report.dropped_by_hash) + len(report.dropped_duplicates) == before
    assert not ({r["statement_hash"] for r in kept} & {statement_hash(p.question_content) for p in eval_set})
