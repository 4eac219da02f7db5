"""Comparable by construction: runs record their problem set, and the leaderboard ranks together only runs on the
same set, keeps the published rows with the full v6 selection, labels public-tests-only and unsandboxed runs, and
never ranks a toy with real models. Plots carry error bars and n.

Runs are the fixture run_a with its manifest edited to each case (the samples, hence the score, stay the same)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

from harness.report import FULL_V6_SET, REPORTED, TOY_PREFIX, build_leaderboard, to_markdown

ROOT = Path(__file__).resolve().parents[2]
RUN_A = Path(__file__).resolve().parent / "fixtures" / "runs" / "run_a"
FULL_V6 = {"spec": "livecodebench/code_generation_lite", "release": "release_v6", "start_date": "2024-08-01",
           "end_date": "2025-05-01", "content_hash": "f" * 64, "n_problems": 454, "n_with_private_tests": 454}


def make_run(tmp_path: Path, name: str, dataset: dict | None = None, **fields) -> Path:
    run = tmp_path / name
    shutil.copytree(RUN_A, run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["dataset"] = {**FULL_V6, **(dataset or {})}
    manifest.update({"label": name, "isolation": "bwrap", **fields})
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


def test_only_runs_on_the_same_problems_are_ranked_together(tmp_path):
    runs = [
        make_run(tmp_path, "real-v6"),
        make_run(tmp_path, "one-month", {"start_date": "2025-01-01", "end_date": "2025-01-31", "n_problems": 40,
                                         "n_with_private_tests": 40, "content_hash": "1" * 64}),
        make_run(tmp_path, "toy-82k", model_params=82_000),
        make_run(tmp_path, "sample-run", {"spec": "sample", "n_problems": 15, "n_with_private_tests": 15,
                                          "content_hash": "2" * 64}),
        make_run(tmp_path, "public-only", {"n_with_private_tests": 55, "content_hash": "3" * 64}),
    ]
    frame = build_leaderboard(runs, n_bootstrap=200).set_index("Model")
    reported = frame[frame["Source"] == REPORTED]
    assert set(reported["Set"]) == {FULL_V6_SET} and frame.loc["real-v6", "Set"] == FULL_V6_SET
    assert frame.loc["real-v6", "Delta"] == frame.loc["real-v6", "Pass@1"] - 60.79  # compared with the paper rows
    for name in ("one-month", "toy-82k", "sample-run", "public-only"):
        assert frame.loc[name, "Set"] != FULL_V6_SET, name  # today: all ranked among the published rows
        assert math.isnan(frame.loc[name, "Delta"]) and frame.loc[name, "Rank"] == 1, name  # alone in its set
    assert frame.loc["toy-82k", "Set"].startswith(TOY_PREFIX) and frame.loc["sample-run", "Set"].startswith(TOY_PREFIX)
    assert not frame.loc["one-month", "Set"].startswith(TOY_PREFIX)
    assert "PUBLIC TESTS ONLY for 399 of 454 problems" in frame.loc["public-only", "Notes"]
    assert "incomplete: 6 of 454 problems scored" in frame.loc["real-v6", "Notes"]
    text = to_markdown(build_leaderboard(runs, n_bootstrap=200))
    assert text.count("| Rank ") == 5  # the published set, then one table per other set (4)


def test_unsandboxed_and_unknown_isolation_are_labelled(tmp_path):
    runs = [make_run(tmp_path, "jailed"), make_run(tmp_path, "bare", isolation="rlimits-fallback"),
            make_run(tmp_path, "old")]
    manifest = json.loads((runs[2] / "manifest.json").read_text())
    del manifest["isolation"]
    (runs[2] / "manifest.json").write_text(json.dumps(manifest))
    frame = build_leaderboard(runs, n_bootstrap=200).set_index("Model")
    assert "UNSANDBOXED (rlimits-fallback)" in frame.loc["bare", "Notes"]
    assert "isolation unknown" in frame.loc["old", "Notes"]
    assert "SANDBOX" not in frame.loc["jailed", "Notes"] and "isolation" not in frame.loc["jailed", "Notes"]


def test_eval_records_the_problem_set_identity(tmp_path):
    out = tmp_path / "run"
    res = subprocess.run([sys.executable, "-m", "harness.eval", "--backend", "replay", "--model", "sample",
                          "--dataset", "sample", "--n", "1", "--out", str(out), "--no-progress", "--workers", "2"],
                         check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    dataset = json.loads((out / "manifest.json").read_text())["dataset"]
    assert dataset["n_problems"] == dataset["n_with_private_tests"] == 15 and len(dataset["content_hash"]) == 64
    assert dataset["release"] == "release_v6" and dataset["question_ids"] is None


def test_toy_checkpoints_are_recognised_from_their_config(tmp_path):
    from harness.pipeline import estimate_params

    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 16, "num_hidden_layers": 2,
                                                      "intermediate_size": 32, "vocab_size": 4000}))
    assert estimate_params(str(tmp_path)) == 4000 * 16 + 2 * (4 * 16 * 16 + 3 * 16 * 32)
    assert estimate_params("Qwen/Qwen3-14B") is None  # a hub id: unknown, never guessed


def test_plot_points_carry_error_bars_and_n():
    from harness.plots import _yerr
    from harness.summary import GroupScore

    groups = [GroupScore.model_validate({"pass@1": 0.5, "n_problems": 4, "ci95": {"low": 0.25, "high": 0.875}}), None]
    below, above = _yerr(groups)
    assert below == [25.0, 0.0] and above == [37.5, 0.0]


def test_official_imports_of_the_same_problems_share_a_set(tmp_path):
    from harness.interop import import_eval_all
    from harness.problems import load_problems
    from tests.harness.test_nothing_lost import ROW

    dataset = tmp_path / "problems.jsonl"
    dataset.write_text(json.dumps(ROW) + "\n")
    manifests = []
    for i, code in enumerate(["print(3)", "print(4)"]):  # two models' files: different bytes, same problems
        src = tmp_path / f"m{i}_eval_all.json"
        src.write_text(json.dumps([{**ROW, "code_list": [code], "graded_list": [i == 0], "output_list": [code]}]))
        run = import_eval_all(src, tmp_path / f"run{i}", model=f"m{i}")
        manifests.append(run.read_manifest())
    assert manifests[0].dataset.content_hash == manifests[1].dataset.content_hash  # today: each file its own hash
    selection = load_problems(str(dataset), "release_v6", None, None)
    run = import_eval_all(tmp_path / "m0_eval_all.json", tmp_path / "with-problems", model="m0", problems=selection)
    identity = run.read_manifest().dataset
    assert identity.content_hash == selection.content_hash and identity.n_with_private_tests == 1
    assert identity.release == "release_v6"
