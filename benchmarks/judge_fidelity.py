"""Fidelity: does our judge agree with the official LiveCodeBench grader on real completions?

    .venv/bin/python -m benchmarks.judge_fidelity --workers 2
    .venv/bin/python -m benchmarks.judge_fidelity --graded results.jsonl   # reuse `python -m harness.grade` output

Grades ../shared/lcb/completions_dev.jsonl (5,275 real completions with the official verdicts) against
../shared/lcb/release_v6_problems.jsonl (official public tests + the hidden tests recovered from official failure
records) and compares with `official_graded`.

Checkable completions (the only ones where the official verdict says something about OUR tests):
- officially passing: must pass every test we have;
- officially failing on a test we have: the official metadata records the failing test's `inputs` (cut to 300
  characters the official way, function-call arguments as Python repr after the call); a test of ours whose input,
  rendered and cut the same way, is identical (and whose expected output matches the recorded one when recorded)
  is that test: we must fail;
- officially failing before any test ran ("Error during testing: ..." - a compile-time failure, independent of
  tests): we must fail too (any test exhibits it).
Officially failing completions whose failing test we cannot identify (no `inputs` recorded, or a hidden test we do
not have) are NOT checkable; they are reported for information only.

Every disagreement is listed with a cause: an official-grader defect (REFERENCE.md §3: it wraps stdin programs into
a function with a mocked stdin, so `for line in sys.stdin`, `os.read(0, ...)`, `sys.stdout.buffer`, `global`,
`quit()`, `sys.stdin.readlines()`, readline EOF handling... fail there; `from __future__` breaks its prelude; it
compares nested tuples to lists as unequal; its environment lacks some modules), a time-limit borderline (wall
clock there, CPU time here), or "ours to fix". NOT defects (they work officially, so a disagreement on them is ours
to fix): `exit()` (the prelude's `from sys import *` makes it sys.exit, whose SystemExit the official grader
catches: 12 officially passing dev completions call it), `sys.stdin.readline()[:-1]` and `sys.stdin.buffer.read`
(reported working officially on crafted cases, issue 11). Writes benchmarks/results/judge_fidelity.json.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import time
from collections import Counter

from benchmarks.common import RESULTS, load_completions, load_problems_by_id, shared_missing, write_result
from harness.problems import Problem
from harness.verdicts import Limits

_MARK = "...(truncated) ..."
_STDIN_DEFECTS = (
    ("iterates sys.stdin", r"for\s+[\w\s,()]+\s+in\s+(?:sys\.)?stdin\b|(?:enumerate|iter|map|list)\(\s*sys\.stdin\b"),
    ("reads open(0)", r"open\(\s*0\s*[,)]"),
    ("reads os.read(0, ...)", r"os\.read\(\s*0\s*,"),
    ("uses sys.stdout.buffer (the official capture is a StringIO)", r"sys\.stdout\.buffer"),
    ("writes to fd 1 / sys.__stdout__ directly", r"os\.write\(\s*1\s*,|sys\.__stdout__"),
    ("mutates a top-level variable through `global`", r"^\s*global\s+\w"),
    ("calls quit() (None under the official reliability guard)", r"(?<![\w.])quit\(\s*\)"),
    ("uses sys.stdin.readlines() (the official mock returns input.split('\\n'): no newlines, an empty last line)",
     r"stdin\.readlines\("),
)


def truncate_official(text: str, length: int = 300) -> str:
    """The official `truncatefn`: head + marker + tail for anything longer than `length` characters."""
    return text if len(text) <= length else text[: length // 2] + _MARK + text[-length // 2:]


def _rendered_input(problem: Problem, text: str) -> str:
    if not problem.is_functional:
        return text
    try:
        return str([json.loads(line) for line in text.split("\n")])
    except (ValueError, RecursionError):
        return text


def _rendered_output(problem: Problem, text: str) -> str:
    if not problem.is_functional:
        return text
    try:
        return str(json.loads(text))
    except (ValueError, RecursionError):
        return text


def official_failure(row: dict, problem: Problem) -> tuple[str, int | None]:
    """('pass', None) | ('test', index into problem.tests) | ('sample', None) | ('unknown', None)."""
    if row.get("official_graded"):
        return "pass", None
    meta = row.get("official_metadata") or {}
    message = str(meta.get("error_message", ""))
    if message.startswith("Error during testing") and "inputs" not in meta:
        return "sample", None
    recorded = meta.get("inputs")
    if recorded is None:
        return "unknown", None
    for index, test in enumerate(problem.tests):
        if truncate_official(_rendered_input(problem, test.input)) != recorded:
            continue
        if "expected" in meta and truncate_official(_rendered_output(problem, test.output)) != meta["expected"]:
            continue
        return "test", index
    return "unknown", None


def _main_guard_not_last(code: str) -> bool:
    try:
        body = ast.parse(code).body
    except SyntaxError:
        return False
    guards = [i for i, node in enumerate(body) if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test)]
    return bool(guards) and guards[-1] != len(body) - 1


def official_defects(row: dict, problem: Problem) -> list[str]:
    """Reasons the official grader wrongly fails this code (REFERENCE §3), found in the code and official record."""
    code, meta = row.get("code") or "", row.get("official_metadata") or {}
    found = []
    if not problem.is_functional:
        found += [name for name, pattern in _STDIN_DEFECTS if re.search(pattern, code, re.MULTILINE)]
        if _main_guard_not_last(code):
            found.append("`if __name__ == '__main__'` is not the last statement (the official wrapper never runs it)")
        if "StopIteration" in str(meta.get("error", "")):
            found.append("reads stdin until readline() returns '' (the official mock raises StopIteration)")
    if "from __future__" in code:
        found.append("`from __future__` import (the official prelude makes it a SyntaxError)")
    message = str(meta.get("error_message", ""))
    if "No module named" in message or "cannot import name" in message:
        found.append(f"module missing in the official environment ({message.removeprefix('Error during testing: ')})")
    out, expected = str(meta.get("output", "")), str(meta.get("expected", ""))
    if problem.is_functional and "(" in out and out.replace("(", "[").replace(")", "]") == expected:
        found.append("returns tuples inside a list (the official grader compares them to lists as unequal)")
    return found


def _near_time_limit(result: dict, limits: Limits) -> bool:
    return result["verdict"] == "time_limit" or any(
        t.get("cpu_s", 0) > 0.5 * limits.time_limit_s or t.get("wall_s", 0) > 0.5 * limits.time_limit_s
        for t in result.get("tests", []))


def cause_of(row: dict, problem: Problem, result: dict, limits: Limits) -> tuple[str, str]:
    """(category, explanation) for one disagreement."""
    meta = row.get("official_metadata") or {}
    if result["verdict"] == "infra_error":
        return "ours to fix", f"infra_error: {result['detail']}"
    if row.get("official_graded"):  # official pass, we fail
        if _near_time_limit(result, limits):
            return "time-limit borderline", f"ours {result['verdict']} ({result['detail'][:120]})"
        if result["verdict"] == "memory_limit":
            return "memory limit", "the official grader applies no memory limit"
        return "ours to fix", f"we say {result['verdict']}: {result['detail'][:200]}"
    defects = official_defects(row, problem)
    if defects:
        return "official-grader defect", "; ".join(defects)
    if meta.get("error_code") == -3 or _near_time_limit(result, limits):
        top = max((t.get("cpu_s", 0) for t in result.get("tests", [])), default=0)
        return "time-limit borderline", f"official {meta.get('error_message', '')}; our max test CPU {top:.2f} s"
    return "ours to fix", f"official: {str(meta.get('error_message', ''))[:160]}"


def grade_rows(rows: list[dict], problems: dict[str, Problem], workers: int | None, limits: Limits) -> list[dict]:
    from tqdm import tqdm

    from harness.judge import Judge

    pairs = [(problems[r["question_id"]], r.get("code")) for r in rows]
    with Judge(workers=workers, limits=limits) as judge:
        return [r.to_dict() for r in tqdm(judge.grade_many(pairs), total=len(pairs), file=sys.stderr,
                                          desc="grade", unit="sample")]


def compare(rows: list[dict], results: list[dict], problems: dict[str, Problem], limits: Limits) -> dict:
    kinds: Counter = Counter()
    agree: Counter = Counter()
    unchecked: Counter = Counter()
    disagreements = []
    for row, result in zip(rows, results):
        problem = problems[row["question_id"]]
        kind, index = official_failure(row, problem)
        if not problem.tests:
            kind = "no tests"
        ours_pass = result["verdict"] == "passed"
        if kind in ("unknown", "no tests"):
            unchecked[f"{kind}: ours {'pass' if ours_pass else 'fail'}"] += 1
            continue
        kinds[kind] += 1
        ok = ours_pass if kind == "pass" else (not ours_pass and result["verdict"] != "infra_error")
        agree[kind] += ok
        if not ok:
            category, why = cause_of(row, problem, result, limits)
            disagreements.append({
                "question_id": row["question_id"], "model": row.get("model"), "sample_idx": row.get("sample_idx"),
                "official": "pass" if kind == "pass" else f"fail ({kind}, test {index})",
                "official_message": str((row.get("official_metadata") or {}).get("error_message", ""))[:200],
                "ours": result["verdict"], "our_failed_test": result["failed_test"],
                "our_detail": result["detail"][:200], "cause": category, "explanation": why,
            })
    n_check = sum(kinds.values())
    n_agree = sum(agree.values())
    causes = Counter(d["cause"] for d in disagreements)
    n_defect = causes.get("official-grader defect", 0)
    return {
        "n_completions": len(rows),
        "n_checkable": n_check,
        "checkable_by_kind": dict(kinds),
        "agree_by_kind": dict(agree),
        "n_agree": n_agree,
        "agreement": n_agree / n_check if n_check else None,
        "agreement_excluding_official_defects": (n_agree / (n_check - n_defect)) if n_check > n_defect else None,
        "disagreement_causes": dict(causes),
        "not_checkable": dict(unchecked),
        "disagreements": disagreements,
    }


def print_report(report: dict) -> None:
    print(f"completions {report['n_completions']}, checkable {report['n_checkable']} {report['checkable_by_kind']}")
    print(f"agreement {report['n_agree']}/{report['n_checkable']} = {100 * (report['agreement'] or 0):.2f}%; "
          f"excluding documented official defects {100 * (report['agreement_excluding_official_defects'] or 0):.2f}%")
    print(f"disagreement causes: {report['disagreement_causes']}")
    print(f"not checkable (information only): {report['not_checkable']}")
    for d in report["disagreements"]:
        print(f"- {d['question_id']} [{d['model']} #{d['sample_idx']}] official {d['official']} / ours {d['ours']}"
              f" -> {d['cause']}: {d['explanation']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--graded", help="a `python -m harness.grade` output over the dev completions (skip grading)")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--limit", type=int, default=None, help="only the first N completions (smoke runs)")
    p.add_argument("--time-limit", type=float, default=Limits().time_limit_s)
    p.add_argument("--out", default=str(RESULTS / "judge_fidelity.json"))
    args = p.parse_args(argv)
    missing = shared_missing()
    if missing:
        print(f"skipped: {missing}", file=sys.stderr)
        return 0
    limits = Limits(time_limit_s=args.time_limit)
    problems = load_problems_by_id()
    started = time.perf_counter()
    if args.graded:
        with open(args.graded, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()][: args.limit]
        results = rows  # grade CLI lines carry the input fields and the result fields together
    else:
        rows = load_completions(limit=args.limit)
        results = grade_rows(rows, problems, args.workers, limits)
    report = compare(rows, results, problems, limits)
    report["grading_wall_s"] = None if args.graded else round(time.perf_counter() - started, 2)
    report["command"] = "python -m benchmarks.judge_fidelity " + " ".join(argv if argv is not None else sys.argv[1:])
    print_report(report)
    write_result(__import__("pathlib").Path(args.out), report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
