"""`python -m harness.grade`: grade code produced elsewhere against a problem set, keeping every input field.

Input (`--completions`): JSONL, one completion per line, with `question_id` and `code` (graded as is; null = no code)
or `raw_output` (extracted with `--extract-mode`, default robust; the extracted code is added as `code`); any other
field is carried through. An official `*_eval_all.json` / custom-output file (a JSON list of problem objects with
`code_list`, optionally `output_list`, `graded_list`, `metadata`) is accepted too: one line per code, with
`question_id`, `sample_idx`, `code` and, when present, `official_graded` / `official_metadata`.
Output (`--out`): one JSON line per input, in input order: the input's fields plus the judge's `verdict`, `passed`,
`tests_run`, `tests_total`, `failed_test`, `cpu_s`, `wall_s`, `peak_rss_mb`, `detail`, `sandbox` and per-test
`tests` (result fields win over input fields of the same name). A summary goes to stderr and `<out>.summary.json`.
The output is written only once every line is graded; until then each result is appended (fsynced) to
`<out>.partial`, so Ctrl-C or a crash loses nothing and `--resume` grades only what is left. An existing `--out` is
never replaced without `--overwrite`. Exit status: 0, or 3 when some lines are `infra_error`, 2 on bad input,
130 on Ctrl-C.

Problems: every problem of `--dataset`/`--release`, no date window unless `--start-date`/`--end-date` are given.
A `question_id` missing from the selection stops the run before anything is graded (exit 2, listing a few), unless
`--skip-unknown`, which writes those lines with verdict `infra_error` and a detail saying why.

Not covered: generation (harness.eval), scoring beyond the pass rate (harness.scoring / harness.leaderboard).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from harness.errors import EXIT_INCOMPLETE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR, UserError
from harness.problems import DEFAULT_RELEASE, HUB_DATASET
from harness.records import LineJournal, SampleRecord, write_jsonl_atomic
from harness.summary import GradeSummary
from harness.validation import check_judge_settings, check_out_parent
from harness.verdicts import Limits, SampleResult, Verdict

LIMITS = Limits()
SETTINGS = ("dataset", "release", "start_date", "end_date", "extract_mode", "re_extract", "time_limit",
            "memory_limit_mb", "test_order", "skip_unknown")  # what a --resume must match


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m harness.grade", description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default=HUB_DATASET,
                   help="hub id, local .jsonl/.json/.parquet file or folder of shards, or 'sample'")
    p.add_argument("--completions", required=True, help="JSONL of completions, or an official *_eval_all.json")
    p.add_argument("--out", required=True, help="output JSONL (one line per input, same order)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out (and any partial run)")
    p.add_argument("--resume", action="store_true", help="finish an interrupted run (<out>.partial)")
    p.add_argument("--release", default=DEFAULT_RELEASE, help="release_v1..release_v6, v1..v6 or vX_vY")
    p.add_argument("--start-date", default=None, help="first contest date, inclusive (default: no bound)")
    p.add_argument("--end-date", default=None, help="last contest date, inclusive (default: no bound)")
    p.add_argument("--extract-mode", default="robust", choices=["robust", "lcb", "raw"],
                   help="how `raw_output` becomes code when a line has no `code` field")
    p.add_argument("--re-extract", action="store_true", help="extract from `raw_output` even when `code` is present")
    p.add_argument("--time-limit", type=float, default=LIMITS.time_limit_s, help="CPU seconds per test (official: 6)")
    p.add_argument("--memory-limit-mb", type=int, default=LIMITS.memory_limit_mb)
    p.add_argument("--workers", type=int, default=None, help="grading workers (default: number of usable cores)")
    p.add_argument("--sandbox", choices=["local", "modal"], default="local")
    p.add_argument("--test-order", choices=["hardest-first", "public-first", "official"], default="public-first",
                   help="order of a sample's tests; the first failure ends the sample (see harness.judge.RunOrder)")
    p.add_argument("--skip-unknown", action="store_true", help="grade the rest when some question_id is unknown")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def read_completions(path: str | Path) -> list[dict]:
    """Rows to grade from a JSONL file or an official eval_all JSON list; UserError on anything malformed."""
    from harness.interop import eval_all_rows

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"--completions {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"--completions {path}: cannot read it as UTF-8 text ({err})") from None
    if text.lstrip().startswith("["):
        try:
            return eval_all_rows(json.loads(text), f"--completions {path}")
        except json.JSONDecodeError as err:
            raise UserError(f"--completions {path}: not valid JSON ({err})") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise UserError(f"--completions {path} line {number}: not valid JSON ({err.msg})") from None
        if not isinstance(row, dict) or "question_id" not in row:
            raise UserError(f"--completions {path} line {number}: needs an object with a question_id")
        if "code" not in row and "raw_output" not in row:
            raise UserError(f"--completions {path} line {number}: needs a `code` or a `raw_output` field")
        rows.append(row)
    return rows


def code_of(row: dict, mode: str, re_extract: bool) -> tuple[str | None, bool]:
    """(code to grade, whether it was extracted here)."""
    if "code" in row and not re_extract:
        return row["code"], False
    from harness.extract import ExtractMode, extract_code

    return extract_code(row.get("raw_output"), ExtractMode(mode)), True


def load_selection(args: argparse.Namespace) -> dict:
    """question_id -> Problem for the requested selection; UserError on bad input."""
    from harness.problems import load_problems

    try:
        selection = load_problems(args.dataset, args.release, args.start_date, args.end_date)
    except UnicodeDecodeError as err:
        raise UserError(f"--dataset {args.dataset}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    return {p.question_id: p for p in selection.problems}


def check_known(rows: list[dict], problems: dict, skip_unknown: bool) -> None:
    unknown = sorted({str(r["question_id"]) for r in rows if r["question_id"] not in problems})
    if unknown and not skip_unknown:
        few = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise UserError(f"{len(unknown)} question_id(s) are not in the dataset selection ({few}); check "
                        "--dataset/--release/--start-date/--end-date, or pass --skip-unknown")


def check_out(args: argparse.Namespace) -> Path:
    """--out must be a file path that is not the input, and not an existing file unless --overwrite/--resume."""
    out = Path(args.out)
    if out.is_dir():
        raise UserError(f"--out {out} is a directory; --out names the output JSONL file")
    check_out_parent(out)
    if out.exists() and out.resolve() == Path(args.completions).resolve():
        raise UserError("--out is the --completions file; choose another output path")
    if args.overwrite and args.resume:
        raise UserError("--overwrite starts over and --resume continues: pass one of them")
    if out.exists() and not args.overwrite:
        raise UserError(f"--out {out} already exists: pass --overwrite to replace it, or choose another path")
    partial = journal_path(out)
    if partial.exists() and not (args.overwrite or args.resume):
        raise UserError(f"an interrupted run is in {partial}: pass --resume to finish it, or --overwrite to start over")
    if args.resume and not partial.exists():
        raise UserError(f"--resume: no interrupted run to finish ({partial} does not exist)")
    return out


def journal_path(out: Path) -> Path:
    return Path(f"{out}.partial")


def journal_header(args: argparse.Namespace) -> dict:
    digest = hashlib.sha256(Path(args.completions).read_bytes()).hexdigest()
    return {"completions_sha256": digest, **{k: getattr(args, k) for k in SETTINGS}}


def open_journal(args: argparse.Namespace, out: Path) -> tuple[LineJournal, dict[int, dict]]:
    """Start a fresh journal, or reopen the one --resume names (refused when it was made for other input)."""
    journal, header = LineJournal(journal_path(out)), journal_header(args)
    if not args.resume:
        journal.start(header)
        return journal, {}
    try:
        recorded, done = journal.read()
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UserError(f"--resume: {journal.path} is not readable ({err}); pass --overwrite to start over") from None
    diffs = [f"{k}: {recorded.get(k)!r} (recorded) != {v!r} (now)" for k, v in header.items() if recorded.get(k) != v]
    if diffs:
        raise UserError(f"--resume: {journal.path} was made for other input: " + "; ".join(diffs))
    journal.reopen()
    return journal, done


def probe_sandbox(name: str) -> None:
    """Start and close one sandbox so an unusable backend fails once, clearly, before any grading."""
    from harness.judge import sandbox_factory

    try:
        sandbox_factory(name)().close()
    except Exception as err:  # noqa: BLE001 - reported to the user in one line
        raise UserError(f"--sandbox {name} cannot start here: {err}") from None


def output_line(row: dict, code: str | None, extracted: bool, result: SampleResult) -> dict:
    line = dict(row)
    if extracted and "code" not in row:
        line["code"] = code
    line.update(result.to_dict())
    return line


def run(args: argparse.Namespace) -> GradeSummary:
    """Read, check, grade and write; returns the summary. Raises UserError before grading on bad input."""
    from harness.grading import JudgeSettings, grade_stream
    from harness.sandbox import preflight

    out = check_out(args)
    check_judge_settings(args.time_limit, args.memory_limit_mb, args.workers)
    preflight(args.sandbox)  # missing credentials fail before any download or parsing
    rows = read_completions(args.completions)
    problems = load_selection(args)
    check_known(rows, problems, args.skip_unknown)
    probe_sandbox(args.sandbox)
    journal, done = open_journal(args, out)
    prepared = [(row, *code_of(row, args.extract_mode, args.re_extract)) for row in rows]
    unknown = SampleResult(Verdict.INFRA_ERROR, detail="unknown question_id (not in the dataset selection)")
    todo = [i for i in range(len(rows)) if i not in done]
    try:
        for i in (i for i in todo if rows[i]["question_id"] not in problems):
            done[i] = output_line(*prepared[i], unknown)
            journal.append(i, done[i])

        def record(i: int, result: SampleResult) -> None:
            done[i] = output_line(*prepared[i], result)
            journal.append(i, done[i])

        stats = grade_stream(((i, problems[rows[i]["question_id"]], prepared[i][1]) for i in todo
                              if rows[i]["question_id"] in problems), record,
                             JudgeSettings(args.workers, Limits(args.time_limit, args.memory_limit_mb), args.sandbox,
                                           args.test_order),
                             total=len(todo), progress=not args.no_progress)
    finally:
        journal.close()
    if stats.errors:
        raise UserError(f"the judge failed on {len(stats.errors)} samples (first: {stats.errors[0]!r}); the "
                        f"graded lines are kept in {journal.path}: fix the cause and re-run with --resume")
    lines = [done[i] for i in range(len(rows))]
    write_jsonl_atomic(out, lines)
    journal.path.unlink()
    summary = summarize(lines, problems, stats.wall_s, args.workers or _default_workers(args.sandbox))
    Path(f"{out}.summary.json").write_text(summary.to_json() + "\n", encoding="utf-8")
    return summary


def _default_workers(sandbox: str) -> int:
    from harness.judge import default_judge_workers

    return default_judge_workers(sandbox)


def summarize(lines: list[dict], problems: dict, wall_s: float, workers: int | None) -> GradeSummary:
    """harness.scoring's summary of the graded lines (each line its own sample: line order is the sample index),
    plus the sample pass rate and this run's throughput."""
    from harness.scoring import summarize as score

    records = [SampleRecord(question_id=str(line["question_id"]), sample_idx=i, verdict=line["verdict"],
                            passed=line["passed"]) for i, line in enumerate(lines)]
    scores = score(records, problems=[problems[q] for q in {r.question_id for r in records} if q in problems],
                   n_bootstrap=1000)
    n, passed = len(lines), sum(1 for line in lines if line["passed"])
    return GradeSummary(
        **dict(scores), n_lines=n, passed=passed, pass_rate=passed / n if n else 0.0,
        tests_run=sum(line["tests_run"] for line in lines), tests_total=sum(line["tests_total"] for line in lines),
        wall_s=round(wall_s, 3), samples_per_s=round(n / wall_s, 3) if wall_s > 0 else None, workers=workers)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        summary = run(args)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"interrupted: every graded line is kept in {journal_path(Path(args.out))}; re-run with --resume "
              "to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    counts = ", ".join(f"{k} {v}" for k, v in summary.verdict_counts.items())
    print(f"graded {summary.n_lines} samples in {summary.wall_s:.1f} s "
          f"({summary.samples_per_s} samples/s, {summary.tests_run} tests run of {summary.tests_total}); "
          f"pass rate {100 * summary.pass_rate:.2f}%; {counts}", file=sys.stderr)
    if summary.n_infra_error:
        print(f"INCOMPLETE: {summary.n_infra_error} lines are infra_error (not graded)", file=sys.stderr)
        return EXIT_INCOMPLETE
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
