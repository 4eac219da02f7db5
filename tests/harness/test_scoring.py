"""harness.scoring: exact pass@k, per-run summaries on the fixture runs (numbers worked out by hand), interval
coverage and p-value calibration on synthetic data, and the paired comparison."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from harness.records import RunDir, SampleRecord
from harness.scoring import (
    bootstrap_mean_ci,
    compare_runs,
    estimate_pass_at_k,
    per_problem_pass_rates,
    sign_flip_p_value,
    summarize,
    tally_problems,
)

RUNS = Path(__file__).resolve().parent / "fixtures" / "runs"


def _records(name: str) -> list[SampleRecord]:
    return list(RunDir(RUNS / name).iter_samples())


def _rec(qid: str, idx: int, verdict: str, **kw) -> SampleRecord:
    return SampleRecord(question_id=qid, sample_idx=idx, verdict=verdict, passed=verdict == "passed", **kw)


# --- the estimator ----------------------------------------------------------------------------------------------

def test_pass_at_k_hand_computed_n16_c3():
    # pass@1 = 3/16; pass@5 = 1 - C(13,5)/C(16,5) = 1 - 1287/4368; pass@10 = 1 - C(13,10)/C(16,10) = 1 - 286/8008
    assert estimate_pass_at_k(16, 3, 1) == pytest.approx(3 / 16, abs=1e-15)
    assert estimate_pass_at_k(16, 3, 5) == pytest.approx(1 - 1287 / 4368, abs=1e-14)
    assert estimate_pass_at_k(16, 3, 10) == pytest.approx(1 - 286 / 8008, abs=1e-14)
    # only 13 failures: any 14 samples contain a pass
    assert estimate_pass_at_k(16, 3, 14) == 1.0


def test_pass_at_k_matches_binomials_on_a_grid():
    for n in range(1, 21):
        for c in range(n + 1):
            for k in range(1, n + 1):
                exact = 1 - math.comb(n - c, k) / math.comb(n, k)
                assert estimate_pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12), (n, c, k)


def test_pass_at_k_large_n_is_stable():
    # C(1000, 500) overflows a float; the product form does not
    value = estimate_pass_at_k(1000, 1, 500)
    assert value == pytest.approx(0.5, abs=1e-12)
    assert estimate_pass_at_k(1000, 0, 500) == 0.0


@pytest.mark.parametrize("n,c,k", [(4, 5, 1), (4, -1, 1), (4, 2, 0), (4, 2, 5)])
def test_pass_at_k_rejects_impossible_counts(n, c, k):
    with pytest.raises(ValueError):
        estimate_pass_at_k(n, c, k)


# --- summaries of the fixture runs -------------------------------------------------------------------------------

def test_summary_of_run_a_by_hand():
    # run_a: fx_p1 4/4, fx_p2 2/4, arc185_c 1/4, fx_p4 3/4, fx_p5 0/4, fx_p6 1/4 (+1 infra_error sample)
    s = summarize(_records("run_a"), n_bootstrap=2000)
    assert s["pass@1"] == pytest.approx(2.75 / 6)
    assert s["n_problems"] == 6 and s["n_samples"] == 24 and s["n_infra_error"] == 1
    assert s["n_min"] == s["n_max"] == 4
    assert list(s["pass@k"]) == ["1", "2", "3", "4"]
    # pass@2 per problem: 1, 1-C(2,2)/C(4,2)=5/6, 1-C(3,2)/6=1/2, 1, 0, 1/2
    assert s["pass@k"]["2"] == pytest.approx((1 + 5 / 6 + 0.5 + 1 + 0 + 0.5) / 6)
    # pass@4: every problem with a pass counts 1
    assert s["pass@k"]["4"] == pytest.approx(5 / 6)
    assert {k: (v["pass@1"], v["n_problems"]) for k, v in s["by_difficulty"].items()} == {
        "easy": (pytest.approx(0.875), 2), "hard": (pytest.approx(0.25), 2), "medium": (pytest.approx(0.25), 2)}
    for group in (*s["by_difficulty"].values(), *s["by_month"].values()):  # the plots' error bars
        assert group["ci95"]["low"] <= group["pass@1"] <= group["ci95"]["high"]
    assert s["by_difficulty"]["easy"]["ci95"] == {"low": 0.75, "high": 1.0, "method": s["ci95"]["method"]}
    assert s["by_platform"]["atcoder"]["pass@1"] == pytest.approx((1 + 0.25 + 0) / 3)
    assert {m: v["n_problems"] for m, v in s["by_month"].items()} == {"2024-08": 2, "2024-09": 2, "2024-10": 2}
    assert s["by_month"]["2024-08"]["pass@1"] == pytest.approx(0.75)
    # failing sample i of a problem is wrong_answer/time_limit/runtime_error/wrong_answer for i % 4 = 0/1/2/3
    assert s["verdict_counts"] == {"infra_error": 1, "passed": 11, "runtime_error": 4, "time_limit": 3,
                                   "wrong_answer": 6}
    assert s["errata"]["problems"] == {"arc185_c": {"n": 4, "c": 1}}
    assert s["errata"]["pass@1_excluding_errata"] == pytest.approx(2.5 / 5)
    json.loads(s.to_json())  # summary.json is plain JSON


def test_unequal_sample_counts_limit_k_to_the_smallest_n():
    # run_b is incomplete: fx_p1 has 3 samples (2 pass), the others 4
    s = summarize(_records("run_b"), n_bootstrap=500)
    assert (s["n_min"], s["n_max"]) == (3, 4)
    assert list(s["pass@k"]) == ["1", "2", "3"]
    assert s["pass@1"] == pytest.approx((2 / 3 + 1 + 0.5 + 1 + 0.25 + 0) / 6)
    # pass@2 with each problem's own n: 1 (n-c=1<2), 1, 5/6, 1, 1/2, 0
    assert s["pass@k"]["2"] == pytest.approx((1 + 1 + 5 / 6 + 1 + 0.5 + 0) / 6)


def test_infra_error_is_neither_pass_nor_fail():
    recs = [_rec("a", 0, "passed"), _rec("a", 1, "infra_error"), _rec("b", 0, "wrong_answer"),
            _rec("c", 0, "infra_error"), _rec("c", 1, "infra_error")]
    s = summarize(recs, n_bootstrap=100)
    assert s["pass@1"] == 0.5  # a: 1/1, b: 0/1; c has no decided sample
    assert s["n_problems"] == 2 and s["n_problems_unscored"] == 1 and s["n_infra_error"] == 3
    assert per_problem_pass_rates(recs) == {"a": 1.0, "b": 0.0}


def test_duplicate_sample_keeps_the_later_record():
    recs = [_rec("a", 0, "wrong_answer"), _rec("a", 0, "passed")]
    assert tally_problems(recs)["a"].c == 1
    assert summarize(recs, n_bootstrap=10)["n_samples"] == 1


def test_empty_run_has_no_score():
    s = summarize([], n_bootstrap=10)
    assert s["pass@1"] is None and s["pass@k"] == {} and s["n_problems"] == 0
    assert s["ci95"]["low"] is None and "bootstrap" in s["ci95"]["method"]


def test_ci_is_seeded_named_and_brackets_the_estimate():
    recs = _records("run_a")
    a = summarize(recs, seed=3, n_bootstrap=3000)["ci95"]
    b = summarize(recs, seed=3, n_bootstrap=3000)["ci95"]
    assert a == b
    assert a["method"] == "bootstrap over problems, 3000 resamples, seed 3"
    assert a["low"] < 2.75 / 6 < a["high"]


def test_problems_override_grouping_and_report_missing():
    from datetime import datetime
    from types import SimpleNamespace

    problems = [SimpleNamespace(question_id="a", difficulty="hard", platform="atcoder",
                                contest_date=datetime(2025, 1, 5)),
                SimpleNamespace(question_id="z", difficulty="easy", platform="leetcode",
                                contest_date=datetime(2025, 2, 5))]
    s = summarize([_rec("a", 0, "passed", difficulty="easy", contest_date="2024-01-01T00:00:00")],
                  problems=problems, n_bootstrap=10)
    assert list(s["by_difficulty"]) == ["hard"] and list(s["by_month"]) == ["2025-01"]
    assert s["n_problems_missing"] == 1


# --- intervals and tests on synthetic data -----------------------------------------------------------------------

def test_bootstrap_interval_covers_the_population_mean_about_95_percent():
    rng = np.random.default_rng(12345)
    a, b = 0.6, 0.9  # per-problem solve probabilities ~ Beta(a, b): skewed, many near 0 and 1
    true_mean = a / (a + b)
    trials, hits = 300, 0
    for t in range(trials):
        p = rng.beta(a, b, size=150)
        rates = rng.binomial(4, p) / 4  # 4 samples per problem
        low, high = bootstrap_mean_ci(rates, seed=t, n_bootstrap=1000)
        hits += low <= true_mean <= high
    coverage = hits / trials
    assert 0.91 <= coverage <= 0.98, coverage


def test_sign_flip_p_value_is_calibrated_under_the_null():
    rng = np.random.default_rng(7)
    pvals = []
    for t in range(200):
        p = rng.uniform(size=80)
        a = rng.binomial(4, p) / 4
        b = rng.binomial(4, p) / 4  # same model twice: no real difference
        pvals.append(sign_flip_p_value(a - b, seed=t, n_permutations=500))
    rejected = np.mean(np.array(pvals) < 0.05)
    assert 0.01 <= rejected <= 0.10, rejected


def test_compare_runs_on_fixtures():
    c = compare_runs(_records("run_b"), _records("run_a"), n_bootstrap=2000)
    assert c["n_common"] == 6 and c["n_only_a"] == c["n_only_b"] == 0
    assert c["delta"] == pytest.approx((2 / 3 + 1 + 0.5 + 1 + 0.25 + 0) / 6 - 2.75 / 6)
    assert c["ci95"]["low"] <= c["delta"] <= c["ci95"]["high"]
    assert "paired bootstrap" in c["ci95"]["method"] and "sign-flip" in c["p_value_method"]
    assert 0 < c["p_value"] <= 1


def test_compare_identical_and_clearly_different_runs():
    same = compare_runs(_records("run_a"), _records("run_a"), n_bootstrap=500)
    assert same["delta"] == 0 and same["p_value"] == 1.0
    good = [_rec(f"q{i}", 0, "passed") for i in range(60)]
    bad = [_rec(f"q{i}", 0, "wrong_answer" if i % 10 else "passed") for i in range(60)]
    diff = compare_runs(good, bad, n_bootstrap=2000)
    assert diff["delta"] == pytest.approx(0.9)
    assert diff["p_value"] < 0.001 and diff["ci95"]["low"] > 0.75


def test_compare_runs_pairs_only_common_problems():
    a = [_rec("x", 0, "passed"), _rec("y", 0, "passed")]
    b = [_rec("y", 0, "wrong_answer"), _rec("z", 0, "passed")]
    c = compare_runs(a, b, n_bootstrap=100)
    assert (c["n_common"], c["n_only_a"], c["n_only_b"], c["delta"]) == (1, 1, 1, 1.0)
    with pytest.raises(ValueError, match="no scored problem in common"):
        compare_runs([_rec("x", 0, "passed")], [_rec("z", 0, "passed")])
