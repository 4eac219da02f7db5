"""`python -m harness.grade`: grade code produced elsewhere against a problem set, keeping every input field.

Input (`--completions`): JSONL, one completion per line, with `question_id` and `code` (graded as is; null = no code)
or `raw_output` (extracted with `--extract-mode`, default robust; the extracted code is added as `code`); any other
field is carried through. An official `*_eval_all.json` / custom-output file (a JSON list of problem objects with
`code_list`, optionally `output_list`, `graded_list`, `metadata`) is accepted too: one line per code, with
`question_id`, `sample_idx`, `code` and, when present, `official_graded` / `official_metadata`.
Output (`--out`): one JSON line per input, in input order: the input's fields plus the judge's `verdict`, `passed`,
`tests_run`, `tests_total`, `failed_test`, `cpu_s`, `wall_s`, `peak_rss_mb`, `detail`, `sandbox` and per-test
`tests` (result fields win over input fields of the same name). A summary goes to stderr and `<out>.summary.json`.

Problems: every problem of `--dataset`/`--release`, no date window unless `--start-date`/`--end-date` are given.
A `question_id` missing from the selection stops the run before anything is graded (exit 2, listing a few), unless
`--skip-unknown`, which writes those lines with verdict `infra_error` and a detail saying why.

Not covered: generation (harness.eval), scoring beyond the pass rate (harness.scoring / harness.leaderboard).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from harness.errors import UserError
from harness.records import json_line
from harness.validation import check_judge_settings
from harness.verdicts import Limits, SampleResult, Verdict

RESULT_FIELDS = ("verdict", "passed", "tests_run", "tests_total", "failed_test", "cpu_s", "wall_s", "peak_rss_mb",
                 "detail", "sandbox", "tests")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m harness.grade", description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="livecodebench/code_generation_lite",
                   help="hub id, local .jsonl/.json/.parquet file or folder of shards, or 'sample'")
    p.add_argument("--completions", required=True, help="JSONL of completions, or an official *_eval_all.json")
    p.add_argument("--out", required=True, help="output JSONL (one line per input, same order)")
    p.add_argument("--release", default="release_v6", help="release_v1..release_v6, v1..v6 or vX_vY")
    p.add_argument("--start-date", default=None, help="first contest date, inclusive (default: no bound)")
    p.add_argument("--end-date", default=None, help="last contest date, inclusive (default: no bound)")
    p.add_argument("--extract-mode", default="robust", choices=["robust", "lcb", "raw"],
                   help="how `raw_output` becomes code when a line has no `code` field")
    p.add_argument("--re-extract", action="store_true", help="extract from `raw_output` even when `code` is present")
    p.add_argument("--time-limit", type=float, default=6.0, help="CPU seconds per test (official: 6)")
    p.add_argument("--memory-limit-mb", type=int, default=4096)
    p.add_argument("--workers", type=int, default=None, help="grading workers (default: number of usable cores)")
    p.add_argument("--sandbox", choices=["local", "modal"], default="local")
    p.add_argument("--test-order", choices=["hardest-first", "public-first", "official"], default="public-first",
                   help="order of a sample's tests; the first failure ends the sample (see harness.judge.RunOrder)")
    p.add_argument("--skip-unknown", action="store_true", help="grade the rest when some question_id is unknown")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def read_completions(path: str | Path) -> list[dict]:
    """Rows to grade from a JSONL file or an official eval_all JSON list; UserError on anything malformed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"--completions {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"--completions {path}: cannot read it as UTF-8 text ({err})") from None
    if text.lstrip().startswith("["):
        try:
            return rows_from_eval_all(json.loads(text), path)
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


def rows_from_eval_all(entries: object, path: Path) -> list[dict]:
    """One row per code of an official eval_all / custom-output list."""
    if not isinstance(entries, list):
        raise UserError(f"--completions {path}: expected a JSON list of problems (an official *_eval_all.json)")
    rows = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "question_id" not in entry or not (
                isinstance(entry.get("code_list"), list) or isinstance(entry.get("output_list"), list)):
            raise UserError(f"--completions {path}: entry {i} lacks question_id and code_list/output_list")
        codes, outputs = entry.get("code_list"), entry.get("output_list") or []
        graded, metadata = entry.get("graded_list") or [], entry.get("metadata") or []
        for j in range(len(codes) if isinstance(codes, list) else len(outputs)):
            row: dict = {"question_id": entry["question_id"], "sample_idx": j}
            if isinstance(codes, list):
                row["code"] = codes[j]
            if j < len(outputs):
                row["raw_output"] = outputs[j]
            if j < len(graded):
                row["official_graded"] = graded[j]
            if j < len(metadata):
                row["official_metadata"] = _maybe_json(metadata[j])
            rows.append(row)
    return rows


