/* Sample page: one sample of one problem, loaded on demand from data/<run>/p<problem>.js. Shows the prompt, the raw
   output (reasoning inside <think> collapsed), the extracted code with line numbers and the extraction mode, every
   test the judge ran with CPU/wall/memory, and for the failing test its input, expected output and actual output
   heads with the first differing line marked. The first differing line is the judge's own ("line N: ..." in the
   test's detail); only when the judge did not name one is it found here by comparing stripped lines. What
   samples.jsonl does not record is said to be missing, never guessed. */
"use strict";
(function () {
  function pre(text, cls) {
    return '<pre class="' + (cls || "") + '">' + LCB.esc(text) + "</pre>";
  }

  function rawOutput(text) {
    if (text == null) return '<p class="muted">no raw output recorded (e.g. replayed code only)</p>';
    const open = text.indexOf("<think>");
    if (open < 0) return pre(text, "raw");
    const close = text.indexOf("</think>", open);
    const end = close < 0 ? text.length : close + "</think>".length;
    const think = text.slice(open, end);
    const before = text.slice(0, open).trim(), after = text.slice(end).trim();
    return (before ? pre(before, "raw") : "") + '<details class="think"><summary>reasoning: ' + think.length +
      " characters" + (close < 0 ? " (no closing &lt;/think&gt;)" : "") + "</summary>" + pre(think, "raw") +
      "</details>" + (after ? pre(after, "raw") : "");
  }

  function codeBlock(code) {
    if (code == null) return '<p class="muted">no code was extracted</p>';
    return '<pre class="code">' + code.replace(/\n$/, "").split("\n").map(function (line, i) {
      return '<span class="cl"><span class="ln">' + (i + 1) + "</span>" + LCB.esc(line) + "</span>";
    }).join("\n") + "</pre>";
  }

  /* Which line (1-based, of the stripped text) first differs, and who said so. */
  function firstDiff(detail, expected, actual) {
    let m = /^line (\d+):/.exec(detail || "");
    if (m) return { line: +m[1], by: "the judge" };
    m = /^expected (\d+) line\(s\), got (\d+)/.exec(detail || "");
    if (m) return { line: Math.min(+m[1], +m[2]) + 1, by: "the judge (line counts differ)" };
    if (/^expected .*, got /.test(detail || "")) return { line: 1, by: "the judge (return value)" };
    if (expected == null || actual == null) return null;
    const a = lines(expected), b = lines(actual);
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if ((a[i] || "").trim() !== (b[i] || "").trim()) return { line: i + 1, by: "this page (stripped lines)" };
    }
    return null;
  }

  function lines(text) { return text.trim().split("\n"); }

  function linesPane(title, text, total, diff, cls) {
    if (text == null) return '<div class="pane ' + cls + '"><h4>' + title + '</h4><p class="missing">' + LCB.esc(total) +
      "</p></div>";
    const ls = lines(text);
    const body = ls.map(function (line, i) {
      const mark = diff && diff.line === i + 1 ? " first-diff" : "";
      return '<span class="line' + mark + '"><span class="ln">' + (i + 1) + "</span>" + LCB.esc(line) + "</span>";
    }).join("\n");
    const beyond = diff && diff.line > ls.length ? '<p class="muted">line ' + diff.line + " is past the end of this " +
      "head</p>" : "";
    return '<div class="pane ' + cls + '"><h4>' + title + "</h4>" + '<pre class="lines">' + body + "</pre>" + beyond +
      (typeof total === "number" && total > text.length ? '<p class="muted">first ' + text.length + " of " + total +
        " characters</p>" : "") + "</div>";
  }

  function testsTable(s) {
    if (!s.tests.length) return '<p class="muted">no per-test outcomes recorded (' + s.tests_run + " of " +
      s.tests_total + " tests run)</p>";
    const rows = s.tests.map(function (t) {
      return '<tr class="t-' + t.verdict + '"><td>' + t.index + '</td><td><span class="badge b-' + t.verdict + '">' +
        t.verdict + '</span></td><td class="num">' + t.cpu_s.toFixed(3) + '</td><td class="num">' + t.wall_s.toFixed(3) +
        '</td><td class="num">' + t.peak_rss_mb.toFixed(1) + "</td><td>" + LCB.esc(t.detail) + "</td></tr>";
    }).join("");
    const early = s.tests_run < s.tests_total ? '<p class="muted">' + s.tests_run + " of " + s.tests_total +
      " tests ran: the judge stops at the first failure</p>" : "";
    return '<table class="tests"><thead><tr><th>Test</th><th>Verdict</th><th>CPU s</th><th>Wall s</th><th>Peak MB</th>' +
      "<th>Detail</th></tr></thead><tbody>" + rows + "</tbody></table>" + early;
  }

  function failingTest(s, d) {
    const failed = s.tests.find(function (t) { return t.verdict !== "passed"; });
    if (!failed) return "";
    const t = d.tests && d.tests[String(failed.index)];
    const missing = d.not_recorded;
    // only a wrong answer has a differing line; a crash or a timeout's partial output is not an answer
    const diff = failed.verdict === "wrong_answer" ? firstDiff(failed.detail, t ? t.expected : null,
      failed.stdout_head) : null;
    const where = t ? (t.public ? "public example" : "hidden test") : "test";
    return '<section class="failing"><h3>Failing test ' + failed.index + " (" + where + "): " + LCB.esc(failed.verdict) +
      "</h3><p>" + LCB.esc(failed.detail) + "</p>" + (diff ? '<p class="diffnote">first differing line: <strong>' +
      diff.line + "</strong>, as found by " + diff.by + "</p>" : "") + '<div class="panes">' +
      linesPane("Input", t ? t.input : null, t ? t.input_chars : "input " + missing, null, "input") +
      linesPane("Expected output", t ? t.expected : null, t ? t.expected_chars : "expected output " + missing, diff,
        "expected") +
      linesPane(d.functional ? "Actual return value (head)" : "Actual output (head)", failed.stdout_head, null, diff,
        "actual") + "</div>" + (failed.stderr_head ? "<h4>stderr (head)</h4>" + pre(failed.stderr_head, "raw") : "") +
      "</section>";
  }

  function prompt(d) {
    if (!d.prompt) return '<p class="missing">prompt ' + LCB.esc(d.prompt_note || d.not_recorded) + "</p>";
    return '<details class="prompt"><summary>prompt (' + d.prompt.length + " message(s))</summary>" +
      d.prompt.map(function (m) { return "<h4>" + LCB.esc(m.role) + "</h4>" + pre(m.content, "raw"); }).join("") +
      "</details>";
  }

  function facts(s, run) {
    const rows = [["Verdict", '<span class="badge b-' + s.verdict + '">' + s.verdict + "</span> " + LCB.esc(s.detail)],
      ["Extraction mode", LCB.esc(run.extract_mode)], ["Finish reason", LCB.esc(s.finish_reason || "not recorded")],
      ["Tokens (prompt / completion)", LCB.esc((s.prompt_tokens == null ? "?" : s.prompt_tokens) + " / " +
        (s.completion_tokens == null ? "?" : s.completion_tokens))],
      ["Tests run", s.tests_run + " of " + s.tests_total], ["CPU / wall", s.cpu_s.toFixed(3) + " s / " +
        s.wall_s.toFixed(3) + " s"], ["Peak memory", s.peak_rss_mb.toFixed(1) + " MB"],
      ["Sandbox", LCB.esc(s.sandbox || "not recorded")]];
    if (s.skipped_reason) rows.push(["Skipped", LCB.esc(s.skipped_reason)]);
    return '<table class="facts">' + rows.map(function (r) { return "<tr><th>" + r[0] + "</th><td>" + r[1] + "</td></tr>"; })
      .join("") + "</table>";
  }

  function show(app, run, pos, idx, d) {
    const p = LCB.index.problems[pos];
    const s = d.samples.find(function (x) { return x.sample_idx === idx; });
    if (!s) { app.innerHTML = '<p class="error">error: no sample ' + idx + " of " + LCB.esc(p.id) + "</p>"; return; }
    const cell = LCB.cellOf(run, pos);
    app.innerHTML = "<h1>" + LCB.esc(p.id) + " · sample " + idx + "</h1><p>" + LCB.esc(p.title || "") + " " + p.date +
      ' · <span class="d-' + p.difficulty + '">' + p.difficulty + "</span> · " + LCB.esc(p.platform) + " · " + cell.c + "/" +
      cell.n + ' passed · samples: <span class="current-grid" data-current="' + idx + '">' +
      LCB.verdictGrid(run, pos, cell.v) + "</span></p>" + facts(s, run) + "<h2>Prompt</h2>" + prompt(d) +
      "<h2>Raw output</h2>" + rawOutput(s.raw_output) + "<h2>Extracted code</h2>" + codeBlock(s.code) +
      "<h2>Tests</h2>" + testsTable(s) + failingTest(s, d);
    const cur = app.querySelectorAll(".current-grid .v")[idx];
    if (cur) cur.classList.add("current");
    if (!performance.getEntriesByName("lcb-sample-shown").length) performance.mark("lcb-sample-shown");
  }

  function render(app, args) {
    const run = LCB.index.runById[args[0]], pos = +args[1], idx = +args[2];
    if (!run || !LCB.index.problems[pos]) { app.innerHTML = '<p class="error">error: no such sample</p>'; return; }
    LCB.crumbs('/ <a href="#/run/' + run.id + '">' + LCB.esc(run.label) + "</a> / " + LCB.esc(LCB.index.problems[pos].id));
    app.innerHTML = '<p class="muted">loading sample…</p>';
    const hash = location.hash;
    LCB.loadDetail(run.id + "/p" + pos).then(function (d) {
      if (location.hash === hash) show(app, run, pos, idx, d);
    }, function (err) { app.innerHTML = '<p class="error">error: ' + LCB.esc(err.message) + "</p>"; });
  }

  LCB.pages.sample = { render: render, firstDiff: firstDiff };
})();
