/* Scores over a contest-date window, computed in the browser from per-problem counts (n decided, c passed).

   pass@1 = mean over problems with n > 0 of c/n, exactly as harness.scoring. The interval uses the same method as
   harness.scoring.bootstrap_mean_ci: resample the problems with replacement (10000 times by default), take the
   mean of each resample, and report the 2.5th and 97.5th percentiles with linear interpolation (numpy's default).
   Only the random stream differs (numpy's PCG64 is not reproduced here; this uses xoshiro128** seeded with the
   same seed), so the browser's interval equals harness.scoring's up to Monte Carlo error (0.12-0.15 points on
   454 x 16 runs: benchmarks/view_intervals.py; tests/harness/test_view_browser.py checks it). Over the full selection the page shows the
   interval harness.scoring computed. */
"use strict";
LCB.stats = (function () {
  function rng(seed) {
    // splitmix32 to spread the seed, then xoshiro128**: fast, 32-bit, deterministic for a given seed
    let z = (seed >>> 0) + 0x9e3779b9;
    function split() {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
      return (t ^ (t >>> 16)) >>> 0;
    }
    let a = split(), b = split(), c = split(), d = split();
    return function () {
      const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
      const t = b << 9;
      c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = rotl(d, 11);
      return r;
    };
  }
  function rotl(x, k) { return (x << k) | (x >>> (32 - k)); }

  function mean(values) {
    let s = 0;
    for (let i = 0; i < values.length; i++) s += values[i];
    return s / values.length;
  }

  function percentile(sorted, q) {
    const pos = (q / 100) * (sorted.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  }

  function bootstrapCI(values, opts) {
    const n = values.length;
    if (!n) return [null, null];
    const draws = opts.n, next = rng(opts.seed), means = new Float64Array(draws);
    const vals = Float64Array.from(values), scale = n / 4294967296;
    for (let b = 0; b < draws; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += vals[Math.floor(next() * scale)];
      means[b] = s / n;
    }
    means.sort();
    const tail = ((1 - opts.level) / 2) * 100;
    return [percentile(means, tail), percentile(means, 100 - tail)];
  }

  /* pass@1 and breakdowns of `run` on the problems whose contest date lies in [from, to] (YYYY-MM-DD, both
     inclusive), with the per-problem rates the interval is computed from (bootstrapCI, run later: it is the slow
     part). */
  function windowScores(run, from, to) {
    const problems = LCB.index.problems, rates = [], groups = {};
    let samples = 0;
    for (let k = 0; k < run.p.length; k++) {
      const p = problems[run.p[k]];
      if (run.n[k] === 0 || p.date < from || p.date > to) continue;
      const rate = run.c[k] / run.n[k];
      rates.push(rate);
      samples += run.n[k];
      [p.difficulty, p.platform].forEach(function (key) { (groups[key] = groups[key] || []).push(rate); });
    }
    const by = {};
    Object.keys(groups).forEach(function (key) { by[key] = { pass1: mean(groups[key]), n: groups[key].length }; });
    return { pass1: rates.length ? mean(rates) : null, rates: rates, n_problems: rates.length, n_samples: samples,
      by: by };
  }

  return { rng: rng, mean: mean, percentile: percentile, bootstrapCI: bootstrapCI, windowScores: windowScores };
})();
