"""Any bytes survive: invalid UTF-8 output, NUL bytes and lone surrogates are judged, recorded escaped, and never
crash a run (the judge, the records, `python -m harness.grade`). Runs on the real local sandbox."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from harness.grade import main
from harness.judge import grade
from harness.problems import Difficulty, Platform, Problem
from harness.problems import TestCase as Case
from harness.problems import TestType as Kind
from harness.records import SampleAppender, SampleRecord, json_line, read_samples
from harness.verdicts import Verdict
from tests.harness.test_grade_cli import GOOD_STDIN, STDIN_ROW, read_jsonl, write_jsonl

SURROGATE_CODE = "print('\ud800')"
NOT_UTF8 = "import sys\nsys.stdout.buffer.write(b'3\\xff\\x00\\n')"


def _problem(inp: str, out: str, func_name: str | None = None) -> Problem:
    kind = Kind.FUNCTIONAL if func_name else Kind.STDIN
    return Problem("q", "t", "c", Platform.LEETCODE if func_name else Platform.ATCODER, "c", datetime(2024, 9, 1),
                   "", Difficulty.EASY, (Case(inp, out, kind),), (), {"func_name": func_name} if func_name else {})


def test_invalid_utf8_and_nul_output_is_a_wrong_answer_recorded_escaped():
    result = grade(_problem("", "3"), NOT_UTF8)
    assert result.verdict is Verdict.WRONG_ANSWER and "not valid UTF-8 (byte offset 1)" in result.detail
    assert result.tests[0].stdout_head == "3\\xff\x00\n"
    assert json.loads(json_line(result.to_dict()))["tests"][0]["stdout_head"] == "3\\xff\x00\n"


def test_nul_bytes_in_valid_output_are_compared_and_kept():
    result = grade(_problem("", "3"), "print('3\\x00')")
    assert result.verdict is Verdict.WRONG_ANSWER and result.tests[0].stdout_head == "3\x00\n"


def test_code_with_a_lone_surrogate_is_a_compile_error_not_a_crash():
    result = grade(_problem("", "3"), SURROGATE_CODE)
    assert result.verdict is Verdict.COMPILE_ERROR and "lone surrogate" in result.detail


def test_a_returned_lone_surrogate_is_judged_and_recorded():
    code = "class Solution:\n    def f(self, x):\n        return '\\ud800'"
    result = grade(_problem("1", '"a"', "f"), code)
    assert result.verdict is Verdict.WRONG_ANSWER
    json.loads(json_line(result.to_dict()))


def test_records_with_a_lone_surrogate_are_written_escaped(tmp_path: Path):
    record = SampleRecord(question_id="q", sample_idx=0, verdict="compile_error", passed=False, code=SURROGATE_CODE)
    with SampleAppender(tmp_path / "samples.jsonl") as appender:
        appender.append(record)
    (back,) = list(read_samples(tmp_path / "samples.jsonl"))
    assert back.code == "print('\\ud800')"


def test_grade_cli_writes_every_line_whatever_the_bytes(tmp_path: Path):
    dataset = write_jsonl(tmp_path / "problems.jsonl", [STDIN_ROW])
    rows = [{"question_id": "abc001_a", "code": code} for code in (SURROGATE_CODE, NOT_UTF8, GOOD_STDIN)]
    completions = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    assert main(["--dataset", str(dataset), "--completions", str(completions), "--out", str(out),
                 "--workers", "1", "--no-progress"]) == 0
    lines = read_jsonl(out)
    assert [line["verdict"] for line in lines] == ["compile_error", "wrong_answer", "passed"]
    assert lines[0]["code"] == "print('\\ud800')"
