"""The hf backend on a tiny random Qwen3 saved to disk (tests/helpers/tiny_models.py), on CPU: n completions per
request with finish reasons and token counts, reproducibility, skipped long prompts; plus the tiny model itself."""

from __future__ import annotations

import pytest

from harness.backends import create_backend
from harness.backends.base import BackendOptions, GenerationRequest
from harness.records import SamplingSpec
from tests.helpers.tiny_models import build_tiny_qwen3, build_tiny_tokenizer, save_tiny_qwen3

MESSAGES = ({"role": "system", "content": "You write Python."}, {"role": "user", "content": "Add two numbers."})


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    return save_tiny_qwen3(tmp_path_factory.mktemp("tiny_qwen3"))


def hf(model_dir, **fields):
    return create_backend("hf", str(model_dir), BackendOptions(device="cpu", **fields))


def test_n_completions_per_request_with_finish_reasons_and_token_counts(tiny_model_dir):
    backend = hf(tiny_model_dir, batch_size=4, enable_thinking=False)
    requests = [GenerationRequest(f"q{p}", (0, 1, 2), MESSAGES) for p in range(3)]
    out = list(backend.generate(requests, SamplingSpec(n=3, max_tokens=24, seed=0)))
    assert sorted((c.question_id, c.sample_idx) for c in out) == [(f"q{p}", i) for p in range(3) for i in range(3)]
    prompt = backend.tokenizer.apply_chat_template(list(MESSAGES), tokenize=False, add_generation_prompt=True,
                                                   enable_thinking=False)
    assert prompt.endswith("<think>\n\n</think>\n\n")
    assert {c.prompt_tokens for c in out} == {len(backend.tokenizer.encode(prompt, add_special_tokens=False))}
    for c in out:
        assert c.finish_reason in ("stop", "length") and isinstance(c.text, str)
        if c.finish_reason == "length":
            assert c.completion_tokens == 24
        else:
            assert 1 <= c.completion_tokens <= 24  # the EOS token counts, the padding after it does not
    assert any(c.finish_reason == "stop" for c in out)  # the planted EOS preference works


def test_same_requests_and_seed_give_the_same_text(tiny_model_dir):
    backend = hf(tiny_model_dir, batch_size=2)
    requests = [GenerationRequest("q", (0, 1), MESSAGES)]
    first = [c.text for c in backend.generate(requests, SamplingSpec(n=2, max_tokens=8, seed=5))]
    again = [c.text for c in backend.generate(requests, SamplingSpec(n=2, max_tokens=8, seed=5))]
    other = [c.text for c in backend.generate(requests, SamplingSpec(n=2, max_tokens=8, seed=6))]
    assert first == again and first != other


def test_prompt_longer_than_max_model_len_is_skipped_with_the_reason(tiny_model_dir):
    backend = hf(tiny_model_dir, max_model_len=64)
    long = GenerationRequest("long", (0, 1), ({"role": "user", "content": "x" * 100},))
    short = GenerationRequest("short", (0,), ({"role": "user", "content": "hi"},))
    out = {(c.question_id, c.sample_idx): c for c in backend.generate([long, short], SamplingSpec(n=2))}
    assert out[("long", 0)].skipped_reason == f"prompt has {out[('long', 0)].prompt_tokens} tokens >= max_model_len 64"
    assert out[("long", 1)].text is None
    short_c = out[("short", 0)]
    assert short_c.skipped_reason is None  # no max_tokens: the budget is what the context leaves
    assert short_c.completion_tokens <= 64 - short_c.prompt_tokens


def test_tiny_qwen3_is_a_qwen3_over_the_tokenizer_vocab():
    tok = build_tiny_tokenizer()
    model = build_tiny_qwen3(tok, hidden_size=32, layers=1)
    assert type(model).__name__ == "Qwen3ForCausalLM"
    assert model.config.vocab_size == len(tok) == 261 and model.config.eos_token_id == tok.eos_token_id
    assert tok.decode(tok.encode("héllo <think>x</think>", add_special_tokens=False)) == "héllo <think>x</think>"


@pytest.mark.parametrize("temperature, top_k", [(0.6, 20), (1.0, None)])
def test_tiny_qwen3_samples_end_after_about_mean_length_tokens(temperature, top_k):
    import torch

    tok = build_tiny_tokenizer()
    model = build_tiny_qwen3(tok, mean_length=6, temperature=temperature, top_k=top_k)
    torch.manual_seed(0)
    prompt = torch.tensor([tok.encode("print(1)\n" * 5, add_special_tokens=False)])
    out = model.generate(prompt, do_sample=True, temperature=temperature, top_k=top_k or 0, top_p=1.0,
                         max_new_tokens=40, num_return_sequences=32, pad_token_id=tok.pad_token_id)
    lengths = [row.tolist().index(tok.eos_token_id) + 1 if tok.eos_token_id in row.tolist() else 40
               for row in out[:, prompt.shape[1]:]]
    assert 3 <= sum(lengths) / len(lengths) <= 12  # geometric lengths with mean 6; a loose band for 32 draws
