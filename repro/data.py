"""The RL training set in one schema, from three sources, decontaminated against the evaluation set.

Sources [NousCoder-14B, DeepCoder-14B]: TACO-verified (`likaixin/TACO-verified`), PrimeIntellect SYNTHETIC-1's
verifiable coding problems (`PrimeIntellect/verifiable-coding-problems`), and LiveCodeBench problems dated before
2024-07-31 (`livecodebench/code_generation_lite`, read through harness.problems).

The training-row schema is the official LiveCodeBench row (so `harness.problems` decodes it and the judge grades it
exactly as in evaluation) plus four columns (TRAINING_COLUMNS):
  question_id, question_title, question_content, platform, contest_id, contest_date ("" when the source has no
  date), starter_code, difficulty, public_test_cases (JSON), private_test_cases (plain JSON), metadata (JSON, holds
  func_name for function-call problems)  -- the LCB columns
  id               "<source>/<source id>", unique across sources (the reward caches problems by it)
  source           taco_verified | synthetic1 | lcb | any label a caller uses (e.g. toy)
  statement_hash   sha256 of the normalised statement (decontamination key)
  prompt           chat messages [{"role", "content"}] in the configured prompt style (TRL's conversational prompt)

Sources are parsed by repro.datasets.sources, curated (DeepCoder's filters) by repro.datasets.curation and checked
for statement n-gram overlap with the evaluation set by repro.datasets.decontamination; `python -m
repro.datasets.build` runs all of it. Here: drop rows dated after the cutoff, and rows whose normalised statement
hash equals an evaluation problem's. Does not cover: prompt styles (harness.prompts), grading.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.problems import Difficulty, Platform, Problem, decode_tests, problem_from_row
from repro.datasets.sources import row_from_synthetic1, row_from_taco
from repro.datasets.text import normalize_statement, statement_hash  # noqa: F401 - part of this interface

LCB_COLUMNS = (
    "question_id", "question_title", "question_content", "platform", "contest_id", "contest_date", "starter_code",
    "difficulty", "public_test_cases", "private_test_cases", "metadata",
)
TRAINING_COLUMNS = (*LCB_COLUMNS, "id", "source", "statement_hash", "prompt")
UNDATED = datetime(1970, 1, 1)  # Problem needs a date; undated sources get this one (never inside an eval window)
TACO_HUB = "likaixin/TACO-verified"
LCB_HUB = "livecodebench/code_generation_lite"
EVAL_START, EVAL_END = "2024-08-01", "2025-05-01"  # the v6 window the training set must not overlap
SYNTHETIC1_HUB = "PrimeIntellect/verifiable-coding-problems"


def to_problem(row: dict) -> Problem:
    """The judge's Problem for a training row (or an official LCB row)."""
    if row.get("contest_date"):
        return problem_from_row({k: row[k] for k in LCB_COLUMNS if k in row}, where=f"row {row.get('id', '')}")
    meta = row.get("metadata") or "{}"
    return Problem(
        question_id=row.get("id") or row["question_id"],
        question_title=row.get("question_title", ""),
        question_content=row["question_content"],
        platform=Platform(row.get("platform") or "codeforces"),
        contest_id=row.get("contest_id", ""),
        contest_date=UNDATED,
        starter_code=row.get("starter_code", ""),
        difficulty=Difficulty(row.get("difficulty") or "medium"),
        public_tests=decode_tests(row.get("public_test_cases") or "[]", name="public_test_cases"),
        private_tests=decode_tests(row.get("private_test_cases") or "[]"),
        metadata=json.loads(meta) if isinstance(meta, str) else dict(meta),
    )


def with_prompt(row: dict, prompt_style: str) -> dict:
    """Add the chat prompt of `prompt_style` (harness.prompts) to a row."""
    from harness.prompts import render_messages

    problem = to_problem(row)
    return {**row, "prompt": render_messages(problem, prompt_style)}


def rows_from_lcb(rows: Iterable[dict], source: str = "lcb", prompt_style: str = "lcb-generic") -> list[dict]:
    """Official-schema rows (hub shards, local files, the toy task) -> training rows. Hidden tests are decoded to
    plain JSON once here, so training never unpickles."""
    return [with_prompt(_row_from_problem(problem_from_row(raw, where=f"{source} row"), source), prompt_style)
            for raw in rows]


@dataclass
class DecontaminationReport:
    kept: int = 0
    dropped_by_date: list[str] = field(default_factory=list)
    dropped_by_hash: list[str] = field(default_factory=list)
    dropped_duplicates: list[str] = field(default_factory=list)


