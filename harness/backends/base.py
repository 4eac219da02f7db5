"""The contract between the eval pipeline and a model backend: prompts in, completions out, streamed.

A backend knows nothing about grading. It turns GenerationRequests (one per problem, naming the sample indices
still to produce) into Completions, yielding each as soon as it is finished so grading can start at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from harness.records import SamplingSpec


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    question_id: str
    sample_indices: tuple[int, ...]  # which samples of this problem to produce (resume skips done ones)
    messages: tuple[dict, ...]  # chat messages from harness.prompts; backends apply their chat template


@dataclass(slots=True)
class Completion:
    question_id: str
    sample_idx: int
    text: str | None  # raw model output (None if skipped or replayed with code only)
    finish_reason: str | None = None  # "stop" | "length"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    code: str | None = None  # replay may carry already-extracted code
    skipped_reason: str | None = None  # e.g. "prompt has 90000 tokens > max_model_len 81920"
    # True: the backend has no such sample to give (e.g. absent from a replay file). The eval records nothing for
    # it and reports it missing (a later --resume can fill it); a skipped_reason alone is a failed sample.
    missing: bool = False
    # Set when the backend gave up on this sample for a reason of infrastructure (5xx, timeouts, connection errors
    # after its retries): the eval records it with verdict infra_error and this detail, never grades it.
    infra_error: str | None = None


@dataclass(frozen=True, slots=True)
class BackendOptions:
    """Settings common to backends; each backend reads what applies to it and ignores the rest."""

    max_model_len: int | None = None
    rope_scaling: str | None = None  # "yarn" or None
    yarn_factor: float | None = None
    yarn_original_max: int | None = None
    rope_theta: float | None = None
    enable_thinking: bool | None = None  # Qwen3 chat templates
    tensor_parallel_size: int = 1
    dtype: str = "auto"
    gpu_memory_utilization: float = 0.9
    base_urls: tuple[str, ...] = ()
    api_key: str | None = None
    concurrency: int = 64
    request_timeout_s: float = 3600.0
    max_retries: int = 5
    n_per_request: bool = True  # False: n parallel n=1 requests
    device: str | None = None  # hf: "cpu", "cuda", ...
    batch_size: int = 8  # hf
    extra: dict = field(default_factory=dict)


class Backend(Protocol):
    name: str

    def generate(self, requests: Iterable[GenerationRequest], sampling: SamplingSpec) -> Iterator[Completion]:
        """Yield one Completion per requested (question_id, sample_idx), in completion order."""
        ...

    def close(self) -> None: ...
