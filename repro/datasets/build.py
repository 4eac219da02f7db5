"""`python -m repro.datasets.build --out DIR ...`: the curated, decontaminated training set with its reports.

Reads the raw sources from local files (JSONL or parquet exports of the hub datasets; `--taco`, `--synthetic1`)
and LiveCodeBench problems in the official schema (`--lcb`, a file or the hub id; only problems dated on or before
`--cutoff` are training problems), then: date cutoff and exact statement hashes against the evaluation window
(repro.data.decontaminate), DeepCoder's curation (repro.datasets.curation; `--no-gold-check` skips running the
reference solutions), statement 13-gram decontamination (repro.datasets.decontamination). Writes into DIR:
train.jsonl (repro.data's schema without prompts; use it as `data.path`), curation.json, decontamination.json,
decontamination.md. Without network access, pass local files.

Does not cover: downloading the hub datasets (export them with `datasets` where the hub is reachable).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

EVAL_START, EVAL_END = "2024-08-01", "2025-05-01"


def read_records(path: str) -> Iterator[dict]:
    """Records of a JSONL or parquet file."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such file: {p}")
    if p.suffix == ".parquet":
        import pyarrow.parquet as pq

        yield from pq.read_table(p).to_pylist()
        return
    with open(p, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{p}:{n}: not JSON ({exc.msg})") from None


def source_rows(args: argparse.Namespace) -> list[dict]:
    from harness.problems import load_problems
    from repro.data import _row_from_problem
    from repro.datasets.sources import row_from_synthetic1, row_from_taco

    rows: list[dict] = []
    if args.lcb:
        chosen = load_problems(args.lcb, args.release, start_date=None, end_date=args.cutoff)
        rows += [_row_from_problem(p, "lcb") for p in chosen.problems]
    if args.taco:
        rows += [r for i, raw in enumerate(read_records(args.taco)) if (r := row_from_taco(raw, i)) is not None]
    if args.synthetic1:
        rows += [r for raw in read_records(args.synthetic1) if (r := row_from_synthetic1(raw)) is not None]
    return rows


def build(args: argparse.Namespace) -> dict:
    from harness.problems import load_problems
    from repro.data import TRAINING_COLUMNS, decontaminate, write_rows
    from repro.datasets.curation import curate
    from repro.datasets.decontamination import decontaminate_ngrams, write_report

    out = Path(args.out)
    eval_problems = load_problems(args.eval_dataset, args.release, EVAL_START, EVAL_END).problems
    rows = source_rows(args)
    dated, by_date = decontaminate(rows, eval_problems, args.cutoff)
    judge = None
    if args.gold_check:
        from harness.judge import Judge
        from harness.verdicts import Limits

        judge = Judge(workers=args.workers, limits=Limits(time_limit_s=args.time_limit))
    try:
        curated, curation = curate(dated, judge, min_tests=args.min_tests)
    finally:
        if judge is not None:
            judge.close()
    kept, report = decontaminate_ngrams(curated, eval_problems)
    keep_cols = [c for c in TRAINING_COLUMNS if c != "prompt"]
    write_rows(out / "train.jsonl", [{c: r[c] for c in keep_cols} for r in kept])
    summary = {"rows_parsed": len(rows), "dropped_by_date": len(by_date.dropped_by_date),
               "dropped_by_hash": len(by_date.dropped_by_hash), "duplicates": len(by_date.dropped_duplicates),
               "curation": curation.as_dict(),
               "decontamination_flagged": report["flagged"], "kept": len(kept), "gold_check": args.gold_check}
    (out / "curation.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    write_report(report, out)
    return summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m repro.datasets.build", description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="directory for train.jsonl and the reports")
    p.add_argument("--taco", help="TACO-verified records (JSONL or parquet)")
    p.add_argument("--synthetic1", help="PrimeIntellect verifiable-coding-problems records (JSONL or parquet)")
    p.add_argument("--lcb", help="LiveCodeBench problems, official schema: a file or the hub id")
    p.add_argument("--eval-dataset", required=True, help="the evaluation problems (v6 window is read from it)")
    p.add_argument("--release", default="release_v6")
    p.add_argument("--cutoff", default="2024-07-31", help="last contest date of training problems")
    p.add_argument("--no-gold-check", dest="gold_check", action="store_false", help="do not run gold solutions")
    p.add_argument("--min-tests", type=int, default=5, help="DeepCoder's minimum number of tests per problem")
    p.add_argument("--workers", type=int, default=None, help="judge workers for the gold check")
    p.add_argument("--time-limit", type=float, default=15.0, help="seconds per test for the gold check")
    args = p.parse_args(argv)
    if not (args.taco or args.synthetic1 or args.lcb):
        print("error: pass at least one of --taco, --synthetic1, --lcb", file=sys.stderr)
        return 2
    from harness.errors import UserError

    try:
        summary = build(args)
    except (FileNotFoundError, ValueError, UserError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({k: summary[k] for k in ("rows_parsed", "kept", "decontamination_flagged")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
