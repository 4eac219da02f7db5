"""Typed records: summaries and manifests from a newer harness are refused in one line, verdicts are the Verdict
enum (an unknown one is refused on read), and UserError is not a ValueError."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.leaderboard import main as leaderboard
from harness.records import RunDir, SampleRecord
from harness.scoring import summarize
from harness.summary import SUMMARY_SCHEMA_VERSION, RunSummary, read_summary
from harness.verdicts import Verdict

RUN_A = Path(__file__).resolve().parent / "fixtures" / "runs" / "run_a"


def test_summary_is_typed_and_round_trips_with_the_published_keys(tmp_path):
    run = RunDir(tmp_path / "run")
    shutil.copytree(RUN_A, run.path)
    summary = summarize(run.iter_samples(), n_bootstrap=200)
    assert isinstance(summary, RunSummary) and summary.schema_version == SUMMARY_SCHEMA_VERSION
    assert summary.pass_at_1 == pytest.approx(2.75 / 6) and summary.by_month["2024-08"].n_problems == 2
    run.write_summary(summary)
    on_disk = json.loads(run.summary_path.read_text())
    assert on_disk["pass@1"] == summary.pass_at_1 and "pass_at_1" not in on_disk  # the published key names
    assert run.read_summary() == summary


def test_newer_summary_or_manifest_is_a_one_line_error(tmp_path, capsys):
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"schema_version": SUMMARY_SCHEMA_VERSION + 1, "pass@1": 0.5}))
    with pytest.raises(UserError, match="schema version 2 is newer"):
        read_summary(path)
    run = tmp_path / "run"
    shutil.copytree(RUN_A, run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["schema_version"] = 99
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert leaderboard([str(run), "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "manifest schema version 99 is newer" in err and err.count("\n") == 1


def test_verdict_is_the_enum_and_unknown_verdicts_are_refused():
    rec = SampleRecord(question_id="q", sample_idx=0, verdict="time_limit", passed=False)
    assert rec.verdict is Verdict.TIME_LIMIT
    assert json.loads(rec.model_dump_json())["verdict"] == "time_limit"
    with pytest.raises(ValueError):  # pydantic's ValidationError
        SampleRecord(question_id="q", sample_idx=0, verdict="timeout", passed=False)


def test_user_error_is_not_a_value_error():
    assert not issubclass(UserError, ValueError)  # an `except ValueError` must not swallow a user message
