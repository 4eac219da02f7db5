"""The openai backend against a FAKE local HTTP server (tests/harness/fake_openai_server.py): n per request,
parallel n=1, what is sent (optional fields only when asked for, always a completion limit, --extra-body), refused
fields, a server ignoring n, retries, timeouts, 5xx -> infra_error, 400 -> skipped, configuration errors.

A fake because these need failures and behaviours on demand (500s, hangs, one failing problem) and a record of each
body sent; the same backend against a real third-party server (`transformers serve`) is tested in
test_real_server.py."""

from __future__ import annotations

import json
import socket
import time

import pytest

from harness.backends import BackendError, create_backend
from harness.backends.base import BackendOptions, GenerationRequest
from harness.records import SamplingSpec
from tests.harness.fake_openai_server import FakeOpenAIServer


@pytest.fixture(scope="module")
def tiny_tokenizer_dir(tmp_path_factory):
    from tests.helpers.tiny_models import build_tiny_tokenizer

    path = tmp_path_factory.mktemp("tiny_tokenizer")
    build_tiny_tokenizer().save_pretrained(path)
    return path


@pytest.fixture
def unused_url():
    with socket.socket() as s:  # a port that was just free: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


MESSAGES = ({"role": "system", "content": "be brief"}, {"role": "user", "content": "solve it"})


def requests_for(n_problems: int, indices: tuple[int, ...]) -> list[GenerationRequest]:
    return [GenerationRequest(f"q{p}", indices, MESSAGES) for p in range(n_problems)]


def named_requests(n_problems: int, indices: tuple[int, ...]) -> list[GenerationRequest]:
    """Requests whose message is the problem id, so a fake can answer one problem differently."""
    return [GenerationRequest(f"q{p}", indices, ({"role": "user", "content": f"q{p}"},)) for p in range(n_problems)]


def backend(*urls: str, **fields):
    extra = {"backoff_s": 0.01, **fields.pop("extra", {})}
    return create_backend("openai", "fake-model", BackendOptions(base_urls=urls, extra=extra, **fields))


def test_n_per_request_sends_one_request_per_problem_and_yields_every_sample():
    with FakeOpenAIServer() as server:
        out = list(backend(server.base_url).generate(requests_for(3, (0, 1, 2, 3)), SamplingSpec(n=4, seed=7)))
    assert sorted((c.question_id, c.sample_idx) for c in out) == [(f"q{p}", i) for p in range(3) for i in range(4)]
    assert server.received == 3 and all(b["n"] == 4 for b in server.bodies)
    assert all(c.finish_reason == "stop" and c.prompt_tokens and "```python" in c.text for c in out)
    # choice i of the answer is sample_indices[i]
    assert all(f"choice={i}" in c.text for c in out for i in [c.sample_idx])


def test_parallel_n1_requests_carry_per_sample_seeds_and_exact_token_counts():
    with FakeOpenAIServer(delay_s=0.05) as server:
        b = backend(server.base_url, n_per_request=False, concurrency=8)
        out = list(b.generate(requests_for(2, (0, 1, 2, 5)), SamplingSpec(n=4, seed=1)))
    assert server.received == 8 and all(body["n"] == 1 for body in server.bodies)
    assert server.max_in_flight > 1  # really parallel
    seeds = {body["seed"] for body in server.bodies}
    assert len(seeds) == 8  # one seed per (problem, sample)
    assert all(c.completion_tokens == len(c.text.split(" ")) == 5 for c in out)
    # a resumed run asks for a missing sample with the same seed
    with FakeOpenAIServer() as again:
        list(backend(again.base_url, n_per_request=False).generate([requests_for(2, (5,))[1]],
                                                                   SamplingSpec(n=4, seed=1)))
    assert again.bodies[0]["seed"] in seeds


def test_vllm_extras_and_sampling_reach_the_server_in_the_body():
    sampling = SamplingSpec(n=2, temperature=0.6, top_p=0.95, top_k=20, min_p=0.05, max_tokens=3, seed=0)
    with FakeOpenAIServer() as server:
        b = backend(server.base_url, enable_thinking=False, api_key="sk-test",
                    extra={"extra_body": {"repetition_penalty": 1.1}})
        out = list(b.generate(requests_for(1, (0, 1)), sampling))
    body = server.bodies[0]
    assert body["model"] == "fake-model" and body["messages"] == list(MESSAGES)
    assert (body["top_k"], body["min_p"], body["max_tokens"], body["temperature"], body["top_p"]) == (
        20, 0.05, 3, 0.6, 0.95)
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["repetition_penalty"] == 1.1
    assert server.headers[0]["Authorization"] == "Bearer sk-test"
    assert [c.finish_reason for c in out] == ["length", "length"]


