"""`python -m harness.grade`: formats in and out, order, carried fields, summary, and one-line errors (exit 2).

In-process tests swap the sandbox for the throwaway subprocess one of test_judge (tests only); one end-to-end test
runs the real CLI as a subprocess on the real local sandbox when it is available.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import harness.judge
import harness.sandbox
from harness.grade import main
from tests.harness.test_judge import SubprocessSandbox
from tests.helpers.cli import ROW

ROOT = Path(__file__).resolve().parents[2]

STDIN_ROW = {k: v for k, v in ROW.items() if k != "release_version"}
FUNC_ROW = {
    **STDIN_ROW, "question_id": "3000", "platform": "leetcode", "contest_id": "weekly-1",
    "starter_code": "class Solution:\n    def twice(self, x: int) -> int:\n        ",
    "public_test_cases": json.dumps([{"input": "2", "output": "4", "testtype": "functional"}]),
    "private_test_cases": json.dumps([{"input": "21", "output": "42", "testtype": "functional"}]),
    "metadata": json.dumps({"func_name": "twice"}),
}
GOOD_STDIN = "a, b = map(int, input().split())\nprint(a + b)"
GOOD_FUNC = "class Solution:\n    def twice(self, x):\n        return 2 * x"


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "problems.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (STDIN_ROW, FUNC_ROW)) + "\n")
    return path


@pytest.fixture
def fake_sandbox(monkeypatch):
    monkeypatch.setattr(harness.judge, "sandbox_factory", lambda name: SubprocessSandbox)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def run_cli(dataset: Path, completions: Path, out: Path, *extra: str) -> int:
    return main(["--dataset", str(dataset), "--completions", str(completions), "--out", str(out),
                 "--workers", "2", "--no-progress", *extra])


def test_jsonl_in_jsonl_out_same_order_with_carried_fields(tmp_path, dataset, fake_sandbox, capsys):
    rows = [
        {"question_id": "3000", "code": GOOD_FUNC, "model": "m", "sample_idx": 0},
        {"question_id": "abc001_a", "code": "print(4)", "model": "m", "sample_idx": 1},
        {"question_id": "abc001_a", "raw_output": f"<think>x</think>\n```python\n{GOOD_STDIN}\n```", "model": "m"},
        {"question_id": "abc001_a", "code": None, "extra": {"nested": [1]}},
        {"question_id": "3000", "raw_output": "I cannot solve this."},
    ]
    out = tmp_path / "out.jsonl"
    assert run_cli(dataset, write_jsonl(tmp_path / "c.jsonl", rows), out, "--test-order", "hardest-first") == 0
    lines = read_jsonl(out)
    assert [line["verdict"] for line in lines] == ["passed", "wrong_answer", "passed", "no_code", "no_code"]
    for row, line in zip(rows, lines):
        assert {k: line[k] for k in row} == row  # every input field carried through unchanged
        for field in ("verdict", "passed", "tests_run", "tests_total", "failed_test", "cpu_s", "wall_s",
                      "peak_rss_mb", "detail"):
            assert field in line
    assert lines[1]["failed_test"] == 1 and lines[1]["tests_run"] == 1  # hardest (longest input) first
    assert lines[2]["code"] == GOOD_STDIN  # extracted code is added
    summary = json.loads(Path(f"{out}.summary.json").read_text())
    assert summary["n_samples"] == 5 and summary["verdict_counts"] == {"no_code": 2, "passed": 2, "wrong_answer": 1}
    assert summary["pass_rate"] == pytest.approx(0.4) and summary["tests_run"] == 5
    assert "pass rate 40.00%" in capsys.readouterr().err
    assert run_cli(dataset, write_jsonl(tmp_path / "c.jsonl", rows[1:2]), out, "--test-order", "official",
                   "--overwrite") == 0
    assert read_jsonl(out)[0]["failed_test"] == 0  # the public test first


def test_lcb_extract_mode_and_re_extract(tmp_path, dataset, fake_sandbox):
    raw = f"```python\n{GOOD_STDIN}\n```\nComplexity: O(1)\n```"  # the official rule grades the trailing prose
    rows = [{"question_id": "abc001_a", "code": "print(0)", "raw_output": raw}]
    out = tmp_path / "o.jsonl"
    assert run_cli(dataset, write_jsonl(tmp_path / "c.jsonl", rows), out, "--re-extract") == 0
    assert read_jsonl(out)[0]["verdict"] == "passed"
    assert run_cli(dataset, write_jsonl(tmp_path / "c.jsonl", rows), out, "--re-extract",
                   "--extract-mode", "lcb", "--overwrite") == 0
    assert read_jsonl(out)[0]["verdict"] != "passed"


def test_official_eval_all_input(tmp_path, dataset, fake_sandbox):
    eval_all = [{**FUNC_ROW, "code_list": [GOOD_FUNC, "class Solution:\n    def twice(self, x):\n        return x"],
                 "output_list": ["a", "b"], "graded_list": [True, False],
                 "metadata": ['{"execution time": 0.1}', '{"error_code": -2}']}]
    path = tmp_path / "model_eval_all.json"
    path.write_text(json.dumps(eval_all))
    out = tmp_path / "o.jsonl"
    assert run_cli(dataset, path, out) == 0
    lines = read_jsonl(out)
    assert [(l["sample_idx"], l["verdict"], l["official_graded"]) for l in lines] == [
        (0, "passed", True), (1, "wrong_answer", False)]
    assert lines[1]["official_metadata"] == {"error_code": -2}


def test_unknown_question_id_stops_before_grading_unless_skipped(tmp_path, dataset, fake_sandbox, capsys):
    rows = [{"question_id": "abc001_a", "code": GOOD_STDIN}, {"question_id": "nope_1", "code": "print(1)"}]
    comp, out = write_jsonl(tmp_path / "c.jsonl", rows), tmp_path / "o.jsonl"
    assert run_cli(dataset, comp, out) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 1 question_id(s)") and "nope_1" in err and "Traceback" not in err
    assert not out.exists()
    assert run_cli(dataset, comp, out, "--skip-unknown") == 3  # an infra_error line: incomplete
    assert [l["verdict"] for l in read_jsonl(out)] == ["passed", "infra_error"]


@pytest.mark.parametrize("content, message", [
    ('{"question_id": "abc001_a", "code": "x"}\n{not json\n', "line 2: not valid JSON"),
    ('{"code": "print(1)"}\n', "line 1: needs an object with a question_id"),
    ('{"question_id": "abc001_a"}\n', "line 1: needs a `code` or a `raw_output`"),
    ('[{"question_id": "abc001_a"}]', "entry 0 lacks question_id and code_list"),
])
def test_malformed_completions_are_one_line_errors(tmp_path, dataset, fake_sandbox, capsys, content, message):
    comp = tmp_path / "c.jsonl"
    comp.write_text(content)
    assert run_cli(dataset, comp, tmp_path / "o.jsonl") == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_bad_paths_and_flags_are_one_line_errors(tmp_path, dataset, fake_sandbox, capsys):
    comp = write_jsonl(tmp_path / "c.jsonl", [{"question_id": "abc001_a", "code": "x"}])
    assert run_cli(dataset, tmp_path / "missing.jsonl", tmp_path / "o.jsonl") == 2
    assert "no such file" in capsys.readouterr().err
    assert run_cli(dataset, comp, comp) == 2  # would overwrite its own input
    assert "--out is the --completions file" in capsys.readouterr().err
    assert comp.read_text().strip()  # input untouched
    assert run_cli(tmp_path / "nodata.jsonl", comp, tmp_path / "o.jsonl") == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert run_cli(dataset, comp, tmp_path / "o.jsonl", "--workers", "0") == 2


def test_unusable_sandbox_fails_once_clearly(tmp_path, dataset, monkeypatch, capsys):
    def factory(name):
        def make():
            raise RuntimeError(f"{name} backend is not installed")
        return make

    monkeypatch.setattr(harness.judge, "sandbox_factory", factory)
    monkeypatch.setattr(harness.sandbox, "preflight", lambda name: None)  # credentials are not what is tested here
    comp = write_jsonl(tmp_path / "c.jsonl", [{"question_id": "abc001_a", "code": "x"}])
    assert run_cli(dataset, comp, tmp_path / "o.jsonl", "--sandbox", "modal") == 2
    assert "--sandbox modal cannot start here: modal backend is not installed" in capsys.readouterr().err


def test_real_cli_with_the_local_sandbox(tmp_path, dataset):
    try:
        from harness.sandbox import create_sandbox  # noqa: F401
    except ImportError:
        pytest.skip("the local sandbox (harness.sandbox.create_sandbox) is not available in this checkout")
    rows = [{"question_id": "abc001_a", "code": GOOD_STDIN}, {"question_id": "3000", "code": GOOD_FUNC},
            {"question_id": "abc001_a", "code": "import sys\nprint(sum(int(x) for l in sys.stdin for x in l.split()))"}]
    comp, out = write_jsonl(tmp_path / "c.jsonl", rows), tmp_path / "o.jsonl"
    proc = subprocess.run([sys.executable, "-m", "harness.grade", "--dataset", str(dataset), "--completions",
                           str(comp), "--out", str(out), "--workers", "2"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert [l["verdict"] for l in read_jsonl(out)] == ["passed", "passed", "passed"]
    assert "graded 3 samples" in proc.stderr
