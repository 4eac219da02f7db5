"""The vllm backend without vllm: engine and sampling arguments (YaRN overrides, max_tokens), the chat template
call with enable_thinking, and the streaming step loop driven by a stand-in engine."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

import pytest

from harness.backends import BackendError
from harness.backends.base import BackendOptions, GenerationRequest
from harness.backends.common import render_chat_prompt, sample_seed, yarn_hf_overrides
from harness.backends.vllm import VLLMBackend, vllm_engine_args, vllm_sampling_args
from harness.records import SamplingSpec
from tests.helpers.tiny_models import build_tiny_tokenizer

YARN_81920 = {"max_position_embeddings": 81920,
              "rope_parameters": {"rope_type": "yarn", "factor": 2.5, "original_max_position_embeddings": 32768,
                                  "rope_theta": 1000000}}


def test_yarn_overrides_are_exactly_the_reference_dict():
    assert yarn_hf_overrides(2.5, 32768, 81920) == YARN_81920
    assert yarn_hf_overrides(2.0, 40960, 81920)["rope_parameters"]["factor"] == 2.0
    with pytest.raises(ValueError, match="exceeds yarn factor"):
        yarn_hf_overrides(2.0, 32768, 81920)


def test_engine_args_from_the_eval_flags():
    # --max-model-len 81920 --rope-scaling yarn --yarn-factor 2.5 --yarn-original-max 32768 --tensor-parallel-size 4
    options = BackendOptions(max_model_len=81920, rope_scaling="yarn", yarn_factor=2.5, yarn_original_max=32768,
                             tensor_parallel_size=4, dtype="bfloat16", gpu_memory_utilization=0.85)
    assert vllm_engine_args("NousResearch/NousCoder-14B", options) == {
        "model": "NousResearch/NousCoder-14B", "tensor_parallel_size": 4, "dtype": "bfloat16",
        "gpu_memory_utilization": 0.85, "max_model_len": 81920, "hf_overrides": YARN_81920}
    plain = vllm_engine_args("m", BackendOptions())
    assert "hf_overrides" not in plain and "max_model_len" not in plain
    with pytest.raises(ValueError, match="needs --yarn-factor"):
        vllm_engine_args("m", BackendOptions(rope_scaling="yarn", max_model_len=81920))


def test_max_tokens_is_the_context_left_after_the_prompt():
    sampling = SamplingSpec(temperature=0.6, top_p=0.95, top_k=20, min_p=0.0, seed=0)
    args = vllm_sampling_args(sampling, 1234, 81920, seed=99)
    assert args == {"n": 1, "temperature": 0.6, "top_p": 0.95, "top_k": 20, "min_p": 0.0,
                    "max_tokens": 81920 - 1234, "seed": 99}
    capped = vllm_sampling_args(SamplingSpec(max_tokens=2000, top_k=None), 1234, 81920)
    assert capped["max_tokens"] == 2000 and "top_k" not in capped and "seed" not in capped
    assert vllm_sampling_args(SamplingSpec(max_tokens=90000), 1234, 81920)["max_tokens"] == 81920 - 1234


class RecordingTokenizer:
    def __init__(self):
        self.calls = []

    def apply_chat_template(self, messages, **kwargs):
        self.calls.append((messages, kwargs))
        return "rendered"


def test_chat_template_call_carries_enable_thinking_only_when_set():
    tok = RecordingTokenizer()
    msgs = ({"role": "user", "content": "hi"},)
    render_chat_prompt(tok, msgs, False)
    render_chat_prompt(tok, msgs, None)
    assert tok.calls[0] == ([{"role": "user", "content": "hi"}],
                            {"tokenize": False, "add_generation_prompt": True, "enable_thinking": False})
    assert "enable_thinking" not in tok.calls[1][1]


def test_enable_thinking_switch_on_the_real_qwen3_template(qwen_tokenizer):
    msgs = ({"role": "user", "content": "hi"},)
    off = render_chat_prompt(qwen_tokenizer, msgs, False)
    on = render_chat_prompt(qwen_tokenizer, msgs, True)
    assert off.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert on.endswith("<|im_start|>assistant\n")


def test_missing_vllm_is_a_clear_error():
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here: the missing-package message cannot be observed")
    with pytest.raises(BackendError, match=r"vllm is not installed: pip install 'lcb-harness\[vllm\]'"):
        VLLMBackend("m", BackendOptions())


# ---- the step loop, driven by a stand-in for vllm.LLM (same methods the backend calls) -------------------------
@dataclass
class Sample:
    text: str
    token_ids: list
    finish_reason: str


@dataclass
class Output:
    request_id: str
    prompt_token_ids: list
    outputs: list
    finished: bool = True


@dataclass
class StandInEngine:
    steps_per_request: int = 2
    added: list = field(default_factory=list)
    live: dict = field(default_factory=dict)
    max_live: int = 0
    steps: int = 0

    def add_request(self, request_id, prompt, params):
        self.added.append((request_id, prompt, params))
        self.live[request_id] = (prompt, params, self.steps_per_request)
        self.max_live = max(self.max_live, len(self.live))

    def step(self):
        self.steps += 1
        done = []
        for rid, (prompt, params, left) in list(self.live.items()):
            if left > 1:
                self.live[rid] = (prompt, params, left - 1)
                continue
            del self.live[rid]
            n = min(3, params["max_tokens"])
            done.append(Output(rid, prompt["prompt_token_ids"], [Sample("abc"[:n], [1] * n,
                                                                        "length" if n < 3 else "stop")]))
        return done


class StandInLLM:
    def __init__(self, engine):
        self.llm_engine = engine
        self._tok = build_tiny_tokenizer()

    def get_tokenizer(self):
        return self._tok


def test_step_loop_streams_per_sample_requests_and_skips_too_long_prompts():
    engine = StandInEngine()
    options = BackendOptions(max_model_len=120, enable_thinking=False, extra={"max_pending": 3})
    backend = VLLMBackend("m", options, llm=StandInLLM(engine), sampling_params=dict)
    short = GenerationRequest("short", (0, 1, 4), ({"role": "user", "content": "hi"},))
    overhead = len(backend.prompt_ids(GenerationRequest("e", (0,), ({"role": "user", "content": ""},))))
    edge = GenerationRequest("edge", (0,), ({"role": "user", "content": "x" * (118 - overhead)},))  # 2 left
    long = GenerationRequest("long", (0, 1), ({"role": "user", "content": "x" * 500},))
    stream = backend.generate([short, long, edge], SamplingSpec(n=5, seed=7))
    first = next(stream)
    assert engine.steps == 2 and len(engine.added) == 3  # yielded as soon as the first sample finished
    out = [first, *stream]
    by_key = {(c.question_id, c.sample_idx): c for c in out}
    assert sorted(by_key) == [("edge", 0), ("long", 0), ("long", 1), ("short", 0), ("short", 1), ("short", 4)]
    assert len(out) == 6 and engine.max_live <= 3
    assert by_key[("long", 1)].skipped_reason == f"prompt has {by_key[('long', 1)].prompt_tokens} tokens " \
                                                 f">= max_model_len 120"
    prompt_ids = engine.added[0][1]["prompt_token_ids"]
    assert backend._tokenizer.decode(prompt_ids).endswith("<think>\n\n</think>\n\n")  # enable_thinking reached it
    params = {p["seed"]: p for _, _, p in engine.added}
    assert set(params) == {sample_seed(7, "short", i) for i in (0, 1, 4)} | {sample_seed(7, "edge", 0)}
    assert all(p["n"] == 1 and p["max_tokens"] == 120 - len(prompt) for _, prompt_dict, p in engine.added
               for prompt in [prompt_dict["prompt_token_ids"]])
    edge_c = by_key[("edge", 0)]
    assert edge_c.prompt_tokens == 118 and edge_c.finish_reason == "length" and edge_c.completion_tokens == 2
    assert by_key[("short", 4)].finish_reason == "stop" and by_key[("short", 4)].completion_tokens == 3
