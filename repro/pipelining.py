"""Pipelined verification: each rollout goes to the judge the moment it finishes, while the rest still generate.

NousCoder-14B verified every rollout as soon as it was complete [REFERENCE §4]. TRL 1.16 generates the whole batch,
then awaits the reward; with JudgeReward alone the batch is graded concurrently, but only after the last rollout.
Here:

  - `FinishedRowStreamer` is a transformers streamer (generate(..., streamer=...)). It sees each decoding step's
    tokens for the whole batch and calls back once per row, at the step that row emits a stop token (or when
    generation ends, for rows cut at the length limit).
  - `RolloutPipeline` turns that call into `JudgeReward.presubmit`: the completion is decoded exactly as TRL decodes
    it, its code extracted, and the judge future started at once.
  - JudgeReward, called by TRL after generation, takes the started future for each rollout whose code matches what
    it would grade (it always checks: a mismatch is graded afresh and counted), so pipelining never changes a
    reward, only when it is known.

What is real and what is not: on the transformers generate path (the CPU toy, single-GPU debugging) rows do finish
at different steps and are graded during the remaining decoding steps; this is the overlap that
benchmarks/reward_pipelining.py measures. TRL's vLLM paths (server and colocate) return a whole batch from one call,
so with vLLM the rollouts of a batch are still graded together after it (concurrently); streaming them needs a
vLLM-side rollout function, which this module does not provide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

OnFinished = Callable[[int, list[int]], None]


class FinishedRowStreamer:
    """transformers BaseStreamer protocol (put/end) for batched generate: `on_finished(row, token_ids)` once per
    row, with the row's tokens up to and including its first stop token (or all of them if it never stopped)."""

    def __init__(self, n_rows: int, stop_ids: Sequence[int], on_finished: OnFinished) -> None:
        self.stop_ids = set(stop_ids)
        self.on_finished = on_finished
        self.tokens: list[list[int]] = [[] for _ in range(n_rows)]
        self.done = [False] * n_rows
        self._prompt_seen = False

    def put(self, value: Any) -> None:
        if not self._prompt_seen:  # generate's first put is the (batched) prompt
            self._prompt_seen = True
            return
        step = value.reshape(len(self.tokens), -1).tolist()
        for row, new in enumerate(step):
            if self.done[row]:
                continue
            for tok in new:
                self.tokens[row].append(tok)
                if tok in self.stop_ids:
                    self.done[row] = True
                    self.on_finished(row, self.tokens[row])
                    break

    def end(self) -> None:
        for row, finished in enumerate(self.done):
            if not finished:
                self.done[row] = True
                self.on_finished(row, self.tokens[row])


class RolloutPipeline:
    """Starts grading each finished rollout of one generate call (see module docstring)."""

    def __init__(self, rewards: Sequence[Any], tokenizer: Any, rows: Sequence[dict],
                 conversational: bool) -> None:
        self.rewards = [r for r in rewards if hasattr(r, "presubmit")]
        self.tokenizer = tokenizer
        self.rows = list(rows)
        self.conversational = conversational

    def on_finished(self, row: int, token_ids: list[int]) -> None:
        text = self.tokenizer.decode(token_ids, skip_special_tokens=True)  # as TRL's batch_decode
        completion = [{"role": "assistant", "content": text}] if self.conversational else text
        for reward in self.rewards:
            reward.presubmit(row, self.rows[row], completion)


@contextmanager
def streaming(model: Any, n_rows: int, stop_ids: Sequence[int], on_finished: OnFinished) -> Iterator[None]:
    """Within the block, `model.generate(...)` streams finished rows to `on_finished` (the instance attribute is
    removed afterwards, so the class's generate is back)."""
    original = model.generate

    def generate(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("streamer", FinishedRowStreamer(n_rows, stop_ids, on_finished))
        return original(*args, **kwargs)

    model.generate = generate
    try:
        yield
    finally:
        del model.generate
