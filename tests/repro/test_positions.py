"""Positions: prompt + completion fits the policy's positions at every stage (refused at config load and against
the loaded model), the `trl vllm-serve` length is one vLLM accepts, and evaluation follows NousCoder-14B's released
config (YaRN 2.0 over 40,960 -> 81,920; no override for a checkpoint that carries its own rope scaling)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from repro.config import ConfigError, eval_args, load_config, to_eval_vllm_serve_args, to_vllm_serve_args

NOUS = Path(__file__).resolve().parents[2] / "repro" / "configs" / "nouscoder-14b.yaml"


def test_a_stage_beyond_the_models_positions_is_refused_at_load(tmp_path):
    raw = yaml.safe_load(NOUS.read_text())
    raw["stages"][1]["max_completion_length"] = 40960  # the old yaml: 40,960 completion + the prompt
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    message = str(info.value)
    assert "stage 40k" in message and "43008 > 40960" in message and "38912" in message and "\n" not in message
    cfg = load_config(NOUS)
    assert all(cfg.max_prompt_length + s.max_completion_length <= 40960 for s in cfg.stages)


def test_the_generation_server_length_is_one_vllm_accepts():
    from trl.scripts.vllm_serve import make_parser

    cfg = load_config(NOUS)
    serve = to_vllm_serve_args(cfg)
    (args,) = make_parser().parse_args_and_config(serve[2:])  # TRL's own parser for `trl vllm-serve`
    # vLLM refuses a max_model_len above the model's max_position_embeddings (Qwen3-14B: 40,960) without overrides
    assert args.max_model_len == cfg.longest_sequence() == 40960 == cfg.model_max_positions
    assert (args.tensor_parallel_size, args.data_parallel_size) == (1, 8)


def test_the_loaded_model_is_checked_too(tmp_path):
    from repro.reproduce import check_model_positions
    from repro.toy import build_tiny_model, build_toy_tokenizer

    tok = build_toy_tokenizer()
    build_tiny_model(tok).save_pretrained(tmp_path)  # 256 positions
    cfg = load_config(NOUS.parent / "tiny-cpu.yaml")
    check_model_positions(cfg, str(tmp_path))
    with pytest.raises(ConfigError, match="250 \\+ max_completion_length 8 = 258 > 256 positions"):
        check_model_positions(cfg.model_copy(update={"max_prompt_length": 250}), str(tmp_path))


def _checkpoint(path: Path, rope: dict | None) -> str:
    path.mkdir(parents=True)
    config = {"model_type": "qwen3", "max_position_embeddings": 81920 if rope else 40960, "rope_theta": 1e6}
    if rope:
        config["rope_scaling"] = rope
    (path / "config.json").write_text(json.dumps(config))
    return str(path)


def test_evaluation_follows_nouscoders_rope_and_keeps_a_checkpoints_own(tmp_path):
    from harness.backends.vllm import vllm_engine_args
    from harness.eval import build_parser, config_from_args
    from harness.pipeline import backend_options_of, resolve_defaults

    cfg = load_config(NOUS)
    plain = _checkpoint(tmp_path / "qwen3-ckpt", None)
    nous = _checkpoint(tmp_path / "NousCoder-14B", {"rope_type": "yarn", "factor": 2.0,
                                                   "original_max_position_embeddings": 40960})
    expected = {"max_position_embeddings": 81920, "rope_parameters": {
        "rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 40960, "rope_theta": 1000000.0}}
    for model, overrides in ((plain, expected), (nous, None)):
        # the repro's eval job, parsed by harness.eval's own CLI, as the job runs it
        ev = resolve_defaults(config_from_args(build_parser().parse_args(eval_args(cfg, model, tmp_path / "e",
                                                                                   select=False))))
        engine = vllm_engine_args(model, backend_options_of(ev))
        assert engine["max_model_len"] == 81920 and engine.get("hf_overrides") == overrides
        serve = to_eval_vllm_serve_args(cfg, model)
        assert ("--hf-overrides" in serve) == (overrides is not None)
        # the harness default for a Qwen3-family model with no flags follows the same rule
        default = resolve_defaults(config_from_args(build_parser().parse_args(["--model", model, "--out", "x"])))
        assert vllm_engine_args(model, backend_options_of(default)).get("hf_overrides") == overrides
    pick = resolve_defaults(config_from_args(build_parser().parse_args(eval_args(cfg, plain, tmp_path / "p",
                                                                                 select=True))))
    assert pick.max_model_len == 40960 and pick.rope_scaling is None  # selection: within the model's positions
