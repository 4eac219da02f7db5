"""TACO-verified and PrimeIntellect SYNTHETIC-1 records -> training rows (repro.data's schema), tests exactly as graded.

TACO (`likaixin/TACO-verified`, a filtered `BAAI/TACO`; columns question, solutions (JSON list of Python
programs), starter_code, input_output (JSON), difficulty, source, date, ...). `input_output` is
`{"inputs": [...], "outputs": [...], "fn_name": optional}`, read as the APPS/TACO grader reads it:
  - stdin problems (no fn_name): a test's input/output is a string, or a list of lines, which the grader joins
    with "\n" (never JSON-quotes them);
  - function-call problems (fn_name): inputs[i] is the argument list; outputs[i] is the return value, and in
    most rows it is wrapped in a one-element list (the APPS grader accepts `result == out or result == out[0]`).
    A problem whose outputs are ALL one-element lists is ambiguous: the unwrapped reading comes first and the
    stored one is kept as `alt_tests`; curation settles it by running the gold solution (`resolve_reading`).
    Any other output shape cannot be a wrapped value, so it is kept as stored.
SYNTHETIC-1 (`PrimeIntellect/verifiable-coding-problems`; columns source, task_type, in_source_id, prompt,
gold_standard_solution (a fenced program), verification_info (JSON: language, test_cases [{type: stdin_stdout |
function_call, input, output, fn_name}]), metadata (JSON), problem_id). The prompt wraps the statement in
"Solve the following coding problem using the programming language python:\n\n" ... "\n\nThe input will be stdin
and you should print your solution to stdout\n\n\nNow solve the problem and return the code."; the wrapper is
stripped so the statement is the problem itself (and decontamination compares like with like).

Every row also carries `gold_solutions` (the source's reference programs, for curation) and, when ambiguous,
`alt_tests`; neither goes into the TRL dataset. Does not cover: filtering (repro.datasets.curation).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from harness.problems import Difficulty, Platform
from repro.datasets.text import statement_hash

SYNTHETIC1_PREFIX = re.compile(r"^\s*Solve the following coding problem using the programming language \w+:?\s*")
# the trailing instructions SYNTHETIC-1 appends after the statement (one or more of these lines, at the very end)
SYNTHETIC1_SUFFIX = re.compile(
    r"(?:\s*\n\s*(?:The input will be|The function|Your (?:code|function|solution) should|Now solve (?:the|this) "
    r"problem)[^\n]*)+\s*$"
)
FENCE = re.compile(r"```[\w+-]*\n(.*?)```", re.DOTALL)
Tests = list[tuple[str, str]]


def difficulty_of(raw: Any) -> str:
    word = str(raw or "").lower()
    if "easy" in word:
        return Difficulty.EASY.value
    if "hard" in word:
        return Difficulty.HARD.value
    return Difficulty.MEDIUM.value


def platform_of(source_site: str, functional: bool) -> str:
    """The LCB platform enum has three values; function-call problems run like LeetCode, others by their site."""
    if functional:
        return Platform.LEETCODE.value
    return Platform.ATCODER.value if "atcoder" in source_site.lower() else Platform.CODEFORCES.value


def tests_json(tests: Iterable[tuple[str, str]], functional: bool) -> str:
    kind = "functional" if functional else "stdin"
    return json.dumps([{"input": i, "output": o, "testtype": kind} for i, o in tests])


def training_row(source: str, sid: str, statement: str, tests: Tests, *, func_name: str = "", starter: str = "",
                 site: str = "", difficulty: Any = "", date: str = "", gold: list[str] | None = None,
                 alt_tests: Tests | None = None) -> dict:
    functional = bool(func_name)
    n_public = min(1, len(tests))  # one visible example; the rest are hidden, as in LCB
    row = {
        "question_id": sid, "question_title": "", "question_content": statement,
        "platform": platform_of(site, functional), "contest_id": "", "contest_date": date,
        "starter_code": starter, "difficulty": difficulty_of(difficulty),
        "public_test_cases": tests_json(tests[:n_public], functional),
        "private_test_cases": tests_json(tests[n_public:], functional),
        "metadata": json.dumps({"func_name": func_name} if functional else {}),
        "id": f"{source}/{sid}", "source": source, "statement_hash": statement_hash(statement),
        "gold_solutions": list(gold or []),
    }
    if alt_tests is not None:
        row["alt_tests"] = [list(t) for t in alt_tests]  # JSON-stable: a written row reads back equal
    return row


def stdin_text(value: Any) -> str:
    """A stdin test's input or output: a string as is; a list of lines joined by newlines (the grader's reading)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(v if isinstance(v, str) else json.dumps(v) for v in value)
    return json.dumps(value)


def call_input(args: Any) -> str:
    """The judge's functional input: one JSON value per argument, one per line. `args` is the argument list, or
    its source text (a verifier that formats it into a Python call); anything else raises ValueError."""
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            args = ast.literal_eval(args)  # ValueError/SyntaxError: not an argument list
    if not isinstance(args, list):
        raise ValueError(f"a function-call input must be an argument list, got {type(args).__name__}")  # noqa: TRY004
    return "\n".join(json.dumps(a) for a in args)


