"""The one grading loop: hand (problem, code) jobs to the judge's pool as they come, deliver each result the moment
it lands, show progress, and stop at once on Ctrl-C. Used by the eval pipeline (jobs streamed from a backend),
`harness.grade` (jobs from a file) and `harness.interop` (an official file regraded).

Ctrl-C: the first prints "stopping… (Ctrl-C again to force)", delivers nothing more, kills the sandboxes still
running (Judge.abort) and raises KeyboardInterrupt within about a second; every result delivered before it is the
caller's to keep (the callers append each one to disk as it lands). A second Ctrl-C exits at once (status 130).
Progress: a grade bar whose postfix names the longest-running sample and how long it has run, refreshed every
second, so a sample burning its time limit on every test shows as such rather than as a frozen bar.
Not covered: what the judge decides (harness.judge), what callers write (harness.records, harness.grade).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field

from harness.errors import EXIT_INTERRUPTED
from harness.problems import Problem
from harness.verdicts import Limits, SampleResult

TICK_S = 1.0  # how often the progress postfix is refreshed


@dataclass
class GradeStats:
    """What the loop did: results delivered, judge failures (exceptions, not verdicts), wall time."""

    delivered: int = 0
    errors: list[BaseException] = field(default_factory=list)
    wall_s: float = 0.0


@dataclass(frozen=True)
class JudgeSettings:
    """How to build the judge: workers (None: default), limits, sandbox name, test order (None: the default)."""

    workers: int | None = None
    limits: Limits = field(default_factory=Limits)
    sandbox: str = "local"
    order: str | None = None


class _Deliverer:
    """Runs on the judge's worker threads: hands each result to the caller under one lock, unless stopping."""

    def __init__(self, on_result: Callable[[Hashable, SampleResult], None], bar) -> None:
        self.on_result, self.bar = on_result, bar
        self.lock = threading.Lock()
        self.stopping = False
        self.stats = GradeStats()
        self.running: dict[Hashable, tuple[str, float]] = {}  # key -> (question_id, submitted at)

    def done(self, key: Hashable, fut: Future) -> None:
        with self.lock:
            self.running.pop(key, None)
            if self.stopping or fut.cancelled():
                return  # after Ctrl-C a result may come from a killed sandbox: never recorded
            try:
                result = fut.result()
            except BaseException as exc:  # noqa: BLE001 - the judge failed: keep going, the caller reports it
                self.stats.errors.append(exc)
                return
            self.on_result(key, result)
            self.stats.delivered += 1
            if self.bar is not None:
                self.bar.update(1)

    def postfix(self) -> str:
        with self.lock:
            if not self.running:
                return ""
            qid, since = min(self.running.values(), key=lambda item: item[1])
        return f"longest running: {qid} {time.monotonic() - since:.0f}s"


def grade_stream(jobs: Iterable[tuple[Hashable, Problem, str | None]],
                 on_result: Callable[[Hashable, SampleResult], None], settings: JudgeSettings, *,
                 total: int | None = None, progress: bool = True, desc: str = "grade", position: int = 0
                 ) -> GradeStats:
    """Grade every (key, problem, code) of `jobs` (an iterable that may block, e.g. a backend generating) and call
    `on_result(key, result)` for each, from a worker thread, one call at a time, in completion order."""
    from tqdm import tqdm

    from harness.judge import Judge

    bar = tqdm(total=total, desc=desc, unit="sample", disable=not progress, position=position)
    deliver = _Deliverer(on_result, bar if progress else None)
    ticker = _Ticker(bar, deliver) if progress else None
    started = time.monotonic()
    kwargs = {"order": settings.order} if settings.order else {}
    judge = Judge(workers=settings.workers, limits=settings.limits, sandbox=settings.sandbox, **kwargs)
    try:
        futures = []
        for key, problem, code in jobs:
            fut = judge.submit(problem, code)
            with deliver.lock:
                deliver.running[key] = (problem.question_id, time.monotonic())
            fut.add_done_callback(lambda f, k=key: deliver.done(k, f))
            futures.append(fut)
        for fut in futures:
            fut.exception()  # wait; results and errors go through the deliverer
        judge.close()
    except KeyboardInterrupt:
        stop_now(judge, deliver)
        raise
    except BaseException:
        judge.close()  # e.g. the backend failed: what it generated (at a cost) is still graded and kept
        raise
    finally:
        if ticker is not None:
            ticker.stop()
        bar.close()
    deliver.stats.wall_s = time.monotonic() - started
    return deliver.stats


def stop_now(judge, deliver: _Deliverer) -> None:
    """First Ctrl-C: say so, deliver nothing more, kill what runs; a second Ctrl-C during this exits at once."""
    with deliver.lock:
        deliver.stopping = True
    print("\nstopping… (Ctrl-C again to force)", file=sys.stderr, flush=True)
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda *_: os._exit(EXIT_INTERRUPTED))
    try:
        judge.abort()
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, previous)


class _Ticker:
    """Refreshes the bar's postfix every TICK_S with the longest-running sample (a daemon thread)."""

    def __init__(self, bar, deliver: _Deliverer) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(bar, deliver), name="grade-ticker", daemon=True)
        self._thread.start()

    def _run(self, bar, deliver: _Deliverer) -> None:
        while not self._stop.wait(TICK_S):
            bar.set_postfix_str(deliver.postfix(), refresh=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2 * TICK_S)
