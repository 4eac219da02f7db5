"""Scores of a run: unbiased pass@k, breakdowns, a bootstrap interval for pass@1, and paired comparison of two runs.

Counting rules (the same everywhere in the project):
- A problem's n is its number of DECIDED samples and c the number that passed. `infra_error` samples (the grader could
  not decide) are neither pass nor fail: they are left out of n and c and reported as `n_infra_error`. A problem whose
  samples are all `infra_error` has no score and is counted in `n_problems_unscored`.
- pass@1 is the mean over problems of c/n (official LiveCodeBench). pass@k uses each problem's own n and c with the
  unbiased estimator 1 - C(n-c, k)/C(n, k); since runs can be incomplete (resumed later) problems may have unequal n,
  so pass@k is reported only for k <= the smallest n among scored problems (`n_min`), for every such k.
- A (question_id, sample_idx) seen twice counts once: the later record wins.

Does not cover: grading (harness.judge), tables and plots (harness.report, harness.plots), file formats of other tools
(harness.interop).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from harness.records import SampleRecord
from harness.summary import RunSummary
from harness.verdicts import Verdict

ERRATA_IDS = ("arc185_c", "arc189_a")  # official errata inside the v6 window (REFERENCE §1): graded as-is
_BOOTSTRAP_CHUNK = 1000  # resamples per numpy batch: bounds memory at ~chunk * problems * 8 bytes


@dataclass(frozen=True, slots=True)
class ProblemTally:
    """Decided samples (n), passing samples (c) and undecided samples of one problem, with its grouping keys."""

    question_id: str
    n: int
    c: int
    n_infra_error: int
    difficulty: str
    platform: str
    month: str

    @property
    def pass_rate(self) -> float:
        return self.c / self.n


def estimate_pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k = 1 - C(n-c, k) / C(n, k), as a running product (no huge binomials, no overflow)."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        return 1.0
    miss = 1.0
    for i in range(n - c + 1, n + 1):  # C(n-c,k)/C(n,k) = prod_{i=n-c+1..n} (1 - k/i)
        miss *= 1.0 - k / i
    return 1.0 - miss


def tally_problems(records: Iterable[SampleRecord], problems=None) -> dict[str, ProblemTally]:
    """Per-problem counts. `problems` (Problem objects or a ProblemSet) overrides the grouping keys of the records."""
    latest: dict[tuple[str, int], SampleRecord] = {}
    for rec in records:
        latest[(rec.question_id, rec.sample_idx)] = rec
    by_id = index_problems(problems)
    acc: dict[str, dict] = {}
    for rec in latest.values():
        slot = acc.setdefault(rec.question_id, {"n": 0, "c": 0, "infra": 0, "rec": rec})
        if rec.verdict is Verdict.INFRA_ERROR:
            slot["infra"] += 1
        else:
            slot["n"] += 1
            slot["c"] += int(bool(rec.passed))
    out = {}
    for qid in sorted(acc):
        slot = acc[qid]
        difficulty, platform, month = _keys(slot["rec"], by_id.get(qid))
        out[qid] = ProblemTally(qid, slot["n"], slot["c"], slot["infra"], difficulty, platform, month)
    return out


def per_problem_pass_rates(records: Iterable[SampleRecord]) -> dict[str, float]:
    """question_id -> c/n over decided samples (problems with no decided sample are left out)."""
    return {qid: t.pass_rate for qid, t in tally_problems(records).items() if t.n > 0}


def bootstrap_mean_ci(values, *, seed: int = 0, n_bootstrap: int = 10000, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the mean of `values`, resampling the values (problems) with replacement."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        raise ValueError("cannot bootstrap an empty set of problems")
    means = _bootstrap_means(arr, np.random.default_rng(seed), n_bootstrap)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return float(low), float(high)


def bootstrap_method(n_bootstrap: int, seed: int) -> str:
    return f"bootstrap over problems, {n_bootstrap} resamples, seed {seed}"


def summarize(records: Iterable[SampleRecord], *, problems=None, seed: int = 0, n_bootstrap: int = 10000
              ) -> RunSummary:
    """Everything summary.json carries (harness.summary.RunSummary). Fractions in [0, 1]; None where there is
    nothing to score."""
    records = list(records)
    tallies = tally_problems(records, problems)
    scored = [t for t in tallies.values() if t.n > 0]
    rates = np.array([t.pass_rate for t in scored], dtype=float)
    n_min = min((t.n for t in scored), default=0)
    verdicts = Counter(r.verdict for r in _dedup(records))
    summary = {
        "pass@1": float(rates.mean()) if scored else None,
        "pass@k": {str(k): _mean_pass_at_k(scored, k) for k in range(1, n_min + 1)},
        "pass@k_note": (f"every k <= n_min={n_min}, the smallest number of decided samples of any scored problem; "
                        "each problem uses its own n and c (unbiased estimator)"),
        "n_problems": len(scored),
        "n_problems_unscored": len(tallies) - len(scored),
        "n_samples": int(sum(t.n for t in scored)),
        "n_min": n_min,
        "n_max": max((t.n for t in scored), default=0),
        "n_infra_error": int(sum(t.n_infra_error for t in tallies.values())),
        "infra_error_note": "infra_error samples are neither pass nor fail: excluded from n and c",
        "verdict_counts": dict(sorted(verdicts.items())),
        "by_difficulty": _breakdown(scored, "difficulty", seed, n_bootstrap),
        "by_platform": _breakdown(scored, "platform", seed, n_bootstrap),
        "by_month": _breakdown(scored, "month", seed, n_bootstrap),
        "ci95": _ci_block(rates, seed, n_bootstrap),
        "errata": _errata_block(tallies, scored),
    }
    if problems is not None:
        wanted = set(index_problems(problems))
        summary["n_problems_missing"] = len(wanted - set(tallies))
    return RunSummary.model_validate(summary)


def compare_runs(a_records: Iterable[SampleRecord], b_records: Iterable[SampleRecord], *, seed: int = 0,
                 n_bootstrap: int = 10000) -> dict:
    """Paired comparison on the problems both runs scored: delta = pass@1(a) - pass@1(b) on those problems,
    a paired-bootstrap percentile interval, and a two-sided sign-flip permutation p-value."""
    a = {q: r for q, r in per_problem_pass_rates(a_records).items()}
    b = {q: r for q, r in per_problem_pass_rates(b_records).items()}
    common = sorted(set(a) & set(b))
    if not common:
        raise ValueError("the two runs have no scored problem in common")
    diffs = np.array([a[q] - b[q] for q in common], dtype=float)
    delta = float(diffs.mean())
    low, high = bootstrap_mean_ci(diffs, seed=seed, n_bootstrap=n_bootstrap)
    return {
        "delta": delta,
        "pass@1_a": float(np.mean([a[q] for q in common])),
        "pass@1_b": float(np.mean([b[q] for q in common])),
        "n_common": len(common),
        "n_only_a": len(set(a) - set(b)),
        "n_only_b": len(set(b) - set(a)),
        "ci95": {"low": low, "high": high,
                 "method": f"paired bootstrap over common problems, {n_bootstrap} resamples, seed {seed}"},
        "p_value": sign_flip_p_value(diffs, seed=seed, n_permutations=n_bootstrap),
        "p_value_method": f"two-sided sign-flip permutation test on per-problem differences, {n_bootstrap} "
                          f"permutations, seed {seed}",
    }


def sign_flip_p_value(diffs, *, seed: int = 0, n_permutations: int = 10000) -> float:
    """Under H0 (no difference) each per-problem difference is as likely negative as positive; p counts random sign
    assignments whose |mean| reaches the observed one, with the observed assignment included (never 0)."""
    d = np.asarray(diffs, dtype=float)
    observed = abs(d.mean())
    rng = np.random.default_rng(seed)
    hits, done = 0, 0
    while done < n_permutations:
        m = min(_BOOTSTRAP_CHUNK, n_permutations - done)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(m, d.size))
        hits += int(np.sum(np.abs(signs @ d) / d.size >= observed - 1e-12))
        done += m
    return (hits + 1) / (n_permutations + 1)


def _bootstrap_means(arr: np.ndarray, rng: np.random.Generator, n_bootstrap: int) -> np.ndarray:
    means = np.empty(n_bootstrap, dtype=float)
    done = 0
    while done < n_bootstrap:
        m = min(_BOOTSTRAP_CHUNK, n_bootstrap - done)
        idx = rng.integers(0, arr.size, size=(m, arr.size))
        means[done:done + m] = arr[idx].mean(axis=1)
        done += m
    return means


def _mean_pass_at_k(scored: list[ProblemTally], k: int) -> float:
    return float(np.mean([estimate_pass_at_k(t.n, t.c, k) for t in scored]))


def _breakdown(scored: list[ProblemTally], attr: str, seed: int, n_bootstrap: int) -> dict:
    """pass@1, problem count and a bootstrap interval (over the group's problems) per value of `attr`."""
    groups: dict[str, list[float]] = {}
    for t in scored:
        groups.setdefault(getattr(t, attr) or "unknown", []).append(t.pass_rate)
    return {key: {"pass@1": float(np.mean(v)), "n_problems": len(v),
                  "ci95": _ci_block(np.asarray(v, dtype=float), seed, n_bootstrap)}
            for key, v in sorted(groups.items())}


def _ci_block(rates: np.ndarray, seed: int, n_bootstrap: int) -> dict:
    method = bootstrap_method(n_bootstrap, seed)
    if rates.size == 0:
        return {"low": None, "high": None, "method": method}
    low, high = bootstrap_mean_ci(rates, seed=seed, n_bootstrap=n_bootstrap)
    return {"low": low, "high": high, "method": method}


def _errata_block(tallies: Mapping[str, ProblemTally], scored: list[ProblemTally]) -> dict:
    present = {q: {"n": tallies[q].n, "c": tallies[q].c} for q in ERRATA_IDS if q in tallies}
    rest = [t.pass_rate for t in scored if t.question_id not in ERRATA_IDS]
    return {
        "problems": present,
        "note": "official errata (REFERENCE §1), graded as-is and included in pass@1",
        "pass@1_excluding_errata": float(np.mean(rest)) if rest else None,
        "n_problems_excluding_errata": len(rest),
    }


def _dedup(records: list[SampleRecord]) -> list[SampleRecord]:
    return list({(r.question_id, r.sample_idx): r for r in records}.values())


def index_problems(problems) -> dict:
    """question_id -> Problem from a ProblemSet, a mapping or an iterable of Problem (empty for None)."""
    if problems is None:
        return {}
    by_id = getattr(problems, "by_id", None)
    if isinstance(by_id, Mapping):
        return dict(by_id)
    if isinstance(problems, Mapping):
        return dict(problems)
    return {p.question_id: p for p in problems}


def _keys(rec: SampleRecord, problem) -> tuple[str, str, str]:
    if problem is not None:
        return str(problem.difficulty), str(problem.platform), problem.contest_date.strftime("%Y-%m")
    return rec.difficulty, rec.platform, rec.contest_date[:7]
