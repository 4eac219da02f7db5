"""THE verifier: decide the verdict of one piece of code on one problem, and grade many samples on a worker pool.

What it does, per sample: no code -> `no_code` without running anything; a problem with zero tests -> `infra_error`
("problem has no tests": zero tests is never a pass, and it is not the candidate's failure either, so RL gives no
reward and eval reports it). Otherwise the code, preceded by the official LiveCodeBench import prelude (the
star-imports and `sys.setrecursionlimit(50000)` the official grader puts in front of every solution, on ONE line so
tracebacks are off by one line only; inserted after any leading `from __future__` imports, which the official
grader breaks; a sandbox with `supports_prelude` gets it as RunSpec.prelude, runs it once per runner, and the code
keeps that line empty) and, for a stdin program, with its top level inside a function as officially when that
keeps its meaning (harness/program.py; `SampleResult.exec_mode` says how it ran), runs in a sandbox session (one per
sample: fresh state) on the tests in `DEFAULT_ORDER`: the public examples first,
then the hidden tests hardest first (input length descending, stable; `RunOrder` also offers pure hardest-first
and the official order), one batch at a time; the sandbox returns raw bytes / JSON, and the comparison
(harness/compare.py, the official rules) runs here, outside the jail. The first failing test ends the sample
(early exit). `failed_test` is an index into `problem.tests` (public first, then private).

Verdict policy: RunStatus OK -> compare -> passed / wrong_answer; every other status maps 1:1 to the verdict of the
same name. A sandbox that raises, or returns fewer runs than asked without a failure, is an `infra_error`.
CPU time decides time limits; the wall-clock backstop only exists so sleepers cannot hang the judge. A test the
backstop killed while it was still computing under its CPU limit (>= 5% of a CPU: starved by an overloaded machine,
not sleeping) is re-run once, in a fresh session, with a 4x longer backstop; if that also fails, the verdict stands.
This keeps verdicts independent of machine load (measured by benchmarks/judge_speed.py) at a bounded cost.
Diagnostics: every test run gets a TestOutcome (verdict, CPU/wall time, peak RSS); the failing one also gets heads
of its stdout/stderr and a short comparison detail. Expected outputs never enter the sandbox.

`Judge` grades many samples concurrently: thread workers (default: the cores this process may use), each owning one
sandbox (one warm runner), `max_pending` in flight (backpressure), results in input order, a broken sandbox
recreated and an `infra_error` retried once before it is reported.

Not covered: running untrusted code (harness/sandbox/), extraction (harness/extract.py), scoring.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import replace
from enum import StrEnum

from harness import program
from harness.compare import compare_return, compare_stdout, decode_json_value
from harness.problems import Problem, TestCase
from harness.program import OFFICIAL_PRELUDE
from harness.sandbox.base import RawRun, RunSpec, RunStatus, Sandbox
from harness.sandbox.pool import WorkerPool, WorkerSlot, default_workers
from harness.verdicts import Limits, SampleResult, TestOutcome, Verdict

_HEAD_CHARS = 1000  # stdout/stderr kept for a failing test
STARVED_CPU_SHARE = 0.05  # a sleeping program gets ~0% of a CPU; a starved one its share of an overloaded machine
RELAXED_WALL = 4.0
DEFAULT_LIMITS = Limits()  # frozen: safe to share as a default

SandboxFactory = Callable[[], Sandbox]


def with_prelude(code: str) -> str:
    """The code as the sandbox runs it as a module: the official import prelude first, after any leading docstring
    and `from __future__` imports (harness/program.py decides whether it runs as a module at all)."""
    return program.with_prelude(code, OFFICIAL_PRELUDE)


class RunOrder(StrEnum):
    """In which order a sample's tests run (the first failure ends the sample, so order decides the cost).

    hardest-first: input length descending (stable): a slow program meets its biggest test first.
    public-first (the default): the public tests (the statement's small examples, which catch most wrong answers in
        milliseconds) in their order, then the hidden tests hardest first.
    official: public then hidden, as given (the official grader's order)."""

    HARDEST_FIRST = "hardest-first"
    PUBLIC_FIRST = "public-first"
    OFFICIAL = "official"


# The default: the statement's examples as a small first batch, then the hidden tests hardest first (the NousCoder
# verifier's "small first batch, then the rest"). Measured on real completions (RESULTS.md, judge speed): pure
# hardest-first spends seconds running wrong-but-slow programs on their biggest input before failing them, which the
# examples catch in milliseconds; pass/fail is the same under every order, only cost and the failure's kind differ.
DEFAULT_ORDER = RunOrder.PUBLIC_FIRST


def order_tests(tests: tuple[TestCase, ...] | list[TestCase]) -> list[int]:
    """Hardest first: input length descending; ties keep the official order (public, then private)."""
    return sorted(range(len(tests)), key=lambda i: -len(tests[i].input))


def plan_order(problem: Problem, order: RunOrder | str = DEFAULT_ORDER) -> list[int]:
    """Indices into problem.tests in the order they run."""
    order = RunOrder(order)
    if order is RunOrder.OFFICIAL:
        return list(range(len(problem.tests)))
    if order is RunOrder.PUBLIC_FIRST:
        n_public = len(problem.public_tests)
        return list(range(n_public)) + [n_public + i for i in order_tests(problem.private_tests)]
    return order_tests(problem.tests)


def _head(data: bytes | str | None) -> str:
    if not data:
        return ""
    # escaped, never lost or crashing a writer: invalid UTF-8 as \xNN, lone surrogates (a returned str) as \udNNN
    if isinstance(data, str):
        data = data[:_HEAD_CHARS].encode("utf-8", "backslashreplace")
    head = data[:4 * _HEAD_CHARS]
    return head.decode("utf-8", "backslashreplace")[:_HEAD_CHARS]


def judge_run(raw: RawRun, index: int, test: TestCase, functional: bool, expected: object = None) -> TestOutcome:
    """Turn one raw run into a test outcome; compares outside the jail. `expected` = pre-decoded JSON (functional)."""
    outcome = TestOutcome(index=index, verdict=Verdict.PASSED, cpu_s=raw.cpu_s, wall_s=raw.wall_s,
                          peak_rss_mb=raw.peak_rss_mb)
    if raw.status is RunStatus.OK:
        if functional:
            ok, detail = compare_return(raw.returned, expected, expected_decoded=True)
        else:
            ok, detail = compare_stdout(raw.stdout, test.output)
        if ok:
            return outcome
        outcome.verdict, outcome.detail = Verdict.WRONG_ANSWER, detail
    else:
        outcome.verdict = Verdict(raw.status.value)
        outcome.detail = raw.detail or raw.status.value
    outcome.stdout_head = _head(raw.returned if functional else raw.stdout)
    outcome.stderr_head = _head(raw.stderr)
    return outcome


def _summarise(outcomes: list[TestOutcome], total: int, started: float, sandbox: str) -> SampleResult:
    failed = next((o for o in outcomes if o.verdict is not Verdict.PASSED), None)
    result = SampleResult(
        verdict=failed.verdict if failed else Verdict.PASSED,
        tests_run=len(outcomes), tests_total=total,
        failed_test=failed.index if failed and failed.verdict.decided else None,
        cpu_s=sum(o.cpu_s for o in outcomes), peak_rss_mb=max((o.peak_rss_mb for o in outcomes), default=0.0),
        detail=f"test {failed.index}: {failed.detail}" if failed else "", sandbox=sandbox, tests=outcomes,
    )
    result.wall_s = time.perf_counter() - started
    return result


def _infra(detail: str, total: int, started: float, sandbox: str = "") -> SampleResult:
    return SampleResult(Verdict.INFRA_ERROR, tests_total=total, detail=detail, sandbox=sandbox,
                        wall_s=time.perf_counter() - started)


def _dataset_error(problem: Problem) -> str | None:
    """Why the problem itself cannot be graded (no tests, an undecodable expected value), or None."""
    if not problem.tests:
        return "problem has no tests"
    values = _expected_values(problem) if problem.is_functional else None
    return values if isinstance(values, str) else None


def _expected_values(problem: Problem) -> list[object] | str:
    """Decode every expected return value once; a string is the reason the dataset is unusable."""
    values = []
    for i, test in enumerate(problem.tests):
        try:
            values.append(decode_json_value(test.output))
        except (ValueError, RecursionError):
            return f"test {i}: expected output is not valid JSON"
    return values


def grade_with(sandbox: Sandbox, problem: Problem, code: str | None, limits: Limits = DEFAULT_LIMITS, *,
               batch_size: int = 1, early_exit: bool = True, order: RunOrder | str = DEFAULT_ORDER
               ) -> SampleResult:
    """Grade one sample in a given sandbox (which the caller owns). See the module docstring for the policy.

    batch_size: tests sent per `run_batch` call after the first (which is always the single hardest test); 1 gives
    exact early exit on wrong answers, larger batches suit remote sandboxes. early_exit=False runs every test
    (one call per test; for measurements), the verdict still being that of the first failure in run order."""
    started = time.perf_counter()
    tests, name = problem.tests, getattr(sandbox, "name", "")
    if code is None or not code.strip():
        return SampleResult(Verdict.NO_CODE, tests_total=len(tests), detail="no code to run", sandbox=name,
                            wall_s=time.perf_counter() - started)
    if not tests:
        return _infra("problem has no tests", 0, started, name)
    functional = problem.is_functional
    expected = _expected_values(problem) if functional else [None] * len(tests)
    if isinstance(expected, str):
        return _infra(expected, len(tests), started, name)
    if (bad := program.not_unicode(code)) is not None:  # Python cannot compile it (officially: compile error)
        return SampleResult(Verdict.COMPILE_ERROR, tests_total=len(tests), detail=bad, sandbox=name,
                            wall_s=time.perf_counter() - started)
    # A sandbox that runs the prelude once per runner (RunSpec.prelude) saves every test its ~700 star-imports.
    apart = getattr(sandbox, "supports_prelude", False)
    prepared = program.prepare(code, problem.func_name, "" if apart else OFFICIAL_PRELUDE)
    spec = RunSpec(prepared.source, problem.func_name, limits, OFFICIAL_PRELUDE if apart else "")
    try:
        outcomes = _run_tests(sandbox, spec, problem, expected, plan_order(problem, order),
                              max(1, batch_size) if early_exit else 1, early_exit)
    except _SandboxFailure as err:
        return replace(_infra(str(err), len(tests), started, name), exec_mode=prepared.mode)
    return replace(_summarise(outcomes, len(tests), started, name), exec_mode=prepared.mode)


class _SandboxFailure(Exception):
    """The sandbox, not the candidate, failed: the sample is an infra_error."""


def starved(raw: RawRun, limits: Limits) -> bool:
    """Killed by the wall-clock backstop while still computing, under its CPU limit: the machine was overloaded
    (the program got a share of a CPU, not none as a sleeper does). Such a run is not a verdict yet."""
    return (raw.status is RunStatus.TIME_LIMIT and raw.cpu_s < 0.9 * limits.time_limit_s
            and raw.wall_s >= 0.9 * limits.wall_backstop_s and raw.cpu_s >= STARVED_CPU_SHARE * raw.wall_s)


def relaxed(limits: Limits) -> Limits:
    """The limits of the one re-run a starved test gets: same CPU limit, a wall backstop RELAXED_WALL times longer."""
    return replace(limits, wall_limit_s=RELAXED_WALL * limits.wall_backstop_s)


def _run_tests(sandbox: Sandbox, spec: RunSpec, problem: Problem, expected: list, pending: list[int], step: int,
               early_exit: bool) -> list[TestOutcome]:
    """Run the tests hardest first, batch by batch, comparing as they come; stop at the first failure (early exit).
    A test starved by an overloaded machine is re-run once, from there on, with a relaxed wall backstop."""
    tests, outcomes = problem.tests, []
    can_relax = True
    while pending:
        session = _open(sandbox, spec)
        try:
            while pending:
                batch = pending[:1] if not outcomes else pending[:step]
                raws = session.run_batch([tests[i].input for i in batch])
                if len(raws) < len(batch) and all(r.status is RunStatus.OK for r in raws):
                    raise _SandboxFailure(f"sandbox returned {len(raws)} run(s) for {len(batch)} input(s)")
                for index, raw in zip(batch, raws):
                    if can_relax and starved(raw, spec.limits):
                        can_relax, spec = False, replace(spec, limits=relaxed(spec.limits))
                        break  # a fresh session with the relaxed limits re-runs this test
                    outcomes.append(judge_run(raw, index, tests[index], problem.is_functional, expected[index]))
                    pending = pending[1:]
                    if early_exit and outcomes[-1].verdict is not Verdict.PASSED:
                        return outcomes
                else:
                    continue
                break
        except _SandboxFailure:
            raise
        except Exception as err:
            raise _SandboxFailure(f"sandbox failed while running tests: {err!r}") from err
        finally:
            _close(session)
    return outcomes


def _open(sandbox: Sandbox, spec: RunSpec):
    try:
        return sandbox.open_session(spec)
    except Exception as err:
        raise _SandboxFailure(f"sandbox failed to open a session: {err!r}") from err


def _close(session) -> None:
    try:
        session.close()
    except Exception:  # noqa: BLE001, S110 - the result is decided; a close failure is the sandbox's to log
        pass


def sandbox_factory(sandbox: str | SandboxFactory) -> SandboxFactory:
    """A callable making a fresh sandbox: a registry name (harness.sandbox.create_sandbox) or a factory as is."""
    if callable(sandbox):
        return sandbox

    def make() -> Sandbox:
        from harness.sandbox import create_sandbox  # the registry imports heavy backends (modal) lazily

        return create_sandbox(sandbox)

    return make


def grade(problem: Problem, code: str | None, limits: Limits = DEFAULT_LIMITS, *,
          sandbox: Sandbox | str | SandboxFactory | None = None, order: RunOrder | str = DEFAULT_ORDER
          ) -> SampleResult:
    """Grade one sample synchronously. `sandbox`: an open Sandbox (used as is, not closed), a registry name or a
    factory (a fresh sandbox is made, closed afterwards, and an infra_error is retried once), None = "local"."""
    if sandbox is not None and not isinstance(sandbox, str) and hasattr(sandbox, "open_session"):
        return grade_with(sandbox, problem, code, limits, order=order)  # type: ignore[arg-type]
    make = sandbox_factory(sandbox or "local")  # type: ignore[arg-type]
    slot: WorkerSlot[Sandbox] = WorkerSlot(make, lambda s: s.close())
    try:
        return _grade_in_slot(slot, problem, code, limits, 1, order=order)
    finally:
        slot.close()


def _grade_in_slot(slot: WorkerSlot[Sandbox], problem: Problem, code: str | None, limits: Limits,
                   batch_size: int, early_exit: bool = True, order: RunOrder | str = DEFAULT_ORDER
                   ) -> SampleResult:
    """Grade with the slot's sandbox; on infra_error recreate the sandbox and retry once."""
    result = SampleResult(Verdict.INFRA_ERROR)
    for _attempt in range(2):
        started = time.perf_counter()
        try:
            sandbox = slot.get()
        except Exception as err:  # noqa: BLE001
            result = _infra(f"sandbox failed to start: {err!r}", len(problem.tests), started)
            slot.reset()
            continue
        result = grade_with(sandbox, problem, code, limits, batch_size=batch_size, early_exit=early_exit,
                            order=order)
        if result.verdict.decided or _dataset_error(problem):  # a dataset defect will not go away on retry
            return result
        slot.reset()
    return result


REMOTE_WORKERS = 64  # default samples in flight on Modal: ~4 creations/s x ~1.5 s per sample, with headroom


def default_judge_workers(sandbox: object = "local") -> int:
    """Workers when none are asked for: the usable cores locally; many for a remote sandbox, which waits on the
    network rather than on local cores."""
    return REMOTE_WORKERS if sandbox == "modal" else default_workers()


class Judge:
    """Grades many samples on a pool of thread workers, each owning one sandbox. Use as a context manager."""

    def __init__(self, workers: int | None = None, limits: Limits = DEFAULT_LIMITS,
                 sandbox: str | SandboxFactory = "local", max_pending: int | None = None, batch_size: int = 1,
                 early_exit: bool = True, order: RunOrder | str = DEFAULT_ORDER):
        self.workers = workers or default_judge_workers(sandbox)
        self.limits = limits
        self.batch_size = batch_size
        self.early_exit = early_exit  # False runs every test (for measurements); the verdict is unchanged
        self.order = RunOrder(order)
        self.max_pending = max_pending or 2 * self.workers
        make = sandbox_factory(sandbox)
        self._made: weakref.WeakSet = weakref.WeakSet()  # every live sandbox of this judge: abort() kills them
        self._made_lock = threading.Lock()
        self._aborted = False

        def tracked() -> Sandbox:
            if self._aborted:  # no fresh sandbox (e.g. an infra_error retry) once the judge is stopping
                raise RuntimeError("the judge was aborted")
            box = make()
            with self._made_lock:
                self._made.add(box)
            return box

        self._pool: WorkerPool[Sandbox] = WorkerPool(self.workers, tracked, lambda s: s.close(), self.max_pending)

    def _task(self, problem: Problem, code: str | None) -> Callable[[WorkerSlot[Sandbox]], SampleResult]:
        return lambda slot: _grade_in_slot(slot, problem, code, self.limits, self.batch_size, self.early_exit,
                                           self.order)

    def submit(self, problem: Problem, code: str | None) -> Future[SampleResult]:
        """Queue one sample; blocks while `max_pending` samples are queued or running (backpressure)."""
        return self._pool.submit(self._task(problem, code))

    def grade_many(self, pairs: Iterable[tuple[Problem, str | None]]) -> Iterator[SampleResult]:
        """Grade (problem, code) pairs concurrently; yields results in input order as soon as each is ready."""
        window: deque[Future[SampleResult]] = deque()
        for problem, code in pairs:
            while window and window[0].done():
                yield window.popleft().result()
            window.append(self.submit(problem, code))
        while window:
            yield window.popleft().result()

    async def grade_async(self, problem: Problem, code: str | None) -> SampleResult:
        """Awaitable grading for async callers (the RL reward); never blocks the event loop on backpressure."""
        if not self._pool.acquire_permit(blocking=False):
            await asyncio.to_thread(self._pool.acquire_permit)
        return await asyncio.wrap_future(self._pool.submit(self._task(problem, code), permit_held=True))

    def close(self, cancel_pending: bool = False) -> None:
        """Finish queued samples (or cancel those not started) and tear down every worker's sandbox."""
        self._pool.close(cancel_pending)

    def abort(self, timeout_s: float = 5.0) -> None:
        """Stop now (Ctrl-C): cancel queued samples, make no new sandbox, and kill the running ones until every
        worker has returned (at most `timeout_s`; the workers are daemon threads). Results of the samples that were
        running are meaningless (their jail was killed): callers must drop whatever completes after calling this."""
        self._aborted = True
        closer = threading.Thread(target=self._pool.close, kwargs={"cancel_pending": True}, daemon=True)
        closer.start()
        deadline = time.monotonic() + timeout_s
        while closer.is_alive() and time.monotonic() < deadline:
            with self._made_lock:
                boxes = list(self._made)
            for box in boxes:  # a local sandbox's runner is killed with its jail; others close (Modal: terminate)
                try:
                    (getattr(box, "_kill_runner", None) or box.close)()
                except Exception:  # noqa: BLE001, S110 - best effort: the worker thread sees its run fail
                    pass
            closer.join(0.1)

    def __enter__(self) -> Judge:  # noqa: PYI034 - Judge is not meant to be subclassed
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(cancel_pending=exc_type is not None)  # on an error or Ctrl-C, do not grade what is queued
