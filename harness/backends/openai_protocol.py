"""What the `openai` backend sends to an OpenAI-compatible server and how it reads a refusal: the request body, the
completion limit, `--extra-body`, and the one-line errors for what a server will not take.

Optional fields. The OpenAI schema has no `top_k`, `min_p`, `repetition_penalty` or `chat_template_kwargs`; vLLM
takes them top-level (what the openai SDK's `extra_body` does), other servers (`transformers serve`, OpenAI itself)
refuse unknown fields with HTTP 400/422. So an optional field is sent only when it was asked for with a value that
changes sampling (top_k > 0, min_p > 0, a thinking switch from the prompt style, anything in --extra-body), and a
refusal that names a field we sent becomes one line saying which flag stops sending it (`refusal_hint`).

Completion limit. A request always carries `max_tokens` (a server's own default, e.g. 1024 in transformers serve,
would silently cut long answers): the user's --max-tokens (capped by the room left when it can be counted); else
max_model_len minus the prompt's tokens, counted with a local tokenizer when one loads, else bounded from above by
the prompt's UTF-8 bytes (a byte-level BPE never has more tokens than bytes) plus PROMPT_SLACK_TOKENS for the chat
template; else DEFAULT_MAX_TOKENS. `CompletionLimit.describe` is the line printed at the start of a run.

Reading answers: `read_choices` turns a response into Completions (fewer choices than asked is allowed: the caller
asks for the rest), `choice_text` puts back reasoning a server split off, `error_message` is a server's error text.
Not covered: sending requests, retries, routing (harness.backends.openai and .fleet).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.backends import BackendError
from harness.backends.base import Completion
from harness.backends.common import completion_budget, render_chat_prompt, too_long_reason
from harness.records import SamplingSpec

DEFAULT_MAX_TOKENS = 32_768  # when neither --max-tokens nor max_model_len is known
PROMPT_SLACK_TOKENS = 64  # chat-template tokens around the messages (role markers, generation prompt)
SET_BY_HARNESS = frozenset({"model", "messages", "prompt", "n", "stream"})
# How to stop sending a field a server refuses (sampling fields through their own flag, so the manifest stays true).
DROP_HINTS = {
    "top_k": "pass --top-k -1",
    "min_p": "leave out --min-p",
    "n": "pass --backend-opt n_per_request=false",
}
_CONTEXT_TOO_LONG = re.compile(r"maximum context length|context length|context_length_exceeded|prompt is too long",
                               re.IGNORECASE)


def parse_extra_body(value: Any) -> dict:
    """--extra-body (a JSON object as text, or a dict from Python) -> dict; anything else is a one-line error."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            raise BackendError(f"--extra-body is not valid JSON ({err.msg} at character {err.pos}); "
                               "example: --extra-body '{\"repetition_penalty\": 1.05}'") from None
    if not isinstance(value, dict):
        raise BackendError(f"--extra-body must be a JSON object (fields added to every request), got "
                           f"{type(value).__name__}; example: --extra-body '{{\"repetition_penalty\": 1.05}}'")
    reserved = sorted(SET_BY_HARNESS & value.keys())
    if reserved:
        raise BackendError(f"--extra-body cannot set {', '.join(reserved)}: the harness sets it "
                           "(use --model, --n or --backend-opt n_per_request=false)")
    return value


def parse_drop_fields(value: Any) -> frozenset[str]:
    """--backend-opt drop_fields=a,b -> {"a", "b"}: fields never sent (recorded in the manifest)."""
    if value is None or value == "":
        return frozenset()
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return frozenset(str(item).strip() for item in items if str(item).strip())


def request_body(model: str, n: int, sampling: SamplingSpec, *, seed: int | None, max_tokens: int,
                 enable_thinking: bool | None, chat: bool, extra_body: dict, drop: frozenset[str]) -> dict:
    """The JSON body of one request, without messages/prompt (the caller adds them)."""
    body: dict[str, Any] = {"model": model, "n": n, "temperature": sampling.temperature, "top_p": sampling.top_p,
                            "max_tokens": max_tokens}
    if seed is not None:
        body["seed"] = seed
    if sampling.top_k is not None and sampling.top_k > 0:  # 0 / -1 mean "no top-k": nothing to send
        body["top_k"] = sampling.top_k
    if sampling.min_p:  # None / 0.0 mean "no min-p"
        body["min_p"] = sampling.min_p
    if enable_thinking is not None and chat:
        body["chat_template_kwargs"] = {"enable_thinking": enable_thinking}
    body.update(extra_body)
    for name in drop:
        body.pop(name, None)
    return body


def is_context_overflow(message: str) -> bool:
    """A 400 that says this prompt (with its limit) does not fit the model's context: an outcome of one problem."""
    return bool(_CONTEXT_TOO_LONG.search(message))


def refused_fields(message: str, body: dict) -> list[str]:
    """The fields of `body` a refusal message names (e.g. "Unexpected fields in the request: {'top_k'}")."""
    named = []
    for name in body:
        if name in ("model", "messages", "prompt"):
            continue
        word = re.escape(name)
        # short names ("n") only when quoted, so ordinary words are not taken for a field
        pattern = rf"""['"`]{word}['"`]""" if len(name) < 3 else rf"(?<![\w]){word}(?![\w])"
        if re.search(pattern, message):
            named.append(name)
    return named


