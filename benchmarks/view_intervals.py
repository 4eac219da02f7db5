"""How closely the viewer's in-browser window scores match harness.scoring on real data: the five official dev runs
(../shared/lcb/completions_dev.jsonl, imported as in benchmarks/dev_leaderboard.py) built into a site, the
contest-date slider moved to a few windows in headless Chromium, and every row's pass@1 and 95% interval compared with
harness.scoring.summarize on the same problems.

    .venv/bin/python -m benchmarks.view_intervals [--source dev|synthetic] [--out FILE]

`--source synthetic` uses two synthetic 454-problem x 16-sample runs (benchmarks/view_runs.py) instead: finer pass
rates than the dev runs' one sample per problem (no ../shared needed).

pass@1 must agree exactly (same arithmetic); the interval uses the same bootstrap method with another random stream,
so the differences printed are Monte Carlo error. Needs ../shared/lcb and Chromium. Does not cover: speed
(benchmarks/view_speed.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from benchmarks.common import shared_missing
from benchmarks.dev_leaderboard import build_runs
from benchmarks.headless_chromium import Chromium, find_chromium
from benchmarks.view_runs import synthetic_dataset, v6_like_problems, write_run
from harness.records import RunDir
from harness.scoring import summarize
from harness.view.build import build_site
from harness.view.collect import summary_fields

ROOT = Path(__file__).resolve().parents[1]
WINDOWS = (("2024-08-01", "2025-01-31"), ("2025-02-01", "2025-05-01"), ("2024-10-01", "2024-12-31"))
ROWS = """Array.from(document.querySelectorAll('tr.run')).map(tr => {
    const ci = tr.querySelector('.ci');
    return [tr.dataset.run, +tr.querySelector('.pass1').dataset.value, +ci.dataset.low, +ci.dataset.high]; })"""


def move_slider(browser: Chromium, start: str, end: str) -> tuple[str, str]:
    """Put the handles on the first problem date >= start and the last <= end; returns the dates they stand on."""
    dates = browser.evaluate("LCB.index.dates")
    lo = next(i for i, d in enumerate(dates) if d >= start)
    hi = max(i for i, d in enumerate(dates) if d <= end)
    # the handles never cross (the one moved is stopped at the other): open the window fully first
    lo_now, hi_now = browser.evaluate(f"""(() => {{ const a = document.getElementById('win-lo'),
        b = document.getElementById('win-hi'); const set = (el, v) => {{ el.value = v; el.dispatchEvent(new Event('input')); }};
        set(a, 0); set(b, {len(dates) - 1}); set(b, {hi}); set(a, {lo}); return [+a.value, +b.value]; }})()""")
    browser.wait_for("document.body.dataset.intervals === 'ready'", timeout_s=300)
    return dates[lo_now], dates[hi_now]  # where the handles are, so a slider bug cannot hide behind this script


def _runs(source: str, tmp: Path) -> list[RunDir]:
    if source == "dev":
        return [RunDir(p) for p in build_runs(tmp)]
    problems = v6_like_problems(454)
    dataset = synthetic_dataset(problems)
    return [write_run(tmp / f"syn{i}", problems, dataset, n_samples=16, skill=skill, seed=i, label=f"Synthetic {i}")
            for i, skill in enumerate((0.55, 0.45))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", choices=("dev", "synthetic"), default="dev")
    p.add_argument("--out", type=Path, help="default: benchmarks/results/view_intervals[_synthetic].json")
    args = p.parse_args(argv)
    suffix = "" if args.source == "dev" else "_synthetic"
    args.out = args.out or ROOT / "benchmarks" / "results" / f"view_intervals{suffix}.json"
    why = (shared_missing() if args.source == "dev" else None) or (
        None if find_chromium() else "no Chromium found (Debian's chromium or $LCB_CHROMIUM)")
    if why:
        print(f"error: {why}", file=sys.stderr)
        return 2
    result: dict = {"source": args.source, "windows": []}
    with tempfile.TemporaryDirectory() as tmp, Chromium(find_chromium()) as browser:
        runs = _runs(args.source, Path(tmp))
        build_site([r.path for r in runs], Path(tmp) / "site")
        browser.goto((Path(tmp) / "site" / "index.html").as_uri())
        browser.wait_for("document.querySelectorAll('tr.run').length")
        for start, end in WINDOWS:
            lo, hi = move_slider(browser, start, end)
            rows = {r[0]: r[1:] for r in browser.evaluate(ROWS)}
            diffs = {"pass1": 0.0, "ci": 0.0}
            for i, run in enumerate(runs):
                s = summary_fields(summarize(r for r in run.iter_samples() if lo <= r.contest_date[:10] <= hi))
                got = rows[f"r{i}"]
                diffs["pass1"] = max(diffs["pass1"], abs(got[0] - s["pass@1"]))
                diffs["ci"] = max(diffs["ci"], abs(got[1] - s["ci95"]["low"]), abs(got[2] - s["ci95"]["high"]))
            result["windows"].append({"window": [lo, hi], "n_problems": s["n_problems"], "runs": len(runs),
                                      "max_abs_diff_pass1_points": round(100 * diffs["pass1"], 12),
                                      "max_abs_diff_ci_bound_points": round(100 * diffs["ci"], 3)})
        if browser.errors:
            print(f"error: JavaScript errors: {browser.errors[:3]}", file=sys.stderr)
            return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0 if all(w["max_abs_diff_pass1_points"] == 0 for w in result["windows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
