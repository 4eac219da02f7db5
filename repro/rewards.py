"""The RL reward: the harness judge, the same verifier as the evaluation, as an async TRL reward function.

+1 when every test passes, -1 on any other decided verdict (wrong answer, time or memory limit, runtime or compile
error, no code), None when the judge could not decide (`infra_error`): TRL then leaves the rollout out of its group's
baseline and gives it advantage 0 [NousCoder-14B reward; ARCHITECTURE: infra_error gives no reward].
A whole batch is judged concurrently: TRL awaits the async reward, which submits every rollout to the judge's worker
pool at once. Pipelined verification (repro.pipelining): while the batch still generates, each finished rollout is
`presubmit`ted, so its grading starts at once; the reward call then awaits that future when the code it would grade
is the same (it always checks), and grades afresh otherwise.

Does not cover: the verdict itself (harness.judge decides), code extraction rules (harness.extract).
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Future
from typing import Any, Self

from harness.extract import extract_code
from harness.problems import Problem
from harness.verdicts import Limits, SampleResult, Verdict
from repro.config import ReproConfig, RewardSettings
from repro.data import to_problem

PASS_REWARD = 1.0
FAIL_REWARD = -1.0
# rollouts a presubmitting generator may queue without blocking generation (a queued sample is a few strings)
PIPELINE_MAX_PENDING = 8192


def reward_from_result(result: SampleResult) -> float | None:
    """+1 passed, None infra_error (undecided), -1 otherwise."""
    if result.verdict is Verdict.INFRA_ERROR:
        return None
    return PASS_REWARD if result.verdict is Verdict.PASSED else FAIL_REWARD


def completion_text(completion: Any) -> str:
    """TRL passes a string (plain prompts) or a list of messages (conversational prompts): the assistant's text."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return "".join(str(m.get("content", "")) for m in completion if m.get("role", "assistant") == "assistant")
    raise TypeError(f"unexpected completion type {type(completion).__name__}")


def _rows_from_columns(n: int, columns: dict[str, Any]) -> list[dict]:
    """TRL hands dataset columns as lists aligned with the completions; turn them back into rows."""
    keys = [k for k, v in columns.items() if isinstance(v, list) and len(v) == n]
    return [{k: columns[k][i] for k in keys} for i in range(n)]


class JudgeReward:
    """Async reward function for TRL's GRPOTrainer, backed by one `harness.judge.Judge` (created on first use).

    Call it as TRL does: `await reward(prompts=..., completions=..., completion_ids=..., **dataset_columns)`.
    The dataset rows must carry a problem, in repro.data's training schema or the official LCB schema."""

    __name__ = "judge_reward"  # TRL names reward columns after this

    def __init__(
        self,
        limits: Limits,
        extract_mode: str = "robust",
        workers: int | None = None,
        sandbox: str = "local",
        judge: Any = None,
    ) -> None:
        self.limits = limits
        self.extract_mode = extract_mode
        self.workers = workers
        self.sandbox = sandbox
        self._judge = judge
        self._owns_judge = judge is None
        self._problems: dict[str, Problem] = {}
        self._early: dict[int, tuple[str, str | None, Future[SampleResult]]] = {}  # row -> (problem, code, future)
        self.last_batch_timing: dict[str, float] = {}

    @property
    def judge(self) -> Any:
        if self._judge is None:
            from harness.judge import Judge

            self._judge = Judge(workers=self.workers, limits=self.limits, sandbox=self.sandbox,
                                max_pending=PIPELINE_MAX_PENDING)  # presubmit must never stall generation
        return self._judge

    def problem_for(self, row: dict) -> Problem:
        key = str(row.get("id") or row.get("question_id"))
        if key not in self._problems:
            self._problems[key] = to_problem(row)
        return self._problems[key]

    def begin_batch(self) -> None:
        """Forget rollouts presubmitted for an earlier batch (a generate call starts)."""
        self._early = {}

    def presubmit(self, index: int, row: dict, completion: Any) -> None:
        """Start grading rollout `index` of the batch being generated (called the moment it finishes)."""
        problem = self.problem_for(row)
        code = extract_code(completion_text(completion), self.extract_mode)
        self._early[index] = (problem.question_id, code, self.judge.submit(problem, code))

    async def _grade_one(self, index: int, problem: Problem, code: str | None) -> tuple[SampleResult, bool]:
        early = self._early.pop(index, None)
        if early is not None and early[0] == problem.question_id and early[1] == code:
            return await asyncio.wrap_future(early[2]), True
        return await self.judge.grade_async(problem, code), False

    async def grade_all(self, problems: list[Problem], codes: list[str | None]) -> list[SampleResult]:
        """Verdicts in order; rollouts presubmitted with the same code reuse their running grade."""
        started = time.perf_counter()
        graded = await asyncio.gather(*(self._grade_one(i, p, c) for i, (p, c) in enumerate(
            zip(problems, codes, strict=True))))
        self._early = {}
        self.last_batch_timing = {"reward_wait_s": time.perf_counter() - started,
                                  "pipelined_frac": sum(hit for _, hit in graded) / max(len(graded), 1)}
        return [result for result, _ in graded]

    async def __call__(self, prompts: list, completions: list, completion_ids: list | None = None,
                       **columns: Any) -> list[float | None]:
        rows = _rows_from_columns(len(completions), columns)
        problems = [self.problem_for(row) for row in rows]
        codes = [extract_code(completion_text(c), self.extract_mode) for c in completions]
        results = await self.grade_all(problems, codes)
        log_metric = columns.get("log_metric")
        if callable(log_metric):
            undecided = sum(r.verdict is Verdict.INFRA_ERROR for r in results)
            log_metric("judge/infra_error_frac", undecided / max(len(results), 1))
            log_metric("judge/pass_frac", sum(r.passed for r in results) / max(len(results), 1))
            log_metric("judge/pipelined_frac", self.last_batch_timing["pipelined_frac"])
            log_metric("judge/reward_wait_s", self.last_batch_timing["reward_wait_s"])
        return [reward_from_result(r) for r in results]

    def close(self) -> None:
        if self._owns_judge and self._judge is not None:
            self._judge.close()
            self._judge = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_judge_reward(settings: RewardSettings, judge: Any = None) -> JudgeReward:
    """The reward of a config: its limits (15 s, 4 GiB in the recipe), extraction mode, workers and sandbox."""
    limits = Limits(time_limit_s=settings.time_limit_s, memory_limit_mb=settings.memory_limit_mb)
    return JudgeReward(limits, settings.extract_mode, settings.workers, settings.sandbox.value, judge=judge)


def build_reward_funcs(cfg: ReproConfig) -> list[JudgeReward]:
    """TRL's reward_funcs for a config: the judge reward alone, as in the recipe. Close them after training."""
    return [make_judge_reward(cfg.reward)]
