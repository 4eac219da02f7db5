"""`python -m harness.view RUN_DIR... --out SITE_DIR`: a static site to look at runs (no server, no network).

Pages: a leaderboard with a contest-date window slider (pass@1 and its interval recomputed in the browser), a run's
problems and per-sample verdicts, one sample (prompt, output, code, tests, the failing test's diff), and two runs
compared problem by problem. Modules: collect (read and score runs), build (write the site), releases (model release
dates), assets/ (HTML, CSS, JS). Does not cover: scoring itself (harness.scoring) or the markdown table
(harness.report).
"""
