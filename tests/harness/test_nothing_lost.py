"""Nothing lost: no command replaces a file or folder it did not create (without --overwrite), a failed start
leaves nothing behind, `harness.grade --resume` finishes an interrupted run, and every bad path or encoding is one
`error:` line with exit status 2. Real CLIs (subprocesses) on tiny datasets; grading uses the real local sandbox."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import GOOD, ROW
from tests.helpers.cli import run_cli as cli

RUN_A = Path(__file__).resolve().parent / "fixtures" / "runs" / "run_a"
NOT_UTF8 = b'{"question_id": "abc001_a", "code": "print(\xff)"}\n'


def one_error_line(res: subprocess.CompletedProcess, needle: str) -> None:
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], res.stderr


@pytest.fixture
def data(tmp_path: Path) -> dict[str, Path]:
    dataset = tmp_path / "problems.jsonl"
    dataset.write_text(json.dumps(ROW) + "\n", encoding="utf-8")
    completions = tmp_path / "c.jsonl"
    completions.write_text("".join(json.dumps({"question_id": "abc001_a", "sample_idx": i, "code": code}) + "\n"
                                   for i, code in enumerate([GOOD, "print(0)", GOOD])), encoding="utf-8")
    return {"dataset": dataset, "completions": completions}


def eval_cmd(data: dict, out: Path, *extra: str) -> list:
    return ["--backend", "replay", "--model", data["completions"], "--dataset", data["dataset"], "--n", "1",
            "--start-date", "2024-08-01", "--end-date", "2025-05-01", "--out", out, "--no-progress",
            "--workers", "1", *extra]


def test_eval_never_writes_into_a_folder_or_file_it_did_not_create(tmp_path, data):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "summary.json").write_text("my own file")
    one_error_line(cli("harness.eval", *eval_cmd(data, folder)), "holds other files")
    assert (folder / "summary.json").read_text() == "my own file"  # today: overwritten
    a_file = tmp_path / "a_file"
    a_file.write_text("keep")
    one_error_line(cli("harness.eval", *eval_cmd(data, a_file)), "is a file")
    one_error_line(cli("harness.eval", *eval_cmd(data, a_file / "run")), "is a file, not a folder")
    grade = ["--dataset", data["dataset"], "--completions", data["completions"]]
    one_error_line(cli("harness.grade", *grade, "--out", a_file / "g.jsonl"), "is a file, not a folder")
    assert a_file.read_text() == "keep"


@pytest.mark.parametrize("flags, needle", [
    (["--model", "does/not/exist.jsonl"], "does not exist"),
    (["--prompt-style", "nope"], "unknown prompt style"),
    (["--backend", "vllm", "--model", "Qwen/Qwen3-0.6B"], "vllm"),
])
def test_a_failed_start_leaves_nothing_and_the_corrected_command_runs(tmp_path, data, flags, needle):
    out = tmp_path / "run"
    cmd = eval_cmd(data, out)
    if flags[0] in ("--model", "--backend"):
        for key, value in zip(flags[::2], flags[1::2]):
            cmd[cmd.index(key) + 1] = value
    else:
        cmd += flags
    one_error_line(cli("harness.eval", *cmd), needle)
    assert not out.exists()  # today: a half-made run dir that refuses the corrected command and --resume
    res = cli("harness.eval", *eval_cmd(data, out))
    assert res.returncode == 0, res.stderr


def test_non_utf8_inputs_are_one_error_line(tmp_path, data):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(NOT_UTF8)
    one_error_line(cli("harness.eval", *eval_cmd({**data, "completions": bad}, tmp_path / "r1")), "UTF-8")
    one_error_line(cli("harness.eval", *eval_cmd({**data, "dataset": bad}, tmp_path / "r2")), "bad.jsonl")
    one_error_line(cli("harness.grade", "--dataset", bad, "--completions", data["completions"], "--out",
                       tmp_path / "g.jsonl"), "bad.jsonl")
    one_error_line(cli("harness.grade", "--dataset", data["dataset"], "--completions", bad, "--out",
                       tmp_path / "g.jsonl"), "UTF-8")
    config = tmp_path / "cfg.yaml"
    config.write_bytes(b"name: \xff\n")
    one_error_line(cli("repro.reproduce", "--config", config, "--out", tmp_path / "rep"), "UTF-8")
    assert not (tmp_path / "r1").exists() and not (tmp_path / "g.jsonl").exists()


def test_grade_out_needs_overwrite_and_is_never_a_directory(tmp_path, data):
    out = tmp_path / "graded.jsonl"
    out.write_text("earlier results\n")
    grade = ["--dataset", data["dataset"], "--completions", data["completions"], "--no-progress", "--workers", "1"]
    one_error_line(cli("harness.grade", *grade, "--out", out), "--overwrite")
    assert out.read_text() == "earlier results\n"  # today: silently replaced
    one_error_line(cli("harness.grade", *grade, "--out", tmp_path), "is a directory")
    res = cli("harness.grade", *grade, "--out", out, "--overwrite")
    assert res.returncode == 0, res.stderr
    assert [json.loads(x)["verdict"] for x in out.read_text().splitlines()] == ["passed", "wrong_answer", "passed"]
    assert not Path(f"{out}.partial").exists()


def test_grade_resume_grades_only_what_the_interrupted_run_left(tmp_path, data):
    from harness.grade import build_parser, journal_header

    out = tmp_path / "graded.jsonl"
    grade = ["--dataset", data["dataset"], "--completions", data["completions"], "--no-progress", "--workers", "1",
             "--out", out]
    args = build_parser().parse_args(list(map(str, grade)))
    planted = {"question_id": "abc001_a", "sample_idx": 0, "code": GOOD, "verdict": "passed", "passed": True,
               "tests_run": 2, "tests_total": 2, "marker": "from the journal"}
    partial = Path(f"{out}.partial")  # what an interrupted run leaves: its header and the lines graded so far
    partial.write_text(json.dumps(journal_header(args)) + "\n" + json.dumps({"i": 0, "line": planted}) + "\n")
    one_error_line(cli("harness.grade", *grade), "--resume")
    res = cli("harness.grade", *grade, "--resume")
    assert res.returncode == 0, res.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines[0]["marker"] == "from the journal"  # kept, not graded again
    assert [x["verdict"] for x in lines] == ["passed", "wrong_answer", "passed"] and not partial.exists()
    partial.write_text(json.dumps({**journal_header(args), "time_limit": 1.0}) + "\n")
    out.unlink()
    one_error_line(cli("harness.grade", *grade, "--resume"), "made for other input")


def test_leaderboard_and_export_outputs_are_checked(tmp_path, capsys):
    from harness.leaderboard import main as leaderboard

    def check(argv: list, needle: str) -> None:
        assert leaderboard([str(a) for a in argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err

    check([RUN_A, "--no-plots", "--out", tmp_path], "is a directory")
    mine = tmp_path / "lb.md"
    mine.write_text("mine")
    check([RUN_A, "--no-plots", "--out", mine], "--overwrite")
    assert mine.read_text() == "mine"  # today: replaced
    assert leaderboard([str(RUN_A), "--no-plots", "--out", str(mine), "--overwrite"]) == 0
    capsys.readouterr()
    check(["export-official", RUN_A, "--out", tmp_path], "is a directory")
    check(["export-official", RUN_A, "--out", mine], "--overwrite")