STRICT = frozenset({"model", "messages", "prompt", "n", "temperature", "top_p", "max_tokens", "seed"})


def test_optional_fields_are_sent_only_when_they_change_sampling_and_a_limit_always_is():
    with FakeOpenAIServer(allowed_fields=STRICT) as server:  # refuses anything outside the OpenAI schema
        out = list(backend(server.base_url).generate(requests_for(1, (0,)), SamplingSpec(top_k=-1, min_p=0.0)))
        out += list(backend(server.base_url).generate(requests_for(1, (0,)), SamplingSpec(top_k=None)))
    assert [c.text is not None for c in out] == [True, True]
    assert all(set(b) <= STRICT for b in server.bodies)
    from harness.backends.openai_protocol import DEFAULT_MAX_TOKENS

    assert [b["max_tokens"] for b in server.bodies] == [DEFAULT_MAX_TOKENS] * 2  # no --max-tokens, no context


def test_max_tokens_is_the_room_left_counted_with_the_tokenizer_or_bounded_by_bytes(tiny_tokenizer_dir, capsys):
    from transformers import AutoTokenizer

    from harness.backends.common import render_chat_prompt

    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    prompt_tokens = len(tokenizer.encode(render_chat_prompt(tokenizer, MESSAGES, None), add_special_tokens=False))
    with FakeOpenAIServer() as server:
        counted = backend(server.base_url, max_model_len=1000, extra={"tokenizer": str(tiny_tokenizer_dir)})
        list(counted.generate(requests_for(1, (0,)), SamplingSpec()))
        list(counted.generate(requests_for(1, (0,)), SamplingSpec(max_tokens=5000)))  # capped by the room
        bounded = backend(server.base_url, max_model_len=1000)  # "fake-model" has no local tokenizer
        list(bounded.generate(requests_for(1, (0,)), SamplingSpec()))
    content_bytes = sum(len(m["content"].encode()) for m in MESSAGES)
    assert [b["max_tokens"] for b in server.bodies] == [1000 - prompt_tokens] * 2 + [1000 - content_bytes - 64]
    err = capsys.readouterr().err
    assert f"max_tokens=max_model_len 1000 - prompt tokens (counted with {tiny_tokenizer_dir})" in err
    assert "max_tokens=max_model_len 1000 - an upper bound of the prompt's tokens" in err


def test_the_context_length_a_vllm_server_lists_is_adopted_and_a_longer_one_refused():
    served = [{"id": "fake-model", "object": "model", "max_model_len": 2000}, {"id": "other", "max_model_len": 10}]
    with FakeOpenAIServer(models=served) as server:
        list(backend(server.base_url).generate(requests_for(1, (0,)), SamplingSpec()))
        assert server.bodies[0]["max_tokens"] == 2000 - sum(len(m["content"].encode()) for m in MESSAGES) - 64
        with pytest.raises(BackendError, match="serves 'fake-model' with max_model_len 2000, less than the 81920"):
            list(backend(server.base_url, max_model_len=81920).generate(requests_for(1, (0,)), SamplingSpec()))
    assert server.received == 1


def test_a_refused_field_stops_the_run_at_once_naming_the_field_and_the_flag_that_drops_it():
    with FakeOpenAIServer(allowed_fields=STRICT) as server:
        b = backend(server.base_url, concurrency=1)
        with pytest.raises(BackendError) as err:
            list(b.generate(requests_for(5, (0,)), SamplingSpec(top_k=20)))
    message = str(err.value)
    assert "\n" not in message and "refused the request field 'top_k' (HTTP 422" in message
    assert "pass --top-k -1" in message
    assert server.received == 1  # stopped at the first refusal, not once per problem
    with FakeOpenAIServer(allowed_fields=STRICT) as server:
        b = backend(server.base_url, extra={"extra_body": '{"repetition_penalty": 1.1}'}, enable_thinking=True)
        with pytest.raises(BackendError) as err:
            list(b.generate(requests_for(1, (0,)), SamplingSpec(top_k=None)))
    assert "remove 'repetition_penalty' from --extra-body" in str(err.value)
    assert "--backend-opt drop_fields=chat_template_kwargs" in str(err.value)
    with FakeOpenAIServer(allowed_fields=STRICT) as server:  # drop_fields leaves it out
        b = backend(server.base_url, enable_thinking=True, extra={"drop_fields": "chat_template_kwargs"})
        assert next(iter(b.generate(requests_for(1, (0,)), SamplingSpec(top_k=None)))).text


