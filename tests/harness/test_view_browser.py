"""harness.view in a real browser (headless Chromium over the DevTools pipe, benchmarks/headless_chromium.py): the
site built from fixture runs, runs on the embedded sample problems (one sample graded by the real judge) and a
120-problem synthetic set. It moves the contest-date slider and checks every recomputed pass@1 (exactly) and interval
(to Monte Carlo tolerance: same bootstrap method, another random stream) against harness.scoring on the same window,
checks the contamination flag, the run page's grid and filters, the failing sample's first differing line, and the
compare page's numbers against harness.scoring.compare_runs. Screenshots go to tmp_path, and also to
$LCB_VIEW_SCREENSHOTS when set (README's pictures: docs/screenshots). Skips, saying why, only without Chromium."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from benchmarks.headless_chromium import Chromium, find_chromium
from benchmarks.view_runs import synthetic_dataset, v6_like_problems, write_run
from harness.judge import grade
from harness.pipeline import make_record
from harness.problems import load_problems
from harness.records import RunDir
from harness.scoring import compare_runs
from harness.scoring import summarize as _summarize
from harness.view.build import build_site
from harness.view.collect import summary_fields


def summarize(records):
    """harness.scoring.summarize as its published JSON keys (a dict, or a typed RunSummary dumped)."""
    return summary_fields(_summarize(records))


FIXTURES = Path(__file__).resolve().parent / "fixtures" / "runs"
CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (install Debian's chromium, as .ci/run "
                                                          "does, or set LCB_CHROMIUM)")
WRONG = "print('Mon 45')\nprint('Wed 40')\nprint('Sun 120')\n"  # smp013's first example wants 'Wed 45' on line 2
CI_TOLERANCE = 0.012  # Monte Carlo error of two 10,000-resample bootstraps on ~60 problems is ~0.002 (see stats.js)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("view")
    ps = load_problems("sample", "release_v6", "2024-08-01", "2025-05-01")
    smp013 = ps.by_id["smp013"]
    graded = make_record(smp013, _Completion(0, f"<think>\nhmm\n</think>\n```python\n{WRONG}```"), WRONG,
                         grade(smp013, WRONG))
    assert graded.verdict == "wrong_answer"
    sample_set = synthetic_dataset(ps.problems, ps.content_hash, spec="sample")
    syn = v6_like_problems(120, seed=5)
    syn_set = synthetic_dataset(syn, "a" * 64)
    runs = [write_run(tmp / "sa", ps.problems, sample_set, n_samples=4, skill=0.5, seed=1, label="Sample A",
                      release_date="2024-10-01", overrides={("smp013", 0): graded}),
            write_run(tmp / "sb", ps.problems, sample_set, n_samples=4, skill=0.4, seed=2, label="Sample B"),
            write_run(tmp / "ya", syn, syn_set, n_samples=4, skill=0.6, seed=3, label="Synthetic A"),
            write_run(tmp / "yb", syn, syn_set, n_samples=4, skill=0.45, seed=4, label="Synthetic B"),
            RunDir(FIXTURES / "run_a"), RunDir(FIXTURES / "run_b")]
    build_site([r.path for r in runs], tmp / "site")
    return {"url": (tmp / "site" / "index.html").as_uri(), "runs": runs}


class _Completion:  # the two fields make_record reads from a backend's Completion
    def __init__(self, sample_idx, text):
        self.sample_idx, self.text = sample_idx, text
        self.finish_reason, self.prompt_tokens, self.completion_tokens, self.skipped_reason = "stop", None, None, None


@pytest.fixture(scope="module")
def browser():
    with Chromium(CHROMIUM) as b:
        yield b
        assert not b.errors, f"JavaScript errors: {b.errors}"


def shoot(browser, tmp_path, name, from_selector=None, max_height=900):
    path = browser.screenshot(tmp_path / f"{name}.png", from_selector=from_selector, max_height=max_height)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    target = os.environ.get("LCB_VIEW_SCREENSHOTS")
    if target:
        browser.screenshot(Path(target) / f"{name}.png", from_selector=from_selector, max_height=max_height)


def open_page(browser, site, frag, ready):
    browser.goto("about:blank")
    browser.goto(site["url"] + frag)
    return browser.wait_for(ready)


def table_rows(browser):
    return browser.evaluate("""Array.from(document.querySelectorAll('tr.run')).map(tr => {
        const ci = tr.querySelector('.ci');
        return {run: tr.dataset.run, pass1: +tr.querySelector('.pass1').dataset.value,
                low: ci && ci.dataset.low !== undefined ? +ci.dataset.low : null,
                high: ci && ci.dataset.high !== undefined ? +ci.dataset.high : null,
                n: +tr.querySelector('.nprob').textContent, flag: tr.querySelector('.flagcell').textContent,
                group: tr.closest('section').dataset.group}; })""")


ROWS_DONE = ("document.getElementById('problem-rows') && document.getElementById('problem-rows').dataset.complete"
             " === '1' && document.querySelectorAll('#problem-rows tr').length")


def window_records(run, start, end):
    return [r for r in run.iter_samples() if start <= r.contest_date[:10] <= end]


def test_slider_recomputes_pass1_and_interval_like_harness_scoring(site, browser, tmp_path):
    open_page(browser, site, "#/", "document.querySelectorAll('tr.run').length")
    full = {r["run"]: r for r in table_rows(browser)}
    for i, run in enumerate(site["runs"]):
        s = summarize(run.iter_samples())
        row = full[f"r{i}"]
        assert row["pass1"] == pytest.approx(s["pass@1"], abs=1e-12)  # whole window: harness.scoring's own numbers
        assert (row["low"], row["high"]) == (s["ci95"]["low"], s["ci95"]["high"])
    assert len({r["group"] for r in full.values()}) == 3  # sample set, synthetic set, fixture set: ranked apart
    assert "possibly contaminated" in full["r0"]["flag"]  # released 2024-10-01, window starts in 2024-08
    dates = browser.evaluate("LCB.index.dates")
    lo = next(i for i, d in enumerate(dates) if d >= "2024-10-15")
    hi = next(i for i, d in enumerate(dates) if d >= "2025-03-01")
    browser.evaluate(f"""(() => {{ const a = document.getElementById('win-lo'), b = document.getElementById('win-hi');
        a.value = {lo}; a.dispatchEvent(new Event('input')); b.value = {hi}; b.dispatchEvent(new Event('input'));
        }})()""")
    browser.wait_for("document.body.dataset.intervals === 'ready'")
    moved = {r["run"]: r for r in table_rows(browser)}
    for i, run in enumerate(site["runs"]):
        recs = window_records(run, dates[lo], dates[hi])
        s = summarize(recs)
        row = moved[f"r{i}"]
        assert row["n"] == s["n_problems"]
        assert row["pass1"] == pytest.approx(s["pass@1"], abs=1e-12)
        if s["n_problems"] >= 40:  # the synthetic set: enough problems for a near-continuous bootstrap
            assert row["low"] == pytest.approx(s["ci95"]["low"], abs=CI_TOLERANCE)
            assert row["high"] == pytest.approx(s["ci95"]["high"], abs=CI_TOLERANCE)
            assert abs(row["low"] - full[f"r{i}"]["low"]) > 2 * CI_TOLERANCE or \
                abs(row["high"] - full[f"r{i}"]["high"]) > 2 * CI_TOLERANCE  # really recomputed
    assert moved["r0"]["flag"] == ""  # the window now starts after the release
    shoot(browser, tmp_path, "leaderboard")


def test_browser_bootstrap_pieces_match_numpy(browser, site):
    open_page(browser, site, "#/", "document.querySelectorAll('tr.run').length")
    values = [0.0, 0.25, 0.5, 1.0, 0.75, 0.1, 0.9, 0.33]
    got = browser.evaluate(f"LCB.stats.percentile(Float64Array.from({values}).sort(), 2.5)")
    assert got == pytest.approx(float(np.percentile(values, 2.5)), abs=1e-15)
    rates = list(np.random.default_rng(7).random(200))
    low, high = browser.evaluate(f"LCB.stats.bootstrapCI({json.dumps(rates)}, {{seed: 0, n: 10000, level: 0.95}})")
    from harness.scoring import bootstrap_mean_ci
    ref = bootstrap_mean_ci(rates)
    assert (low, high) == pytest.approx(ref, abs=0.006)


def test_run_page_grid_and_filters(site, browser, tmp_path):
    n_rows = open_page(browser, site, "#/run/r2", ROWS_DONE)
    recs = list(site["runs"][2].iter_samples())
    assert n_rows == 120
    assert browser.evaluate("document.querySelectorAll('#problem-rows .v').length") == len(recs)
    assert browser.evaluate("document.querySelectorAll('#problem-rows .v-P').length") == sum(r.passed for r in recs)
    hard = len({r.question_id for r in recs if r.difficulty == "hard"})
    browser.evaluate("(() => { const s = document.getElementById('f-difficulty'); s.value = 'hard';"
                     " s.dispatchEvent(new Event('change')); })()")
    assert browser.wait_for(ROWS_DONE) == hard
    months = browser.evaluate("Array.from(document.querySelectorAll('table.months tr[data-month]')).map("
                              "tr => [tr.dataset.month, +tr.children[1].textContent])")
    assert sum(n for _, n in months) == 120
    open_page(browser, site, "#/run/r0", ROWS_DONE)
    shoot(browser, tmp_path, "run", from_selector=".filters", max_height=560)


def test_failing_sample_marks_the_first_differing_line(site, browser, tmp_path):
    pos = open_page(browser, site, "#/", "window.LCB && LCB.index && "
                    "LCB.index.problems.findIndex(p => p.id === 'smp013') + 1") - 1
    marked = open_page(browser, site, f"#/sample/r0/{pos}/0",
                       "document.querySelector('.actual .first-diff') && "
                       "[document.querySelector('.expected .first-diff').textContent, "
                       "document.querySelector('.actual .first-diff').textContent]")
    assert marked == ["2Wed 45", "2Wed 40"]  # line number, then the line: the judge said "line 2"
    page = browser.evaluate("document.getElementById('app').innerText")
    assert "Mon 45" in page and "Input" in page
    assert browser.evaluate("document.querySelector('details.prompt') !== null")  # the run's own problems: prompt
    assert browser.evaluate("document.querySelectorAll('.missing').length") == 0  # and test heads are shown
    assert browser.evaluate("document.querySelector('details.think').open") is False
    assert browser.evaluate("document.querySelectorAll('pre.code .cl').length") == WRONG.count("\n")
    shoot(browser, tmp_path, "sample", max_height=700)
    shoot(browser, tmp_path, "sample_failing_test", from_selector=".failing", max_height=400)
    # a fixture run's sample: no problems to read, so the page says what is not recorded
    open_page(browser, site, "#/run/r4", ROWS_DONE)
    href = browser.evaluate("document.querySelector('#problem-rows a.v-W, #problem-rows a.v-R').getAttribute('href')")
    text = open_page(browser, site, href, "document.querySelector('.facts') && document.getElementById('app').innerText")
    assert "prompt not recorded in samples.jsonl" in text
    # a timeout or a crash is not an answer: nothing is marked as differing, even with the expected output shown
    open_page(browser, site, "#/run/r0", ROWS_DONE)
    hrefs = browser.evaluate("Array.from(document.querySelectorAll('#problem-rows a.v-T, #problem-rows a.v-R'))"
                             ".map(a => a.getAttribute('href'))")
    checked = 0
    for href in hrefs:
        open_page(browser, site, href, "!!document.querySelector('.failing')")
        if browser.evaluate("!!document.querySelector('.expected pre.lines')"):
            assert browser.evaluate("document.querySelectorAll('.first-diff, .diffnote').length") == 0
            checked += 1
    assert checked > 0
    # the JS rule for the first differing line: the judge's line when it names one, else stripped lines compared
    first_diff = "LCB.pages.sample.firstDiff"
    assert browser.evaluate(f"{first_diff}(\"line 3: expected '1', got '2'\", null, null).line") == 3
    assert browser.evaluate(f"{first_diff}('expected 2 line(s), got 5', null, null).line") == 3
    assert browser.evaluate(f"{first_diff}('', 'a\\n b \\nc', 'a\\nb\\nd').line") == 3


def test_compare_page_uses_the_paired_comparison(site, browser, tmp_path):
    open_page(browser, site, "#/compare/r2/r3", "!!document.querySelector('#pair')")
    a, b = site["runs"][2], site["runs"][3]
    expected = summary_fields(compare_runs(a.iter_samples(), b.iter_samples()))
    assert browser.evaluate("+document.querySelector('#pair .delta').dataset.value") == pytest.approx(
        expected["delta"], abs=1e-12)
    assert browser.evaluate("+document.querySelector('#pair .pvalue').dataset.value") == expected["p_value"]
    rates = [summarize(r.iter_samples()) for r in (a, b)]
    assert rates[0]["pass@1"] == pytest.approx(expected["pass@1_a"])
    only_a = _solved(a) - _solved(b)
    assert browser.evaluate("document.querySelectorAll('tr.side-a').length") == len(only_a)
    flipped = open_page(browser, site, "#/compare/r3/r2", "document.querySelector('#pair .delta')"
                        " && +document.querySelector('#pair .delta').dataset.value")
    assert flipped == pytest.approx(-expected["delta"], abs=1e-12)
    shoot(browser, tmp_path, "compare")


def _solved(run):
    return {r.question_id for r in run.iter_samples() if r.passed}
