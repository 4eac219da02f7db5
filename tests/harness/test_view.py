"""harness.view without a browser: the data the site carries equals harness.scoring's numbers (pass@1, intervals,
by-month, the paired comparison of `harness.leaderboard compare`), runs on different problem sets land in different
groups, prompts and test heads appear only for the run's own problems, release dates, and bad input (one `error:`
line, exit 2, nothing overwritten). The pages themselves are driven in a real browser in test_view_browser.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.view_runs import synthetic_dataset, v6_like_problems, write_run
from harness.problems import load_problems
from harness.records import RunDir
from harness.report import REFERENCE_ROWS
from harness.scoring import bootstrap_mean_ci, compare_runs, tally_problems
from harness.scoring import summarize as _summarize
from harness.view.__main__ import main
from harness.view.collect import summary_fields
from harness.view.releases import known_release, release_of


def summarize(records):
    """harness.scoring.summarize as its published JSON keys (a dict, or a typed RunSummary dumped)."""
    return summary_fields(_summarize(records))


RUNS = Path(__file__).resolve().parent / "fixtures" / "runs"
RUN_A, RUN_B = RUNS / "run_a", RUNS / "run_b"


def read_script(path: Path, opener: str):
    text = path.read_text(encoding="ascii")
    assert text.startswith(opener) and text.endswith(");\n")
    return json.loads(text[len(opener):-3])


def build(tmp_path, *runs, extra=()):
    out = tmp_path / "site"
    assert main([*(str(r) for r in runs), "--out", str(out), *extra]) == 0
    return out, read_script(out / "data" / "index.js", "LCB.setIndex(")


def test_site_numbers_are_harness_scoring_numbers(tmp_path):
    site, index = build(tmp_path, RUN_A, RUN_B)
    for name in ("index.html", "core.js", "stats.js", "leaderboard.js", "runpage.js", "sample.js", "compare.js",
                 "style.css"):
        assert (site / name).stat().st_size > 100
    for run_dir, run in zip((RUN_A, RUN_B), index["runs"]):
        records = list(RunDir(run_dir).iter_samples())
        summary = summarize(records)
        assert run["pass1"] == summary["pass@1"]
        assert run["ci"] == [summary["ci95"]["low"], summary["ci95"]["high"]]
        tallies = tally_problems(records)
        positions = {p[0]: i for i, p in enumerate(index["problems"])}
        for qid, t in tallies.items():
            k = run["p"].index(positions[qid])
            assert (run["n"][k], run["c"][k]) == (t.n, t.c)
        for row in run["by_month"]:
            rates = [t.pass_rate for t in tallies.values() if t.month == row["month"] and t.n]
            assert row["n_problems"] == len(rates)
            assert [row["low"], row["high"]] == list(bootstrap_mean_ci(rates))
    (pair,) = index["pairs"]
    expected = summary_fields(compare_runs(RunDir(RUN_A).iter_samples(), RunDir(RUN_B).iter_samples()))
    assert (pair["delta"], pair["p_value"], pair["low"]) == (expected["delta"], expected["p_value"],
                                                             expected["ci95"]["low"])
    assert [r["pass1"] for r in index["reported"]] == [ref.pass_at_1 / 100 for ref in REFERENCE_ROWS]
    assert [g["runs"] for g in index["groups"]] == [["r0", "r1"]]  # same content hash: ranked together


def test_verdict_letters_and_detail_files(tmp_path):
    site, index = build(tmp_path, RUN_A)
    run = index["runs"][0]
    records = list(RunDir(RUN_A).iter_samples())
    by_problem: dict = {}
    for rec in records:
        by_problem.setdefault(rec.question_id, {})[rec.sample_idx] = rec.verdict
    for pos, letters in zip(run["p"], run["v"]):
        qid = index["problems"][pos][0]
        expected = "".join(index["verdict_codes"][by_problem[qid][i]] if i in by_problem[qid] else "-"
                           for i in range(max(by_problem[qid]) + 1))
        assert letters == expected
        detail = read_script(site / "data" / "r0" / f"p{pos}.js", f'LCB.loaded("r0/p{pos}", ')
        assert sorted(s["sample_idx"] for s in detail["samples"]) == sorted(by_problem[qid])
        assert detail["prompt"] is None and "not recorded in samples.jsonl" in detail["not_recorded"]


def test_runs_on_other_problem_sets_are_not_ranked_together(tmp_path):
    problems = v6_like_problems(20)
    other = write_run(tmp_path / "other", problems, synthetic_dataset(problems, "e" * 64), n_samples=2, skill=0.9,
                      seed=3, label="Other")
    _, index = build(tmp_path, RUN_A, other.path, RUN_B)
    assert sorted(g["runs"] for g in index["groups"]) == [["r0", "r2"], ["r1"]]
    assert not any(g["full_v6"] for g in index["groups"])


def test_prompts_and_test_heads_come_from_the_runs_own_problems(tmp_path):
    ps = load_problems("sample", "release_v6", "2024-08-01", "2025-05-01")
    dataset = synthetic_dataset(ps.problems, ps.content_hash, spec="sample")
    run = write_run(tmp_path / "s", ps.problems, dataset, n_samples=3, skill=0.3, seed=1, label="S")
    wrong_hash = write_run(tmp_path / "w", ps.problems, synthetic_dataset(ps.problems, "d" * 64, spec="sample"),
                           n_samples=1, skill=0.3, seed=1, label="W")
    out = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "harness.view", str(run.path), str(wrong_hash.path), "--out",
                           str(out)], check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "W: --dataset sample is not the problem set this run was made on" in proc.stderr
    index = read_script(out / "data" / "index.js", "LCB.setIndex(")
    by_id = {p.question_id: p for p in ps}
    seen_failing = 0
    for pos in index["runs"][0]["p"]:
        detail = read_script(out / "data" / "r0" / f"p{pos}.js", f'LCB.loaded("r0/p{pos}", ')
        problem = by_id[index["problems"][pos][0]]
        assert detail["prompt"][-1]["role"] == "user" and problem.question_content[:40] in detail["prompt"][-1]["content"]
        for key, head in detail["tests"].items():
            assert head["expected"] == problem.tests[int(key)].output[:2000]
            seen_failing += 1
        other = read_script(out / "data" / "r1" / f"p{pos}.js", f'LCB.loaded("r1/p{pos}", ')
        assert other["prompt"] is None and other["tests"] is None
    assert seen_failing > 0


def test_release_dates_order_and_table():
    assert known_release("Qwen/Qwen3-14B").date == "2025-04-29"
    assert known_release("deepseek-ai/DeepSeek-R1-Distill-Qwen-14B").date == "2025-01-20"
    assert known_release("NousResearch/NousCoder-14B") is None  # a Qwen3 fine-tune: its own date is unknown
    assert release_of(("Qwen3-14B",), None, {}).date == "2025-04-29"
    assert release_of(("Qwen3-14B",), "2025-05-02", {}).date == "2025-05-02"
    assert release_of(("Qwen3-14B",), "2025-05-02", {"Qwen3-14B": "2025-06-01"}).date == "2025-06-01"
    assert release_of(("mystery",), None, {}).date is None


@pytest.mark.parametrize("case", ["missing_run", "foreign_out", "bad_release_date"])
def test_bad_input_is_one_error_line(tmp_path, capsys, case):
    out = tmp_path / "site"
    argv = [str(RUN_A), "--out", str(out)]
    if case == "missing_run":
        argv[0] = str(tmp_path / "nope")
    elif case == "foreign_out":
        out.mkdir()
        (out / "notes.txt").write_text("mine", encoding="utf-8")
    else:
        argv += ["--release-date", "Model A=soon"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    if case == "foreign_out":
        assert (out / "notes.txt").read_text(encoding="utf-8") == "mine" and not (out / "data").exists()


def test_rebuilding_its_own_site_replaces_the_data(tmp_path):
    site, _ = build(tmp_path, RUN_A, RUN_B)
    assert (site / "data" / "r1").is_dir()
    _, index = build(tmp_path, RUN_A)
    assert len(index["runs"]) == 1 and not (site / "data" / "r1").exists()
