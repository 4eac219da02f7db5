"""How fast the viewer opens a full-size run: a synthetic 454-problem x 16-sample run (two of them, so the compare
page has a pair) built into a site and opened from disk in headless Chromium, timed by the page's own performance
marks (`lcb-first-render` when the page's HTML is in place, `lcb-first-paint` after the next frame), each page opened
fresh `--repeat` times (median). Baseline measured in the same run: the same pages on a 15-problem x 4-sample site.

    .venv/bin/python -m benchmarks.view_speed [--repeat 3] [--out benchmarks/results/view_speed.json]

Also times one slider move on the full-size leaderboard (pass@1 and a 10,000-resample bootstrap per run recomputed
in the browser) and the site build. Needs Chromium (Debian's `chromium`, or $LCB_CHROMIUM). Does not cover: network
or server latency (there is none: the site is files).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.headless_chromium import Chromium, find_chromium
from benchmarks.view_runs import synthetic_dataset, v6_like_problems, write_run
from harness.view.build import build_site

ROOT = Path(__file__).resolve().parents[1]
LIMIT_S = 2.0  # issue 14: a 454 x 16 run opens in under 2 s


def make_site(work: Path, n_problems: int, n_samples: int, raw_chars: int) -> tuple[Path, float]:
    problems = v6_like_problems(n_problems)
    dataset = synthetic_dataset(problems)
    runs = [write_run(work / f"run{i}", problems, dataset, n_samples=n_samples, skill=skill, seed=i, label=label,
                      release_date=release, raw_chars=raw_chars)
            for i, (label, skill, release) in enumerate([("Model A", 0.55, "2025-01-20"), ("Model B", 0.5, None)])]
    started = time.perf_counter()
    build_site([r.path for r in runs], work / "site")
    return work / "site", time.perf_counter() - started


def time_pages(browser: Chromium, site: Path, repeat: int) -> dict:
    """Median ms to first render / first paint of each page, each opened fresh (a new document every time)."""
    index = (site / "index.html").as_uri()
    pages = {"leaderboard": "#/", "run": "#/run/r0", "compare": "#/compare/r0/r1",
             "sample": "#/sample/r0/0/0"}
    out = {}
    for name, frag in pages.items():
        render, paint, rows = [], [], []
        mark = "lcb-sample-shown" if name == "sample" else "lcb-first-paint"
        for _ in range(repeat):
            browser.goto("about:blank")
            browser.goto(index + frag)
            browser.wait_for(f"performance.getEntriesByName('{mark}').length")
            render.append(browser.evaluate("performance.getEntriesByName('lcb-first-render')[0].startTime"))
            paint.append(browser.evaluate(f"performance.getEntriesByName('{mark}')[0].startTime"))
            if name == "run":  # rows after the first screenful are added on the next tasks
                browser.wait_for("performance.getEntriesByName('lcb-rows-complete').length")
                rows.append(browser.evaluate("performance.getEntriesByName('lcb-rows-complete')[0].startTime"))
        out[name] = {"first_render_ms": round(statistics.median(render), 1),
                     ("shown_ms" if name == "sample" else "first_paint_ms"): round(statistics.median(paint), 1)}
        if rows:
            out[name]["all_rows_ms"] = round(statistics.median(rows), 1)
    return out


def time_slider(browser: Chromium, site: Path, repeat: int) -> dict:
    """Median ms for one slider move: until pass@1 is shown (synchronous, in the input handler) and until every
    interval is (the bootstrap runs once the slider rests, ~120 ms later, included)."""
    browser.goto((site / "index.html").as_uri() + "#/")
    browser.wait_for("performance.getEntriesByName('lcb-first-paint').length")
    shown, ready = [], []
    for k in range(repeat):
        t = browser.evaluate(f"""new Promise(resolve => {{
            const lo = document.getElementById('win-lo'); const t0 = performance.now();
            lo.value = {10 + k}; lo.dispatchEvent(new Event('input'));
            const t1 = performance.now() - t0;
            const poll = () => document.body.dataset.intervals === 'ready' ? resolve([t1, performance.now() - t0])
                                                                               : setTimeout(poll, 5);
            poll(); }})""")
        shown.append(t[0])
        ready.append(t[1])
    return {"pass1_shown_ms": round(statistics.median(shown), 1),
            "intervals_ready_ms": round(statistics.median(ready), 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--raw-chars", type=int, default=4000, help="reasoning characters per synthetic sample")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "view_speed.json")
    args = p.parse_args(argv)
    binary = find_chromium()
    if binary is None:
        print("error: no Chromium found (install Debian's chromium or set LCB_CHROMIUM)", file=sys.stderr)
        return 2
    result: dict = {"chromium": binary, "repeat": args.repeat, "limit_s": LIMIT_S}
    with tempfile.TemporaryDirectory() as tmp, Chromium(binary) as browser:
        for name, (n_problems, n_samples) in (("baseline_15x4", (15, 4)), ("full_454x16", (454, 16))):
            site, build_s = make_site(Path(tmp) / name, n_problems, n_samples, args.raw_chars)
            result[name] = {"problems": n_problems, "samples_per_problem": n_samples, "runs": 2,
                            "build_s": round(build_s, 2), "index_js_kb": round((site / "data" / "index.js").stat().st_size
                                                                                / 1024, 1),
                            "pages": time_pages(browser, site, args.repeat),
                            "slider_move": time_slider(browser, site, args.repeat)}
        if browser.errors:
            print(f"error: JavaScript errors: {browser.errors[:3]}", file=sys.stderr)
            return 1
    full, base = result["full_454x16"]["pages"], result["baseline_15x4"]["pages"]
    result["ratio_full_over_baseline"] = {k: round(full[k]["first_render_ms"] / base[k]["first_render_ms"], 2)
                                          for k in full}
    slowest = max(v.get("first_paint_ms", v.get("shown_ms")) for v in full.values()) / 1000
    result["slowest_page_s"] = round(slowest, 3)
    result["under_limit"] = slowest < LIMIT_S
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0 if result["under_limit"] else 1


if __name__ == "__main__":
    sys.exit(main())
