"""CPU parity: does a stdin program cost the same CPU here as in the official LiveCodeBench grader?

    .venv/bin/python -m benchmarks.cpu_parity                 # ten loop-heavy programs, 3 interleaved rounds
    .venv/bin/python -m benchmarks.cpu_parity --quick         # one tiny program, one round (used by the tests)
    .venv/bin/python -m benchmarks.cpu_parity --modes         # which mode each dev completion (../shared/lcb) gets

The official grader runs a stdin program's top level inside a function (`wrapped_function`: imports hoisted to
module level, every other top-level statement in the function, the import prelude first), with stdin and stdout
swapped for StringIO objects. This benchmark re-states that transformation (`official_source`) and runs it in a
fresh interpreter per program, measuring the CPU of the call alone (getrusage around it, in the child). Beside it,
the same program goes through this judge (`harness.judge.grade` on the local sandbox: `cpu_s`, the candidate
child's whole CPU, its output compared) and, for contrast, through the sandbox as a plain module (the judge's
mode before harness/program.py). Rounds interleave the three ways, program by program; per program the median
over rounds is kept. Printed: per-program CPU and ratios (ours / official), and their geometric means (without
`OUTLIERS`: `t += c` on a str is linear in a function and quadratic as module code).
Target: function mode <= 1.10. Writes benchmarks/results/cpu_parity.json.

Not covered: wall-clock time, the official grader's process pool overhead (benchmarks/judge_speed.py).
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import statistics
import subprocess
import sys
from datetime import datetime

from benchmarks.common import RESULTS, write_result
from harness.compare import compare_stdout
from harness.judge import OFFICIAL_PRELUDE, grade, with_prelude
from harness.problems import Difficulty, Platform, Problem, TestCase, TestType
from harness.sandbox.base import RunSpec
from harness.verdicts import Limits, Verdict

# name -> (program, stdin); each ~0.5-2 s of CPU officially on a 2-core dev machine
PROGRAMS = {
    "sum loop": ("n = int(input())\ns = 0\nfor i in range(n):\n    s += i * i % 7\nprint(s)\n", "9000000"),
    "nested loops": (("n = int(input())\nc = 0\nfor i in range(n):\n    for j in range(n):\n"
                     "        if (i ^ j) & 1:\n            c += 1\nprint(c)\n"), "3000"),
    "list building": (("n = int(input())\na = []\nfor i in range(n):\n    a.append(i * 3 % 11)\n"
                      "b = [x + 1 for x in a]\nprint(sum(b))\n"), "6000000"),
    "dict counting": (("n = int(input())\nd = {}\nfor i in range(n):\n    k = i * 7919 % 1009\n"
                      "    d[k] = d.get(k, 0) + 1\nprint(len(d), max(d.values()))\n"), "4500000"),
    "string building": (("n = int(input())\nparts = []\nsize = 0\nfor i in range(n):\n    c = str(i % 100)\n"
                        "    size += len(c)\n    parts.append(c)\nprint(size, ''.join(parts).count('7'))\n"), "3000000"),
    "sieve": (("n = int(input())\nis_p = [True] * (n + 1)\nis_p[0] = is_p[1] = False\ni = 2\nwhile i * i <= n:\n"
              "    if is_p[i]:\n        for j in range(i * i, n + 1, i):\n            is_p[j] = False\n    i += 1\n"
              "print(sum(is_p))\n"), "12000000"),
    "knapsack dp": (("W = int(input())\nitems = []\nx = 12345\nfor _ in range(60):\n    x = x * 1103515245 % 2147483648\n"
                    "    items.append((x % 97 + 1, x % 1000))\ndp = [0] * (W + 1)\nfor w, v in items:\n"
                    "    for c in range(W, w - 1, -1):\n        if dp[c - w] + v > dp[c]:\n"
                    "            dp[c] = dp[c - w] + v\nprint(dp[W])\n"), "100000"),
    "collatz while": (("n = int(input())\nbest = 0\nfor s in range(1, n):\n    x = s\n    c = 0\n    while x != 1:\n"
                      "        x = x // 2 if x % 2 == 0 else 3 * x + 1\n        c += 1\n    if c > best:\n"
                      "        best = c\nprint(best)\n"), "120000"),
    "reading lines": (("n = int(input())\ns = 0\nfor _ in range(n):\n    a, b = map(int, input().split())\n"
                      "    s += a * b\nprint(s)\n"), "400000\n" + "12 34\n" * 400000),
    "printing lines": ("n = int(input())\nfor i in range(n):\n    print(i, i * i)\n", "600000"),
}
# Not in the means: `t += c` on a str is linear in a function (CPython extends the string in place) and
# quadratic as module code, so its module-mode ratio is unbounded (reported on its own).
OUTLIERS = {"string +=": ("n = int(input())\nt = ''\nfor i in range(n):\n    t += str(i % 10)\nprint(len(t))\n",
                          "300000")}
QUICK = {"tiny loop": ("n = int(input())\ns = 0\nfor i in range(n):\n    s += i\nprint(s)\n", "1000")}

CHILD = r"""
import io, json, resource, sys, types
job = json.loads(sys.stdin.read())
module = types.ModuleType("tmp_sol", "")
exec(compile(job["source"], "<official>", "exec"), module.__dict__)
real_stdin, real_stdout = sys.stdin, sys.stdout
sys.stdin, sys.stdout = io.StringIO(job["stdin"]), io.StringIO()
before = resource.getrusage(resource.RUSAGE_SELF)
try:
    module.wrapped_function()
