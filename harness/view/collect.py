"""Read run directories into the viewer's data: one row per problem of the union, per-run per-problem counts and
verdicts, per-run scores from harness.scoring, groups of comparable runs, and paired comparisons.

Every number shown for the full selection comes from harness.scoring (pass@1, its bootstrap interval, the by-month
intervals, the paired comparison of `harness.leaderboard compare`); the browser recomputes only what depends on the
slider window (see harness/view/assets/stats.js). Runs are ranked together only within one problem set, named as the
markdown leaderboard names it (harness.report.set_name: content hash, toy runs apart, the published v6 selection).
Does not cover: writing the site (harness.view.build), the page logic (harness/view/assets).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from harness import report
from harness.errors import UserError
from harness.records import RunManifest, SampleRecord
from harness.scoring import bootstrap_mean_ci, compare_runs, tally_problems
from harness.view.releases import Release, known_release, release_of

# One letter per verdict in the compact grid; '-' marks a sample index with no record.
VERDICT_CODES = {"passed": "P", "wrong_answer": "W", "time_limit": "T", "memory_limit": "M", "output_limit": "O",
                 "runtime_error": "R", "compile_error": "C", "no_code": "N", "infra_error": "I"}


@dataclass(slots=True)
class ProblemInfo:
    question_id: str
    date: str  # YYYY-MM-DD of the contest
    difficulty: str
    platform: str
    title: str = ""


@dataclass(slots=True)
class RunData:
    """One run: its scores (harness.scoring), its records by problem, and what the pages show about it."""

    id: str
    scored: report.ScoredRun
    # question_id -> records sorted by sample_idx (later duplicate wins), WITHOUT raw output, code and tests: a real
    # run's reasoning is ~1 GB; the sample files re-read it one run at a time (full_records_by_problem)
    records: dict[str, list[SampleRecord]]
    release: Release
    group: str
    cells: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # qid -> (n, c, verdict letters)

    @property
    def manifest(self) -> RunManifest:
        return self.scored.manifest


def load_run_data(run_dirs: Sequence, *, release_dates: Mapping[str, str], seed: int = 0,
                  n_bootstrap: int = 10000) -> list[RunData]:
    """Score every run (harness.report.score_runs: labels, errors) and index its records by problem."""
    out = []
    for i, scored in enumerate(report.score_runs(run_dirs, seed=seed, n_bootstrap=n_bootstrap)):
        by_problem = full_records_by_problem(scored.run, light=True)
        m = scored.manifest
        release = release_of((scored.label, m.label or "", m.model), m.model_release_date, release_dates)
        run = RunData(f"r{i}", scored, by_problem, release, problem_set_key(m))
        run.cells = {qid: _cell(recs) for qid, recs in by_problem.items()}
        out.append(run)
    return out


def full_records_by_problem(run, *, light: bool = False) -> dict[str, list[SampleRecord]]:
    """question_id -> the run's records sorted by sample_idx, a later duplicate winning (as harness.scoring counts);
    `light` drops the bulky fields (raw output, code, per-test outcomes) that only the sample page shows."""
    latest: dict[tuple[str, int], SampleRecord] = {}
    for rec in run.iter_samples():
        latest[rec.key] = rec.model_copy(update=_LIGHT) if light else rec
    by_problem: dict[str, list[SampleRecord]] = {}
    for key in sorted(latest):
        by_problem.setdefault(key[0], []).append(latest[key])
    return by_problem


_LIGHT = {"raw_output": None, "code": None, "tests": []}


def problem_set_key(manifest: RunManifest) -> str:
    """The set a run is ranked in, as the markdown leaderboard names it (harness.report.set_name: equal only for
    equal content hashes, toy runs apart, the full v6 selection by name)."""
    return report.set_name(manifest)


def is_full_v6(manifest: RunManifest) -> bool:
    """Whether the published rows may be ranked with this run (harness.report's rule, toy runs excluded)."""
    return report.set_name(manifest) == report.FULL_V6_SET


def summary_fields(summary) -> dict:
    """The summary as its published JSON keys ("pass@1", "ci95", ...), from a dict or a typed RunSummary."""
    return summary.model_dump(by_alias=True) if hasattr(summary, "model_dump") else dict(summary)


def union_problems(runs: Sequence[RunData], problems_by_run: Mapping[str, Mapping]) -> list[ProblemInfo]:
    """Every problem any run scored or attempted, sorted by contest date then id."""
    seen: dict[str, ProblemInfo] = {}
    for run in runs:
        loaded = problems_by_run.get(run.id) or {}
        for qid, recs in run.records.items():
            if qid in seen:
                continue
            p = loaded.get(qid)
            if p is not None:
                seen[qid] = ProblemInfo(qid, p.contest_date.date().isoformat(), str(p.difficulty), str(p.platform),
                                        p.question_title)
            else:
                r = recs[0]
                seen[qid] = ProblemInfo(qid, r.contest_date[:10], r.difficulty or "unknown", r.platform or "unknown")
    return sorted(seen.values(), key=lambda p: (p.date, p.question_id))


def by_month(run: RunData, *, seed: int, n_bootstrap: int) -> list[dict]:
    """pass@1 per contest month with its problem and sample counts and the harness.scoring bootstrap interval."""
    tallies = tally_problems(rec for recs in run.records.values() for rec in recs)
    months: dict[str, list] = {}
    for t in tallies.values():
        if t.n > 0:
            months.setdefault(t.month or "unknown", []).append(t)
    rows = []
    for month, ts in sorted(months.items()):
        rates = [t.pass_rate for t in ts]
        low, high = bootstrap_mean_ci(rates, seed=seed, n_bootstrap=n_bootstrap)
        rows.append({"month": month, "pass1": float(np.mean(rates)), "low": low, "high": high,
                     "n_problems": len(ts), "n_samples": sum(t.n for t in ts)})
    return rows


def pair_comparisons(runs: Sequence[RunData], *, seed: int, n_bootstrap: int) -> list[dict]:
    """harness.scoring.compare_runs (the numbers of `harness.leaderboard compare`) for every pair sharing a problem."""
    out = []
    for i, a in enumerate(runs):
        for b in runs[i + 1:]:
            a_recs = [r for recs in a.records.values() for r in recs]
            b_recs = [r for recs in b.records.values() for r in recs]
            try:
                res = summary_fields(compare_runs(a_recs, b_recs, seed=seed, n_bootstrap=n_bootstrap))
            except (ValueError, UserError):  # no scored problem in common: nothing to compare
                continue
            out.append({"a": a.id, "b": b.id, "delta": res["delta"], "pass1_a": res["pass@1_a"],
                        "pass1_b": res["pass@1_b"], "n_common": res["n_common"], "low": res["ci95"]["low"],
                        "high": res["ci95"]["high"], "ci_method": res["ci95"]["method"], "p_value": res["p_value"],
                        "p_value_method": res["p_value_method"]})
    return out


def reference_rows() -> list[dict]:
    """The published rows of the markdown leaderboard (harness.report.REFERENCE_ROWS, the single source)."""
    rows = []
    for ref in report.REFERENCE_ROWS:
        known = known_release(ref.model)
        date = ref.release_date or (known.date if known else None)
        source = known.source if known and known.date == date else ("harness.report" if date else "")
        rows.append({"model": ref.model, "pass1": ref.pass_at_1 / 100.0, "source": ref.source, "window": ref.window,
                     "release": date, "release_source": source, "note": ref.note, "label": report.REPORTED})
    return rows


def _cell(recs: list[SampleRecord]) -> tuple[int, int, str]:
    decided = [r for r in recs if r.verdict != "infra_error"]
    letters = {r.sample_idx: VERDICT_CODES.get(str(r.verdict), "?") for r in recs}
    width = max(letters) + 1 if letters else 0
    return len(decided), sum(bool(r.passed) for r in decided), "".join(letters.get(i, "-") for i in range(width))
