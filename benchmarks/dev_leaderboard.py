"""The leaderboard on real official results: the five runs in ../shared/lcb/completions_dev.jsonl (official verdicts,
one sample per problem) imported as run directories through the official `*_eval_all.json` format, restricted to the
v6 window, ranked next to the published rows, with the by-month and by-difficulty plots.

    .venv/bin/python -m benchmarks.dev_leaderboard --out benchmarks/results/dev_leaderboard [--update RESULTS.md]

This exercises import (harness.interop), scoring (harness.scoring) and the table (harness.report) on real data; the
pass rates are the official grader's verdicts, not this project's judge (the judge's agreement with them is measured
by benchmarks/judge_fidelity.py). Needs ../shared/lcb.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from harness.interop import import_eval_all
from harness.leaderboard import main as leaderboard_main

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / ".." / "shared" / "lcb" / "completions_dev.jsonl"
V6_START, V6_END = "2024-08-01", "2025-05-01"


def official_eval_all_per_model(rows: list[dict]) -> dict[str, list[dict]]:
    """One official-format eval_all per model (the problem fields the table needs + code/graded/metadata lists)."""
    per_model: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in rows:
        entry = per_model[r["model"]].setdefault(r["question_id"], {
            "question_id": r["question_id"], "platform": r["platform"], "difficulty": r["difficulty"],
            "contest_date": r["contest_date"], "output_list": [], "code_list": [], "graded_list": [], "metadata": []})
        entry["output_list"].append(r["raw_output"])
        entry["code_list"].append(r["code"])
        entry["graded_list"].append(bool(r["official_graded"]))
        meta = r["official_metadata"]
        entry["metadata"].append(meta if isinstance(meta, str) else json.dumps(meta))
    out = {}
    for model, entries in per_model.items():
        for e in entries.values():
            e["pass@1"] = e["graded_list"].count(True) / len(e["graded_list"])
        out[model] = sorted(entries.values(), key=lambda e: e["question_id"])
    return out


def build_runs(out_dir: Path) -> list[Path]:
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    run_dirs = []
    for i, (model, entries) in enumerate(sorted(official_eval_all_per_model(rows).items())):
        src = out_dir / "official" / f"model{i}_eval_all.json"
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text(json.dumps(entries), encoding="utf-8")
        run = import_eval_all(src, out_dir / "runs" / f"model{i}", model=model, start_date=V6_START, end_date=V6_END)
        run_dirs.append(run.path)
    return run_dirs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "dev_leaderboard"))
    p.add_argument("--update", default=None, help="also rewrite the leaderboard section of this file")
    args = p.parse_args(argv)
    out = Path(args.out)
    if (out / "runs").exists():
        raise SystemExit(f"error: {out / 'runs'} exists; remove it or choose another --out")
    run_dirs = build_runs(out)
    table = out / "leaderboard.md"
    extra = ["--update", args.update, "--plots", str(out)] if args.update else []
    # the table is this benchmark's own output, rewritten on every run
    return leaderboard_main([*map(str, run_dirs), "--out", str(table), "--overwrite", *extra])


if __name__ == "__main__":
    raise SystemExit(main())
