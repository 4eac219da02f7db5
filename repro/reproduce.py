"""`python -m repro.reproduce --config FILE --out DIR [--resume]`: train the recipe stage by stage, save a checkpoint
per stage, and have every checkpoint scored by the harness.

For each context stage of the config it trains with the GRPO trainer (repro.trainer) and the judge reward
(repro.rewards) and saves a checkpoint (model + tokenizer). Every checkpoint gets a `python -m harness.eval` job
(repro.evaluate_checkpoints): with `eval.inline: true` (the CPU toy) the jobs run here, the best checkpoint by
pass@1 is evaluated again with the final settings and the reports are written; with `eval.inline: false` (the 14B
run) they are left in DIR/eval/jobs.jsonl for `python -m repro.evaluate_checkpoints DIR` on other GPUs.
Writes `manifest.json`, `state.json` (finished stages), `events.jsonl`, `checkpoints/`, `train/<stage>/` (TRL's
checkpoint-K folders) and, once scored, `reproduce.json`, `leaderboard.md`, `reward_per_step.png`, `eval/`.

Survives: a step whose every reward is unknown (TRL logs `reward: None`) or whose groups were all dropped is logged
and its update skipped (repro.trainer); a killed run continues with `--resume` from its last stage checkpoint or
TRL checkpoint (repro.progress), without redoing what was saved. Under `accelerate launch` only the main process
writes the run folder, decides and evaluates; the other ranks train and wait.

The model `toy:tiny-qwen3` (with `data.sources: [toy]` and `eval.dataset: toy:heldout`) is the toy task of
repro.toy, built locally. Does not cover: serving vLLM for training (repro/launch/*.sh start `trl vllm-serve`).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from repro.config import ConfigError, ReproConfig, Stage, check_positions, load_config
from repro.progress import (
    Dist,
    StageRecord,
    history_no_gradient,
    history_rewards,
    last_trainer_checkpoint,
    log_event,
    read_state,
    record_stage,
    write_json_atomic,
)

TOY_MODEL, TOY_DATA, TOY_EVAL = "toy:tiny-qwen3", "toy", "toy:heldout"


@dataclass(frozen=True)
class Inputs:
    """Resolved inputs: where the initial checkpoint is, the training rows, and what the eval reads."""

    model: str
    train_rows: list[dict]  # LCB-schema problem rows
    eval_dataset: str
    start_date: str
    end_date: str


def resolve_inputs(cfg: ReproConfig, out: Path, *, write: bool = True) -> Inputs:
    """Build the toy (model, splits) when the config asks for it; otherwise the hub/local model and repro.data.
    write=False (a non-main rank, after the main one wrote them) only reads the toy files."""
    ev = cfg.eval
    if cfg.model == TOY_MODEL or TOY_DATA in cfg.data.sources or ev.dataset == TOY_EVAL:
        if not (cfg.model == TOY_MODEL and cfg.data.sources == [TOY_DATA] and ev.dataset == TOY_EVAL):
            raise ConfigError(f"the toy task needs model: {TOY_MODEL}, data.sources: [{TOY_DATA}] and "
                              f"eval.dataset: {TOY_EVAL} together (see repro/configs/tiny-cpu.yaml)")
        from repro.toy import TOY_END_DATE, TOY_START_DATE, ToyFiles, materialize_toy

        toy_dir = out / "toy"
        if write and not (toy_dir / "initial-model" / "config.json").is_file():
            files = materialize_toy(toy_dir, seed=cfg.seed)
        else:
            files = ToyFiles(toy_dir / "initial-model", toy_dir / "toy_train.jsonl", toy_dir / "toy_heldout.jsonl")
        rows = [json.loads(line) for line in files.train_path.read_text(encoding="utf-8").splitlines()]
        return Inputs(str(files.model_dir), rows, str(files.heldout_path), TOY_START_DATE, TOY_END_DATE)
    from repro.data import load_training_rows

    return Inputs(cfg.model, load_training_rows(cfg.data), ev.dataset, ev.start_date, ev.end_date)


def check_model_positions(cfg: ReproConfig, model: str) -> None:
    """Prompt + completion must fit the loaded policy's max_position_embeddings at every stage (one-line refusal)."""
    from transformers import AutoConfig

    positions = getattr(AutoConfig.from_pretrained(model), "max_position_embeddings", None)
    if positions:
        check_positions(cfg.stages, cfg.max_prompt_length, int(positions), f" of {model}")


