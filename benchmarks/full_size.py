"""Full-size hidden tests: load time, memory and grading throughput on a synthetic release_v6 at the hub's sizes.

    .venv/bin/python -m benchmarks.full_size                       # the real sizes (a few minutes on 2 cores)
    .venv/bin/python -m benchmarks.full_size --scale 0.01          # the same shape, 1% of the bytes
    .venv/bin/python -m benchmarks.full_size --harness-path DIR    # measure another checkout's harness (before/after)

The set (benchmarks/full_size_data.py): 454 problems in the v6 window with ~4 MB of hidden tests each (inputs up to
10 MB, some problems with 50+ tests, stdin and function-call) plus 601 rows outside it, six shards in the official
encoding, written to a temporary folder (or --work DIR, kept and reused; never inside the repository).
Each measurement runs in a fresh process (peak RSS = that process's own ru_maxrss; candidates are not counted):
1. cold load: `load_problems(folder, "release_v6", 2024-08-01, 2025-05-01)` with an empty problem cache
   (LCB_HARNESS_CACHE under the work folder); then "first use": every problem's hidden tests touched once, as an
   eval does (decoding them). The shards themselves are in the OS page cache (just written): "cold" means our
   cache is empty, not the disk.
2. warm load: the same load again, then every problem's hidden tests touched again.
3. grading: the `--grade` problems with the most test bytes, each graded once through `harness.judge.Judge` (local
   sandbox, `--workers`) with a trivial correct program (echo stdin / return the argument); every sample must pass.
   Baseline in the same run: the same programs run on the same inputs by plain `subprocess.run` (no judge).
Ratios are printed against the targets: cold load <= 30 s, warm load <= 3 s, judge RSS <= 500 MB with 2 workers.
A figure over its target is reported as such (exit 0: this is a measurement); a failed sample or child exits 1.

Not covered: the real hub data (not downloadable here); the candidates' own memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

THIS = Path(__file__).resolve()
REPO = THIS.parents[1]
sys.path.insert(0, str(THIS.parent))  # run as a script (children, --harness-path): full_size_data is a sibling
import full_size_data as data

WINDOW = ("release_v6", "2024-08-01", "2025-05-01")
TARGETS = {"cold_load_s": 30.0, "warm_load_s": 3.0, "judge_peak_rss_mb": 500.0}
CACHE_ENV = "LCB_HARNESS_CACHE"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_load(folder: str, touch: bool) -> dict:
    from harness.problems import load_problems

    t0 = time.perf_counter()
    selection = load_problems(folder, *WINDOW)
    out = {"load_s": time.perf_counter() - t0, "n_problems": len(selection), "content_hash": selection.content_hash,
           "load_peak_rss_mb": _peak_rss_mb()}
    if touch:
        t0, n_tests, n_bytes = time.perf_counter(), 0, 0
        for problem in selection:
            tests = problem.private_tests
            n_tests += len(tests)
            n_bytes += sum(len(t.input) + len(t.output) for t in tests)
            del tests
        out.update(touch_s=time.perf_counter() - t0, hidden_tests=n_tests, hidden_chars=n_bytes,
                   touch_peak_rss_mb=_peak_rss_mb())
    return out


def pick(spec: data.SetSpec, n: int) -> list[str]:
    """The n problems with the most hidden test bytes, stdin and function-call in the official proportion."""
    totals = data.problem_totals(spec)
    ranked = sorted(range(spec.n_window), key=lambda i: (-totals[i], i))
    n_func = round(n * data.FUNCTIONAL_SHARE)
    chosen = [i for i in ranked if data.is_functional(i)][:n_func] + [i for i in ranked if not data.is_functional(i)][
        :n - n_func]
    return [data.qid(i) for i in sorted(chosen)]


def child_grade(folder: str, ids: list[str], workers: int) -> dict:
    from harness.judge import Judge
    from harness.problems import load_problems

    selection = load_problems(folder, *WINDOW)
    rss_before = _peak_rss_mb()
    problems = [selection.by_id[q] for q in ids]
    t0 = time.perf_counter()
    with Judge(workers=workers) as judge:
        results = list(judge.grade_many((p, data.FUNC_ECHO if p.is_functional else data.STDIN_ECHO)
                                        for p in problems))
    wall = time.perf_counter() - t0
    failed = [f"{p.question_id}: {r.verdict} {r.detail[:200]}" for p, r in zip(problems, results)
              if str(r.verdict) != "passed"]
    return {"question_ids": ids, "samples": len(results), "tests": sum(r.tests_run for r in results),
            "grade_s": wall, "failed": failed, "judge_peak_rss_mb": _peak_rss_mb(),
            "peak_rss_before_grading_mb": rss_before}


def child_direct(folder: str, ids: list[str], workers: int) -> dict:
    """The floor: the same programs on the same inputs through plain subprocess.run, `workers` at a time."""
    from harness.problems import load_problems

    selection = load_problems(folder, *WINDOW)
    driver = "import sys, json\nsys.stdout.write(json.dumps(json.loads(sys.stdin.readline())))\n"

    def run_problem(qid: str) -> int:
        problem = selection.by_id[qid]
        code = driver if problem.is_functional else data.STDIN_ECHO
        for test in problem.tests:
            subprocess.run([sys.executable, "-c", code], input=test.input.encode(), capture_output=True, check=True)
        return len(problem.tests)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        n_tests = sum(pool.map(run_problem, ids))
    return {"direct_s": time.perf_counter() - t0, "tests": n_tests}


def _child(args: list[str], env: dict, timeout: float = 3600) -> dict:
    proc = subprocess.run([sys.executable, str(THIS), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"child {args[0]} failed (exit {proc.returncode}): " + " | ".join(tail))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _env(cache: Path, harness_path: str | None) -> dict:
    env = dict(os.environ, **{CACHE_ENV: str(cache)})
    env["PYTHONPATH"] = os.pathsep.join(p for p in (harness_path or str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def measure(work: Path, spec: data.SetSpec, n_grade: int, workers: int, jobs: int, harness_path: str | None) -> dict:
    folder, cache = work / "data", work / "cache"
    t0 = time.perf_counter()
    info = data.generate(folder, spec, jobs)
    out: dict = {"set": info, "generate_s": round(time.perf_counter() - t0, 1), "harness": harness_path or str(REPO),
                 "cores": os.cpu_count(), "load_avg_start": os.getloadavg()[0]}
    shutil.rmtree(cache, ignore_errors=True)
    env = _env(cache, harness_path)
    out["cold"] = _child(["child-load", str(folder), "--touch"], env)
    out["warm"] = _child(["child-load", str(folder), "--touch"], env)
    if out["cold"]["content_hash"] != out["warm"]["content_hash"]:
        raise RuntimeError("the content hash differs between the cold and the warm load")
    if n_grade:
        ids = json.dumps(pick(spec, n_grade))
        grade = _child(["child-grade", str(folder), ids, str(workers)], env)
        direct = _child(["child-direct", str(folder), ids, str(workers)], env)
        grade["direct_s"] = direct["direct_s"]
        out["grade"] = grade
    out["load_avg_end"] = os.getloadavg()[0]
    return out


def _ratio(value: float, target: float) -> str:
    verdict = "meets" if value <= target else "MISSES"
    return f"{value:.2f} (target {target:g}: {value / target:.2f}x, {verdict})"


def report(out: dict) -> str:
    s, cold, warm = out["set"], out["cold"], out["warm"]
    n_window = s["spec"]["n_window"]
    lines = [
        (f"harness: {out['harness']}; machine load average {out['load_avg_start']:.1f} at the start, "
         f"{out['load_avg_end']:.1f} at the end, on {out['cores']} cores"),
        (f"set: {n_window} problems in the window ({s['window_hidden_bytes'] / 1e9:.2f} GB of hidden tests, "
         f"{s['window_hidden_bytes'] / max(1, n_window) / 1e6:.2f} MB per problem) + {s['spec']['n_outside']} "
         f"outside; shards {s['shard_bytes'] / 1e6:.0f} MB; generated in {out['generate_s']} s"),
        (f"cold load s: {_ratio(cold['load_s'], TARGETS['cold_load_s'])}; peak RSS "
         f"{cold['load_peak_rss_mb']:.0f} MB; {cold['n_problems']} problems"),
        f"warm load s: {_ratio(warm['load_s'], TARGETS['warm_load_s'])}; peak RSS {warm['load_peak_rss_mb']:.0f} MB",
        (f"first use of every problem's hidden tests: cold {cold['touch_s']:.1f} s (peak RSS "
         f"{cold['touch_peak_rss_mb']:.0f} MB), warm {warm['touch_s']:.1f} s (peak RSS "
         f"{warm['touch_peak_rss_mb']:.0f} MB); {cold['hidden_tests']} tests, {cold['hidden_chars'] / 1e9:.2f} G chars"),
    ]
    if "grade" in out:
        g = out["grade"]
        lines += [
            (f"grading: {g['samples']} samples, {g['tests']} tests in {g['grade_s']:.1f} s "
             f"({g['samples'] / g['grade_s']:.2f} samples/s); baseline (python per test via subprocess.run) "
             f"{g['direct_s']:.1f} s (judge / baseline {g['grade_s'] / max(g['direct_s'], 1e-9):.2f}x); "
             f"failed samples: {len(g['failed'])}"),
            (f"judge peak RSS MB: {_ratio(g['judge_peak_rss_mb'], TARGETS['judge_peak_rss_mb'])} "
             f"(after loading, before grading {g['peak_rss_before_grading_mb']:.0f} MB)"),
        ]
        lines += [f"  FAILED {f}" for f in g["failed"]]
    return "\n".join(lines)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0].startswith("child-"):
        return _run_child(argv)
    p = argparse.ArgumentParser(prog="python -m benchmarks.full_size", description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=1.0, help="bytes of tests relative to the hub's (default 1)")
    p.add_argument("--problems", type=int, default=454, help="problems in the v6 window")
    p.add_argument("--outside", type=int, default=601, help="rows outside the window")
    p.add_argument("--grade", type=int, default=20, help="problems graded (0: skip grading)")
    p.add_argument("--workers", type=int, default=2, help="judge workers")
    p.add_argument("--jobs", type=int, default=2, help="processes generating the set")
    p.add_argument("--work", default=None, help="folder for the set and the cache (kept and reused; default: a "
                   "temporary folder, removed)")
    p.add_argument("--harness-path", default=None, help="import harness from this checkout instead")
    p.add_argument("--out", default=None, help="also write the figures as JSON here")
    args = p.parse_args(argv)
    if args.scale <= 0 or args.problems < 1 or args.outside < 0 or args.grade < 0 or args.workers < 1:
        print("error: --scale, --problems and --workers must be positive; --outside and --grade >= 0",
              file=sys.stderr)
        return 2
    work = Path(args.work).resolve() if args.work else Path(tempfile.mkdtemp(prefix="lcb-full-size-"))
    if _inside(work, REPO):
        print(f"error: --work {work} is inside the repository; choose a folder outside it", file=sys.stderr)
        return 2
    spec = data.SetSpec(n_window=args.problems, n_outside=args.outside).scaled(args.scale)
    try:
        out = measure(work, spec, min(args.grade, args.problems), args.workers, args.jobs, args.harness_path)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    out["command"] = "python -m benchmarks.full_size " + " ".join(argv)
    print(report(out))
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 1 if out.get("grade", {}).get("failed") else 0


def _run_child(argv: list[str]) -> int:
    kind, folder, *rest = argv
    if kind == "child-load":
        result = child_load(folder, touch="--touch" in rest)
    elif kind == "child-grade":
        result = child_grade(folder, json.loads(rest[0]), int(rest[1]))
    else:
        result = child_direct(folder, json.loads(rest[0]), int(rest[1]))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
