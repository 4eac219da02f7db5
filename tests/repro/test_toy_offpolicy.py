"""The off-policy half of the objectives, exercised by real training: several optimizer steps per generation batch
(`num_iterations: 2`) on the toy task, so the policy moves between generating a batch and its second update, ratios
leave 1 and the clip fires. Each loss the trainer computes is captured with the real off-policy log-probs and checked
against the clipped surrogate written out independently here, including which tokens get no gradient. The test fails
if clipping is removed, or min and max are swapped, in repro/objectives.py (checked by hand when it was written).

Reward: a rule that knows the answer fragment of each toy problem, not the judge (this test is about the loss; the
judge path is covered by test_reproduce.py and test_trainer.py), so the test runs in seconds.
"""

from __future__ import annotations

import pytest
import torch

from repro import toy
from repro.config import ReproConfig
from repro.objectives import policy_loss
from repro.rewards import completion_text

EPS_LOW, EPS_HIGH = 0.2, 0.28


def _op(question_id: str) -> str:
    return question_id.split("_")[2]


def fragment_reward(prompts, completions, question_id, **_):
    """+1 for exactly the answer fragment of the problem's operation, -1 otherwise."""
    return [1.0 if completion_text(c).strip() == toy.answer_fragment(_op(q)) else -1.0
            for c, q in zip(completions, question_id, strict=True)]


def reference_dapo(logps, old, adv, mask):
    """-min(r A, clip(r, 1-eps_low, 1+eps_high) A) per token, summed over the mask, divided by its token count."""
    ratio = torch.exp(logps - old)
    a = adv.unsqueeze(1)
    unclipped = ratio * a
    clipped = torch.where(ratio > 1 + EPS_HIGH, 1 + EPS_HIGH, torch.where(ratio < 1 - EPS_LOW, 1 - EPS_LOW, ratio)) * a
    per_token = -torch.where(unclipped < clipped, unclipped, clipped)
    return (per_token * mask).sum() / mask.sum()


def clipped_tokens(logps, old, adv, mask):
    """Tokens whose gradient the clip removes: r > 1+eps_high with A > 0, r < 1-eps_low with A < 0."""
    ratio, a = torch.exp(logps - old), adv.unsqueeze(1)
    return (((ratio > 1 + EPS_HIGH) & (a > 0)) | ((ratio < 1 - EPS_LOW) & (a < 0))) & (mask > 0)


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    """Train 6 optimizer steps (3 generation batches, 2 updates each); capture every loss call's real inputs."""
    from repro.trainer import build_train_dataset, build_trainer

    cfg = ReproConfig.model_validate({
        "name": "offpolicy", "model": "toy", "objective": "dapo", "group_size": 8, "per_device_prompts": 4,
        "num_iterations": 2, "learning_rate": 0.01, "eps_low": EPS_LOW, "eps_high": EPS_HIGH,
        "stages": [{"name": "s", "max_completion_length": 4, "steps": 6}], "overlong_mode": "none",
        "dynamic_sampling": {"enabled": True, "max_refill_rounds": 0}, "data": {"sources": ["toy"],
                                                                              "prompt_style": "plain"},
        "bf16": False, "gradient_checkpointing": False, "use_cpu": True, "seed": 0,
    })
    tok = toy.build_toy_tokenizer()
    model = toy.build_tiny_model(tok, seed=0, hidden_size=32, layers=1)
    data = build_train_dataset(cfg, toy.build_toy_problems(seed=0).train, tok)
    trainer = build_trainer(cfg, 0, model, tok, data, [fragment_reward], tmp_path_factory.mktemp("offpolicy"),
                            save_strategy="no")
    calls: list[dict] = []
    original = trainer._compute_loss

    def capture(model, inputs):
        ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], 1)
        attention = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], 1)
        with torch.no_grad():
            logps, _, _ = trainer._get_per_token_logps_and_entropies(model, ids, attention, ids.size(1) - inputs[
                "prompt_ids"].size(1))
        loss = original(model, inputs)
        mask = inputs["completion_mask"].float() * inputs["loss_row_mask"].unsqueeze(1)
        old = inputs.get("old_per_token_logps")
        calls.append({"logps": logps, "old": logps if old is None else old.detach(), "adv": inputs["advantages"],
                      "mask": mask, "loss": loss.item(), "off_policy": old is not None})
        return loss

    trainer._compute_loss = capture
    trainer.train()
    return calls, trainer.state.log_history


def test_ratios_move_and_the_clip_fires(captured):
    calls, history = captured
    active = [c for c in calls if c["mask"].sum() > 0]
    assert len(active) >= 2, "every group was dropped: no update to check"
    second = [c for c in active if not torch.equal(c["logps"], c["old"])]
    assert second, "the policy never moved between generation and update"
    n_clipped = sum(int(clipped_tokens(c["logps"], c["old"], c["adv"], c["mask"]).sum()) for c in second)
    assert n_clipped > 0, "ratios moved, but never out of the clip range"
    logged = [h for h in history if "clip_ratio/low_mean" in h]
    assert max(h["clip_ratio/low_mean"] + h["clip_ratio/high_mean"] for h in logged) > 0
    assert max(h.get("ratio/max", 1.0) for h in logged) > 1 or min(h.get("ratio/min", 1.0) for h in logged) < 1


def test_trainer_loss_is_the_clipped_surrogate_on_real_off_policy_batches(captured):
    calls, _ = captured
    for c in (c for c in calls if c["mask"].sum() > 0):
        want = reference_dapo(c["logps"], c["old"], c["adv"], c["mask"])
        assert c["loss"] == pytest.approx(want.item(), rel=1e-4, abs=1e-6)


def test_clipped_tokens_get_no_gradient_and_clipping_changes_the_loss(captured):
    calls, _ = captured
    checked = 0
    for c in calls:
        clipped = clipped_tokens(c["logps"], c["old"], c["adv"], c["mask"])
        if not clipped.any():
            continue
        x = c["logps"].clone().requires_grad_(True)
        loss = policy_loss("dapo", x, c["old"], c["adv"], c["mask"], EPS_LOW, EPS_HIGH)
        loss.backward()
        assert loss.item() == pytest.approx(reference_dapo(c["logps"], c["old"], c["adv"], c["mask"]).item(),
                                            rel=1e-5, abs=1e-7)
        assert torch.all(x.grad[clipped] == 0)
        free = (c["mask"] > 0) & ~clipped & (c["adv"].unsqueeze(1) != 0)
        ratio = torch.exp(c["logps"] - c["old"])
        want = -c["adv"].unsqueeze(1) * ratio / c["mask"].sum()  # d(-A r)/dlogp, over N tokens
        assert torch.allclose(x.grad[free], want[free], rtol=1e-4, atol=1e-7)
        unclipped = policy_loss("dapo", c["logps"], c["old"], c["adv"], c["mask"], 1e9, 1e9)
        assert unclipped.item() != pytest.approx(loss.item(), rel=1e-4, abs=1e-7)
        checked += 1
    assert checked >= 1
