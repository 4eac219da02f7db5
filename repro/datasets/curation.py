"""DeepCoder's curation of the training rows [DeepCoder-14B blog, "Dataset Curation"], and what we add to it.

DeepCoder's filters, as published:
  - test filtering: a problem needs at least 5 tests (MIN_TESTS);
  - programmatic verification: the problem's official (gold) solution must pass all of its tests, else the
    problem is dropped (`verify_gold`, run by the real judge). For an ambiguous function-call problem
    (repro.datasets.sources: outputs all one-element lists) this also settles the reading: the one the gold
    solution passes is kept;
  - deduplication across the sources: one row per normalised statement (first kept, in source order), plus
    near-duplicates by word 8-gram Jaccard (`near_dup_jaccard`, ours: DeepCoder does not publish its threshold).
Ours, not DeepCoder's: statements that cannot be graded by stdin/return value are dropped (`unsupported`):
interactive problems, problems that read or write named files, problems whose statement is an image.
Rows without a gold solution (LiveCodeBench's own problems) skip verification, as in DeepCoder.

Does not cover: decontamination against the evaluation set (repro.datasets.decontamination).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from repro.datasets.sources import tests_json
from repro.datasets.text import statement_hash, word_ngrams

MIN_TESTS = 5  # [DeepCoder]: "each problem must include at least 5 unit tests"
GOLD_TRIES = 3  # reference programs tried per reading before a problem counts as unverifiable
UNSUPPORTED = {
    "interactive": re.compile(r"\binteractive (?:problem|task)\b|\bthis is an interactive\b|\bflush the output\b",
                              re.IGNORECASE),
    "files": re.compile(r"\b(?:input|output)\.txt\b", re.IGNORECASE),
    "image": re.compile(r"<image>|!\[[^\]]*\]\(", re.IGNORECASE),
}


@dataclass
class CurationReport:
    """Rows in, rows kept, and the ids dropped for each reason (JSON-ready with `as_dict`)."""

    rows_in: int = 0
    min_tests: int = MIN_TESTS
    kept: int = 0
    dropped: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    readings: dict[str, str] = field(default_factory=dict)  # ambiguous function-call rows: the reading kept

    def as_dict(self) -> dict[str, Any]:
        return {"rows_in": self.rows_in, "kept": self.kept, "min_tests": self.min_tests,
                "dropped": {k: v for k, v in self.dropped.items()},
                "dropped_counts": {k: len(v) for k, v in self.dropped.items()}, "readings": self.readings}


def n_tests(row: dict) -> int:
    return len(json.loads(row["public_test_cases"] or "[]")) + len(json.loads(row["private_test_cases"] or "[]"))


def unsupported(row: dict) -> str | None:
    """The reason a statement cannot be graded by stdin / return value, or None."""
    for reason, pattern in UNSUPPORTED.items():
        if pattern.search(row["question_content"]):
            return reason
    return None


def exact_and_near_duplicates(rows: list[dict], jaccard: float | None, n: int = 8) -> tuple[list[dict], list[str]]:
    """One row per normalised statement, then (jaccard set) drop rows whose n-gram Jaccard with a kept row is at
    least `jaccard`. Returns (kept, dropped ids)."""
    kept, dropped, seen = [], [], set()
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    grams_of: list[set] = []
    for row in rows:
        h = row.get("statement_hash") or statement_hash(row["question_content"])
        if h in seen:
            dropped.append(row["id"])
            continue
        grams = word_ngrams(row["question_content"], n) if jaccard is not None else set()
        if grams:
            shared = Counter(k for g in grams for k in index.get(g, ()))
            if any(c / len(grams | grams_of[k]) >= jaccard for k, c in shared.items()):
                dropped.append(row["id"])
                continue
            for g in grams:
                index[g].append(len(grams_of))
        seen.add(h)
        grams_of.append(grams)
        kept.append(row)
    return kept, dropped


def gold_program(code: str, row: dict) -> str:
    """A reference program as the judge runs it: function-call problems are called as Solution().<fn>(...), so a
    bare function (Codewars style) gets a Solution class that forwards to it."""
    fn = json.loads(row.get("metadata") or "{}").get("func_name")
    if not fn or "class Solution" in code:
        return code
    return f"{code}\n\nclass Solution:\n    def {fn}(self, *args):\n        return {fn}(*args)\n"


def with_tests(row: dict, tests: list) -> dict:
    functional = bool(json.loads(row.get("metadata") or "{}").get("func_name"))
    pairs = [tuple(t) for t in tests]
    return {**row, "public_test_cases": tests_json(pairs[:1], functional),
            "private_test_cases": tests_json(pairs[1:], functional)}


def _candidates(row: dict) -> list[tuple[str, dict]]:
    readings = [("primary", row)]
    if row.get("alt_tests"):
        readings.append(("stored", with_tests(row, row["alt_tests"])))
    return readings


def verify_gold(rows: list[dict], judge: Any) -> tuple[list[dict], list[str], dict[str, str]]:
    """Keep rows whose gold solution passes every test (rows without one pass through). Returns (kept, dropped
    ids, {id: reading} for ambiguous rows). All candidate runs go to the judge at once."""
    from repro.data import to_problem

    futures = {}
    for r, row in enumerate(rows):
        for reading, variant in _candidates(row) if row.get("gold_solutions") else []:
            problem = to_problem(variant)
            for s, code in enumerate(row["gold_solutions"][:GOLD_TRIES]):
                futures[(r, reading, s)] = judge.submit(problem, gold_program(code, row))
    kept, dropped, readings = [], [], {}
    for r, row in enumerate(rows):
        if not row.get("gold_solutions"):
            kept.append(row)
            continue
        passing = [reading for reading, _ in _candidates(row)
                   if any(futures[(r, reading, s)].result().passed
                          for s in range(min(GOLD_TRIES, len(row["gold_solutions"]))))]
        if not passing:
            dropped.append(row["id"])
            continue
        chosen = dict(_candidates(row))[passing[0]]
        if row.get("alt_tests"):
            readings[row["id"]] = "unwrapped" if passing[0] == "primary" else "stored"
        kept.append(chosen)
    return kept, dropped, readings


def curate(rows: Iterable[dict], judge: Any | None, *, near_dup_jaccard: float | None = 0.9,
           min_tests: int = MIN_TESTS) -> tuple[list[dict], CurationReport]:
    """Unsupported statements, fewer than `min_tests` tests, duplicates, then (judge given) gold verification."""
    report = CurationReport(min_tests=min_tests)
    survivors = []
    for row in rows:
        report.rows_in += 1
        reason = unsupported(row)
        if reason:
            report.dropped[f"unsupported_{reason}"].append(row["id"])
        elif n_tests(row) < min_tests:
            report.dropped["fewer_than_min_tests"].append(row["id"])
        else:
            survivors.append(row)
    survivors, dups = exact_and_near_duplicates(survivors, near_dup_jaccard)
    report.dropped["duplicate_statement"].extend(dups)
    if judge is not None:
        survivors, failed, report.readings = verify_gold(survivors, judge)
        report.dropped["gold_solution_fails"].extend(failed)
    final = [{k: v for k, v in row.items() if k != "alt_tests"} for row in survivors]
    report.kept = len(final)
    return final, report