def call_outputs(outputs: list) -> tuple[list[str], list[str] | None]:
    """(primary reading, alternative or None): unwrapped first when every output is a one-element list."""
    stored = [json.dumps(o) for o in outputs]
    if outputs and all(isinstance(o, list) and len(o) == 1 for o in outputs):
        return [json.dumps(o[0]) for o in outputs], stored
    return stored, None


def solution_stub(starter: str, fn_name: str) -> str:
    """The judge calls `Solution().<fn_name>(...)` (LeetCode style); TACO's call-based tasks (Codewars) start from a
    bare function, so the prompt's starter code becomes a Solution method with the same parameters."""
    if "class Solution" in starter:
        return starter
    match = re.search(rf"def\s+{re.escape(fn_name)}\s*\(([^)]*)\)", starter)
    params = [p.strip() for p in (match.group(1).split(",") if match else ["*args"]) if p.strip()]
    params = [p for p in params if p != "self"]
    return f"class Solution:\n    def {fn_name}(self{''.join(', ' + p for p in params)}):\n        "


def json_field(value: Any) -> Any:
    """Hub copies store some fields as JSON text and others (re-uploads) as structs; None when unreadable."""
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else {}
        except json.JSONDecodeError:
            return None
    return value if value is not None else {}


def taco_date(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=None).isoformat() if value else ""
    except ValueError:
        return ""


def row_from_taco(raw: dict, index: int) -> dict | None:
    """A TACO(-verified) record -> training row; None when it has no usable tests."""
    io = json_field(raw.get("input_output"))
    if not isinstance(io, dict):
        return None
    inputs, outputs, fn = io.get("inputs") or [], io.get("outputs") or [], io.get("fn_name") or ""
    if not inputs or len(inputs) != len(outputs):
        return None
    alt = None
    if fn:
        try:
            args = [call_input(i) for i in inputs]
        except (ValueError, SyntaxError):
            return None
        primary, stored = call_outputs(outputs)
        tests = list(zip(args, primary, strict=True))
        alt = list(zip(args, stored, strict=True)) if stored is not None else None
    else:
        tests = [(stdin_text(i), stdin_text(o)) for i, o in zip(inputs, outputs, strict=True)]
    gold = json_field(raw.get("solutions"))
    starter = solution_stub(raw.get("starter_code") or "", fn) if fn else raw.get("starter_code") or ""
    return training_row("taco_verified", str(raw.get("id", index)), raw["question"], tests, func_name=fn,
                        starter=starter, site=str(raw.get("source", "")), difficulty=raw.get("difficulty"),
                        date=taco_date(raw.get("date")), gold=[g for g in gold if isinstance(g, str)]
                        if isinstance(gold, list) else [], alt_tests=alt)


def strip_synthetic1_wrapper(prompt: str) -> str:
    """The problem statement inside SYNTHETIC-1's instruction wrapper (unchanged when there is no wrapper)."""
    return SYNTHETIC1_SUFFIX.sub("", SYNTHETIC1_PREFIX.sub("", prompt, count=1)).strip()


def unfence(text: str) -> str:
    """The program inside a markdown code fence (the last one), or the text itself when it has none."""
    blocks = FENCE.findall(text or "")
    return (blocks[-1] if blocks else text or "").strip()


def row_from_synthetic1(raw: dict) -> dict | None:
    """A verifiable-coding-problems record -> training row; Python tasks only (the recipe trains Python)."""
    info = json_field(raw.get("verification_info"))
    if not isinstance(info, dict) or info.get("language", "python") != "python":
        return None
    cases = info.get("test_cases") or []
    kinds = {c.get("type", "stdin_stdout") for c in cases}
    if not cases or len(kinds) != 1 or not kinds <= {"stdin_stdout", "function_call"}:
        return None
    fn, alt = "", None
    if kinds == {"function_call"}:
        fn = str(cases[0].get("fn_name") or "")
        if not fn or any(c.get("fn_name") != fn for c in cases):
            return None
        try:
            args = [call_input(c["input"]) for c in cases]
        except (ValueError, SyntaxError):
            return None
        primary, stored = call_outputs([c["output"] for c in cases])
        tests = list(zip(args, primary, strict=True))
        alt = list(zip(args, stored, strict=True)) if stored is not None else None
    else:
        tests = [(stdin_text(c["input"]), stdin_text(c["output"])) for c in cases]
    meta = json_field(raw.get("metadata"))
    statement = strip_synthetic1_wrapper(raw.get("problem_statement") or raw.get("prompt") or "")
    gold = unfence(raw.get("gold_standard_solution") or "")
    return training_row("synthetic1", str(raw.get("problem_id") or raw.get("in_source_id")), statement, tests,
                        func_name=fn, starter=solution_stub("", fn) if fn else "", site=str(raw.get("source", "")),
                        difficulty=(meta or {}).get("difficulty", "") if isinstance(meta, dict) else "",
                        gold=[gold] if gold else [], alt_tests=alt)
