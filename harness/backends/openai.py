"""The `openai` backend: any OpenAI-compatible server (`vllm serve`, `transformers serve`, ...), one or a fleet,
over plain HTTP.

httpx is used directly rather than the openai SDK: the SDK's own retries would hide failures from the fleet router,
and httpx is already a base dependency. An asyncio loop runs in a background thread (bounded by a semaphore of
`options.concurrency` requests) and hands each completion to the synchronous `generate` iterator through a queue as
soon as it arrives. What goes into a request body (optional fields, the completion limit) is in openai_protocol.

Base URLs (the OpenAI convention, ending in /v1) come from options.base_urls or OPENAI_BASE_URL (comma-separated);
the key from options.api_key, OPENAI_API_KEY, or "EMPTY" (local vLLM). Requests go to the least-busy live server
(fewest outstanding requests); a server failing `fail_threshold` times in a row is marked down for `down_s` seconds
and its work is retried on the others.

Failures, by kind:
- HTTP 4xx (but 429) is a configuration error: the run stops at once (requests in flight are cancelled) with the
  server's message on one line. A refusal naming a field we sent says which flag stops sending it. The one
  exception is a 400 saying the prompt does not fit the context: that problem's samples are skipped with the reason.
- Connection errors, timeouts, 5xx and 429 are retried (exponential backoff, full jitter, `max_retries`). A request
  that fails every attempt gives Completions with `infra_error` set (not graded, never a fail), unless no request
  has succeeded yet in this run or `abort_after` requests failed in a row: then the server is taken to be down or
  wrong and the run stops with a BackendError (what was yielded stays valid; --resume redoes the rest).
- A server that ignores `n` (answers fewer choices than asked) is detected: the choices it gave are used, the rest
  of that problem is asked one sample per request, and so is everything after (logged once).

Seeds: with n_per_request=False each sample is its own n=1 request seeded with sample_seed(seed, question_id, idx),
as reproducible as the server allows; with n per request (default) the seed depends on the request's set of sample
indices, so a resumed run with a different set of missing samples draws different text. Token counts: exact per
sample for n=1 requests or when the server returns per-choice `token_ids`; otherwise completion_tokens is None.

options.extra: endpoint ("chat" | "completions"; completions renders the chat template locally with the tokenizer
named by extra["tokenizer"]), tokenizer (also used to count prompt tokens for the completion limit), extra_body
(dict or JSON text merged into every request), drop_fields (comma-separated fields never sent), backoff_s,
fail_threshold, down_s, abort_after.
Not covered: streaming tokens (SSE), tool calls, the Responses API.
"""

from __future__ import annotations

import asyncio
import os
import queue
import random
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from harness.backends import BackendError
from harness.backends.base import BackendOptions, Completion, GenerationRequest
from harness.backends.common import render_chat_prompt, sample_seed
from harness.backends.fleet import Router
from harness.backends.openai_protocol import (
    CompletionLimit,
    describe_request_error,
    error_message,
    is_context_overflow,
    local_tokenizer_exists,
    parse_drop_fields,
    parse_extra_body,
    read_choices,
    refusal_hint,
    refused_fields,
    request_body,
)
from harness.records import SamplingSpec

_DONE = object()


@dataclass(frozen=True, slots=True)
class _Unit:
    request: GenerationRequest
    indices: tuple[int, ...]
    seed: int | None


class _Retryable(Exception):
    pass


class _GaveUp(Exception):
    """Every attempt of one request failed with a retryable error; the message is the last one."""


def resolve_base_urls(options: BackendOptions) -> tuple[str, ...]:
    raw = options.base_urls or tuple(os.environ.get("OPENAI_BASE_URL", "").split(","))
    urls = tuple(u.strip().rstrip("/") for u in raw if u and u.strip())
    if not urls:
        raise BackendError("no server given: pass --base-url URL[,URL...] (e.g. http://localhost:8000/v1) "
                           "or set OPENAI_BASE_URL")
    bad = [u for u in urls if not u.startswith(("http://", "https://"))]
    if bad:
        raise BackendError(f"base URL must start with http:// or https://: {bad[0]}")
    return urls


