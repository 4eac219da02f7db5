"""repro.config: YAML loading, validation errors, and the mapping of every recipe setting onto TRL / vLLM / harness."""

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from repro.config import (
    ConfigError,
    ReproConfig,
    grpo_config_kwargs,
    load_config,
    to_eval_args,
    to_eval_vllm_serve_args,
    to_grpo_config,
    to_vllm_serve_args,
    yarn_hf_overrides,
)

CONFIGS = Path(__file__).resolve().parents[2] / "repro" / "configs"
NOUS = CONFIGS / "nouscoder-14b.yaml"


def _with(cfg: ReproConfig, **update) -> ReproConfig:
    """A validated copy (model_copy(update=...) would skip validation)."""
    return ReproConfig.model_validate({**cfg.model_dump(), **update})


@pytest.fixture(scope="module")
def nous() -> ReproConfig:
    return load_config(NOUS)


def test_nouscoder_yaml_maps_onto_grpo_config(nous, tmp_path):
    # bf16 is the one setting transformers refuses without a GPU; everything else is built as configured
    for index, (ctx, steps) in enumerate([(32768, 600), (38912, 300)]):
        args = to_grpo_config(nous, index, tmp_path, num_processes=40, bf16=False)
        assert (args.loss_type, args.importance_sampling_level) == ("dapo", "token")
        assert (args.epsilon, args.epsilon_high) == (0.2, 0.28)
        assert args.scale_rewards == "group" and args.beta == 0.0
        assert args.num_generations == 8
        assert args.mask_truncated_completions is False  # zero_advantage is done by the trainer, not TRL's mask
        assert args.use_vllm is True and args.vllm_mode == "server"
        assert (args.vllm_server_host, args.vllm_server_port) == ("0.0.0.0", 8000)
        assert args.max_completion_length == ctx and args.max_steps == steps
        assert args.learning_rate == 1e-6
        assert args.per_device_train_batch_size == 1 and args.gradient_accumulation_steps == 16
        assert args.per_device_train_batch_size * 40 * args.gradient_accumulation_steps == 80 * 8  # global batch
        assert args.steps_per_generation == args.gradient_accumulation_steps  # one generation per optimizer step
        assert args.model_init_kwargs == {"dtype": "float32"}  # fp32 master weights; bf16 is compute only
        assert (args.temperature, args.top_p, args.seed) == (1.0, 1.0, 0)
        assert args.activation_checkpointing is True and args.max_grad_norm == 1.0
        assert args.save_steps == 50 and args.output_dir == str(tmp_path)
    assert grpo_config_kwargs(nous, "40k", tmp_path)["bf16"] is True  # the real run trains in bf16
    assert nous.reward.time_limit_s == 15 and nous.reward.memory_limit_mb == 4096
    assert nous.dynamic_sampling.enabled and nous.overlong_mode == "zero_advantage"


@pytest.mark.parametrize(
    ("objective", "loss_type", "level"),
    [("dapo", "dapo", "token"), ("gspo", "grpo", "sequence"), ("gspo_plus", "dapo", "sequence")],
)
def test_objective_maps_to_trl_loss(nous, tmp_path, objective, loss_type, level):
    cfg = _with(nous, objective=objective, bf16=False, use_cpu=True)
    args = to_grpo_config(cfg, 0, tmp_path)
    assert (args.loss_type, args.importance_sampling_level) == (loss_type, level)


def test_mask_mode_and_no_vllm(nous, tmp_path):
    cfg = _with(nous, overlong_mode="mask", vllm={"mode": "none"})
    kwargs = grpo_config_kwargs(cfg, 0, tmp_path)
    assert kwargs["mask_truncated_completions"] is True
    assert kwargs["use_vllm"] is False and "vllm_mode" not in kwargs


def test_vllm_and_eval_arguments(nous):
    serve = to_vllm_serve_args(nous)
    assert serve[:2] == ["trl", "vllm-serve"]
    assert serve[serve.index("--model") + 1] == "Qwen/Qwen3-14B"
    assert int(serve[serve.index("--max-model-len") + 1]) == 40960  # prompt + the 40k stage = the positions
    final = to_eval_vllm_serve_args(nous, "ckpt")
    overrides = json.loads(final[final.index("--hf-overrides") + 1])
    assert overrides == {  # NousCoder-14B's released config.json (REFERENCE §6)
        "max_position_embeddings": 81920,
        "rope_parameters": {"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 40960,
                            "rope_theta": 1000000.0},
    }
    assert final[final.index("--max-model-len") + 1] == "81920"
    assert yarn_hf_overrides(81920, nous.eval.yarn)["max_position_embeddings"] == 81920
    ev = to_eval_args(nous, "ckpt")
    assert ev[ev.index("--max-model-len") + 1] == "81920"
    assert ev[ev.index("--yarn-factor") + 1] == "2.0" and ev[ev.index("--n") + 1] == "16"
    assert ev[ev.index("--yarn-original-max") + 1] == "40960"
    assert ev[ev.index("--start-date") + 1] == "2024-08-01" and ev[ev.index("--end-date") + 1] == "2025-05-01"
    pick = to_eval_args(nous, "ckpt", select=True)
    assert pick[pick.index("--max-model-len") + 1] == "40960"
    assert pick[pick.index("--rope-scaling") + 1] == "none"  # within the model's own positions


def _write(tmp_path, text: str) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: x\nmodel: m\nstages: [{name: a, max_completion_length: 8, steps: 1}]\nbogus: 1\n", "bogus"),
        ("name: x\nmodel: m\nobjective: ppo\nstages: [{name: a, max_completion_length: 8, steps: 1}]\n", "objective"),
        ("name: x\nmodel: m\nstages: []\n", "stages"),
        ("name: x\nmodel: m\neps_low: 0.3\neps_high: 0.2\nstages: [{name: a, max_completion_length: 8, steps: 1}]\n",
         "eps_high"),
        ("- just a list\n", "mapping"),
        ("name: [unclosed\n", "YAML"),
    ],
)
def test_bad_configs_give_one_line_errors(tmp_path, text, needle):
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    message = str(info.value)
    assert needle in message and "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def _undocumented(model: type[BaseModel], prefix: str = "") -> list[str]:
    missing = []
    for name, info in model.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            missing += _undocumented(ann, f"{prefix}{name}.")
        elif not info.description and not (info.default_factory and issubclass(
                type(info.default_factory()), BaseModel)):
            missing.append(prefix + name)
    return missing


def test_every_setting_is_documented():
    assert _undocumented(ReproConfig) == []
