"""`python -m harness.problems`: show what a dataset/release/window selection holds.

Thin entry point: parse the flags, call `load_problems`, print a listing or `--stats` (text or `--json`). A user
mistake (bad tag, bad date, missing path, no network) prints `error: <one line>` and exits 2. The listing counts
every problem's hidden tests, so it decodes them all (or reads them from the problem cache): it doubles as a check
that every hidden-test field is readable and safe; `--stats` decodes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys

from harness.problems import (
    DEFAULT_END_DATE,
    DEFAULT_RELEASE,
    DEFAULT_START_DATE,
    HUB_DATASET,
    ProblemsError,
    ProblemSet,
    load_problems,
    problem_stats,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness.problems", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=HUB_DATASET,
                        help="hub dataset id, local .jsonl/.json/.parquet file or folder of shards, or 'sample'")
    parser.add_argument("--release", default=DEFAULT_RELEASE, help="release_v1..v6, release_latest, vN or vX_vY")
    parser.add_argument("--start-date", default=DEFAULT_START_DATE, help="inclusive, YYYY-MM-DD (midnight)")
    parser.add_argument("--end-date", default=DEFAULT_END_DATE, help="inclusive, YYYY-MM-DD (midnight)")
    parser.add_argument("--skip-invalid", action="store_true", help="skip malformed rows and report how many")
    parser.add_argument("--cache-dir", default=None, help="Hugging Face cache folder for hub shards")
    parser.add_argument("--stats", action="store_true", help="print counts instead of one line per problem")
    parser.add_argument("--json", action="store_true", help="with --stats: print the counts as JSON")
    return parser


def _counts_line(label: str, counts: dict[str, int]) -> str:
    return f"{label}: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "-")


def format_stats(selection: ProblemSet) -> str:
    stats = problem_stats(selection)
    window = f"{selection.start_date or '-'}..{selection.end_date or '-'}"
    lines = [
        f"selection: {selection.dataset} {selection.release} {window}",
        f"content sha256: {selection.content_hash}",
        f"problems: {stats['n_problems']}",
        _counts_line("by difficulty", stats["by_difficulty"]),
        _counts_line("by platform", stats["by_platform"]),
        _counts_line("by month", stats["by_month"]),
    ]
    if selection.errata:
        errata = ", ".join(f"{qid} ({why})" for qid, why in selection.errata.items())
        lines.append(f"known errata (kept, graded as-is): {errata}")
    if selection.n_skipped:
        lines.append(f"skipped invalid rows: {selection.n_skipped}")
    return "\n".join(lines)


def format_listing(selection: ProblemSet) -> str:
    lines = [
        f"{p.question_id}\t{p.difficulty}\t{p.platform}\t{p.contest_date.date().isoformat()}\t"
        f"{len(p.public_tests)} public + {len(p.private_tests)} hidden tests"
        for p in selection
    ]
    lines.append(f"# {len(selection)} problems, content sha256 {selection.content_hash}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.json and not args.stats:
        print("error: --json goes with --stats", file=sys.stderr)
        return 2
    try:
        selection = load_problems(
            args.dataset, args.release, args.start_date, args.end_date,
            skip_invalid=args.skip_invalid, cache_dir=args.cache_dir,
        )
        text = None if args.stats else format_listing(selection)  # decodes every hidden test: errors are user errors
    except ProblemsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. a file that cannot be read: a user-side problem, not a crash
        print(f"error: {exc.filename or ''} {exc.strerror or exc}".strip(), file=sys.stderr)
        return 2
    if selection.n_skipped:
        print(f"skipped {selection.n_skipped} invalid rows; first: {selection.skip_reasons[0]}", file=sys.stderr)
    if args.stats and args.json:
        print(json.dumps(problem_stats(selection), indent=2))
    elif args.stats:
        print(format_stats(selection))
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