def decontaminate(rows: Iterable[dict], eval_problems: Iterable[Problem], cutoff: str = "2024-07-31"
                  ) -> tuple[list[dict], DecontaminationReport]:
    """Drop rows dated after `cutoff` (inclusive end), rows whose statement hash matches an evaluation problem, and
    repeated statements (first kept)."""
    limit = datetime.fromisoformat(cutoff) if "T" in cutoff else datetime.fromisoformat(cutoff + "T23:59:59")
    banned = {statement_hash(p.question_content) for p in eval_problems}
    seen: set[str] = set()
    kept, report = [], DecontaminationReport()
    for row in rows:
        h = row.get("statement_hash") or statement_hash(row["question_content"])
        date = row.get("contest_date") or ""
        if date and datetime.fromisoformat(date).replace(tzinfo=None) > limit:
            report.dropped_by_date.append(row["id"])
        elif h in banned:
            report.dropped_by_hash.append(row["id"])
        elif h in seen:
            report.dropped_duplicates.append(row["id"])
        else:
            seen.add(h)
            kept.append(row)
    report.kept = len(kept)
    return kept, report


def write_rows(path: str | Path, rows: Iterable[dict]) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)
    return p


def read_rows(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def build_training_set(settings: Any, eval_problems: Iterable[Problem] | None = None, *,
                       lcb_dataset: str = LCB_HUB, lcb_release: str = "release_v6"
                       ) -> tuple[list[dict], DecontaminationReport]:
    """The training set of a config's `data` settings: a local JSONL (`path`, rows in this schema or the official
    LCB one) or the hub sources, with prompts in `prompt_style`, decontaminated against `eval_problems` (default:
    the v6 evaluation window of `lcb_dataset`). Reading the hub needs network access."""
    if eval_problems is None:
        from harness.problems import load_problems

        eval_problems = load_problems(lcb_dataset, lcb_release, EVAL_START, EVAL_END).problems
    if settings.path:
        rows = [_as_training_row(r, settings.prompt_style) for r in read_rows(settings.path)]
    else:
        rows = [with_prompt(r, settings.prompt_style) for r in _hub_rows(settings, lcb_dataset, lcb_release)]
    kept, report = decontaminate(rows, eval_problems, settings.lcb_cutoff)
    return (kept[: settings.max_rows] if settings.max_rows else kept), report


def load_training_rows(settings: Any, eval_problems: Iterable[Problem] | None = None, **kwargs: Any) -> list[dict]:
    """build_training_set without the report."""
    return build_training_set(settings, eval_problems, **kwargs)[0]


def _as_training_row(row: dict, prompt_style: str, source: str = "local") -> dict:
    if "id" in row and "statement_hash" in row:
        return row if row.get("prompt") else with_prompt(row, prompt_style)
    return rows_from_lcb([row], source=source, prompt_style=prompt_style)[0]


def as_training_rows(rows: Iterable[dict], prompt_style: str, source: str = "local") -> list[dict]:
    """Rows in this schema pass through (a prompt is added if missing); official LCB rows are converted."""
    return [_as_training_row(r, prompt_style, source) for r in rows]


def _hub_rows(settings: Any, lcb_dataset: str, lcb_release: str) -> Iterable[dict]:
    from datasets import load_dataset

    for source in settings.sources:
        if source == "taco_verified":
            for i, raw in enumerate(load_dataset(TACO_HUB, split="train", streaming=True)):
                if (row := row_from_taco(raw, i)) is not None:
                    yield row
        elif source == "synthetic1":
            for raw in load_dataset(SYNTHETIC1_HUB, split="train", streaming=True):
                if (row := row_from_synthetic1(raw)) is not None:
                    yield row
        elif source == "lcb":
            from harness.problems import load_problems

            chosen = load_problems(lcb_dataset, lcb_release, start_date=None, end_date=settings.lcb_cutoff)
            yield from (_row_from_problem(p, "lcb") for p in chosen.problems)
        else:
            raise ValueError(f"unknown data source {source!r}; use taco_verified, synthetic1, lcb, or data.path")


def _tests_of(tests: Iterable[Any]) -> str:
    return json.dumps([{"input": t.input, "output": t.output, "testtype": str(t.testtype)} for t in tests])


def _row_from_problem(problem: Problem, source: str) -> dict:
    return {
        "question_id": problem.question_id, "question_title": problem.question_title,
        "question_content": problem.question_content, "platform": str(problem.platform),
        "contest_id": problem.contest_id, "contest_date": problem.contest_date.isoformat(),
        "starter_code": problem.starter_code, "difficulty": str(problem.difficulty),
        "public_test_cases": _tests_of(problem.public_tests), "private_test_cases": _tests_of(problem.private_tests),
        "metadata": json.dumps(problem.metadata), "id": f"{source}/{problem.question_id}", "source": source,
        "statement_hash": statement_hash(problem.question_content),
    }


def to_trl_dataset(rows: list[dict]) -> Any:
    """A datasets.Dataset TRL can train on (the `prompt` column is the conversational prompt)."""
    from datasets import Dataset

    missing = [c for c in TRAINING_COLUMNS if rows and c not in rows[0]]
    if missing:
        raise ValueError(f"training rows lack columns {missing}; build them with repro.data (rows_from_lcb, ...)")
    return Dataset.from_list([{c: r[c] for c in TRAINING_COLUMNS} for r in rows])