def refusal_hint(field: str, extra_body: dict) -> str:
    if field in extra_body:
        return f"remove {field!r} from --extra-body"
    return DROP_HINTS.get(field, f"pass --backend-opt drop_fields={field}")


def error_message(response: Any) -> str:
    """The server's error text on one line (OpenAI `error.message`, vLLM `message`, FastAPI `detail`)."""
    try:
        payload = response.json()
    except ValueError:
        text = response.text or "(empty body)"
    else:
        text = _payload_text(payload)
    return " ".join(str(text).split())[:300]


def _payload_text(payload: Any) -> str:
    if not isinstance(payload, dict):
        return str(payload)
    error = payload.get("error")
    if isinstance(error, dict):
        return str(error.get("message", error))
    for key in ("message", "detail"):
        value = payload.get(key)
        if isinstance(value, list):  # FastAPI validation errors: [{"loc": [...], "msg": "..."}]
            return "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" if isinstance(d, dict)
                             else str(d) for d in value)
        if value is not None:
            return str(value)
    return str(error or payload)


@dataclass(frozen=True, slots=True)
class CompletionLimit:
    """The max_tokens each request carries (see the module docstring); tokenizer counts prompts when given."""

    max_tokens: int | None
    max_model_len: int | None
    tokenizer: Any = None
    tokenizer_name: str | None = None

    def describe(self) -> str:
        if self.max_model_len is None:
            return (f"max_tokens={self.max_tokens}" if self.max_tokens is not None else
                    f"max_tokens={DEFAULT_MAX_TOKENS} (the default: no --max-tokens and no --max-model-len)")
        if self.tokenizer is not None:
            room = f"max_model_len {self.max_model_len} - prompt tokens (counted with {self.tokenizer_name})"
        else:
            room = (f"max_model_len {self.max_model_len} - an upper bound of the prompt's tokens (its UTF-8 bytes "
                    f"+ {PROMPT_SLACK_TOKENS}; --backend-opt tokenizer=PATH counts them exactly)")
        if self.max_tokens is None:
            return f"max_tokens={room}"
        return f"max_tokens=min({self.max_tokens}, {room})" if self.tokenizer is not None else \
            f"max_tokens={self.max_tokens}"

    def for_prompt(self, messages: Sequence[dict], prompt: str | None,
                   enable_thinking: bool | None) -> tuple[int | None, int | None, str | None]:
        """(max_tokens, prompt_tokens or None, skip reason or None) for one prompt. `prompt` is the rendered text
        when the caller already has it (completions endpoint)."""
        if self.max_model_len is None:
            return (self.max_tokens if self.max_tokens is not None else DEFAULT_MAX_TOKENS), None, None
        if self.tokenizer is not None:
            text = prompt if prompt is not None else render_chat_prompt(self.tokenizer, messages, enable_thinking)
            n_prompt = len(self.tokenizer.encode(text, add_special_tokens=False))
            reason = too_long_reason(n_prompt, self.max_model_len)
            return completion_budget(n_prompt, self.max_tokens, self.max_model_len), n_prompt, reason
        if self.max_tokens is not None:
            return self.max_tokens, None, None  # the server checks it against the prompt it counts
        text = prompt if prompt is not None else "".join(str(m.get("content", "")) for m in messages)
        bound = len(text.encode("utf-8")) + PROMPT_SLACK_TOKENS
        if bound >= self.max_model_len:
            return None, None, (f"prompt may not fit: up to {bound} tokens >= max_model_len {self.max_model_len} "
                                "(pass --backend-opt tokenizer=PATH to count them exactly)")
        return self.max_model_len - bound, None, None


def read_choices(question_id: str, indices: tuple[int, ...], payload: dict) -> list[Completion]:
    """Completions for indices[:k] from the k choices of an answer (1 <= k <= len(indices), else ValueError)."""
    choices = sorted(payload["choices"], key=lambda c: c.get("index", 0))
    if not choices or len(choices) > len(indices):
        raise ValueError(f"asked for {len(indices)} choices, got {len(choices)}")
    usage = payload.get("usage") or {}
    prompt_tokens = usage.get("prompt_tokens")
    out = []
    for idx, choice in zip(indices, choices):
        tokens = len(choice["token_ids"]) if choice.get("token_ids") is not None else (
            usage.get("completion_tokens") if len(choices) == 1 else None)
        out.append(Completion(question_id, idx, choice_text(choice), finish_reason=choice.get("finish_reason"),
                              prompt_tokens=prompt_tokens, completion_tokens=tokens))
    return out


def choice_text(choice: dict) -> str:
    if "message" not in choice:
        return choice["text"]
    message = choice["message"]
    content = message.get("content") or ""
    # a server started with a reasoning parser splits the thinking off; put it back so extraction sees it all
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    return f"<think>\n{reasoning}\n</think>\n\n{content}" if reasoning else content


def describe_request_error(exc: BaseException, timeout_s: float, url: str) -> str:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return f"{url} timed out after {timeout_s:g} s"
    if isinstance(exc, httpx.ConnectError):
        return f"{url} refused or unreachable ({exc})"
    return str(exc) or type(exc).__name__


def local_tokenizer_exists(name: str) -> bool:
    """Whether a tokenizer for `name` is on this machine: a folder, or a hub id in the Hugging Face cache."""
    if os.path.isdir(os.path.expanduser(name)):
        return True
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(name, "tokenizer_config.json"), str)
    except (ValueError, OSError):  # not a valid hub id
        return False
