"""No silent wrong number: limits that would fail every sample are refused by eval, grade and reproduce alike, and
a run with infra errors or missing samples says so in its headline, its summary and its exit status (3).

Everything runs the real CLIs (subprocesses) on the real local sandbox and tiny datasets written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import GOOD, ROOT, ROW, run_cli

NO_TESTS = {**ROW, "question_id": "abc002_a", "public_test_cases": "[]", "private_test_cases": "[]"}



def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    dataset = write_jsonl(tmp_path / "problems.jsonl", [ROW, NO_TESTS])
    replay = write_jsonl(tmp_path / "replay.jsonl", [{"question_id": "abc001_a", "sample_idx": 0, "code": GOOD},
                                                     {"question_id": "abc002_a", "sample_idx": 0, "code": GOOD}])
    return dataset, replay


def eval_args(dataset: Path, replay: Path, out: Path, *extra: str) -> list[str]:
    return ["--backend", "replay", "--model", str(replay), "--dataset", str(dataset), "--start-date", "2024-08-01",
            "--end-date", "2025-05-01", "--n", "1", "--out", str(out), "--no-progress", "--workers", "1", *extra]


@pytest.mark.parametrize("flags, needle", [
    (["--time-limit", "0"], "--time-limit must be a positive"),
    (["--time-limit", "-1"], "--time-limit must be a positive"),
    (["--memory-limit-mb", "1"], "--memory-limit-mb must be at least 64"),
    (["--memory-limit-mb", "0"], "--memory-limit-mb must be at least 64"),
    (["--workers", "0"], "--workers must be at least 1"),
])
def test_eval_and_grade_refuse_limits_no_sample_could_pass(tmp_path, files, flags, needle):
    dataset, replay = files
    out = tmp_path / "run"
    res = run_cli("harness.eval", *eval_args(dataset, replay, out, *flags))
    assert res.returncode == 2 and res.stderr.strip() == f"error: {res.stderr.strip()[7:]}"
    assert needle in res.stderr and not out.exists()  # refused before the run dir exists
    res = run_cli("harness.grade", "--dataset", str(dataset), "--completions", str(replay), "--out",
                  str(tmp_path / "g.jsonl"), "--no-progress", *flags)
    assert res.returncode == 2 and needle in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_reproduce_refuses_the_same_limits_from_its_config(tmp_path):
    import yaml

    cfg = yaml.safe_load((ROOT / "repro" / "configs" / "tiny-cpu.yaml").read_text(encoding="utf-8"))
    cfg.setdefault("eval", {})["memory_limit_mb"] = 1
    config = tmp_path / "cfg.yaml"
    config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    res = run_cli("repro.reproduce", "--config", str(config), "--out", str(tmp_path / "out"))
    assert res.returncode == 2, res.stderr
    assert "memory_limit_mb must be at least 64" in res.stderr and "Traceback" not in res.stderr


def test_infra_errors_show_in_headline_summary_and_exit_status(tmp_path, files):
    dataset, replay = files
    out = tmp_path / "run"
    res = run_cli("harness.eval", *eval_args(dataset, replay, out))
    assert res.returncode == 3, res.stderr  # today: 0, with pass@1 100.00% and a quiet infra_error
    assert "INCOMPLETE: 1 infra_error samples" in res.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_infra_error"] == 1 and summary["n_missing"] == 0
    assert json.loads(res.stdout.strip().splitlines()[-1])["n_infra_error"] == 1


def test_an_explicitly_restricted_selection_is_complete(tmp_path, files):
    dataset, replay = files
    out = tmp_path / "run"
    res = run_cli("harness.eval", *eval_args(dataset, replay, out, "--question-ids", "abc001_a"))
    assert res.returncode == 0, res.stderr
    assert "over 1 problems" in res.stdout and "INCOMPLETE" not in res.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["dataset"]["question_ids"] == ["abc001_a"] and manifest["dataset"]["n_problems"] == 1
    res = run_cli("harness.eval", *eval_args(dataset, replay, tmp_path / "r2", "--question-ids", "zzz"))
    assert res.returncode == 2 and "not in the selection" in res.stderr