def run_stage(cfg: ReproConfig, stage: Stage, model_src: str, step0: int, tokenizer, train_dataset, reward_funcs,
              out: Path, dist: Dist, callbacks: list) -> StageRecord:
    """Train one stage (from TRL's last checkpoint-K of it if a killed run left one) and save its checkpoint.
    Every rank trains and saves (DeepSpeed ZeRO-3 gathers the shards); the main one records the stage."""
    from repro.trainer import build_trainer

    stage_dir = out / "train" / stage.name
    resume = last_trainer_checkpoint(stage_dir)
    if dist.is_main:
        log_event(out, "train_stage", stage=stage.name, model=model_src, resume_from=resume)
    trainer = build_trainer(cfg, stage, model_src, tokenizer, train_dataset, reward_funcs, stage_dir,
                            num_processes=dist.num_processes, callbacks=callbacks)
    trainer.train(resume_from_checkpoint=resume)
    step = step0 + trainer.state.global_step
    final = out / "checkpoints" / f"{stage.name}-step{step}"
    partial = final.with_name(final.name + ".partial")
    if dist.is_main:
        shutil.rmtree(partial, ignore_errors=True)  # left by a run killed while saving
    dist.wait()
    trainer.save_model(str(partial))
    record = StageRecord(stage.name, step, str(final), history_rewards(trainer.state.log_history, step0),
                         history_no_gradient(trainer.state.log_history, step0))
    if dist.is_main:
        tokenizer.save_pretrained(str(partial))
        shutil.rmtree(final, ignore_errors=True)
        partial.rename(final)
        record_stage(out, record)
        log_event(out, "stage_done", stage=stage.name, step=step, path=str(final),
                  no_gradient_steps=record.no_gradient_steps)
    dist.wait()
    return record


def reproduce(cfg: ReproConfig, out_dir: str | Path, *, dist: Dist | None = None) -> dict | None:
    """Run (or, when out_dir holds a killed run, continue) the whole recipe. Returns what reproduce.json holds
    (inline eval), a note pointing at the eval jobs (separate eval), or None on a non-main process."""
    from transformers import AutoTokenizer

    from repro import evaluate_checkpoints as ev
    from repro.rewards import build_reward_funcs
    from repro.trainer import ScheduleEvalCallback, build_train_dataset

    dist = dist or Dist.detect()
    out = Path(out_dir)
    started = time.time()
    if dist.is_main:
        if not (out / "manifest.json").is_file():  # a resumed run keeps the manifest of its start
            write_json_atomic(out / "manifest.json", build_manifest(cfg))
        inputs = resolve_inputs(cfg, out)
        write_json_atomic(out / "eval" / "target.json", {"dataset": inputs.eval_dataset,
                          "start_date": inputs.start_date, "end_date": inputs.end_date})
    dist.wait()
    if not dist.is_main:
        inputs = resolve_inputs(cfg, out, write=False)
    check_model_positions(cfg, inputs.model)
    done = {r.stage: r for r in read_state(out)}
    if dist.is_main:
        log_event(out, "start", finished_stages=sorted(done))
        ev.schedule(cfg, out, kind="initial", model=inputs.model, label="initial")
    tokenizer = AutoTokenizer.from_pretrained(inputs.model)
    train_dataset = build_train_dataset(cfg, inputs.train_rows, tokenizer)
    reward_funcs = build_reward_funcs(cfg)
    model_src, step = inputs.model, 0
    try:
        for stage in cfg.stages:
            record = done.get(stage.name)
            if record is None:
                callbacks = [] if cfg.eval.inline else [ScheduleEvalCallback(cfg, out, step_offset=step)]
                record = run_stage(cfg, stage, model_src, step, tokenizer, train_dataset, reward_funcs, out, dist,
                                   callbacks)
            elif dist.is_main:
                log_event(out, "skip_stage", stage=stage.name, step=record.step, path=record.path)
            model_src, step = record.path, record.step
            if dist.is_main:
                ev.schedule(cfg, out, kind="select", model=record.path, label=Path(record.path).name,
                            stage=stage.name, step=record.step)
    finally:
        for func in reward_funcs:
            func.close()
    if not dist.is_main:
        return None
    if not cfg.eval.inline:
        log_event(out, "training_done", wall_s=round(time.time() - started, 1))
        return {"eval_jobs": str(ev.jobs_path(out)),
                "next": f"python -m repro.evaluate_checkpoints {out}"}
    result = ev.finish(cfg, out, in_process=True)
    result["wall_s"] = round(time.time() - started, 1)
    write_json_atomic(out / "reproduce.json", result)
    return result


