/* Leaderboard page: one table per problem set (only runs on the same problems are ranked together, as in the
   markdown leaderboard), the published rows, and a two-handled contest-date slider that recomputes every run's
   pass@1, interval and breakdowns over the window (LCB.stats). A row is flagged when the window starts before its
   model's release date (the model may have seen those problems). */
"use strict";
(function () {
  const state = { lo: null, hi: null, cache: {}, ci: {}, timer: null };
  const DIFFS = ["easy", "medium", "hard"];

  function windowOf() {
    const d = LCB.index.dates;
    return { from: d[state.lo], to: d[state.hi], full: state.lo === 0 && state.hi === d.length - 1 };
  }

  function scores(run, w) {
    const key = run.id + "|" + w.from + "|" + w.to;
    if (!state.cache[key]) state.cache[key] = LCB.stats.windowScores(run, w.from, w.to);
    const s = state.cache[key];
    if (w.full) return Object.assign({ ci: run.ci, ciFrom: "harness.scoring" }, s);
    return Object.assign({ ci: state.ci[key] || null, ciFrom: "the browser" }, s);
  }

  /* The bootstrap takes ~0.1-0.4 s per full-size run: pass@1 follows the slider at once, the intervals are
     computed once it rests (the rows show "…" meanwhile; body[data-intervals] says "pending" or "ready"). */
  function fillIntervals(w) {
    const b = LCB.index.bootstrap;
    LCB.index.runs.forEach(function (run) {
      const key = run.id + "|" + w.from + "|" + w.to;
      if (!state.ci[key]) state.ci[key] = LCB.stats.bootstrapCI(scores(run, w).rates, { seed: b.seed, n: b.n, level: b.level });
    });
    renderTables();
  }

  function flag(release, w) {
    if (!release) return '<span class="muted">release unknown</span>';
    return release > w.from ? '<span class="flag" title="the window starts before the model\'s release: it may ' +
      'have seen these problems">window starts before release ' + LCB.esc(release) + ": possibly contaminated</span>" : "";
  }

  function rankRows(rows) {
    rows.sort(function (a, b) { return (b.pass1 - a.pass1) || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0); });
    rows.forEach(function (r, i) { r.rank = i > 0 && r.pass1 === rows[i - 1].pass1 ? rows[i - 1].rank : i + 1; });
    return rows;
  }

  function platforms() {
    return Array.from(new Set(LCB.index.problems.map(function (p) { return p.platform; }))).sort();
  }

  function runRow(r, w, plats) {
    const s = r.s;
    const by = function (k) { return s.by[k] ? '<td class="num" title="' + s.by[k].n + ' problems">' +
      LCB.pct(s.by[k].pass1) + "</td>" : "<td></td>"; };
    return '<tr class="run" data-run="' + r.run.id + '"><td>' + r.rank + '</td><td><a href="#/run/' + r.run.id + '">' +
      LCB.esc(r.label) + '</a></td><td class="num pass1" data-value="' + s.pass1 + '">' + LCB.pct(s.pass1) +
      (s.ci ? ' <span class="ci" data-low="' + s.ci[0] + '" data-high="' + s.ci[1] + '" title="95% interval from ' +
        s.ciFrom + '">' + LCB.ciText(s.ci) + "</span>" : ' <span class="ci pending">[…]</span>') + "</td>" +
      DIFFS.map(by).join("") + plats.map(by).join("") +
      '<td class="num nprob">' + s.n_problems + '</td><td class="num">' + s.n_samples + '</td><td title="' +
      LCB.esc(r.run.release_source) + '">' + LCB.esc(r.run.release || "") + '</td><td class="flagcell">' + flag(r.run.release, w) + "</td><td>" +
      LCB.esc(r.run.source) + (r.run.notes || []).map(function (n) {
        return ' <span class="flag note">' + LCB.esc(n) + "</span>";
      }).join("") + "</td></tr>";
  }

  function refRow(ref, w, plats, ranked) {
    const blanks = "<td></td>".repeat(DIFFS.length + plats.length + 2);
    return '<tr class="reported"><td>' + (ranked ? ref.rank : "") + "</td><td>" + LCB.esc(ref.model) +
      '</td><td class="num">' + LCB.pct(ref.pass1) + "</td>" + blanks + '<td title="' + LCB.esc(ref.release_source) +
      '">' + LCB.esc(ref.release || "") +
      '</td><td class="flagcell">' + (ref.release ? flag(ref.release, { from: ref.window.slice(0, 10) }) : "") +
      '</td><td title="' + LCB.esc(ref.source) + '">' + LCB.esc(ref.label) + "</td></tr>";
  }

  function header(plats) {
    return "<thead><tr><th>Rank</th><th>Model</th><th>Pass@1 [95% CI]</th>" +
      DIFFS.map(function (d) { return "<th>" + d[0].toUpperCase() + d.slice(1) + "</th>"; }).join("") +
      plats.map(function (p) { return "<th>" + LCB.esc(p) + "</th>"; }).join("") +
      "<th>Problems</th><th>Samples</th><th>Released</th><th>Flag</th><th>Source</th></tr></thead>";
  }

  function groupTable(group, w, plats) {
    const rows = group.runs.map(function (id) {
      const run = LCB.index.runById[id];
      return { run: run, label: run.label, s: scores(run, w), pass1: scores(run, w).pass1 };
    }).filter(function (r) { return r.pass1 != null; });
    const withRef = group.full_v6 && w.full;
    const refs = withRef ? LCB.index.reported.map(function (ref) { return Object.assign({ ref: true, label: ref.model }, ref); }) : [];
    const all = rankRows(rows.concat(refs));
    const body = all.map(function (r) { return r.ref ? refRow(r, w, plats, true) : runRow(r, w, plats); }).join("");
    const empty = rows.length ? "" : '<tr><td colspan="20" class="muted">no problem of this set in the window</td></tr>';
    return '<section class="group" data-group="' + LCB.esc(group.key) + '"><h2>Problem set: ' + LCB.esc(group.label) +
      "</h2>" + '<table class="board">' + header(plats) + "<tbody>" + body + empty +
      "</tbody></table></section>";
  }

  function referenceTable(w, plats) {
    const inGroup = w.full && LCB.index.groups.some(function (g) { return g.full_v6; });
    if (inGroup || !LCB.index.reported.length) return "";
    return '<section class="group"><h2>Published rows (reported, not measured here)</h2><p class="muted">' +
      "Measured on LiveCodeBench v6 (2024-08-01..2025-05-01, 454 problems); fixed numbers, not recomputed by the " +
      "slider, and ranked with a run only when that run is on the full v6 selection and the window is whole.</p>" +
      '<table class="board">' + header(plats) + "<tbody>" +
      LCB.index.reported.map(function (r) { return refRow(r, w, plats, false); }).join("") + "</tbody></table></section>";
  }

  function releaseMarks() {
    const seen = {}, d = LCB.index.dates;
    LCB.index.runs.forEach(function (r) { if (r.release) (seen[r.release] = seen[r.release] || []).push(r.label); });
    LCB.index.reported.forEach(function (r) { if (r.release) (seen[r.release] = seen[r.release] || []).push(r.model); });
    return Object.keys(seen).sort().map(function (date) {
      let i = d.findIndex(function (x) { return x >= date; });
      const outside = i < 0 || (i === 0 && date < d[0]);
      if (i < 0) i = d.length - 1;
      const left = d.length > 1 ? (100 * i) / (d.length - 1) : 0;
      return '<span class="release' + (outside ? " outside" : "") + '" style="left:' + left + '%" title="' +
        LCB.esc(seen[date].join(", ")) + " released " + date + (outside ? " (outside the problems' dates)" : "") +
        '"><span>' + LCB.esc(date) + "</span></span>";
    }).join("");
  }

  function renderTables() {
    const w = windowOf(), plats = platforms();
    const last = Math.max(LCB.index.dates.length - 1, 1), sel = document.getElementById("win-sel");
    sel.style.left = (100 * state.lo) / last + "%";
    sel.style.width = (100 * (state.hi - state.lo)) / last + "%";
    const n = LCB.index.problems.filter(function (p) { return p.date >= w.from && p.date <= w.to; }).length;
    document.getElementById("window-label").textContent = w.from + " .. " + w.to + " (" + n + " of " +
      LCB.index.problems.length + " problems" + (w.full ? ", the whole selection" : "") + ")";
    document.getElementById("tables").innerHTML = LCB.index.groups.map(function (g) { return groupTable(g, w, plats); })
      .join("") + referenceTable(w, plats);
    const pending = document.querySelectorAll("#tables .ci.pending").length > 0;
    document.body.setAttribute("data-intervals", pending ? "pending" : "ready");
    clearTimeout(state.timer);
    if (pending) state.timer = setTimeout(function () { fillIntervals(w); }, 120);
  }

  function onSlide(ev) {
    const lo = document.getElementById("win-lo"), hi = document.getElementById("win-hi");
    let a = +lo.value, b = +hi.value;
    if (a > b) { if (ev && ev.target === lo) a = b; else b = a; lo.value = a; hi.value = b; }
    state.lo = a; state.hi = b;
    renderTables();
  }

  function render(app) {
    const d = LCB.index.dates, last = Math.max(d.length - 1, 0);
    if (state.lo === null || state.hi > last) { state.lo = 0; state.hi = last; }
    app.innerHTML = "<h1>Leaderboard</h1>" +
      '<div class="window"><div>Contest window: <strong id="window-label"></strong></div>' +
      '<div class="dual"><div class="track"></div><div class="sel" id="win-sel"></div><input type="range" id="win-lo" min="0" max="' + last + '" value="' + state.lo + '" aria-label="window start">' +
      '<input type="range" id="win-hi" min="0" max="' + last + '" value="' + state.hi + '" aria-label="window end">' +
      '<div class="marks">' + releaseMarks() + "</div></div>" +
      '<p class="muted">Pass@1 in percent, mean over problems of passed/decided samples, recomputed over the window. ' +
      "Interval: " + LCB.esc(LCB.index.bootstrap.method) + ", percentile; over the whole selection it is " +
      "harness.scoring's, over a narrower window the browser's (same method, its own random stream). Marks: model " +
      "release dates.</p></div><div id=\"tables\"></div>";
    document.getElementById("win-lo").addEventListener("input", onSlide);
    document.getElementById("win-hi").addEventListener("input", onSlide);
    renderTables();
  }

  LCB.pages.leaderboard = { render: render };
})();
