"""The judge's speed now against an earlier revision, measured in the same run, alternating, on the same machine.

    .venv/bin/python -m benchmarks.judge_speed_compare --baseline ee896d1 --rounds 2
    .venv/bin/python -m benchmarks.judge_speed_compare --baseline ee896d1 --sandbox-only  # only harness/sandbox old

Checks the baseline out into a temporary git worktree (the project itself is not touched), then alternates
baseline / current `--rounds` times, each in a fresh interpreter: per-test and per-sample cost of a trivial stdin
and function-call program (benchmarks.judge_speed.measure_overhead) and the throughput of the 400 typical dev
completions (benchmarks.judge_speed.grade_timed; needs ../shared/lcb). `--sandbox-only`: the baseline is the current
working tree with only harness/sandbox/ taken from the baseline revision, so the figures compare sandboxes
under the same judge (program preparation, comparison) and the same benchmark code. Prints each figure as current / baseline
with the verdicts compared sample by sample (they must not change), then the median of each over the rounds, and writes
benchmarks/results/judge_speed_compare.json. Alternating cancels slow drifts of the machine's load; a loaded
machine still inflates every absolute figure, so read the ratios. Not covered: the parts of judge_speed that do
not compare revisions (early exit, stability).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import RESULTS, write_result

ROOT = Path(__file__).resolve().parents[1]
ONE_RUN = """
import json, sys
from benchmarks.judge_speed import measure_overhead, pick_typical, grade_timed
from benchmarks.common import load_completions, load_problems_by_id, shared_missing
from harness.verdicts import Limits
out = {"overhead": measure_overhead(int(sys.argv[1]), extra_tests=40)}
if not shared_missing():
    problems = load_problems_by_id()
    pairs = [(problems[r["question_id"]], r.get("code")) for r in pick_typical(load_completions(), 400)]
    results, out["throughput"] = grade_timed(pairs, 2, Limits())
    out["verdicts"] = [str(r.verdict) for r in results]
print(json.dumps(out))
"""


def run_in(tree: Path, repeats: int) -> dict:
    """One measurement in a fresh interpreter importing the harness of `tree` (shared data via tree/../shared)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", ONE_RUN, str(repeats)], cwd=tree, env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def figures(d: dict) -> dict:
    o = d["overhead"]
    out = {f"{k}_{f}": o[k][f] for k in ("stdin", "function_call") for f in ("per_test_ms", "per_sample_ms")}
    if "throughput" in d:
        out["samples_per_s"] = d["throughput"]["samples_per_s"]
    return out


def medians(rows: list[dict]) -> dict:
    """Per figure, the median over the rounds of the current value, the baseline's and their ratio (verdict
    changes: the largest): one row to quote, the rounds beside it for the spread."""
    import statistics

    out: dict = {}
    for key in rows[0] if rows else []:
        if key == "verdict_changes":
            out[key] = max(r[key] for r in rows)
            continue
        out[key] = {part: (statistics.median(vals) if (vals := [r[key][part] for r in rows
                                                                if r[key][part] is not None]) else None)
                    for part in ("current", "baseline", "ratio")}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", required=True, help="git revision to compare against")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--sandbox-only", action="store_true", help="baseline = current tree + the baseline's sandbox")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--out", default=str(RESULTS / "judge_speed_compare.json"))
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lcb-baseline-") as tmp:
        base = Path(tmp) / "tree"
        (Path(tmp) / "shared").symlink_to((ROOT / ".." / "shared").resolve())  # the data, beside the tree
        made = subprocess.run(["git", "worktree", "add", "--detach", str(base), args.baseline], cwd=ROOT,
                              capture_output=True, text=True)
        if made.returncode != 0:
            print(f"error: cannot check out {args.baseline}: {made.stderr.strip()}", file=sys.stderr)
            return 2
        if args.sandbox_only:  # everything current but harness/sandbox
            for part in ("harness", "benchmarks"):
                shutil.copytree(ROOT / part, base / part, dirs_exist_ok=True,
                                ignore=lambda d, names: ["sandbox"] if Path(d) == ROOT / "harness" else [])
        try:
            rounds = [{"baseline": run_in(base, args.repeats), "current": run_in(ROOT, args.repeats)}
                      for _ in range(args.rounds)]
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, capture_output=True)
    report = {"command": "python -m benchmarks.judge_speed_compare " + " ".join(argv or sys.argv[1:]),
              "baseline": args.baseline + (" (harness/sandbox only)" if args.sandbox_only else ""), "rounds": [],
              "load_average": list(os.getloadavg())}
    for r in rounds:
        b, c = figures(r["baseline"]), figures(r["current"])
        row = {k: {"current": c[k], "baseline": b[k], "ratio": round(c[k] / b[k], 3) if b[k] else None} for k in c}
        if "verdicts" in r["current"]:
            row["verdict_changes"] = sum(x != y for x, y in zip(r["baseline"]["verdicts"], r["current"]["verdicts"]))
        report["rounds"].append(row)
        print(json.dumps(row))
    report["median"] = medians(report["rounds"])
    print("median over the rounds:", json.dumps(report["median"]))
    write_result(Path(args.out), report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
