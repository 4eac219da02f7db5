"""repro.plan: the batch split and the per-GPU memory estimate, checked by hand on a tiny shape, against the real
Qwen3 module for the parameter count, and on the 14B config (fits 8 and 40 B200s; micro-batch 32 of 40k refused)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from repro.config import ModelShape, ReproConfig, load_config
from repro.plan import GB, main, plan

NOUS = Path(__file__).resolve().parents[2] / "repro" / "configs" / "nouscoder-14b.yaml"
TINY = ModelShape(hidden_size=64, num_layers=2, intermediate_size=128, num_attention_heads=4, num_key_value_heads=2,
                  head_dim=16, vocab_size=100)


def _qwen3_params(shape: ModelShape) -> int:
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    config = Qwen3Config(hidden_size=shape.hidden_size, num_hidden_layers=shape.num_layers,
                         intermediate_size=shape.intermediate_size, num_attention_heads=shape.num_attention_heads,
                         num_key_value_heads=shape.num_key_value_heads, head_dim=shape.head_dim,
                         vocab_size=shape.vocab_size, tie_word_embeddings=shape.tie_word_embeddings)
    with torch.device("meta"):
        return sum(p.numel() for p in Qwen3ForCausalLM(config).parameters())


def test_parameter_count_matches_the_real_qwen3_module():
    assert TINY.num_params() == 86_912 == _qwen3_params(TINY)  # by hand: 2 x 37,024 + 2 x 6,400 + 64
    qwen14 = load_config(NOUS).model_shape
    assert qwen14.num_params() == _qwen3_params(qwen14)
    assert 14.7e9 < qwen14.num_params() < 14.9e9  # Qwen3-14B: 14.8B parameters


def test_tiny_plan_by_hand():
    cfg = ReproConfig.model_validate({
        "name": "tiny", "model": "m", "group_size": 4, "per_device_batch_size": 2, "prompts_per_step": 3,
        "max_prompt_length": 16, "stages": [{"name": "a", "max_completion_length": 48, "steps": 1}],
        "gradient_checkpointing": True, "model_shape": TINY.model_dump(), "launch": {"zero_stage": 0}})
    p = plan(cfg, gpus=3, gpu_memory_gb=1)
    assert (p.micro_batch, p.accumulation, p.rollouts_per_step, p.seq_len) == (2, 2, 12, 64)  # 2 x 2 x 3 = 3 x 4
    params = 86_912
    assert p.parts["weights"] == 4 * params and p.parts["gradients"] == 4 * params
    assert p.parts["optimizer"] == 8 * params
    layer = 2 * 64 * (8 * 64 + 8 * 64 + 12 * 32 + 8 * 128)  # 128 tokens x 2,432 bytes
    assert p.parts["activations"] == 2 * 2 * 64 * 64 * 2 + 2 * layer
    assert p.parts["logits"] == 6 * 2 * 48 * 100
    rest = 16 * params + 2 * 2 * 64 * 64 * 2 + 2 * layer + 6 * 2 * 48 * 100
    assert p.parts["overhead"] == pytest.approx(4 * GB + 0.1 * rest)
    z3 = plan(cfg.model_copy(update={"launch": cfg.launch.model_copy(update={"zero_stage": 3})}), 3, 1)
    assert z3.parts["weights"] == pytest.approx(2 * params / 3) and z3.parts["master"] == pytest.approx(4 * params / 3)
    assert z3.parts["optimizer"] == pytest.approx(8 * params / 3) and z3.parts["zero3 live"] == 3 * GB


@pytest.mark.parametrize("gpus", [8, 40])
def test_the_14b_recipe_fits_b200s_with_the_recipes_batch(gpus, capsys):
    cfg = load_config(NOUS)
    p = plan(cfg, gpus, 180)
    assert p.fits and p.rollouts_per_step == 80 * 8 and p.seq_len == 40_960
    assert main(["--config", str(NOUS), "--gpus", str(gpus)]) == 0
    assert capsys.readouterr().out.strip().endswith("fits")


def test_a_micro_batch_of_32_long_rollouts_is_refused(tmp_path, capsys):
    raw = yaml.safe_load(NOUS.read_text())
    raw["per_device_batch_size"] = 32
    raw["prompts_per_step"] = 160  # 1,280 rollouts = 32 x 1 x 40
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    assert main(["--config", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "does not fit" in err and "\n" not in err
    assert main(["--config", str(NOUS), "--gpus", "7"]) == 2  # 640 rollouts cannot be split over 7 GPUs
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "multiple" in err and "\n" not in err
