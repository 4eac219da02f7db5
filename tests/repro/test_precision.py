"""Precision that learns, and updates that are skipped when there is nothing to learn from.

One GRPO step of the real trainer at the recipe's learning rate (1e-6) on a tiny Qwen3 saved in bf16 (as Qwen3-14B
is): the repro path (TRL loads the path in fp32 = master weights, bf16 autocast compute) must change the weights as
an all-fp32 step does; bf16 weights updated in place (the old driver's from_pretrained default) lose most of the
update. The rollouts are fixed so the three runs see the same batch. CPU autocast stands in for the GPU's bf16."""

from __future__ import annotations

import pytest
import torch

from repro.config import ReproConfig

G = 4
TEXTS = ("print the sum of the numbers written on a single line", "read a line of integers and print their largest")


def _cfg(**update) -> ReproConfig:
    return ReproConfig.model_validate({
        "name": "precision", "model": "unused", "group_size": G, "per_device_prompts": 2, "learning_rate": 1e-6,
        "stages": [{"name": "s", "max_completion_length": 3, "steps": 1}], "overlong_mode": "none",
        "dynamic_sampling": {"enabled": True, "max_refill_rounds": 0}, "max_prompt_length": 32,
        "bf16": False, "gradient_checkpointing": False, "use_cpu": True, **update,
    })


def alternating_reward(prompts, completions, **_):
    return [1.0 if i % 2 else -1.0 for i in range(len(completions))]


def no_signal_after_first_step(prompts, completions, trainer_state=None, **_):
    """Step 1: +1/-1 inside every group; later steps: all equal (every group dropped, no gradient)."""
    if trainer_state is not None and trainer_state.global_step >= 1:
        return [1.0] * len(completions)
    return alternating_reward(prompts, completions)


@pytest.fixture(scope="module")
def bf16_checkpoint(tmp_path_factory):
    from repro import toy

    tok = toy.build_toy_tokenizer()
    model = toy.build_tiny_model(tok, seed=0).to(torch.bfloat16)
    path = tmp_path_factory.mktemp("bf16-model")
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path, tok


def _fixed_rollouts(trainer):
    """Every rollout is the same two fragments then EOS: the batch does not depend on the compute precision."""
    original = trainer._generate
    tok = trainer._tokenizer
    frag = tok.convert_tokens_to_ids(["print(0)", "print(1)"])

    def generate(prompts):
        result = list(original(prompts))
        result[1] = [[frag[i % 2], frag[(i + 1) % 2], tok.eos_token_id] for i in range(len(prompts))]
        return tuple(result)

    trainer._generate = generate


def _step(checkpoint, tmp_path, *, bf16: bool, load_bf16_object: bool = False, reward=alternating_reward,
          steps: int = 1, use_cpu: bool = True):
    """Train `steps` optimizer steps; return (weights before, weights after each step, trainer)."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, TrainerCallback

    from repro.trainer import build_trainer

    path, tok = checkpoint
    cfg = _cfg(bf16=bf16, use_cpu=use_cpu, stages=[{"name": "s", "max_completion_length": 3, "steps": steps}])
    data = Dataset.from_list([{"id": f"t{i}", "prompt": [{"role": "user", "content": t}]}
                              for i, t in enumerate(TEXTS)])
    model = AutoModelForCausalLM.from_pretrained(path) if load_bf16_object else str(path)
    snapshots = []

    class Snap(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kw):
            snapshots.append([p.detach().float().clone() for p in model.parameters()])

    torch.manual_seed(0)
    trainer = build_trainer(cfg, 0, model, tok, data, [reward], tmp_path, num_processes=1, callbacks=[Snap()],
                            save_strategy="no", seed=0)
    _fixed_rollouts(trainer)
    before = [p.detach().float().clone() for p in trainer.model.parameters()]
    trainer.train()
    return before, snapshots, trainer


def _delta(before, after) -> torch.Tensor:
    return torch.cat([(a - b).flatten() for b, a in zip(before, after)])


@pytest.mark.timeout(600)
def test_bf16_compute_with_fp32_masters_updates_like_fp32(bf16_checkpoint, tmp_path):
    ref_before, ref_after, _ = _step(bf16_checkpoint, tmp_path / "fp32", bf16=False)
    mix_before, mix_after, mixed = _step(bf16_checkpoint, tmp_path / "mixed", bf16=True)
    old_before, old_after, old = _step(bf16_checkpoint, tmp_path / "old", bf16=True, load_bf16_object=True)
    assert all(p.dtype == torch.float32 for p in mixed.model.parameters())  # master weights stay fp32
    assert mixed.accelerator.mixed_precision == "bf16"  # ... and the compute is bf16
    assert all(p.dtype == torch.bfloat16 for p in old.model.parameters())
    ref, mix, bad = _delta(ref_before, ref_after[-1]), _delta(mix_before, mix_after[-1]), _delta(old_before,
                                                                                                 old_after[-1])
    moved_ref = (ref != 0).float().mean().item()
    print(f"weights changed by one step at lr 1e-6: fp32 {moved_ref:.1%}, fp32 masters + bf16 compute "
          f"{(mix != 0).float().mean().item():.1%} (relative error {((mix - ref).norm() / ref.norm()).item():.2f}), "
          f"bf16 weights {(bad != 0).float().mean().item():.1%}")
    assert moved_ref > 0.5  # Adam's first step moves every weight with a gradient by ~lr
    assert (mix != 0).float().mean().item() > 0.95 * moved_ref
    assert ((mix - ref).norm() / ref.norm()).item() < 0.25
    assert (bad != 0).float().mean().item() < 0.1 * moved_ref  # bf16 weights: 1e-6 steps mostly round away


@pytest.mark.timeout(600)
def test_a_step_without_gradient_leaves_the_weights_alone(bf16_checkpoint, tmp_path):
    """Step 2 drops every group: AdamW's momentum from step 1 would still move the weights; the update is skipped."""
    before, snaps, trainer = _step(bf16_checkpoint, tmp_path, bf16=False, reward=no_signal_after_first_step,
                                   steps=2)
    assert _delta(before, snaps[0]).abs().sum() > 0
    assert _delta(snaps[0], snaps[1]).abs().max().item() == 0.0
    logged = [h for h in trainer.state.log_history if "no_gradient_step" in h]
    assert [h["no_gradient_step"] for h in logged] == [0.0, 1.0]
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(1e-6)  # the schedule resumes after the skip
