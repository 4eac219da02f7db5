"""End-to-end tests of `python -m harness.eval`: replay parity with harness.grade, crash-safe resume, refusals,
the offline sample job, and the whole pipeline through the hf backend with a tiny random Qwen3."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.eval_pipeline import write_replay
from harness.records import RunDir

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / ".." / "shared"
PROBLEMS = SHARED / "lcb" / "release_v6_problems.jsonl"
WINDOW = ["--start-date", "2024-08-01", "--end-date", "2025-05-01", "--release", "release_v6"]

needs_shared = pytest.mark.skipif(not PROBLEMS.exists(), reason="../shared/lcb is not beside the checkout")


def run_cli(module: str, *args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def dev_replay_file(tmp_path: Path, model_prefix: str, limit: int) -> Path:
    """One model's dev completions inside the v6 window, as a replay/grade JSONL."""
    path = tmp_path / "replay.jsonl"
    assert write_replay(path, limit, model_prefix, window=("2024-08-01", "2025-05-01")) == limit
    return path


def eval_args(replay: Path, out: Path, *extra: str) -> list[str]:
    """Replay `replay` over exactly the problems it holds (--question-ids: the selection is restricted on purpose)."""
    ids = sorted({json.loads(line)["question_id"] for line in replay.read_text().splitlines() if line.strip()})
    return ["--backend", "replay", "--model", str(replay), "--dataset", str(PROBLEMS), *WINDOW, "--n", "1",
            "--question-ids", ",".join(ids), "--out", str(out), "--no-progress", "--workers", "2", *extra]


def verdicts_of(run_dir: Path) -> dict[tuple[str, int], str]:
    return {r.key: r.verdict for r in RunDir(run_dir).iter_samples()}


@needs_shared
def test_replay_eval_matches_grade_cli_sample_by_sample(tmp_path):
    replay = dev_replay_file(tmp_path, "Qwen3-8B-Base", limit=40)
    res = run_cli("harness.eval", *eval_args(replay, tmp_path / "run"))
    assert res.returncode == 0, res.stderr
    graded = tmp_path / "graded.jsonl"
    res = run_cli("harness.grade", "--dataset", str(PROBLEMS), "--completions", str(replay), "--out", str(graded),
                  "--workers", "2")
    assert res.returncode == 0, res.stderr
    by_grade = {}
    for line in graded.read_text().splitlines():
        r = json.loads(line)
        by_grade[(r["question_id"], r["sample_idx"])] = r["verdict"]
    by_eval = verdicts_of(tmp_path / "run")
    assert len(by_eval) == 40
    assert by_eval == by_grade
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    passed = sum(v == "passed" for v in by_eval.values())
    assert summary["pass@1"] == pytest.approx(passed / summary["n_samples"])


@needs_shared
def test_sigkill_midway_then_resume_equals_uninterrupted_run(tmp_path):
    replay = dev_replay_file(tmp_path, "Qwen2.5-7B-Instruct ZeroShotCoT", limit=30)
    full = tmp_path / "full"
    assert run_cli("harness.eval", *eval_args(replay, full)).returncode == 0

    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "harness.eval",
                             *eval_args(replay, killed, "--backend-opt", "rate=10")],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples = killed / "samples.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if samples.exists() and samples.read_text().count("\n") >= 8:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    n_before = samples.read_text().count("\n")
    assert 0 < n_before < 30, "the kill must land part-way through the run"
    with open(samples, "a", encoding="utf-8") as f:  # a crash in the middle of a write
        f.write('{"question_id": "half-written", "sample_idx": 0, "verd')

    res = run_cli("harness.eval", *eval_args(replay, killed, "--resume"))
    assert res.returncode == 0, res.stderr
    lines = samples.read_text().splitlines()
    keys = [(json.loads(x)["question_id"], json.loads(x)["sample_idx"]) for x in lines]
    assert len(keys) == len(set(keys)) == 30, "no sample lost, none duplicated, the half line dropped"
    assert verdicts_of(killed) == verdicts_of(full)
    s_full = json.loads((full / "summary.json").read_text())
    s_killed = json.loads((killed / "summary.json").read_text())
    assert s_killed["pass@1"] == s_full["pass@1"]