except SystemExit:
    pass
after = resource.getrusage(resource.RUSAGE_SELF)
out = sys.stdout.getvalue()
sys.stdin, sys.stdout = real_stdin, real_stdout
cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
print(json.dumps({"cpu_s": cpu, "stdout": out}))
"""


def official_source(code: str) -> str:
    """The official stdin transformation, re-stated: prelude, the top-level imports, then every other top-level
    statement (a last `if __name__ == '__main__':` block unwrapped) inside `def wrapped_function():`."""
    body = ast.parse(code).body
    last = body[-1] if body else None
    if isinstance(last, ast.If) and ast.unparse(last.test).strip() == "__name__ == '__main__'":
        body = body[:-1] + last.body
    imports = [s for s in body if isinstance(s, (ast.Import, ast.ImportFrom))]
    rest = [s for s in body if not isinstance(s, (ast.Import, ast.ImportFrom))] or [ast.Pass()]
    function = ast.FunctionDef(name="wrapped_function", args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[],
                               kw_defaults=[], defaults=[]), body=rest, decorator_list=[], lineno=1)
    prelude = OFFICIAL_PRELUDE.replace("; ", "\n")
    return prelude + "\n" + ast.unparse(ast.Module(imports, [])) + "\n" + ast.unparse(ast.fix_missing_locations(function))


def run_official(code: str, stdin: str) -> tuple[float, str]:
    job = json.dumps({"source": official_source(code), "stdin": stdin})
    proc = subprocess.run([sys.executable, "-c", CHILD], input=job, capture_output=True, text=True, check=True,
                          timeout=300)
    result = json.loads(proc.stdout)
    return result["cpu_s"], result["stdout"]


def _problem(stdin: str, expected: str) -> Problem:
    return Problem("parity", "parity", "", Platform.ATCODER, "parity", datetime(2024, 9, 1), "", Difficulty.EASY,
                   (TestCase(stdin, expected, TestType.STDIN),), (), {})


def run_ours(sandbox, code: str, stdin: str, expected: str, limits: Limits) -> tuple[float, str]:
    result = grade(_problem(stdin, expected), code, limits, sandbox=sandbox)
    if result.verdict is not Verdict.PASSED:
        raise RuntimeError(f"the judge says {result.verdict}: {result.detail}")
    return result.tests[0].cpu_s, result.exec_mode


def run_module(sandbox, code: str, stdin: str, expected: str, limits: Limits) -> float:
    with sandbox.open_session(RunSpec(with_prelude(code), None, limits)) as session:
        (raw,) = session.run_batch([stdin])
    if not compare_stdout(raw.stdout, expected)[0]:
        raise RuntimeError(f"module mode: {raw.status} {raw.detail}")
    return raw.cpu_s


def measure(programs: dict, rounds: int) -> dict:
    from harness.sandbox import create_sandbox

    limits = Limits(time_limit_s=60.0)
    samples: dict[str, dict[str, list[float]]] = {name: {"official": [], "ours": [], "module": []} for name in programs}
    modes = {}
    sandbox = create_sandbox("local")
    try:
        for _ in range(rounds):
            for name, (code, stdin) in programs.items():
                cpu, expected = run_official(code, stdin)
                samples[name]["official"].append(cpu)
                ours, modes[name] = run_ours(sandbox, code, stdin, expected, limits)
                samples[name]["ours"].append(ours)
                samples[name]["module"].append(run_module(sandbox, code, stdin, expected, limits))
        name_of_sandbox = sandbox.name
    finally:
        sandbox.close()
    rows = []
    for name, s in samples.items():
        official, ours, module = (statistics.median(s[k]) for k in ("official", "ours", "module"))
        rows.append({"program": name, "exec_mode": modes[name], "official_cpu_s": round(official, 4),
                     "ours_cpu_s": round(ours, 4), "module_cpu_s": round(module, 4),
                     "ratio": round(ours / official, 3), "module_ratio": round(module / official, 3)})
    mean = [r for r in rows if r["program"] not in OUTLIERS]
    return {"sandbox": name_of_sandbox, "rounds": rounds, "programs": rows,
            "geomean_ratio": round(_geomean([r["ratio"] for r in mean]), 3),
            "geomean_module_ratio": round(_geomean([r["module_ratio"] for r in mean]), 3)}


def exec_modes() -> dict:
    """How the dev completions would run: mode counts, module-mode reasons, and the analysis cost per sample."""
    import time
    from collections import Counter

    from benchmarks.common import load_completions, load_problems_by_id
    from harness.program import prepare

    problems = load_problems_by_id()
    pairs = [(problems[r["question_id"]].func_name, r["code"]) for r in load_completions()
             if r.get("code") and r["code"].strip() and r["question_id"] in problems]
    modes, reasons = Counter(), Counter()
    started = time.perf_counter()
    for func_name, code in pairs:
        prepared = prepare(code, func_name, OFFICIAL_PRELUDE)
        modes[prepared.mode] += 1
        reasons[prepared.reason.split(" (")[0]] += prepared.mode == "module"
    ms = 1000 * (time.perf_counter() - started) / max(1, len(pairs))
    return {"samples": len(pairs), "modes": dict(modes), "module_reasons": {k: v for k, v in reasons.items() if v},
            "ms_per_sample": round(ms, 2)}


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="one tiny program, one round (checks the machinery)")
    p.add_argument("--modes", action="store_true", help="only: which mode each dev completion gets (../shared/lcb)")
    p.add_argument("--out", default=str(RESULTS / "cpu_parity.json"))
    args = p.parse_args(argv)
    if args.modes:
        from benchmarks.common import shared_missing

        if shared_missing():
            print(f"skipped: {shared_missing()}", file=sys.stderr)
            return 0
        print(json.dumps(exec_modes(), indent=2))
        return 0
    report = measure(QUICK if args.quick else {**PROGRAMS, **OUTLIERS}, 1 if args.quick else args.rounds)
    report["command"] = "python -m benchmarks.cpu_parity " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"{'program':<18}{'mode':<10}{'official s':>11}{'ours s':>9}{'ratio':>7}{'module s':>10}{'ratio':>7}")
    for r in report["programs"]:
        print(f"{r['program']:<18}{r['exec_mode']:<10}{r['official_cpu_s']:>11.3f}{r['ours_cpu_s']:>9.3f}"
              f"{r['ratio']:>7.2f}{r['module_cpu_s']:>10.3f}{r['module_ratio']:>7.2f}")
    print(f"geometric mean ratio (ours / official, {', '.join(OUTLIERS)} left out): function mode {report['geomean_ratio']:.3f} "
          f"(target <= 1.10); as a module {report['geomean_module_ratio']:.3f}")
    write_result(__import__("pathlib").Path(args.out), report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
