"""Pipelined verification on the CPU toy: grading overlaps generation (repro.pipelining) vs generate-then-grade.

One generation batch of the toy task (tiny Qwen3, 8 prompts x 8 rollouts, the real judge as reward) goes through
the trainer's generate-and-score step, alternating the two modes in the same run:
  pipelined            each rollout is presubmitted to the judge when it emits end-of-sequence
  generate-then-grade  TRL's flow: the whole batch is generated, then graded (concurrently)
Per batch it records: generation start, first finished rollout (a recording streamer in both modes), generation end,
last verdict. Prints medians and the ratios pipelined / generate-then-grade of (batch wall: generation start to last
verdict) and (first completion to last verdict), plus the grading tail after generation ends.

By default generation gets one thread and the judge one worker, so they do not fight over the same core (as on a
GPU machine, where generation runs on the accelerator); `--torch-threads 2 --workers 2` shares both cores.

Run: python -m benchmarks.reward_pipelining [--reps 5] [--json benchmarks/results/reward_pipelining.json]
Does not cover: vLLM (whole batches come back from one call, see repro.pipelining), GPU timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path


def _trainer(out: str, max_len: int, prompts: int, workers: int):
    from harness.verdicts import Limits
    from repro import toy
    from repro.config import ReproConfig
    from repro.rewards import JudgeReward
    from repro.trainer import build_train_dataset, build_trainer

    cfg = ReproConfig.model_validate({
        "name": "bench", "model": "toy", "group_size": 8, "per_device_prompts": prompts,
        "stages": [{"name": "s", "max_completion_length": max_len, "steps": 1}], "overlong_mode": "none",
        "dynamic_sampling": {"enabled": False}, "data": {"sources": ["toy"], "prompt_style": "plain"},
        "bf16": False, "gradient_checkpointing": False, "use_cpu": True, "seed": 0,
    })
    tok = toy.build_toy_tokenizer()
    data = build_train_dataset(cfg, toy.build_toy_problems(seed=0).train, tok)
    reward = JudgeReward(Limits(time_limit_s=2.0, memory_limit_mb=512), extract_mode="raw", workers=workers)
    trainer = build_trainer(cfg, 0, toy.build_tiny_model(tok, seed=0), tok, data, [reward], out, save_strategy="no")
    trainer.model.train()
    return trainer, reward, [dict(data[i]) for i in range(prompts) for _ in range(8)]


def one_batch(trainer, reward, rows: list[dict], pipelined: bool) -> dict[str, float]:
    """Times (s, from generation start) of the first finished rollout, generation end and the last verdict."""
    from repro.pipelining import streaming

    model = trainer.accelerator.unwrap_model(trainer.model)
    marks: dict[str, float] = {}
    cls_generate = type(model).generate

    def timed(self, *args, **kwargs):
        marks.setdefault("gen_start", time.perf_counter())
        out = cls_generate(self, *args, **kwargs)
        marks["gen_end"] = time.perf_counter()
        return out

    def first(_row, _ids):
        marks.setdefault("first_done", time.perf_counter())

    type(model).generate = timed
    trainer.pipeline_rewards = pipelined
    grade_all = reward.grade_all

    async def graded(*args, **kwargs):
        results = await grade_all(*args, **kwargs)
        marks["last_verdict"] = time.perf_counter()
        return results

    reward.grade_all = graded
    try:
        if pipelined:
            presubmit = reward.presubmit
            reward.presubmit = lambda i, row, c: (first(i, None), presubmit(i, row, c))
            try:
                trainer._generate_and_score_completions(rows)
            finally:
                reward.presubmit = presubmit
        else:
            with streaming(model, len(rows), trainer.eos_token_ids, first):  # records only, submits nothing
                trainer._generate_and_score_completions(rows)
    finally:
        type(model).generate = cls_generate
        reward.grade_all = grade_all
    t0 = marks["gen_start"]
    return {k: marks[k] - t0 for k in ("first_done", "gen_end", "last_verdict")}


def summarise(runs: list[dict[str, float]]) -> dict[str, float]:
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    med["first_to_last_verdict"] = statistics.median(r["last_verdict"] - r["first_done"] for r in runs)
    med["grading_tail_after_generation"] = statistics.median(r["last_verdict"] - r["gen_end"] for r in runs)
    return {k: round(v, 4) for k, v in med.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.reward_pipelining", description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=5, help="batches per mode (alternating)")
    p.add_argument("--max-len", type=int, default=16, help="max completion tokens")
    p.add_argument("--prompts", type=int, default=8, help="prompts per batch (x 8 rollouts)")
    p.add_argument("--torch-threads", type=int, default=1, help="generation threads (1: a core of its own)")
    p.add_argument("--workers", type=int, default=1, help="judge workers (1: the other core)")
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.torch_threads)
    with tempfile.TemporaryDirectory() as out:
        trainer, reward, rows = _trainer(out, args.max_len, args.prompts, args.workers)
        try:
            one_batch(trainer, reward, rows, True)  # warm-up: judge sandboxes, torch kernels
            runs: dict[str, list] = {"pipelined": [], "generate_then_grade": []}
            for _ in range(args.reps):
                runs["pipelined"].append(one_batch(trainer, reward, rows, True))
                runs["generate_then_grade"].append(one_batch(trainer, reward, rows, False))
        finally:
            reward.close()
    pipe, base = summarise(runs["pipelined"]), summarise(runs["generate_then_grade"])
    result = {
        "rollouts_per_batch": len(rows), "max_completion_length": args.max_len, "reps": args.reps,
        "torch_threads": args.torch_threads, "judge_workers": args.workers,
        "pipelined": pipe, "generate_then_grade": base,
        "ratio_batch_wall": round(pipe["last_verdict"] / base["last_verdict"], 3),
        "ratio_first_completion_to_last_verdict": round(pipe["first_to_last_verdict"] / base["first_to_last_verdict"],
                                                        3),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
