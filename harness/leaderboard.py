"""`python -m harness.leaderboard`: rank runs next to published numbers; convert runs from/to official formats.

  python -m harness.leaderboard RUN_DIR... [--out FILE] [--format md|csv|json] [--update RESULTS.md]
                                [--plots DIR | --no-plots] [--release-date MODEL=DATE] [--baseline NAME] [--overwrite]
  python -m harness.leaderboard import-official FILE --model NAME --out RUN_DIR [--regrade --dataset SPEC]
                                [--start-date D] [--end-date D]
  python -m harness.leaderboard export-official RUN_DIR --out FILE [--performances FILE] [--dataset SPEC] [--overwrite]
  python -m harness.leaderboard compare RUN_A RUN_B [--json]   (paired on common problems: Δ, interval, p-value)

Thin entry point: parse, call harness.report / harness.plots / harness.interop, print. Bad input: one line, exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness import interop, report
from harness.errors import UserError
from harness.plots import DIFFICULTY_PLOT, MONTH_PLOT, write_plots
from harness.problems import ProblemsError
from harness.scoring import compare_runs
from harness.validation import check_out_parent

SUBCOMMANDS = ("import-official", "export-official", "compare")
FORMATS = ("md", "csv", "json")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "import-official":
            return _import_official(_import_parser().parse_args(argv[1:]))
        if argv and argv[0] == "export-official":
            return _export_official(_export_parser().parse_args(argv[1:]))
        if argv and argv[0] == "compare":
            return _compare(_compare_parser().parse_args(argv[1:]))
        return _leaderboard(_leaderboard_parser().parse_args(argv))
    except (UserError, ProblemsError) as exc:  # anything else is a bug and keeps its traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _leaderboard_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m harness.leaderboard", description=__doc__.split("\n\n")[0],
                                epilog=f"subcommands: {', '.join(SUBCOMMANDS)} (see --help of each)")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories (manifest.json + samples.jsonl)")
    p.add_argument("--out", type=Path, help="write the table here (format from --format or the file suffix)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--format", choices=FORMATS, help="md (default), csv or json")
    p.add_argument("--update", type=Path, metavar="RESULTS.md", help="rewrite only the marked leaderboard section")
    p.add_argument("--plots", type=Path, metavar="DIR",
                   help="where the PNGs go (default: next to --out, else --update, else the current folder)")
    p.add_argument("--no-plots", action="store_true", help="write no plots")
    p.add_argument("--release-date", action="append", default=[], metavar="MODEL=DATE",
                   help="model release date (YYYY-MM-DD) for the contamination flag; repeatable")
    p.add_argument("--baseline", default="Qwen3-14B (reported)", help="row the Δ column is measured against")
    p.add_argument("--no-reference", action="store_true", help="leave out the published reference rows")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--n-bootstrap", type=int, default=10000, help="bootstrap resamples (default 10000)")
    return p


def _leaderboard(args: argparse.Namespace) -> int:
    if args.n_bootstrap < 1:
        raise report.LeaderboardError("--n-bootstrap must be at least 1")
    release_dates = _parse_release_dates(args.release_date)
    check_out_file(args.out, args.overwrite)
    if args.update is not None and args.update.is_dir():
        raise report.LeaderboardError(f"--update {args.update} is a directory; name the markdown file to update")
    scored = report.score_runs(args.runs, seed=args.seed, n_bootstrap=args.n_bootstrap)
    frame = report.leaderboard_from_scores(
        scored, baseline=args.baseline, release_dates=release_dates, include_reference=not args.no_reference,
        ci_method=f"bootstrap over problems, {args.n_bootstrap} resamples, seed {args.seed}")
    plot_paths = []
    if not args.no_plots:
        plot_dir = args.plots or (args.out or args.update or Path("leaderboard.md")).resolve().parent
        releases = {s.label: report.release_date_of(s, release_dates) for s in scored}
        plot_paths = write_plots({s.label: s.summary for s in scored}, plot_dir,
                                 {k: v for k, v in releases.items() if v})
        print(f"wrote plots: {', '.join(str(p) for p in plot_paths)}", file=sys.stderr)
    fmt = args.format or _format_from_suffix(args.out)
    print(_render(frame, "md" if fmt == "md" else fmt, plot_paths, Path.cwd() / "stdout.md"), end="")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(_render(frame, fmt, plot_paths, args.out), encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    if args.update:
        old = args.update.read_text(encoding="utf-8") if args.update.exists() else ""
        new = report.update_section(old, _render(frame, "md", plot_paths, args.update))
        args.update.write_text(new, encoding="utf-8")
        print(f"updated the leaderboard section of {args.update}", file=sys.stderr)
    return 0


def check_out_file(out: Path | None, overwrite: bool) -> None:
    """An output file path: never a directory, never an existing file unless --overwrite."""
    if out is None:
        return
    if out.is_dir():
        raise UserError(f"--out {out} is a directory; --out names the file to write")
    check_out_parent(out)
    if out.exists() and not overwrite:
        raise UserError(f"--out {out} already exists: pass --overwrite to replace it, or choose another path")


def _render(frame, fmt: str, plot_paths, document: Path) -> str:
    if fmt == "csv":
        return report.to_csv(frame)
    if fmt == "json":
        return report.to_json(frame)
    titles = {MONTH_PLOT: "pass@1 by contest month", DIFFICULTY_PLOT: "pass@1 by difficulty"}
    links = [(titles.get(p.name, p.name), report.relative_link(p, document)) for p in plot_paths]
    return report.to_markdown(frame, plot_links=links)


def _format_from_suffix(path: Path | None) -> str:
    suffix = path.suffix.lower().lstrip(".") if path else ""
    return suffix if suffix in ("csv", "json") else "md"


def _parse_release_dates(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        model, sep, day = item.rpartition("=")
        if not sep or not model or len(day) != 10 or day[4] != "-" or day[7] != "-":
            raise report.LeaderboardError(f"--release-date {item!r}: expected MODEL=YYYY-MM-DD")
        out[model] = day
    return out


def _import_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m harness.leaderboard import-official",
                                description="Import an official *_eval_all.json as a run directory.")
    p.add_argument("file", type=Path, help="official *_eval_all.json")
    p.add_argument("--model", required=True, help="model name recorded in the manifest")
    p.add_argument("--out", required=True, type=Path, metavar="RUN_DIR", help="new run directory")
    p.add_argument("--regrade", action="store_true", help="grade the codes again with this project's judge")
    _add_dataset_args(p)
    return p


def _import_official(args: argparse.Namespace) -> int:
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        raise interop.InteropError(f"--out {args.out} already exists and is not an empty folder; choose a new one")
    problems = _load_problems(args)  # with --dataset: the run's problem set is recorded as an eval would
    if args.regrade and problems is None:
        raise interop.InteropError("--regrade needs --dataset (the problems with their tests)")
    run = interop.import_eval_all(args.file, args.out, model=args.model, regrade=args.regrade, problems=problems,
                                  start_date=args.start_date, end_date=args.end_date)
    summary = run.read_summary()
    print(f"imported {summary.n_samples} samples on {summary.n_problems} problems into {run.path}: "
          f"pass@1 {100 * (summary.pass_at_1 or 0):.2f}%")
    return 0


def _export_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m harness.leaderboard export-official",
                                description="Export a run as an official *_eval_all.json.")
    p.add_argument("run", type=Path, metavar="RUN_DIR")
    p.add_argument("--out", required=True, type=Path, help="the *_eval_all.json to write")
    p.add_argument("--performances", type=Path, help="also write the leaderboard's performances JSON here")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    _add_dataset_args(p)
    return p


def _export_official(args: argparse.Namespace) -> int:
    report.load_runs([args.run])
    check_out_file(args.out, args.overwrite)
    check_out_file(args.performances, args.overwrite)
    problems = _load_problems(args)
    info = interop.export_eval_all(args.run, args.out, problems=problems)
    print(f"wrote {args.out}: {info['n_problems']} problems, {info['n_samples']} samples "
          f"({info['n_infra_error_left_out']} infra_error samples left out)")
    if args.performances:
        interop.export_performances(args.run, args.performances)
        print(f"wrote {args.performances}")
    return 0


def _compare_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m harness.leaderboard compare",
                                description="Paired comparison of two runs on the problems both scored.")
    p.add_argument("run_a", type=Path, metavar="RUN_A")
    p.add_argument("run_b", type=Path, metavar="RUN_B")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-bootstrap", type=int, default=10000)
    return p


def _compare(args: argparse.Namespace) -> int:
    a, b = report.load_runs([args.run_a, args.run_b])
    try:
        result = compare_runs(a.iter_samples(), b.iter_samples(), seed=args.seed, n_bootstrap=args.n_bootstrap)
    except ValueError as exc:
        raise report.LeaderboardError(str(exc)) from None
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    ci = result["ci95"]
    print(f"pass@1 A - B = {100 * result['delta']:+.2f} points on {result['n_common']} common problems "
          f"(A {100 * result['pass@1_a']:.2f}, B {100 * result['pass@1_b']:.2f}); 95% CI "
          f"[{100 * ci['low']:+.2f}, {100 * ci['high']:+.2f}] ({ci['method']}); p = {result['p_value']:.4g} "
          f"({result['p_value_method']})")
    return 0


def _add_dataset_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", help="problems (hub id, local file, or 'sample'): for --regrade or full problem fields")
    p.add_argument("--release", default="release_v6")
    p.add_argument("--start-date", help="keep problems from this contest date on (YYYY-MM-DD, inclusive)")
    p.add_argument("--end-date", help="keep problems up to this contest date (YYYY-MM-DD, inclusive, its midnight)")


def _load_problems(args: argparse.Namespace):
    if not args.dataset:
        return None
    from harness.problems import load_problems  # lazy: may read the hub

    return load_problems(args.dataset, args.release, args.start_date, args.end_date)


if __name__ == "__main__":
    sys.exit(main())