def _maybe_json(value: object) -> object:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


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


def grade_rows(rows: list[dict], problems: dict, args: argparse.Namespace) -> Iterator[dict]:
    """Grade every row in order; yields the output line (input fields + result fields)."""
    from harness.judge import Judge

    unknown = SampleResult(Verdict.INFRA_ERROR, detail="unknown question_id (not in the dataset selection)")
    limits = Limits(time_limit_s=args.time_limit, memory_limit_mb=args.memory_limit_mb)
    prepared = [(row, *code_of(row, args.extract_mode, args.re_extract)) for row in rows]
    known = [(problems[row["question_id"]], code) for row, code, _ in prepared if row["question_id"] in problems]
    with Judge(workers=args.workers, limits=limits, sandbox=args.sandbox, order=args.test_order) as judge:
        results = judge.grade_many(known)
        for row, code, extracted in prepared:
            result = next(results) if row["question_id"] in problems else unknown
            line = dict(row)
            if extracted and "code" not in row:
                line["code"] = code
            line.update(result.to_dict())
            yield line


def summarize(lines: list[dict], wall_s: float, workers: int | None) -> dict:
    counts = Counter(line["verdict"] for line in lines)
    n = len(lines)
    return {
        "n_samples": n,
        "verdict_counts": dict(sorted(counts.items())),
        "passed": counts.get("passed", 0),
        "pass_rate": counts.get("passed", 0) / n if n else 0.0,
        "tests_run": sum(line["tests_run"] for line in lines),
        "tests_total": sum(line["tests_total"] for line in lines),
        "wall_s": round(wall_s, 3),
        "samples_per_s": round(n / wall_s, 3) if wall_s > 0 else None,
        "workers": workers,
    }


def probe_sandbox(name: str) -> None:
    """Start and close one sandbox so an unusable backend fails once, clearly, before any grading."""
    from harness.judge import sandbox_factory

    try:
        sandbox_factory(name)().close()
    except Exception as err:  # noqa: BLE001 - reported to the user in one line
        raise UserError(f"--sandbox {name} cannot start here: {err}") from None


def run(args: argparse.Namespace) -> dict:
    """Read, check, grade and write; returns the summary. Raises UserError before grading on bad input."""
    out = Path(args.out)
    if out.exists() and out.resolve() == Path(args.completions).resolve():
        raise UserError("--out is the --completions file; choose another output path")
    check_judge_settings(args.time_limit, args.memory_limit_mb, args.workers)
    from harness.sandbox import preflight

    preflight(args.sandbox)  # missing credentials fail before any download or parsing
    rows = read_completions(args.completions)
    problems = load_selection(args)
    check_known(rows, problems, args.skip_unknown)
    probe_sandbox(args.sandbox)
    from tqdm import tqdm

    started, lines = time.perf_counter(), []
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as sink, tqdm(total=len(rows), unit="sample", desc="grade",
                                                        disable=args.no_progress, file=sys.stderr) as bar:
        for line in grade_rows(rows, problems, args):
            sink.write(json_line(line) + "\n")
            lines.append({k: line[k] for k in ("verdict", "tests_run", "tests_total")})
            bar.update(1)
    from harness.judge import default_judge_workers

    summary = summarize(lines, time.perf_counter() - started, args.workers or default_judge_workers(args.sandbox))
    Path(f"{out}.summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        summary = run(args)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted: the lines graded so far are in {args.out}", file=sys.stderr)
        return 130
    counts = ", ".join(f"{k} {v}" for k, v in summary["verdict_counts"].items())
    print(f"graded {summary['n_samples']} samples in {summary['wall_s']:.1f} s "
          f"({summary['samples_per_s']} samples/s, {summary['tests_run']} tests run of {summary['tests_total']}); "
          f"pass rate {100 * summary['pass_rate']:.2f}%; {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
