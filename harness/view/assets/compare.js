/* Compare page: two runs side by side on the problems both scored. The headline numbers (pass@1 difference, its
   paired-bootstrap interval and the sign-flip p-value) are harness.scoring.compare_runs', the same as
   `python -m harness.leaderboard compare A B`; the table lists the problems one run solves and the other does not
   (or, unticked, every problem whose pass rate differs). */
"use strict";
(function () {
  function pairOf(a, b) {
    const pairs = LCB.index.pairs;
    for (let i = 0; i < pairs.length; i++) {
      const p = pairs[i];
      if (p.a === a && p.b === b) return p;
      if (p.a === b && p.b === a) {  // stored once per pair: flip the direction
        return Object.assign({}, p, { a: a, b: b, delta: -p.delta, pass1_a: p.pass1_b, pass1_b: p.pass1_a,
          low: -p.high, high: -p.low });
      }
    }
    return null;
  }

  function options(current) {
    return LCB.index.runs.map(function (r) {
      return '<option value="' + r.id + '"' + (r.id === current ? " selected" : "") + ">" + LCB.esc(r.label) + "</option>";
    }).join("");
  }

  function rows(A, B, onlySolved) {
    const out = [];
    A.p.forEach(function (pos, k) {
      const cb = LCB.cellOf(B, pos);
      if (!cb || A.n[k] === 0 || cb.n === 0) return;
      const ra = A.c[k] / A.n[k], rb = cb.c / cb.n;
      const solvedA = A.c[k] > 0, solvedB = cb.c > 0;
      if (onlySolved ? solvedA === solvedB : ra === rb) return;
      out.push({ pos: pos, ra: ra, rb: rb, va: A.v[k], vb: cb.v, side: solvedA && !solvedB ? "a" : !solvedA && solvedB ? "b" : "" });
    });
    out.sort(function (x, y) { return (y.ra - y.rb) - (x.ra - x.rb) || x.pos - y.pos; });
    return out;
  }

  function table(A, B, list) {
    const problems = LCB.index.problems;
    const body = list.map(function (r) {
      const p = problems[r.pos];
      return '<tr class="side-' + r.side + '" data-pos="' + r.pos + '"><td>' + LCB.esc(p.id) + "</td><td>" + p.date +
        '</td><td class="d-' + p.difficulty + '">' + p.difficulty + '</td><td class="num">' + LCB.pct(r.ra, 0) +
        "</td><td>" + LCB.verdictGrid(A, r.pos, r.va) + '</td><td class="num">' + LCB.pct(r.rb, 0) + "</td><td>" +
        LCB.verdictGrid(B, r.pos, r.vb) + '</td><td class="num">' + (100 * (r.ra - r.rb)).toFixed(0) + "</td></tr>";
    }).join("");
    return '<table class="compare"><thead><tr><th>Problem</th><th>Date</th><th>Difficulty</th><th>A %</th><th>A samples</th>' +
      "<th>B %</th><th>B samples</th><th>A − B</th></tr></thead><tbody>" + body + "</tbody></table>";
  }

  function headline(pair) {
    if (!pair) return '<p class="error">these two runs have no scored problem in common</p>';
    return '<p class="headline" id="pair">pass@1 A − B = <strong class="delta" data-value="' + pair.delta + '">' +
      (pair.delta >= 0 ? "+" : "") + LCB.pct(pair.delta) + "</strong> points on " + pair.n_common +
      " common problems (A " + LCB.pct(pair.pass1_a) + ", B " + LCB.pct(pair.pass1_b) + "); 95% CI " +
      LCB.ciText([pair.low, pair.high]) + '; p = <span class="pvalue" data-value="' + pair.p_value + '">' + pair.p_value.toPrecision(4) + "</span></p>" +
      '<p class="muted">' + LCB.esc(pair.ci_method) + "; " + LCB.esc(pair.p_value_method) +
      " (harness.scoring.compare_runs, as python -m harness.leaderboard compare).</p>";
  }

  function render(app, args) {
    const runs = LCB.index.runs;
    if (runs.length < 2) { app.innerHTML = "<h1>Compare</h1><p>Build the site with two runs or more to compare them.</p>"; return; }
    const A = LCB.index.runById[args[0]] || runs[0];
    const B = LCB.index.runById[args[1]] || runs.find(function (r) { return r.id !== A.id; });
    const only = args[2] !== "all";
    LCB.crumbs("/ compare");
    const list = rows(A, B, only);
    const nA = list.filter(function (r) { return r.side === "a"; }).length;
    const nB = list.filter(function (r) { return r.side === "b"; }).length;
    app.innerHTML = "<h1>Compare two runs</h1><div class=\"filters\"><label>A <select id=\"cmp-a\">" + options(A.id) +
      '</select></label> <label>B <select id="cmp-b">' + options(B.id) + "</select></label> <label>" +
      '<input type="checkbox" id="cmp-only"' + (only ? " checked" : "") + "> only problems one run solves and the " +
      "other does not</label></div>" + headline(pairOf(A.id, B.id)) + '<p id="counts">' + nA + " solved by A only, " +
      nB + " solved by B only" + (only ? "" : ", " + (list.length - nA - nB) + " more with different pass rates") +
      "</p>" + table(A, B, list);
    function go() {
      location.hash = "#/compare/" + document.getElementById("cmp-a").value + "/" +
        document.getElementById("cmp-b").value + (document.getElementById("cmp-only").checked ? "" : "/all");
    }
    ["cmp-a", "cmp-b", "cmp-only"].forEach(function (id) { document.getElementById(id).addEventListener("change", go); });
  }

  LCB.pages.compare = { render: render };
})();