def build_manifest(cfg: ReproConfig) -> dict:
    import torch
    import transformers
    import trl

    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], check=False, capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).resolve().parent).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        rev = None
    return {
        "config": cfg.model_dump(mode="json"), "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_revision": rev, "python": platform.python_version(), "platform": platform.platform(),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "trl": trl.__version__},
        "command": sys.argv,
    }


def check_out_dir(out: Path, cfg: ReproConfig, resume: bool) -> None:
    """A fresh run needs a new or empty folder; --resume needs a run of the same config there."""
    if not resume:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise ConfigError(f"--out {out} already exists and is not empty; pass a new directory or --resume")
        return
    manifest = out / "manifest.json"
    if not manifest.is_file():
        raise ConfigError(f"--resume: {out} holds no run (no manifest.json); start it without --resume")
    before = json.loads(manifest.read_text(encoding="utf-8"))["config"]
    if before != cfg.model_dump(mode="json"):
        raise ConfigError(f"--resume: {out} was started with another config; resume it with the same --config")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m repro.reproduce", description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True, help="repro/configs/<name>.yaml")
    p.add_argument("--out", required=True, help="new (or empty) directory for checkpoints, evals and reports")
    p.add_argument("--resume", action="store_true", help="continue a killed run in --out (same config)")
    p.add_argument("--vllm-host", default=None, help="host of the `trl vllm-serve` server (multi-node launch)")
    args = p.parse_args(argv)
    from harness.errors import UserError

    out = Path(args.out)
    try:
        try:
            cfg = load_config(args.config)
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{args.config}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        from harness.validation import check_judge_settings

        check_judge_settings(cfg.eval.time_limit_s, cfg.eval.memory_limit_mb, cfg.eval.workers,
                             names=("eval.time_limit_s", "eval.memory_limit_mb", "eval.workers"))
        if args.vllm_host:
            cfg = cfg.model_copy(update={"vllm": cfg.vllm.model_copy(update={"server_host": args.vllm_host})})
        from harness.sandbox import preflight

        preflight(str(cfg.reward.sandbox))  # e.g. Modal without a token: fail now, not as None rewards later
        dist = Dist.detect()
        check_out_dir(out, cfg, args.resume)  # every rank, before anyone writes: they all see the same folder
        dist.wait()
        result = reproduce(cfg, out, dist=dist)
    except (ConfigError, UserError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result is None:
        return 0
    if "eval_jobs" in result:
        print(f"training done; checkpoints are scored by: {result['next']} (jobs: {result['eval_jobs']})")
        return 0
    from repro.evaluate_checkpoints import print_outcome

    print_outcome(result, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
