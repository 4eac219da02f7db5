/* The viewer's core: the data index, on-demand sample files (loaded by <script> injection because browsers refuse
   fetch() from file://), hash routing between pages, and small HTML helpers. Pages register in LCB.pages. */
"use strict";
window.LCB = (function () {
  const L = { index: null, pages: {}, details: {}, waiting: {}, rendered: false };

  L.setIndex = function (raw) {
    const problems = raw.problems.map(function (p, i) {
      return { pos: i, id: p[0], date: p[1], month: p[1].slice(0, 7), difficulty: p[2], platform: p[3], title: p[4] };
    });
    const runs = raw.runs.map(function (r) {
      const at = new Map();
      r.p.forEach(function (pos, k) { at.set(pos, k); });
      return Object.assign({}, r, { at: at });
    });
    const byId = {};
    runs.forEach(function (r) { byId[r.id] = r; });
    const dates = Array.from(new Set(problems.map(function (p) { return p.date; }))).sort();
    const codes = {};
    Object.keys(raw.verdict_codes).forEach(function (v) { codes[raw.verdict_codes[v]] = v; });
    L.index = Object.assign({}, raw, { problems: problems, runs: runs, runById: byId, dates: dates, verdictOf: codes });
  };

  /* Sample files call LCB.loaded(key, data); loadDetail resolves once it has. */
  L.loaded = function (key, data) {
    L.details[key] = data;
    (L.waiting[key] || []).forEach(function (w) { w.resolve(data); });
    delete L.waiting[key];
  };
  L.loadDetail = function (key) {
    if (L.details[key]) return Promise.resolve(L.details[key]);
    return new Promise(function (resolve, reject) {
      const first = !L.waiting[key];
      (L.waiting[key] = L.waiting[key] || []).push({ resolve: resolve, reject: reject });
      if (!first) return;
      const s = document.createElement("script");
      s.src = "data/" + key + ".js";
      s.onerror = function () {
        (L.waiting[key] || []).forEach(function (w) { w.reject(new Error("cannot load data/" + key + ".js")); });
        delete L.waiting[key];
      };
      document.head.appendChild(s);
    });
  };

  L.esc = function (s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };
  L.pct = function (x, digits) {
    return x == null || isNaN(x) ? "" : (100 * x).toFixed(digits == null ? 2 : digits);
  };
  L.ciText = function (ci) {
    return ci && ci[0] != null ? "[" + L.pct(ci[0]) + ", " + L.pct(ci[1]) + "]" : "";
  };
  L.verdictGrid = function (run, pos, letters) {
    let html = "";
    for (let i = 0; i < letters.length; i++) {
      const v = letters[i];
      const name = v === "-" ? "no record" : L.index.verdictOf[v] || v;
      html += v === "-" ? '<span class="v v--" title="sample ' + i + ': no record"></span>'
        : '<a class="v v-' + v + '" href="#/sample/' + run.id + "/" + pos + "/" + i + '" title="sample ' + i + ": " +
          name + '"></a>';
    }
    return '<span class="grid">' + html + "</span>";
  };
  L.cellOf = function (run, pos) {
    const k = run.at.get(pos);
    return k === undefined ? null : { n: run.n[k], c: run.c[k], v: run.v[k] };
  };
  L.crumbs = function (html) { document.getElementById("crumbs").innerHTML = html || ""; };

  function route() {
    const parts = (location.hash || "#/").replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
    const name = parts.length ? parts[0] : "leaderboard";
    return { page: L.pages[name] ? name : "leaderboard", args: parts.slice(1) };
  }

  function render() {
    const app = document.getElementById("app");
    const r = route();
    L.crumbs("");
    try {
      L.pages[r.page].render(app, r.args);
    } catch (err) {
      app.innerHTML = '<p class="error">error: ' + L.esc(err.message) + "</p>";
      throw err;
    }
    if (!L.rendered) {
      L.rendered = true;
      performance.mark("lcb-first-render");
      requestAnimationFrame(function () { setTimeout(function () { performance.mark("lcb-first-paint"); }, 0); });
    }
  }

  L.start = function () {
    const app = document.getElementById("app");
    if (!L.index) {
      app.innerHTML = '<p class="error">error: data/index.js is missing or broken; rebuild the site with ' +
        "python -m harness.view RUN_DIR... --out SITE_DIR</p>";
      return;
    }
    document.getElementById("footer").textContent = "Built " + L.index.generated_at + " by python -m harness.view; " +
      "intervals: " + L.index.bootstrap.method + ", percentile.";
    window.addEventListener("hashchange", render);
    render();
  };
  return L;
})();
