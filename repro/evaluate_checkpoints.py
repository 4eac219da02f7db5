"""`python -m repro.evaluate_checkpoints RUN_DIR`: score a reproduction's checkpoints with the harness, pick the best
at 40k, evaluate it at 81,920 and write the reports.

The training driver (repro.reproduce) never runs a GPU evaluation inside a multi-GPU training job: it appends one
job per saved checkpoint to RUN_DIR/eval/jobs.jsonl (the initial model, every stage checkpoint and, with
`eval.inline: false`, every TRL checkpoint-K as it is saved). A job is a `python -m harness.eval` argument list
(repro.config.eval_args), so it runs on its own GPUs, while training goes on or afterwards. This module runs the
jobs that have no summary yet (each resumable: a killed eval continues with `--resume`), keeps the checkpoint with
the best pass@1 at `eval.select_max_model_len` (ties: the later one), schedules and runs the final evaluation of that
checkpoint at `eval.max_model_len` (YaRN 2.0 over 40,960 unless the checkpoint carries its own rope scaling), and
writes `reproduce.json`, `leaderboard.md` and `reward_per_step.png`. With `--print` it only prints the commands.
On the CPU toy (`eval.inline: true`) repro.reproduce calls the same functions in-process.

Does not cover: training, serving vLLM for training, deciding what a checkpoint is (repro.progress records them).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from harness.errors import UserError
from repro.config import ReproConfig, eval_args
from repro.progress import read_state, write_json_atomic

BASELINE_NAME = "Qwen3-14B (reported)"
BASELINE_PASS1 = 0.6079  # Qwen3-14B on LCB v6, as reported with NousCoder-14B (REFERENCE §4)


def jobs_path(run: Path) -> Path:
    return run / "eval" / "jobs.jsonl"


def read_jobs(run: Path) -> list[dict]:
    path = jobs_path(run)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def target(run: Path) -> dict:
    """What the evaluations read (dataset, window), written by the driver: the toy's held-out file or LCB v6."""
    return json.loads((run / "eval" / "target.json").read_text(encoding="utf-8"))


def schedule(cfg: ReproConfig, run: Path, *, kind: str, model: str, label: str, stage: str | None = None,
             step: int | None = None) -> dict:
    """Append an eval job (main process only) unless one with this label exists; return the job."""
    for job in read_jobs(run):
        if job["label"] == label:
            return job
    tgt = target(run)
    out = run / "eval" / label
    args = eval_args(cfg, model, out, select=kind == "select", dataset=tgt["dataset"], start_date=tgt["start_date"],
                     end_date=tgt["end_date"], label=label)
    job = {"label": label, "kind": kind, "stage": stage, "step": step, "model": model, "out": str(out), "args": args}
    jobs_path(run).parent.mkdir(parents=True, exist_ok=True)
    with jobs_path(run).open("a", encoding="utf-8") as f:
        f.write(json.dumps(job) + "\n")
    return job


def summary_of(job: dict) -> dict | None:
    path = Path(job["out"]) / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def job_command(job: dict) -> list[str]:
    resume = ["--resume"] if (Path(job["out"]) / "manifest.json").is_file() else []
    return [sys.executable, "-m", "harness.eval", *job["args"], *resume]


def run_job(job: dict, *, in_process: bool) -> dict:
    """The job's summary: read if done, else evaluate (continuing a partial run directory)."""
    done = summary_of(job)
    if done is not None:
        return done
    if in_process:
        from harness.eval import build_parser, config_from_args
        from harness.pipeline import run_eval

        run_eval(config_from_args(build_parser().parse_args(job_command(job)[3:])))
        rc = 0
    else:
        rc = subprocess.run(job_command(job), check=False).returncode
    summary = summary_of(job)  # summary.json, whatever type run_eval returns
    if summary is None:
        raise UserError(f"eval job {job['label']} failed (exit {rc}); rerun to resume it: "
                        f"{shlex.join(job_command(job))}")
    return summary


def pick_best(run: Path) -> tuple[list[dict], dict | None]:
    """Scored select-jobs as checkpoint rows, and the best of them (highest pass@1; ties: the later step)."""
    rows = []
    for job in read_jobs(run):
        summary = summary_of(job) if job["kind"] == "select" else None
        if summary is not None:
            rows.append({"stage": job["stage"], "step": job["step"], "path": job["model"],
                         "pass@1": summary["pass@1"], "eval_dir": job["out"]})
    rows.sort(key=lambda r: r["step"])
    best = max(reversed(rows), key=lambda r: r["pass@1"]) if rows else None
    return rows, best


