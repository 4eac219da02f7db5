"""The full-size benchmark at a tiny scale: the synthetic set is in the hub's encoding and round-trips through the
loader, and the benchmark runs end to end (structure and verdicts, never timings)."""

from __future__ import annotations

import base64
import json
import pickle
import subprocess
import sys
import zlib
from pathlib import Path

from benchmarks import full_size, full_size_data
from harness.problems import TestCase as Case
from harness.problems import decode_tests, load_problems

REPO = Path(__file__).resolve().parents[2]
TINY = full_size_data.SetSpec(n_window=14, n_outside=4).scaled(0.0005)


def test_the_synthetic_set_round_trips_in_the_official_encoding(tmp_path, monkeypatch):
    monkeypatch.setenv("LCB_HARNESS_CACHE", str(tmp_path / "cache"))
    info = full_size_data.generate(tmp_path / "data", TINY, jobs=1)
    shards = sorted((tmp_path / "data").glob("test*.jsonl"))
    shard_rows = [json.loads(line) for f in shards for line in f.read_text(encoding="utf-8").splitlines()]
    assert len(shard_rows) == 18 and all(isinstance(v, str) for r in shard_rows for v in r.values())
    totals = full_size_data.problem_totals(TINY)
    selection = load_problems(str(tmp_path / "data"), *full_size.WINDOW)
    assert len(selection) == TINY.n_window  # the rows outside the window are not selected
    by_id = {r["question_id"]: r for r in shard_rows}
    for index in range(TINY.n_window):
        qid = full_size_data.qid(index)
        blob = by_id[qid]["private_test_cases"]
        text = pickle.loads(zlib.decompress(base64.b64decode(blob)))  # the hub's layering, as the hub does it
        expected = full_size_data.hidden_tests(index, TINY, totals[index])
        assert isinstance(text, str) and json.loads(text) == expected
        as_cases = tuple(Case(t["input"], t["output"], t["testtype"]) for t in expected)
        assert decode_tests(blob) == as_cases == selection.by_id[qid].private_tests
        assert selection.by_id[qid].is_functional == full_size_data.is_functional(index)
    assert info["window_hidden_bytes"] == sum(len(t.input) + len(t.output) for p in selection for t in p.private_tests)
    assert any(len(p.private_tests) >= 50 for p in selection) and any(p.is_functional for p in selection)


def test_benchmark_runs_end_to_end(tmp_path):
    out = tmp_path / "out.json"
    cmd = [sys.executable, "-m", "benchmarks.full_size", "--scale", "0.0005", "--problems", "14", "--outside", "4",
           "--grade", "3", "--jobs", "1", "--work", str(tmp_path / "work"), "--out", str(out)]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert figures["cold"]["n_problems"] == figures["warm"]["n_problems"] == 14
    assert figures["cold"]["content_hash"] == figures["warm"]["content_hash"]
    assert figures["cold"]["hidden_tests"] == figures["warm"]["hidden_tests"] > 14
    assert figures["grade"]["samples"] == 3 and figures["grade"]["failed"] == []
    for label in ("cold load s:", "warm load s:", "judge peak RSS MB:", "target 30", "target 3:", "target 500"):
        assert label in result.stdout


def test_work_folder_inside_the_repository_is_refused():
    result = subprocess.run([sys.executable, "-m", "benchmarks.full_size", "--work", str(REPO / "tmp-full-size")],
                            cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and result.stderr.startswith("error: ") and "inside the repository" in result.stderr
    assert not (REPO / "tmp-full-size").exists()
