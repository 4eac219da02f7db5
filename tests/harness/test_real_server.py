"""`python -m harness.eval --backend openai` against a REAL third-party OpenAI-compatible server: `transformers serve`
(the dev extra installs transformers' `serving` extra) serving a tiny random Qwen3 built offline with the real Qwen3
tokenizer (../shared/qwen). The server is started and stopped here.

It shows what the fake server (fake_openai_server.py) cannot: that the requests we send are accepted by a server we
did not write. transformers serve refuses fields outside the OpenAI schema (HTTP 422, e.g. `top_k`), ignores `n`
(answers one choice), applies its own 1024-token default when no limit is sent, and pins the model it serves (HTTP
400 for any other name). The model writes random text, so every sample is `no_code`: what is checked is that each
sample is the model's answer (text, tokens within the limit, nothing skipped), not its score.
Not covered: vLLM (needs a GPU; its extra fields are checked against the fake), scores of a real model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.records import RunDir
from tests.helpers.transformers_server import TransformersServer

ROOT = Path(__file__).resolve().parents[2]
N_PROBLEMS = 3  # the sample set's problems from 2024-08-01 to 2024-09-10
SELECTION = ["--dataset", "sample", "--start-date", "2024-08-01", "--end-date", "2024-09-10"]


@pytest.fixture(scope="module")
def served_model(tmp_path_factory, qwen_tokenizer):
    """(model name, base URL) of a tiny Qwen3 served by transformers serve for this module's tests."""
    for package in ("fastapi", "uvicorn"):
        try:
            __import__(package)
        except ImportError:
            pytest.fail(f"transformers serve needs {package}: install the dev extra (pip install -e '.[dev]')")
    from tests.helpers.tiny_models import save_tiny_qwen3

    root = tmp_path_factory.mktemp("served")
    model_dir = save_tiny_qwen3(root / "tiny-qwen3", qwen_tokenizer)
    config_path = model_dir / "generation_config.json"
    config = json.loads(config_path.read_text())
    # as Qwen3 ships it: sample (the server then applies the temperature/top_p we send) rather than greedy
    config.update(do_sample=True, temperature=0.6, top_p=0.95)
    config_path.write_text(json.dumps(config))
    server = TransformersServer(model_dir, root / "serve.log")
    with server:
        yield str(model_dir), server.base_url


def run_eval(model: str, base_url: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    args = ["--backend", "openai", "--model", model, "--base-url", base_url, *SELECTION, "--n", "2",
            "--max-tokens", "16", "--workers", "1", "--out", str(out), "--no-progress", *extra]
    return subprocess.run([sys.executable, "-m", "harness.eval", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def error_lines(res: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in res.stderr, res.stderr
    return [line for line in res.stderr.splitlines() if line.startswith("error:")]


def test_a_run_against_transformers_serve_records_every_sample_from_the_model(served_model, tmp_path):
    model, url = served_model
    out = tmp_path / "run"
    res = run_eval(model, url, out, "--top-k", "-1")  # transformers serve has no top_k (see the next test)
    assert res.returncode == 0, res.stderr
    assert "it ignores n" in res.stderr  # n=2 answered with one choice: the fallback, not a malformed answer
    assert "max_tokens=min(16, max_model_len" in res.stderr  # what each request sends, said before the run
    records = list(RunDir(out).iter_samples())
    assert sorted((r.question_id, r.sample_idx) for r in records) == sorted(
        (q, i) for q in {r.question_id for r in records} for i in (0, 1))
    assert len(records) == 2 * N_PROBLEMS
    for r in records:
        assert r.raw_output and r.skipped_reason is None and r.verdict != "infra_error"
        assert r.finish_reason in ("stop", "length") and 0 < r.completion_tokens <= 16  # the limit was applied
        assert r.prompt_tokens > 50  # the server rendered the real Qwen3 chat template
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_samples"] == 2 * N_PROBLEMS


def test_a_field_the_server_refuses_stops_the_run_with_one_line_naming_it(served_model, tmp_path):
    model, url = served_model
    res = run_eval(model, url, tmp_path / "run")  # default sampling sends top_k=20 (Qwen3 thinking mode)
    assert res.returncode == 2
    lines = error_lines(res)
    assert len(lines) == 1, res.stderr
    assert "refused the request field 'top_k' (HTTP 422" in lines[0] and "pass --top-k -1" in lines[0]
    assert not (tmp_path / "run").exists()  # nothing was recorded: the corrected command can use the same --out


def test_a_wrong_model_name_is_a_configuration_error_not_a_zero_score(served_model, tmp_path):
    _, url = served_model
    res = run_eval("no-such-model", url, tmp_path / "run", "--top-k", "-1")
    assert res.returncode == 2
    lines = error_lines(res)
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"error: HTTP 400 from {url}: Server is pinned to") and "'no-such-model'" in lines[0]
    assert "pass@1" not in res.stdout