def finish(cfg: ReproConfig, run: Path, *, in_process: bool) -> dict:
    """Run every pending job, then the final evaluation of the best checkpoint, and write the reports."""
    started = time.time()
    for job in read_jobs(run):
        if job["kind"] != "final":
            run_job(job, in_process=in_process)
    checkpoints, best = pick_best(run)
    if best is None:
        raise UserError(f"{run}: no scored checkpoint to choose from (eval/jobs.jsonl has no select job)")
    initial = next((j for j in read_jobs(run) if j["kind"] == "initial"), None)
    if initial is None:
        raise UserError(f"{run}: eval/jobs.jsonl has no job for the initial model")
    final_job = schedule(cfg, run, kind="final", model=best["path"], label="final", stage=best["stage"],
                         step=best["step"])
    if final_job["model"] != best["path"]:
        raise UserError(f"{run}: eval/final scored {final_job['model']}, but the best is now {best['path']}; "
                        "move eval/final aside and rerun")
    init_summary, final = run_job(initial, in_process=in_process), run_job(final_job, in_process=in_process)
    rewards = [(s, r) for rec in read_state(run) for s, r in rec.rewards]
    stage_ends = [(rec.stage, rec.step) for rec in read_state(run)]
    result = {
        "name": cfg.name, "initial_pass@1": init_summary["pass@1"], "final_pass@1": final["pass@1"],
        "gain": final["pass@1"] - init_summary["pass@1"], "checkpoints": checkpoints, "best": best,
        "baseline": {"name": BASELINE_NAME, "pass@1": BASELINE_PASS1},
        "reward_per_step": [{"step": s, "reward": r} for s, r in rewards],
        "no_gradient_steps": [s for rec in read_state(run) for s in rec.no_gradient_steps],
        "eval_wall_s": round(time.time() - started, 1),
    }
    result["leaderboard"] = write_leaderboard(run, [Path(initial["out"]), Path(final_job["out"])], target(run))
    result["plot"] = str(plot_rewards(run, rewards, stage_ends, cfg.name))
    write_json_atomic(run / "reproduce.json", result)
    return result


def write_leaderboard(run: Path, run_dirs: list[Path], tgt: dict) -> str:
    """leaderboard.md: these runs ranked next to the published rows, delta against Qwen3-14B (60.79)."""
    from harness import report

    frame = report.build_leaderboard(run_dirs, baseline=BASELINE_NAME, n_bootstrap=1000)
    path = run / "leaderboard.md"
    note = (f"Measured rows: {tgt['dataset']}, {tgt['start_date']}..{tgt['end_date']}. Published rows: "
            "LiveCodeBench v6 (454 problems). Compare across the two only when the measured rows are on v6 too.\n\n")
    path.write_text(note + report.to_markdown(frame), encoding="utf-8")
    return str(path)


def plot_rewards(run: Path, rewards: list[tuple[int, float | None]], stage_ends: list[tuple[str, int]],
                 name: str) -> Path:
    from repro.plots import plot_reward_per_step

    known = [(s, r) for s, r in rewards if r is not None]  # a step whose every reward was unknown has no mean
    return plot_reward_per_step([s for s, _ in known], [r for _, r in known], run / "reward_per_step.png",
                                stage_ends=stage_ends, title=f"{name}: mean reward per step")


def load_run_config(run: Path) -> ReproConfig:
    manifest = run / "manifest.json"
    if not manifest.is_file() or not (run / "eval" / "target.json").is_file():
        raise UserError(f"{run}: not a reproduction folder (no manifest.json / eval/target.json)")
    return ReproConfig.model_validate(json.loads(manifest.read_text(encoding="utf-8"))["config"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m repro.evaluate_checkpoints", description=__doc__.splitlines()[0])
    p.add_argument("run_dir", help="the --out folder of python -m repro.reproduce")
    p.add_argument("--print", dest="print_only", action="store_true",
                   help="print the pending harness.eval commands (one a line) instead of running them")
    args = p.parse_args(argv)
    run = Path(args.run_dir)
    try:
        cfg = load_run_config(run)
        if args.print_only:
            for job in read_jobs(run):
                if summary_of(job) is None:
                    print(shlex.join(job_command(job)))
            return 0
        result = finish(cfg, run, in_process=False)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_outcome(result, run)
    return 0


def print_outcome(result: dict, report: object) -> None:
    """The end of a scored run, as repro.reproduce and this command print it."""
    print(json.dumps({k: result[k] for k in ("initial_pass@1", "final_pass@1", "gain")}))
    print(f"best checkpoint: {result['best']['path']} (pass@1 {result['best']['pass@1']:.3f}); report: {report}")


if __name__ == "__main__":
    sys.exit(main())
