"""`python -m harness.eval --backend openai` end to end against the FAKE server (fake_openai_server.py): what is sent
(--extra-body, always a completion limit) and what a run records when the server fails (infra_error, exit 3).

A fake because these need a record of every body and a server failing on demand for one problem; the same command
against a real `transformers serve` is in test_real_server.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from harness.records import RunDir
from tests.harness.fake_openai_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[2]
SELECTION = ["--dataset", "sample", "--start-date", "2024-08-01", "--end-date", "2024-09-10"]  # 3 problems


def run_eval(base_url: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    args = ["--backend", "openai", "--model", "fake-model", "--base-url", base_url, *SELECTION, "--n", "2",
            "--workers", "1", "--out", str(out), "--no-progress", "--top-k", "-1", *extra]
    return subprocess.run([sys.executable, "-m", "harness.eval", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_extra_body_reaches_every_request_and_the_manifest_and_a_limit_is_always_sent(tmp_path):
    with FakeOpenAIServer() as server:
        res = run_eval(server.base_url, tmp_path / "run", "--extra-body", '{"repetition_penalty": 1.05}')
    assert res.returncode == 0, res.stderr
    assert server.received == 3 and all(b["repetition_penalty"] == 1.05 for b in server.bodies)
    # no --max-tokens and no known context: the documented default is sent, and said
    assert all(b["max_tokens"] == 32768 for b in server.bodies)
    assert "openai: every request sends max_tokens=32768 (the default" in res.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["generation"]["extra_body"] == {"repetition_penalty": 1.05}


def test_bad_extra_body_is_one_error_line_and_exit_2(tmp_path):
    for flag in (["--extra-body", "{repetition_penalty: 1}"], ["--backend-opt", "extra_body=[1]"]):
        res = run_eval("http://127.0.0.1:9/v1", tmp_path / "run", *flag)
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "--extra-body" in errors[0], res.stderr
        assert not (tmp_path / "run").exists()


def test_server_errors_after_retries_are_infra_error_never_no_code_and_the_run_says_so(tmp_path):
    def fail_one_problem(body):
        if "balanced-prefixes" in json.dumps(body) or "characters 'L' and 'R'" in json.dumps(body):
            return 503, {"error": {"message": "overloaded"}}
        return None

    out = tmp_path / "run"
    with FakeOpenAIServer(respond=fail_one_problem) as server:
        res = run_eval(server.base_url, out, "--concurrency", "1", "--backend-opt", "max_retries=1",
                       "--backend-opt", "backoff_s=0.01")
    assert res.returncode == 3, res.stderr  # finished but incomplete
    assert "INCOMPLETE" in res.stdout and "infra_error" in res.stdout
    records = {r.key: r for r in RunDir(out).iter_samples()}
    assert len(records) == 6
    failed = [r for r in records.values() if r.verdict == "infra_error"]
    assert sorted(r.question_id for r in failed) == ["smp002", "smp002"]
    assert all("HTTP 503" in r.detail and "overloaded" in r.detail for r in failed)
    assert not any(r.verdict == "no_code" for r in records.values())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_infra_error"] == 2
