"""Responsive: Ctrl-C stops an eval at once (in-flight sandboxes killed, graded samples kept, nothing half-judged
recorded), and the progress bar says which sample is taking long. The eval runs as a real subprocess on the real
local sandbox; the assertions bound times far above what the feature needs and far below what the old behaviour
took (the in-flight samples' 20 s time limit), so machine speed does not decide the outcome."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers.cli import GOOD, ROOT, ROW

SPIN = "while True:\n    pass"
TIME_LIMIT_S = 20  # what an in-flight sample would still burn without the abort


def count_lines(path: Path) -> int:
    return path.read_text().count("\n") if path.exists() else 0


def test_first_ctrl_c_stops_at_once_and_keeps_every_graded_sample(tmp_path):
    dataset = tmp_path / "problems.jsonl"
    dataset.write_text(json.dumps(ROW) + "\n")
    replay = tmp_path / "replay.jsonl"
    codes = [GOOD, GOOD, SPIN, SPIN, SPIN, SPIN]
    replay.write_text("".join(json.dumps({"question_id": "abc001_a", "sample_idx": i, "code": c}) + "\n"
                              for i, c in enumerate(codes)))
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.eval", "--backend", "replay", "--model", str(replay), "--dataset",
         str(dataset), "--start-date", "2024-08-01", "--end-date", "2025-05-01", "--n", str(len(codes)),
         "--time-limit", str(TIME_LIMIT_S), "--workers", "2", "--out", str(out), "--no-progress"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ})
    samples = out / "samples.jsonl"
    deadline = time.monotonic() + 120
    while count_lines(samples) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert count_lines(samples) == 2, "the two quick samples are graded first"
    time.sleep(1.0)  # the spinning samples are now running in their jails
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    assert proc.returncode == 130, stderr
    print(f"stopped {took:.2f} s after SIGINT")
    assert took < TIME_LIMIT_S / 2, f"took {took:.1f} s to stop"  # before: the in-flight samples ran to 20 s
    assert "stopping… (Ctrl-C again to force)" in stderr and "--resume" in stderr
    lines = [json.loads(x) for x in samples.read_text().splitlines()]
    assert sorted((x["sample_idx"], x["verdict"]) for x in lines) == [(0, "passed"), (1, "passed")]  # none half-judged


def test_progress_names_the_longest_running_sample():
    from concurrent.futures import Future

    from harness.grading import _Deliverer

    deliver = _Deliverer(lambda key, result: None, None)
    assert deliver.postfix() == ""
    deliver.running["a"] = ("abc001_a", time.monotonic() - 12.0)
    deliver.running["b"] = ("abc002_b", time.monotonic() - 1.0)
    assert deliver.postfix() == "longest running: abc001_a 12s"
    done: Future = Future()
    done.set_result(object())
    deliver.done("a", done)
    assert deliver.postfix().startswith("longest running: abc002_b")


def test_a_failing_job_source_still_grades_what_it_produced(monkeypatch):
    """A backend that dies mid-run (not Ctrl-C): the samples it did produce are still graded and delivered before
    the error goes up (the throwaway subprocess sandbox of test_judge stands in for the jail)."""
    import pytest

    import harness.judge
    from harness.grading import JudgeSettings, grade_stream
    from harness.problems import problem_from_row
    from tests.harness.test_judge import SubprocessSandbox

    monkeypatch.setattr(harness.judge, "sandbox_factory", lambda name: SubprocessSandbox)
    problem = problem_from_row(ROW)

    def jobs():
        yield 0, problem, GOOD
        yield 1, problem, "print(0)"
        raise RuntimeError("the backend died")

    results: dict = {}
    with pytest.raises(RuntimeError, match="backend died"):
        grade_stream(jobs(), results.__setitem__, JudgeSettings(workers=2), progress=False)
    assert {k: str(r.verdict) for k, r in results.items()} == {0: "passed", 1: "wrong_answer"}
