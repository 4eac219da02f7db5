"""Small pieces shared by the backends: YaRN overrides, per-sample seeds, chat rendering, skipped completions.

Pure functions with no heavy imports, so the GPU paths' arguments can be tested on a CPU-only machine.
Not covered here: anything that talks to a model or a server.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from harness.backends.base import BackendOptions, Completion, GenerationRequest

DEFAULT_ROPE_THETA = 1_000_000


def yarn_hf_overrides(factor: float, original_max: int, max_model_len: int,
                      rope_theta: float = DEFAULT_ROPE_THETA) -> dict:
    """The `hf_overrides` that extend a Qwen3 model with YaRN (REFERENCE.md §6).

    The dict replaces the model's rope parameters whole, so rope_theta is carried; max_position_embeddings is
    raised because vLLM no longer multiplies the maximum length by the YaRN factor."""
    if factor <= 1:
        raise ValueError(f"yarn factor must be > 1, got {factor}")
    if max_model_len > factor * original_max:
        raise ValueError(f"max_model_len {max_model_len} exceeds yarn factor {factor} x original max {original_max}"
                         f" = {int(factor * original_max)}")
    return {
        "max_position_embeddings": max_model_len,
        "rope_parameters": {
            "rope_type": "yarn",
            "factor": factor,
            "original_max_position_embeddings": original_max,
            "rope_theta": rope_theta,
        },
    }


def checkpoint_rope_scaling(model: str) -> dict | None:
    """The rope scaling a checkpoint's own config.json carries (`rope_scaling`, or transformers 5's
    `rope_parameters` with a rope_type other than default), or None. Reads a local folder, or the hub cache for a
    hub id (no download). NousCoder-14B's carries YaRN 2.0 over 40,960 (REFERENCE §6): no override is needed."""
    import json
    from pathlib import Path

    path: Path | str | None = Path(model) / "config.json"
    if not Path(path).is_file():
        try:
            from huggingface_hub import try_to_load_from_cache

            path = try_to_load_from_cache(model, "config.json")
        except Exception:  # not a valid repo id: nothing cached  # noqa: BLE001
            path = None
    if not isinstance(path, (str, Path)) or not Path(path).is_file():
        return None
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    for key in ("rope_scaling", "rope_parameters"):
        value = raw.get(key)
        if isinstance(value, dict) and value.get("rope_type", value.get("type", "default")) != "default":
            return value
    return None


def rope_overrides(options: BackendOptions) -> dict | None:
    """hf_overrides for the rope scaling named in options, or None when none is asked for."""
    if options.rope_scaling is None:
        return None
    if options.rope_scaling != "yarn":
        raise ValueError(f"unsupported rope scaling {options.rope_scaling!r}; supported: yarn")
    if not (options.yarn_factor and options.yarn_original_max and options.max_model_len):
        raise ValueError("--rope-scaling yarn needs --yarn-factor, --yarn-original-max and --max-model-len")
    theta = options.rope_theta if options.rope_theta is not None else DEFAULT_ROPE_THETA
    return yarn_hf_overrides(options.yarn_factor, options.yarn_original_max, options.max_model_len, theta)


def sample_seed(seed: int | None, question_id: str, sample_idx: int | str) -> int | None:
    """A seed for one sample that depends only on (run seed, problem, sample index), never on batching or order,
    so a resumed run asks for a missing sample with the same seed. None stays None (unseeded)."""
    if seed is None:
        return None
    digest = hashlib.blake2b(f"{seed}\x00{question_id}\x00{sample_idx}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF


def render_chat_prompt(tokenizer: Any, messages: Sequence[dict], enable_thinking: bool | None) -> str:
    """The prompt string the model sees: the tokenizer's chat template with a generation prompt. enable_thinking
    is passed only when set, so templates without the switch render as usual."""
    kwargs = {"enable_thinking": enable_thinking} if enable_thinking is not None else {}
    return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True, **kwargs)


def completion_budget(prompt_tokens: int, max_tokens: int | None, max_model_len: int | None) -> int | None:
    """Tokens left for the completion: max_tokens when given (capped by the context), else the context minus the
    prompt. None when neither bound is known."""
    room = None if max_model_len is None else max_model_len - prompt_tokens
    if max_tokens is None:
        return room
    return max_tokens if room is None else min(max_tokens, room)


def too_long_reason(prompt_tokens: int, max_model_len: int | None) -> str | None:
    """Why a prompt cannot be generated from (no room for even one token), or None if it fits."""
    if max_model_len is not None and prompt_tokens >= max_model_len:
        return f"prompt has {prompt_tokens} tokens >= max_model_len {max_model_len}"
    return None


def skipped(request: GenerationRequest, reason: str, prompt_tokens: int | None = None) -> Iterator[Completion]:
    """One skipped Completion per requested sample, carrying the reason (nothing is silently dropped)."""
    for idx in request.sample_indices:
        yield Completion(request.question_id, idx, None, prompt_tokens=prompt_tokens, skipped_reason=reason)


def sample_keys(requests: Iterable[GenerationRequest]) -> Iterator[tuple[GenerationRequest, int]]:
    for request in requests:
        for idx in request.sample_indices:
            yield request, idx


def check_model_path(model: str) -> None:
    """Refuse a local model path that does not exist, with its name. A bare `org/name` that is not a local folder
    is left alone: it is a Hugging Face hub id, and whether it can be fetched is the loader's business."""
    import os
    import re

    if os.path.exists(os.path.expanduser(model)):
        return
    if re.fullmatch(r"[\w.-]+(/[\w.-]+)?", model) and not model.startswith("."):
        return
    from harness.backends import BackendError

    raise BackendError(f"model path does not exist: {model}")


def first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