@needs_shared
def test_resume_refuses_a_different_experiment_and_existing_dir_needs_resume(tmp_path):
    replay = dev_replay_file(tmp_path, "Qwen2-1.5B", limit=3)
    out = tmp_path / "run"
    assert run_cli("harness.eval", *eval_args(replay, out)).returncode == 0
    res = run_cli("harness.eval", *eval_args(replay, out))
    assert res.returncode == 2 and "--resume" in res.stderr
    res = run_cli("harness.eval", *eval_args(replay, out, "--resume", "--temperature", "0.2"))
    assert res.returncode == 2
    assert "sampling" in res.stderr and "Traceback" not in res.stderr
    res = run_cli("harness.eval", *eval_args(replay, out, "--resume", "--time-limit", "15"))
    assert res.returncode == 2 and "limits" in res.stderr


def test_offline_sample_job_from_readme(tmp_path):
    out = tmp_path / "sample-run"
    res = run_cli("harness.eval", "--backend", "replay", "--model", "sample", "--dataset", "sample", "--n", "4",
                  "--out", str(out), "--no-progress")
    assert res.returncode == 0, res.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert 0.0 < summary["pass@1"] < 1.0
    for key in ("pass@1", "pass@k", "n_problems", "by_difficulty", "by_platform", "by_month", "ci95",
                "verdict_counts"):
        assert key in summary
    assert summary["n_samples"] == 4 * summary["n_problems"]
    assert set(summary["pass@k"]) >= {"1", "2", "4"}
    assert "pass@1" in res.stdout
    verdicts = summary["verdict_counts"]
    assert verdicts.get("no_code", 0) >= 1 and verdicts.get("passed", 0) >= 1


def test_unknown_backend_and_missing_model_path_are_one_line_errors(tmp_path):
    res = run_cli("harness.eval", "--backend", "hf", "--model", str(tmp_path / "no-such-model"), "--dataset",
                  "sample", "--out", str(tmp_path / "r"), "--no-progress")
    assert res.returncode == 2
    assert "no-such-model" in res.stderr and "Traceback" not in res.stderr
    res = run_cli("harness.eval", "--backend", "replay", "--model", str(tmp_path / "missing.jsonl"), "--dataset",
                  "sample", "--out", str(tmp_path / "r2"), "--no-progress")
    assert res.returncode == 2 and "Traceback" not in res.stderr


@pytest.mark.slow
def test_hf_backend_whole_pipeline_with_tiny_qwen3(tmp_path, qwen_tokenizer):
    from tests.helpers.tiny_models import save_tiny_qwen3

    model_dir = tmp_path / "tiny-qwen3"
    save_tiny_qwen3(model_dir, qwen_tokenizer)
    out = tmp_path / "run"
    res = run_cli("harness.eval", "--backend", "hf", "--model", str(model_dir), "--dataset", "sample", "--n", "2",
                  "--max-tokens", "12", "--prompt-style", "qwen3-thinking", "--device", "cpu", "--out", str(out),
                  "--no-progress", "--workers", "1")
    assert res.returncode == 0, res.stderr
    records = list(RunDir(out).iter_samples())
    summary = json.loads((out / "summary.json").read_text())
    assert len(records) == 2 * summary["n_problems"] > 0
    for r in records:
        assert r.finish_reason in ("stop", "length")
        assert r.prompt_tokens and r.prompt_tokens > 50  # the rendered chat prompt went through the Qwen tokenizer
        assert 0 < r.completion_tokens <= 12
        assert r.verdict in ("no_code", "compile_error", "runtime_error", "wrong_answer")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["backend"] == "hf" and manifest["prompt_style"] == "qwen3-thinking"


def test_prompt_longer_than_max_model_len_is_recorded_as_skipped_with_its_reason(tmp_path):
    from tests.helpers.tiny_models import save_tiny_qwen3

    model_dir = save_tiny_qwen3(tmp_path / "tiny")
    out = tmp_path / "run"
    res = run_cli("harness.eval", "--backend", "hf", "--model", str(model_dir), "--dataset", "sample", "--n", "2",
                  "--max-model-len", "64", "--device", "cpu", "--out", str(out), "--no-progress", "--workers", "1")
    assert res.returncode == 0, res.stderr
    records = list(RunDir(out).iter_samples())
    summary = json.loads((out / "summary.json").read_text())
    assert len(records) == 2 * summary["n_problems"] > 0  # nothing lost: every sample is on record
    for r in records:
        assert r.verdict == "no_code" and not r.passed  # counted as a failure, never silently dropped
        assert r.skipped_reason and "64" in r.skipped_reason
        assert r.prompt_tokens > 64 and r.raw_output is None
    assert summary["pass@1"] == 0.0


