"""Synthetic run directories for the viewer's speed benchmark and browser tests: any number of problems and samples,
written with the project's own records (RunManifest, SampleRecord, RunDir), verdicts drawn from a seeded generator.

The per-test outcomes imitate what the judge records (passing tests, then the first failing one with its detail and
stdout head); a test that needs the judge's real output grades a program with harness.judge and passes the record in
`overrides`. Does not cover: real model outputs or real grading of the synthetic samples.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from harness.records import DatasetSpec, RunDir, RunManifest, SampleRecord, SamplingSpec

FAILURES = ("wrong_answer", "wrong_answer", "time_limit", "runtime_error", "no_code")
WORDS = ("so", "the", "answer", "depends", "on", "each", "prefix", "sum", "and", "we", "check", "bounds", "again")


@dataclass(frozen=True, slots=True)
class StubProblem:
    question_id: str
    contest_date: str  # ISO datetime
    difficulty: str
    platform: str


def v6_like_problems(n: int = 454, seed: int = 0) -> list[StubProblem]:
    """n problems spread over 2024-08-01..2025-04-30 with v6's difficulty mix (110/141/203 of 454)."""
    rng = random.Random(seed)
    start, days = date(2024, 8, 1), (date(2025, 4, 30) - date(2024, 8, 1)).days
    out = []
    for i in range(n):
        day = start + timedelta(days=rng.randrange(days + 1))
        u = rng.random()
        difficulty = "easy" if u < 110 / 454 else "medium" if u < 251 / 454 else "hard"
        platform = "atcoder" if rng.random() < 287 / 454 else "leetcode"
        out.append(StubProblem(f"syn{i:04d}", f"{day.isoformat()}T12:00:00", difficulty, platform))
    return out


def synthetic_dataset(problems: Sequence[StubProblem], content_hash: str = "f" * 64, spec: str = "synthetic"
                      ) -> DatasetSpec:
    return DatasetSpec(spec=spec, release="release_v6", start_date="2024-08-01", end_date="2025-05-01",
                       content_hash=content_hash, n_problems=len(problems))


def write_run(path, problems: Sequence, dataset: DatasetSpec, *, n_samples: int, skill: float, seed: int,
              label: str, release_date: str | None = None, raw_chars: int = 600,
              overrides: Mapping[tuple[str, int], SampleRecord] | None = None) -> RunDir:
    """A run directory whose sample pass rates scatter around `skill` (lower for harder problems)."""
    run = RunDir(path)
    run.write_manifest(RunManifest(model=f"synthetic/{label}", backend="replay", sampling=SamplingSpec(n=n_samples),
                                   prompt_style="qwen3-thinking", dataset=dataset,
                                   limits={"time_limit_s": 6.0, "memory_limit_mb": 4096}, label=label,
                                   model_release_date=release_date))
    rng = random.Random(seed)
    offset = {"easy": 0.25, "medium": 0.0, "hard": -0.3}
    # one write, no per-line fsync (RunDir's appender fsyncs each line: minutes for 7,264 samples)
    with open(run.samples_path, "w", encoding="utf-8") as f:
        for p in problems:
            p_pass = min(1.0, max(0.0, skill + offset.get(str(p.difficulty), 0.0) + rng.uniform(-0.35, 0.35)))
            for i in range(n_samples):
                rec = (overrides or {}).get((p.question_id, i)) or _record(p, i, rng.random() < p_pass, rng, raw_chars)
                f.write(rec.model_dump_json() + "\n")
    return run


def _record(p, idx: int, passed: bool, rng: random.Random, raw_chars: int) -> SampleRecord:
    n_tests = rng.randint(4, 12)
    tests = [_test(t, "passed", rng) for t in range(n_tests if passed else rng.randint(0, n_tests - 1))]
    verdict = "passed" if passed else rng.choice(FAILURES)
    code = None if verdict == "no_code" else f"n = int(input())\nprint(n * {idx + 2})"
    if verdict not in ("passed", "no_code"):
        tests.append(_test(len(tests), verdict, rng))
    failed = tests[-1] if tests and tests[-1]["verdict"] != "passed" else None
    text = _filler(raw_chars)
    start = rng.randrange(len(text) - raw_chars + 1)
    think = text[start:start + raw_chars]
    raw = f"<think>\n{think}\n</think>\n\n" + (f"```python\n{code}\n```\n" if code else "I could not solve it.")
    contest_date = p.contest_date if isinstance(p.contest_date, str) else p.contest_date.isoformat()
    return SampleRecord(
        question_id=p.question_id, sample_idx=idx, difficulty=str(p.difficulty), platform=str(p.platform),
        contest_date=contest_date, raw_output=raw, code=code, finish_reason="stop", verdict=verdict, passed=passed,
        tests_run=len(tests), tests_total=n_tests, failed_test=failed["index"] if failed else None,
        cpu_s=sum(t["cpu_s"] for t in tests), wall_s=sum(t["wall_s"] for t in tests) + 0.01,
        peak_rss_mb=max((t["peak_rss_mb"] for t in tests), default=0.0),
        detail=f"test {failed['index']}: {failed['detail']}" if failed else "", sandbox="synthetic", tests=tests)


@functools.lru_cache(maxsize=4)
def _filler(chars: int) -> str:
    """Reasoning-like text twice as long as one sample's, so samples take different slices of it cheaply."""
    rng = random.Random(chars)
    words = []
    while sum(len(w) + 1 for w in words) < 2 * chars:
        words.append(rng.choice(WORDS))
    return " ".join(words)


def _test(index: int, verdict: str, rng: random.Random) -> dict:
    cpu = round(rng.uniform(0.01, 0.5), 4)
    detail, stdout = "", ""
    if verdict == "wrong_answer":
        detail, stdout = "line 1: expected '7', got '6'", "6\n"
    elif verdict != "passed":
        detail = verdict
    return {"index": index, "verdict": verdict, "cpu_s": cpu, "wall_s": round(cpu * 1.2, 4),
            "peak_rss_mb": round(rng.uniform(9, 60), 2), "detail": detail, "stdout_head": stdout, "stderr_head": ""}
