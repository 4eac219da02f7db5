"""Thin entry point of `python -m harness.view`: parse, build the site, print where it is. Bad input: one line,
exit 2."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from harness.errors import UserError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m harness.view",
                                description="Write a static site (open index.html from disk) showing runs.")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories (manifest.json + samples.jsonl)")
    p.add_argument("--out", required=True, type=Path, metavar="SITE_DIR", help="folder for the site (new or empty)")
    p.add_argument("--dataset", help="the runs' problems (hub id, local file or 'sample') to show prompts and test "
                                     "inputs/expected outputs; runs made on the sample set find it by themselves")
    p.add_argument("--release-date", action="append", default=[], metavar="MODEL=DATE",
                   help="model release date (YYYY-MM-DD) drawn on the slider; repeatable")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--n-bootstrap", type=int, default=10000, help="bootstrap resamples (default 10000)")
    return p


def _release_dates(items: list[str], error: type[Exception]) -> dict[str, str]:
    """MODEL=YYYY-MM-DD pairs, as `harness.leaderboard --release-date` takes them."""
    out = {}
    for item in items:
        model, sep, day = item.rpartition("=")
        try:
            date.fromisoformat(day)
        except ValueError:
            sep = ""
        if not sep or not model or len(day) != 10:
            raise error(f"--release-date {item!r}: expected MODEL=YYYY-MM-DD")
        out[model] = day
    return out


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        from harness.view.build import ViewError, build_site

        if args.n_bootstrap < 1:
            raise ViewError("--n-bootstrap must be at least 1")
        info = build_site(args.runs, args.out, dataset=args.dataset, release_dates=_release_dates(
            args.release_date, ViewError), seed=args.seed, n_bootstrap=args.n_bootstrap)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for note in info.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {info.path / 'index.html'}: {info.n_runs} run(s), {info.n_problems} problems, "
          f"{info.n_detail_files} sample files (open it in a browser; no server needed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