def test_a_server_that_ignores_n_is_asked_one_sample_per_request_and_its_one_choice_is_kept(capsys):
    with FakeOpenAIServer(ignore_n=True) as server:
        out = list(backend(server.base_url, concurrency=1).generate(requests_for(2, (0, 1, 2)), SamplingSpec(n=3)))
    assert sorted((c.question_id, c.sample_idx) for c in out) == [(f"q{p}", i) for p in range(2) for i in range(3)]
    assert all(c.text and c.finish_reason == "stop" for c in out)  # the one-choice answers are valid samples
    assert [b["n"] for b in server.bodies] == [3, 1, 1, 1, 1, 1]  # detected once, then one request per sample
    assert capsys.readouterr().err.count("it ignores n") == 1


def test_5xx_after_the_retries_is_infra_error_for_that_problem_only():
    def fail_q1(body):
        return (503, {"error": {"message": "overloaded"}}) if "q1" in json.dumps(body) else None

    with FakeOpenAIServer(respond=fail_q1) as server:
        b = backend(server.base_url, concurrency=1, max_retries=2)
        out = list(b.generate(named_requests(3, (0, 1)), SamplingSpec(n=2)))
    by_q = {(c.question_id, c.sample_idx): c for c in out}
    assert len(by_q) == 6
    assert all(by_q[q, i].text and by_q[q, i].infra_error is None for q in ("q0", "q2") for i in (0, 1))
    for i in (0, 1):
        failed = by_q["q1", i]
        assert failed.text is None and failed.skipped_reason is None
        assert "no answer after 3 attempts" in failed.infra_error and "HTTP 503" in failed.infra_error
    assert server.received == 1 + 3 + 1


def test_many_requests_failing_in_a_row_stop_the_run():
    def fail_after_first(body):
        return None if "q0" in json.dumps(body) else (500, {"error": {"message": "boom"}})

    with FakeOpenAIServer(respond=fail_after_first) as server:
        b = backend(server.base_url, concurrency=1, max_retries=0, extra={"abort_after": 3})
        with pytest.raises(BackendError, match="3 requests in a row failed.*HTTP 500.*--resume"):
            list(b.generate(named_requests(10, (0,)), SamplingSpec()))
    assert server.received == 4


def test_any_other_4xx_is_a_configuration_error_with_the_server_message_on_one_line():
    pinned = FakeOpenAIServer(respond=lambda body: (400, {"detail": "Server is pinned to 'a';\n requested 'b'."}))
    with pinned, pytest.raises(BackendError) as err:
        list(backend(pinned.base_url, concurrency=1).generate(requests_for(4, (0,)), SamplingSpec()))
    assert str(err.value) == (f"HTTP 400 from {pinned.base_url}: Server is pinned to 'a'; requested 'b'. (check the "
                              "model name 'fake-model', the base URL and the API key)")
    assert pinned.received == 1


def test_extra_body_as_json_text_is_parsed_and_bad_json_is_one_line():
    with FakeOpenAIServer() as server:
        list(backend(server.base_url, extra={"extra_body": '{"repetition_penalty": 1.05}'}).generate(
            requests_for(1, (0,)), SamplingSpec()))
    assert server.bodies[0]["repetition_penalty"] == 1.05
    with pytest.raises(BackendError, match="not valid JSON"):
        backend("http://127.0.0.1:9/v1", extra={"extra_body": "{repetition_penalty: 1}"})
    with pytest.raises(BackendError, match="must be a JSON object"):
        backend("http://127.0.0.1:9/v1", extra={"extra_body": "[1]"})
    with pytest.raises(BackendError, match="cannot set n"):
        backend("http://127.0.0.1:9/v1", extra={"extra_body": {"n": 2}})


def test_retries_after_injected_500s():
    with FakeOpenAIServer(fail_first=2) as server:
        out = list(backend(server.base_url, max_retries=3).generate(requests_for(1, (0,)), SamplingSpec()))
    assert server.received == 3 and len(out) == 1 and out[0].text


def test_persistent_failure_raises_backend_error_naming_the_problem():
    with FakeOpenAIServer(fail_first=100) as server:
        gen = backend(server.base_url, max_retries=2).generate(requests_for(1, (0,)), SamplingSpec())
        with pytest.raises(BackendError, match=r"q0: no server answered after 3 attempts.*HTTP 500"):
            list(gen)
    assert server.received == 3