class OpenAIBackend:
    name = "openai"

    def __init__(self, model: str, options: BackendOptions):
        self.model = model
        self.options = options
        self.base_urls = resolve_base_urls(options)
        self.api_key = options.api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        extra = options.extra
        self.endpoint = extra.get("endpoint", "chat")
        if self.endpoint not in ("chat", "completions"):
            raise BackendError(f"unknown endpoint {self.endpoint!r}; use chat or completions")
        self.extra_body = parse_extra_body(extra.get("extra_body", {}))
        self.drop = parse_drop_fields(extra.get("drop_fields"))
        self.backoff_s = float(extra.get("backoff_s", 1.0))
        self.abort_after = int(extra.get("abort_after", max(16, 2 * options.concurrency)))
        self.router = Router(self.base_urls, fail_threshold=int(extra.get("fail_threshold", 2)),
                             down_s=float(extra.get("down_s", 30.0)))
        self._tokenizer, tokenizer_name = self._load_tokenizer()
        self._max_model_len = options.max_model_len
        self._tokenizer_name = tokenizer_name
        self.split_n = not options.n_per_request  # becomes True when the server turns out to ignore n
        self._answered = 0  # responses read successfully in this run
        self._failed_in_a_row = 0
        self._limits: dict[str, tuple[int | None, str | None]] = {}  # question_id -> (max_tokens, skip reason)
        self._sampling_max_tokens: int | None = None  # --max-tokens, set by generate()

    def _load_tokenizer(self) -> tuple[Any, str | None]:
        """The completions endpoint needs a tokenizer to render prompts; the chat endpoint uses one, when it loads
        from local files, only to count prompt tokens for the completion limit."""
        name = self.options.extra.get("tokenizer") or self.model
        needed = self.endpoint == "completions"
        if not (needed or local_tokenizer_exists(name)):
            return None, None  # not importing transformers (seconds) for a tokenizer that is not here
        try:
            from transformers import AutoTokenizer

            return AutoTokenizer.from_pretrained(name, local_files_only=not needed), name
        except (OSError, ValueError, TypeError, KeyError) as exc:
            if needed:
                raise BackendError(f"the completions endpoint renders prompts locally and could not load tokenizer "
                                   f"{name!r}: set --backend-opt tokenizer=PATH") from exc
            return None, None

    @property
    def completion_limit(self) -> CompletionLimit:
        return CompletionLimit(self._sampling_max_tokens, self._max_model_len, self._tokenizer, self._tokenizer_name)

    # ---- synchronous face -------------------------------------------------------------------------------------
    def generate(self, requests: Iterable[GenerationRequest], sampling: SamplingSpec) -> Iterator[Completion]:
        self._sampling_max_tokens = sampling.max_tokens
        out: queue.Queue = queue.Queue()
        loop = asyncio.new_event_loop()
        holder: dict[str, Any] = {}

        def run() -> None:
            asyncio.set_event_loop(loop)
            holder["task"] = loop.create_task(self._run(requests, sampling, out.put))
            try:
                loop.run_until_complete(holder["task"])
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer thread
                out.put(exc)
            finally:
                out.put(_DONE)
                loop.close()

        thread = threading.Thread(target=run, name="openai-backend", daemon=True)
        thread.start()
        try:
            while (item := out.get()) is not _DONE:
                if isinstance(item, asyncio.CancelledError):
                    continue
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            task = holder.get("task")
            if thread.is_alive() and task is not None:
                try:
                    loop.call_soon_threadsafe(task.cancel)
                except RuntimeError:  # the loop closed in between: nothing left to cancel
                    pass
            thread.join()

    def close(self) -> None:
        pass

    # ---- the event loop ---------------------------------------------------------------------------------------
    def _next_unit(self, request: GenerationRequest, indices: tuple[int, ...], sampling: SamplingSpec) -> _Unit:
        """The next request to send for `indices` (the samples of `request` not yet sent): all of them with n, or
        one when n is off or the server turned out to ignore it (decided at send time, so it takes effect at once)."""
        if self.split_n or len(indices) == 1:
            return _Unit(request, indices[:1], sample_seed(sampling.seed, request.question_id, indices[0]))
        return _Unit(request, indices, sample_seed(sampling.seed, request.question_id, ",".join(map(str, indices))))

    async def _run(self, requests: Iterable[GenerationRequest], sampling: SamplingSpec,
                   emit: Callable[[Any], None]) -> None:
        import httpx

        limit = asyncio.Semaphore(max(1, self.options.concurrency))
        tasks: set[asyncio.Task] = set()
        failures: list[BackendError] = []
        timeout = httpx.Timeout(self.options.request_timeout_s, connect=min(10.0, self.options.request_timeout_s))
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=self.options.concurrency)
        headers = {"Authorization": f"Bearer {self.api_key}"}

        async def one(client: httpx.AsyncClient, unit: _Unit) -> None:
            try:
                await self._unit(client, unit, sampling, emit)
            except BackendError as exc:
                failures.append(exc)
            finally:
                limit.release()

        async with httpx.AsyncClient(timeout=timeout, limits=limits, headers=headers) as client:
            await self._check_context(client)
            print(f"openai: every request sends {self.completion_limit.describe()}", file=sys.stderr, flush=True)
            try:
                for request in requests:
                    indices = request.sample_indices
                    while indices and not failures:
                        await limit.acquire()
                        if failures:
                            limit.release()
                            break
                        unit = self._next_unit(request, indices, sampling)
                        indices = indices[len(unit.indices):]
                        task = asyncio.create_task(one(client, unit))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                    if failures:
                        break
                while tasks and not failures:
                    await asyncio.wait(list(tasks), return_when=asyncio.FIRST_COMPLETED)
            finally:  # stopped early, a configuration error, or something broke: nothing may outlive the loop
                for task in list(tasks):
                    task.cancel()
                if tasks:
                    await asyncio.gather(*list(tasks), return_exceptions=True)
        if failures:
            raise failures[0]

    async def _check_context(self, client: Any) -> None:
        """vLLM lists each model's max_model_len on GET /models: adopt it when no context length was given, and
        refuse a run that expects more than a server has (each long answer would be refused, or cut short)."""
        import httpx

        served = []
        for url in self.base_urls:
            try:
                response = await client.get(url + "/models", timeout=10.0)
                entries = response.json().get("data", []) if response.status_code == 200 else []
            except (httpx.HTTPError, ValueError, AttributeError):
                continue  # no listing: the requests themselves will say what is wrong
            served += [(e["max_model_len"], url) for e in entries if isinstance(e, dict) and e.get("id") == self.model
                       and isinstance(e.get("max_model_len"), int)]
        if not served:
            return
        length, url = min(served)
        if self._max_model_len is None:
            self._max_model_len = length
        elif self._max_model_len > length:
            raise BackendError(f"the server at {url} serves {self.model!r} with max_model_len {length}, less than the "
                               f"{self._max_model_len} this run uses: restart it with --max-model-len "
                               f"{self._max_model_len} (and the same rope scaling), or pass --max-model-len {length}")

    async def _unit(self, client: Any, unit: _Unit, sampling: SamplingSpec, emit: Callable[[Any], None]) -> None:
        """Send one unit; when the server answered fewer choices than asked, ask the rest one sample at a time."""
        pending = [unit]
        while pending:
            current = pending.pop()
            try:
                completions = await self._send(client, current, sampling)
            except _GaveUp as exc:
                self._gave_up(current, str(exc), emit)
                continue
            for completion in completions:
                emit(completion)
            done = {c.sample_idx for c in completions}
            rest = [i for i in current.indices if i not in done]
            if rest:
                self._note_n_ignored(len(current.indices), len(completions))
                pending += [_Unit(current.request, (i,), sample_seed(sampling.seed, current.request.question_id, i))
                            for i in reversed(rest)]

    def _note_n_ignored(self, asked: int, got: int) -> None:
        if not self.split_n:
            self.split_n = True
            print(f"openai: the server answered n={asked} with {got} choice(s): it ignores n, so each sample is now "
                  "its own request (--backend-opt n_per_request=false does this from the start)", file=sys.stderr,
                  flush=True)

    def _gave_up(self, unit: _Unit, last: str, emit: Callable[[Any], None]) -> None:
        qid = unit.request.question_id
        self._failed_in_a_row += 1
        attempts = self.options.max_retries + 1
        if not self._answered:
            raise BackendError(f"{qid}: no server answered after {attempts} attempts (last: {last})")
        if self._failed_in_a_row >= self.abort_after:
            raise BackendError(f"{self._failed_in_a_row} requests in a row failed after {attempts} attempts each "
                               f"(last: {last}): the server seems down; what was graded is saved, --resume "
                               "finishes the run")
        reason = f"no answer after {attempts} attempts (last: {last})"
        for idx in unit.indices:
            emit(Completion(qid, idx, None, infra_error=reason))

    async def _send(self, client: Any, unit: _Unit, sampling: SamplingSpec) -> list[Completion]:
        import httpx

        body, skip = self._body(unit, sampling)
        if skip is not None:
            return [Completion(unit.request.question_id, i, None, skipped_reason=skip) for i in unit.indices]
        path = "/chat/completions" if self.endpoint == "chat" else "/completions"
        avoid: set[str] = set()
        last = "no attempt made"
        for attempt in range(self.options.max_retries + 1):
            if attempt:
                await asyncio.sleep(random.uniform(0, min(30.0, self.backoff_s * 2 ** (attempt - 1))))
            server = self.router.pick(avoid)
            try:
                response = await client.post(server.url + path, json=body)
            except asyncio.CancelledError:
                self.router.cancel(server)
                raise
            except httpx.RequestError as exc:
                self.router.release(server, ok=False)
                avoid.add(server.url)
                last = describe_request_error(exc, self.options.request_timeout_s, server.url)
                continue
            self.router.release(server, ok=response.status_code != 429 and response.status_code < 500)
            try:
                completions = self._read(unit, body, response, server.url)
            except _Retryable as exc:
                avoid.add(server.url)
                last = str(exc)
                continue
            self._answered += 1
            self._failed_in_a_row = 0
            return completions
        raise _GaveUp(last)

    def _read(self, unit: _Unit, body: dict, response: Any, url: str) -> list[Completion]:
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status} from {url}: {error_message(response)}")
        if status >= 400:
            message = error_message(response)
            if status == 400 and is_context_overflow(message):
                reason = f"server rejected the request (HTTP {status}): {message}"
                return [Completion(unit.request.question_id, i, None, skipped_reason=reason) for i in unit.indices]
            raise BackendError(self._config_error(status, url, message, body))
        try:
            return read_choices(unit.request.question_id, unit.indices, response.json())
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise _Retryable(f"malformed response from {url}: {exc!r}") from exc

    def _config_error(self, status: int, url: str, message: str, body: dict) -> str:
        fields = refused_fields(message, body)
        if fields:
            how = "; ".join(f"{refusal_hint(f, self.extra_body)} (for {f})" for f in fields)
            return (f"the server refused the request field {', '.join(map(repr, fields))} (HTTP {status} from {url}: "
                    f"{message}); to stop sending it, {how}")
        return (f"HTTP {status} from {url}: {message} (check the model name {self.model!r}, the base URL and the "
                f"API key)")

    def _body(self, unit: _Unit, sampling: SamplingSpec) -> tuple[dict, str | None]:
        request = unit.request
        prompt = None
        if self.endpoint == "completions":
            prompt = render_chat_prompt(self._tokenizer, request.messages, self.options.enable_thinking)
        if request.question_id not in self._limits:
            max_tokens, _, skip = self.completion_limit.for_prompt(request.messages, prompt,
                                                                   self.options.enable_thinking)
            self._limits[request.question_id] = (max_tokens, skip)
        max_tokens, skip = self._limits[request.question_id]
        body = request_body(self.model, len(unit.indices), sampling, seed=unit.seed, max_tokens=max_tokens or 1,
                            enable_thinking=self.options.enable_thinking, chat=self.endpoint == "chat",
                            extra_body=self.extra_body, drop=self.drop)
        if prompt is None:
            body["messages"] = list(request.messages)
        else:
            body["prompt"] = prompt
        return body, skip