def test_qwen3_defaults_reach_vllm_as_the_nouscoder_setting():
    """`--model Qwen/Qwen3-14B` alone: vLLM, Qwen3 thinking prompt, 81,920 tokens via YaRN 2.0 over 40,960 (the
    rope scaling NousCoder-14B's released config.json carries, REFERENCE §6)."""
    import sys as _sys

    from harness.backends.vllm import vllm_engine_args, vllm_sampling_args
    from harness.pipeline import EvalConfig, backend_options_of, resolve_defaults, sampling_of

    cfg = resolve_defaults(EvalConfig(model="Qwen/Qwen3-14B", out="unused"))
    assert (cfg.backend, cfg.prompt_style, cfg.enable_thinking) == ("vllm", "qwen3-thinking", True)
    assert (cfg.temperature, cfg.top_p, cfg.top_k) == (0.6, 0.95, 20)
    args = vllm_engine_args(cfg.model, backend_options_of(cfg))
    assert args["max_model_len"] == 81_920
    assert args["hf_overrides"] == {
        "max_position_embeddings": 81_920,
        "rope_parameters": {"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 40_960,
                            "rope_theta": 1_000_000},
    }
    assert vllm_sampling_args(sampling_of(cfg), 1_000, cfg.max_model_len)["max_tokens"] == 80_920
    assert "vllm" not in _sys.modules
    # a model outside the family keeps the official prompt and the model's own context
    other = resolve_defaults(EvalConfig(model="deepseek-ai/deepseek-coder-6.7b-instruct", out="unused"))
    assert other.max_model_len is None and other.rope_scaling is None and other.prompt_style == "lcb-generic"


def test_samples_absent_from_a_replay_file_stay_missing_until_resume_fills_them(tmp_path):
    from harness.problems import SAMPLE_DIR

    full = (Path(SAMPLE_DIR) / "completions.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    replay, out = tmp_path / "replay.jsonl", tmp_path / "run"
    replay.write_text("".join(full[:40]), encoding="utf-8")
    args = ["--backend", "replay", "--model", str(replay), "--dataset", "sample", "--n", "4", "--time-limit", "1",
            "--out", str(out), "--no-progress"]
    res = run_cli("harness.eval", *args)
    assert res.returncode == 3, res.stderr  # finished, but incomplete: never a silent exit 0
    assert len(list(RunDir(out).iter_samples())) == 40  # the 20 absent samples are not recorded as failures
    assert "over 10 OF 15 PROBLEMS only" in res.stdout and "20 samples missing" in res.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["n_missing"], summary["n_problems"], summary["n_problems_selected"]) == (20, 10, 15)
    replay.write_text("".join(full), encoding="utf-8")
    res = run_cli("harness.eval", *args, "--resume")
    assert res.returncode == 0, res.stderr
    keys = [r.key for r in RunDir(out).iter_samples()]
    assert len(keys) == len(set(keys)) == 60


def test_resume_redoes_samples_the_grader_could_not_decide(tmp_path):
    """An infra_error is neither a pass nor a fail: --resume must redo it (here: a recorded infra_error, as a judge
    or server outage leaves), keep every other line byte for byte, and end complete with exit 0."""
    args = ["--backend", "replay", "--model", "sample", "--dataset", "sample", "--n", "4", "--time-limit", "2",
            "--out", str(tmp_path / "run"), "--no-progress"]
    assert run_cli("harness.eval", *args).returncode == 0
    samples = tmp_path / "run" / "samples.jsonl"
    lines = samples.read_text(encoding="utf-8").splitlines(keepends=True)
    modes = {json.loads(line)["exec_mode"] for line in lines if json.loads(line)["code"]}
    assert modes <= {"function", "module", "call"} and "call" in modes  # how each sample ran is recorded
    broken = json.loads(lines[3])
    truth = broken["verdict"]
    broken.update(verdict="infra_error", passed=False, detail="sandbox died (simulated outage)")
    samples.write_text("".join(lines[:3] + [json.dumps(broken) + "\n"] + lines[4:]), encoding="utf-8")
    res = run_cli("harness.eval", *args)
    assert res.returncode == 2  # an existing run needs --resume
    res = run_cli("harness.eval", *args, "--resume")
    assert res.returncode == 0, res.stderr
    assert "1 infra_error sample(s)" in res.stderr
    after = samples.read_text(encoding="utf-8").splitlines(keepends=True)
    assert after[:3] + after[3:len(lines) - 1] == lines[:3] + lines[4:]  # the others untouched, in order
    redone = json.loads(after[-1])
    assert (redone["question_id"], redone["sample_idx"], redone["verdict"]) == (
        broken["question_id"], broken["sample_idx"], truth)
