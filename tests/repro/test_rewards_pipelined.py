"""Pipelined verification (repro.pipelining): on the trainer's transformers-generate path, every rollout reaches the
real judge the moment it finishes, while other rows are still being generated, and the rewards are exactly those of
grading after generation."""

from __future__ import annotations

import time

import torch

from harness.verdicts import Limits
from repro import toy
from repro.config import ReproConfig
from repro.pipelining import FinishedRowStreamer
from repro.rewards import PASS_REWARD, JudgeReward


def test_streamer_reports_each_row_at_its_stop_token():
    seen: list[tuple[int, list[int]]] = []
    streamer = FinishedRowStreamer(3, stop_ids=[9], on_finished=lambda r, ids: seen.append((r, list(ids))))
    streamer.put(torch.tensor([[1, 2], [1, 2], [1, 2]]))  # the prompt
    streamer.put(torch.tensor([5, 9, 6]))  # one token per row: row 1 stops at once
    assert seen == [(1, [9])]
    streamer.put(torch.tensor([9, 0, 7]))  # row 0 stops; row 1's padding after its stop is ignored
    assert seen == [(1, [9]), (0, [5, 9])]
    streamer.end()  # row 2 never stopped: reported when generation ends, with everything it generated
    assert seen == [(1, [9]), (0, [5, 9]), (2, [6, 7])]


def _trainer(tmp_path, reward: JudgeReward):
    from repro.trainer import build_train_dataset, build_trainer

    cfg = ReproConfig.model_validate({
        "name": "pipe", "model": "toy", "group_size": 8, "per_device_prompts": 2,
        "stages": [{"name": "s", "max_completion_length": 12, "steps": 1}], "overlong_mode": "none",
        "dynamic_sampling": {"enabled": True, "max_refill_rounds": 0},
        "data": {"sources": ["toy"], "prompt_style": "plain"},
        "bf16": False, "gradient_checkpointing": False, "use_cpu": True, "seed": 0,
    })
    tok = toy.build_toy_tokenizer()
    model = toy.build_tiny_model(tok, seed=0, hidden_size=32, layers=1)
    data = build_train_dataset(cfg, toy.build_toy_problems(seed=0).train, tok)
    trainer = build_trainer(cfg, 0, model, tok, data, [reward], tmp_path, save_strategy="no")
    trainer.model.train()
    return trainer, data


def test_rollouts_are_graded_while_the_batch_still_generates(tmp_path):
    reward = JudgeReward(Limits(time_limit_s=2.0, memory_limit_mb=512), extract_mode="raw", workers=2)
    trainer, data = _trainer(tmp_path, reward)
    rows = [dict(data[i]) for i in range(2) for _ in range(8)]
    events: list[tuple[str, float, int]] = []
    presubmit = reward.presubmit

    def traced(index, row, completion):
        events.append(("presubmit", time.perf_counter(), index))
        presubmit(index, row, completion)

    reward.presubmit = traced
    model = trainer.accelerator.unwrap_model(trainer.model)
    generate = type(model).generate

    def timed_generate(self, *args, **kwargs):
        out = generate(self, *args, **kwargs)
        events.append(("generate_end", time.perf_counter(), -1))
        return out

    type(model).generate = timed_generate
    try:
        batch = trainer._generate_and_score_completions(rows)
    finally:
        type(model).generate = generate
        reward.close()
    lengths = batch["completion_mask"].sum(-1).tolist()
    end = next(t for kind, t, _ in events if kind == "generate_end")
    early = [i for kind, t, i in events if kind == "presubmit" and t < end]
    assert sorted(i for kind, _, i in events if kind == "presubmit") == list(range(16))  # each row once
    assert max(lengths) > min(lengths), "every row had the same length: nothing to overlap in this draw"
    assert early, "no rollout reached the judge before generation ended"
    assert reward.last_batch_timing["pipelined_frac"] == 1.0  # the reward awaited the running grades
    # the rewards are what grading after generation gives: +1 exactly for the answer fragment
    texts = trainer._tokenizer.batch_decode(batch["completion_ids"] * batch["completion_mask"],
                                            skip_special_tokens=True)
    assert trainer._last_rewards.shape == (16, 1)
    for row, text, got in zip(rows, texts, trainer._last_rewards[:, 0].tolist(), strict=True):
        op = row["question_id"].split("_")[2]
        assert (got == PASS_REWARD) == (text.strip() == toy.answer_fragment(op)), (text, got)


def test_a_changed_completion_is_graded_afresh():
    """presubmit is only a head start: if the code the reward would grade differs, the early grade is not used."""
    import asyncio

    from repro.data import rows_from_lcb

    row = rows_from_lcb(toy.build_toy_problems(seed=0).train[:1], source="toy", prompt_style="plain")[0]
    op = row["question_id"].split("_")[2]
    with JudgeReward(Limits(time_limit_s=2.0, memory_limit_mb=512), extract_mode="raw", workers=1) as reward:
        reward.begin_batch()
        reward.presubmit(0, row, "print(0)")
        got = asyncio.run(reward(prompts=[None], completions=[toy.answer_fragment(op)], id=[row["id"]],
                                 question_id=[row["question_id"]], question_content=[row["question_content"]],
                                 **{k: [row[k]] for k in row if k not in ("id", "question_id", "question_content")}))
        assert got == [PASS_REWARD] and reward.last_batch_timing["pipelined_frac"] == 0.0