def test_timeout_is_retried_then_reported():
    slow = FakeOpenAIServer(delay_s=1.0)
    with slow:
        t0 = time.monotonic()
        gen = backend(slow.base_url, request_timeout_s=0.2, max_retries=1).generate(requests_for(1, (0,)),
                                                                                   SamplingSpec())
        with pytest.raises(BackendError, match="timed out after 0.2 s"):
            list(gen)
        assert time.monotonic() - t0 < 1.5  # the client gave up; it did not wait for the server
    assert slow.received == 2


def test_prompt_too_long_400_becomes_skipped_completions_with_the_server_reason():
    long_request = GenerationRequest("long", (0, 1), ({"role": "user", "content": "x " * 500},))
    with FakeOpenAIServer(max_prompt_chars=200) as server:
        out = list(backend(server.base_url).generate([long_request, *requests_for(1, (0,))], SamplingSpec()))
    skipped = sorted((c.sample_idx, c.skipped_reason) for c in out if c.question_id == "long")
    assert [s[0] for s in skipped] == [0, 1]
    assert all("HTTP 400" in r and "maximum context length" in r for _, r in skipped)
    assert [c.text is not None for c in out if c.question_id == "q0"] == [True]
    assert server.received == 2  # a 400 is not retried


def test_unknown_model_404_is_a_configuration_error():
    missing = FakeOpenAIServer(respond=lambda body: (404, {"error": {"message": "model does not exist"}}))
    with missing:
        b = backend(missing.base_url)
        with pytest.raises(BackendError, match="HTTP 404.*model does not exist.*fake-model"):
            list(b.generate(requests_for(3, (0,)), SamplingSpec()))
    assert b.router.servers[0].outstanding == 0 and b.router.servers[0].failures == 0  # the server is fine


def test_refused_connection_is_a_clear_error(unused_url):
    with pytest.raises(BackendError, match="refused or unreachable"):
        list(backend(unused_url, max_retries=1).generate(requests_for(1, (0,)), SamplingSpec()))


def test_base_url_and_key_from_environment(monkeypatch):
    with FakeOpenAIServer() as a, FakeOpenAIServer() as b:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{a.base_url}, {b.base_url}")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
        out = list(create_backend("openai", "m", BackendOptions(extra={"backoff_s": 0.01})).generate(
            requests_for(4, (0,)), SamplingSpec()))
    assert len(out) == 4 and a.received >= 1 and b.received >= 1
    assert a.headers[0]["Authorization"] == "Bearer sk-env"


def test_missing_or_bad_base_url_is_a_one_line_error(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(BackendError, match="no server given"):
        create_backend("openai", "m", BackendOptions())
    with pytest.raises(BackendError, match="must start with http"):
        create_backend("openai", "m", BackendOptions(base_urls=("localhost:8000",)))


def test_completions_endpoint_renders_the_chat_template_locally(tiny_tokenizer_dir):
    with FakeOpenAIServer() as server:
        b = backend(server.base_url, enable_thinking=False,
                    extra={"endpoint": "completions", "tokenizer": str(tiny_tokenizer_dir)})
        out = list(b.generate(requests_for(1, (0,)), SamplingSpec()))
    assert server.paths == ["/v1/completions"]
    prompt = server.bodies[0]["prompt"]
    assert prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n") and "solve it" in prompt
    assert out[0].text.startswith("sample")


def test_stopping_early_cancels_the_rest_without_hanging():
    with FakeOpenAIServer(delay_s=0.05) as server:
        gen = backend(server.base_url, n_per_request=False, concurrency=2).generate(
            requests_for(50, (0,)), SamplingSpec())
        first = next(gen)
        gen.close()
    assert first.text and server.received < 50


def test_reasoning_split_off_by_the_server_is_put_back_before_the_answer():
    def answer(body):
        choice = {"index": 0, "finish_reason": "stop",
                  "message": {"role": "assistant", "reasoning_content": "think hard", "content": "```python\n```"}}
        return 200, {"choices": [choice], "usage": {"prompt_tokens": 3, "completion_tokens": 7}}

    with FakeOpenAIServer(respond=answer) as server:
        out = list(backend(server.base_url).generate(requests_for(1, (0,)), SamplingSpec()))
    assert out[0].text == "<think>\nthink hard\n</think>\n\n```python\n```"
    assert (out[0].prompt_tokens, out[0].completion_tokens) == (3, 7)


def test_a_reply_with_the_wrong_number_of_choices_is_retried_not_trusted():
    replies = iter([(200, {"choices": [], "usage": {}}), None])
    with FakeOpenAIServer(respond=lambda body: next(replies)) as server:
        out = list(backend(server.base_url).generate(requests_for(1, (0,)), SamplingSpec()))
    assert server.received == 2 and out[0].text.startswith("sample")
