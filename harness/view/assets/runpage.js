/* Run page: the run's settings, pass@1 by contest month (harness.scoring's numbers and intervals), and every problem
   with its difficulty, date, pass rate and a compact grid of per-sample verdicts (each cell opens the sample),
   filtered by verdict, difficulty and month. */
"use strict";
(function () {
  const filters = {};

  function facts(run) {
    const rows = [["Model", run.model], ["Run folder", run.dir], ["Backend", run.backend], ["Source", run.source],
      ["Prompt style", run.prompt_style], ["Extraction mode", run.extract_mode], ["Sandbox", run.sandbox],
      ["Dataset", run.dataset + " " + run.window.join("..")], ["Released", (run.release || "unknown") + " (" +
      run.release_source + ")"], ["infra_error samples", run.n_infra_error + " (neither pass nor fail)"],
      ["Comparability", (run.notes || []).join("; ") || "nothing noted"]];
    return '<table class="facts">' + rows.map(function (r) {
      return "<tr><th>" + LCB.esc(r[0]) + "</th><td>" + LCB.esc(r[1]) + "</td></tr>";
    }).join("") + "</table>";
  }

  function monthTable(run) {
    const body = run.by_month.map(function (m) {
      return '<tr data-month="' + m.month + '"><td>' + m.month + '</td><td class="num">' + m.n_problems +
        '</td><td class="num">' + m.n_samples + '</td><td class="num pass1">' + LCB.pct(m.pass1) +
        '</td><td class="num">' + LCB.ciText([m.low, m.high]) + '</td><td><span class="bar"><span style="left:' +
        LCB.pct(m.low, 1) + "%;width:" + LCB.pct(m.high - m.low, 1) + '%" class="ci-bar"></span><span style="left:' +
        LCB.pct(m.pass1, 1) + '%" class="dot"></span></span></td></tr>';
    }).join("");
    return '<table class="months"><thead><tr><th>Month</th><th>Problems</th><th>Samples</th><th>Pass@1</th>' +
      "<th>95% CI</th><th>0 — 100%</th></tr></thead><tbody>" + body + "</tbody></table>";
  }

  function select(id, label, values, current) {
    return "<label>" + label + ' <select id="' + id + '"><option value="">all</option>' + values.map(function (v) {
      return '<option value="' + LCB.esc(v[0]) + '"' + (v[0] === current ? " selected" : "") + ">" + LCB.esc(v[1]) +
        "</option>";
    }).join("") + "</select></label>";
  }

  function matches(p, cell, f) {
    if (f.difficulty && p.difficulty !== f.difficulty) return false;
    if (f.month && p.month !== f.month) return false;
    if (!f.verdict) return true;
    if (f.verdict === "all-passed") return cell.n > 0 && cell.c === cell.n;
    if (f.verdict === "none-passed") return cell.c === 0;
    return cell.v.indexOf(f.verdict) >= 0;
  }

  function problemRows(run, f) {
    const problems = LCB.index.problems, rows = [];
    for (let k = 0; k < run.p.length; k++) {
      const p = problems[run.p[k]], cell = { n: run.n[k], c: run.c[k], v: run.v[k] };
      if (!matches(p, cell, f)) continue;
      rows.push('<tr data-pos="' + p.pos + '"><td><a href="#/sample/' + run.id + "/" + p.pos + '/0">' + LCB.esc(p.id) +
        "</a>" + (p.title ? ' <span class="muted">' + LCB.esc(p.title) + "</span>" : "") + "</td><td>" + p.date +
        '</td><td class="d-' + p.difficulty + '">' + p.difficulty + "</td><td>" + LCB.esc(p.platform) +
        '</td><td class="num">' + cell.c + "/" + cell.n + "</td><td>" + LCB.verdictGrid(run, p.pos, cell.v) + "</td></tr>");
    }
    return rows;
  }

  /* The first screenful of rows goes in at once, the rest on the next tasks, so a 454-problem run paints at once;
     tbody[data-complete] turns "1" when every row is in. */
  const FIRST_ROWS = 60, CHUNK = 150;

  function renderRows(run) {
    ["verdict", "difficulty", "month"].forEach(function (k) { filters[k] = document.getElementById("f-" + k).value; });
    const rows = problemRows(run, filters), body = document.getElementById("problem-rows");
    const token = (filters.token = (filters.token || 0) + 1);
    const done = function () {
      body.setAttribute("data-complete", "1");
      if (!performance.getEntriesByName("lcb-rows-complete").length) performance.mark("lcb-rows-complete");
    };
    body.setAttribute("data-complete", "0");
    if (rows.length <= FIRST_ROWS) done();
    body.innerHTML = rows.slice(0, FIRST_ROWS).join("");
    document.getElementById("shown").textContent = "showing " + rows.length + " of " + run.p.length + " problems";
    (function more(from) {
      if (from >= rows.length || filters.token !== token || !document.body.contains(body)) return;
      setTimeout(function () {
        if (filters.token !== token) return;
        body.insertAdjacentHTML("beforeend", rows.slice(from, from + CHUNK).join(""));
        if (from + CHUNK >= rows.length) done();
        more(from + CHUNK);
      }, 0);
    })(FIRST_ROWS);
  }

  function render(app, args) {
    const run = LCB.index.runById[args[0]];
    if (!run) { app.innerHTML = '<p class="error">error: no run ' + LCB.esc(args[0]) + "</p>"; return; }
    if (filters.run !== run.id) { filters.run = run.id; filters.verdict = filters.difficulty = filters.month = ""; }
    LCB.crumbs("/ " + LCB.esc(run.label));
    const problems = LCB.index.problems, codes = LCB.index.verdict_codes;
    const months = Array.from(new Set(run.p.map(function (i) { return problems[i].month; }))).sort();
    const diffs = Array.from(new Set(run.p.map(function (i) { return problems[i].difficulty; })));
    const verdicts = [["all-passed", "every sample passed"], ["none-passed", "no sample passed"]].concat(
      Object.keys(codes).map(function (v) { return [codes[v], "some sample " + v]; }));
    app.innerHTML = "<h1>" + LCB.esc(run.label) + "</h1>" + '<p class="headline">Pass@1 <strong>' + LCB.pct(run.pass1) +
      "</strong> " + LCB.ciText(run.ci) + " on " + run.n_problems + " problems (" + LCB.esc(LCB.index.bootstrap.method) +
      ")</p>" + facts(run) + "<h2>Pass@1 by contest month</h2>" + monthTable(run) + "<h2>Problems</h2>" +
      '<div class="filters">' + select("f-verdict", "Verdict", verdicts, filters.verdict) +
      select("f-difficulty", "Difficulty", diffs.map(function (d) { return [d, d]; }), filters.difficulty) +
      select("f-month", "Month", months.map(function (m) { return [m, m]; }), filters.month) +
      ' <span id="shown" class="muted"></span></div>' + legend() +
      '<table class="problems"><thead><tr><th>Problem</th><th>Date</th><th>Difficulty</th><th>Platform</th>' +
      "<th>Passed</th><th>Samples</th></tr></thead><tbody id=\"problem-rows\"></tbody></table>";
    ["verdict", "difficulty", "month"].forEach(function (k) {
      document.getElementById("f-" + k).addEventListener("change", function () { renderRows(run); });
    });
    renderRows(run);
  }

  function legend() {
    const codes = LCB.index.verdict_codes;
    return '<p class="legend">' + Object.keys(codes).map(function (v) {
      return '<span class="v v-' + codes[v] + '"></span> ' + v;
    }).join(" &nbsp; ") + "</p>";
  }

  LCB.pages.run = { render: render };
})();
