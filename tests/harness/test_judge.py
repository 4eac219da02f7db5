"""The judge's verdict policy, ordering, early exit, prelude, and the Judge worker pool.

Most tests use a scripted in-test sandbox (no processes) so the POLICY is tested exactly; a few use a throwaway
subprocess sandbox (plain `python -c`, tests only, no isolation) to check real program semantics end to end. The
real jail is tested by tests/harness/test_sandbox.py and, with the judge on top, by the fidelity benchmark.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from datetime import datetime

import pytest

from harness.judge import OFFICIAL_PRELUDE, Judge, grade, grade_with, order_tests, with_prelude
from harness.problems import Difficulty, Platform, Problem
from harness.problems import TestCase as Case
from harness.problems import TestType as Kind
from harness.sandbox.base import RawRun, RunSpec, RunStatus
from harness.verdicts import Limits, Verdict


def make_problem(tests, func_name=None, public=None) -> Problem:
    kind = Kind.FUNCTIONAL if func_name else Kind.STDIN
    cases = tuple(Case(i, o, kind) for i, o in tests)
    n_public = len(cases) if public is None else public
    return Problem("q1", "t", "c", Platform.LEETCODE if func_name else Platform.ATCODER, "c1",
                   datetime(2024, 9, 1), "", Difficulty.EASY, cases[:n_public], cases[n_public:],
                   {"func_name": func_name} if func_name else {})


# --- a scripted sandbox: decides each run from the input text, records what it saw ------------------------------

class ScriptedSession:
    def __init__(self, owner: ScriptedSandbox, spec: RunSpec):
        self.owner, self.spec = owner, spec

    def run_batch(self, inputs):
        self.owner.batches.append(list(inputs))
        runs = []
        for text in inputs:
            run = self.owner.script(text, self.spec)
            runs.append(run)
            if run.status is not RunStatus.OK:
                break
        return runs

    def close(self):
        self.owner.sessions_closed += 1


class ScriptedSandbox:
    name = "scripted"

    def __init__(self, script):
        self.script = script
        self.batches: list[list[str]] = []
        self.specs: list[RunSpec] = []
        self.sessions_closed = 0
        self.closed = False

    def open_session(self, spec):
        self.specs.append(spec)
        return ScriptedSession(self, spec)

    def close(self):
        self.closed = True


def echo(text, spec):  # prints its input back: passes tests whose output equals their input
    return RawRun(RunStatus.OK, stdout=text.encode(), cpu_s=0.01, wall_s=0.02, peak_rss_mb=10.0)


# --- a throwaway subprocess sandbox (tests only; NOT a jail) -------------------------------------------------------

_DRIVER = """
import json, sys
src, name = sys.argv[1], sys.argv[2]
args = [json.loads(line) for line in sys.stdin.read().split("\\n")]
out, sys.stdout = sys.stdout, sys.stderr
env = {"__name__": "__main__"}
exec(compile(src, "<candidate>", "exec"), env)
result = getattr(env["Solution"](), name)(*args)
out.write(json.dumps(list(result) if isinstance(result, tuple) else result))
"""


class SubprocessSession:
    def __init__(self, spec):
        self.spec = spec

    def run_batch(self, inputs):
        runs = []
        for text in inputs:
            if self.spec.func_name:
                cmd = [sys.executable, "-c", _DRIVER, self.spec.code, self.spec.func_name]
            else:
                cmd = [sys.executable, "-c", self.spec.code]
            try:
                proc = subprocess.run(cmd, input=text.encode(), capture_output=True, timeout=20, check=False)
            except subprocess.TimeoutExpired:
                runs.append(RawRun(RunStatus.TIME_LIMIT))
                break
            ok = proc.returncode == 0
            fn = self.spec.func_name is not None
            runs.append(RawRun(RunStatus.OK if ok else RunStatus.RUNTIME_ERROR,
                               stdout=b"" if fn else proc.stdout, returned=proc.stdout.decode() if fn and ok else None,
                               stderr=proc.stderr, exit_code=proc.returncode))
            if not ok:
                break
        return runs

    def close(self):
        pass


class SubprocessSandbox:
    name = "test-subprocess"

    def open_session(self, spec):
        return SubprocessSession(spec)

    def close(self):
        pass


# --- verdict policy -----------------------------------------------------------------------------------------------

def test_no_code_runs_nothing():
    box = ScriptedSandbox(echo)
    for code in (None, "", "   \n"):
        result = grade(make_problem([("1", "1")]), code, sandbox=box)
        assert result.verdict is Verdict.NO_CODE and not result.passed
        assert result.tests_run == 0 and result.tests_total == 1
    assert box.specs == []


def test_zero_tests_is_never_a_pass():
    box = ScriptedSandbox(echo)
    result = grade(make_problem([]), "print(1)", sandbox=box)
    assert result.verdict is Verdict.INFRA_ERROR and not result.passed
    assert result.detail == "problem has no tests" and box.specs == []


def test_all_tests_pass_and_resources_are_aggregated():
    problem = make_problem([("a", "a"), ("bb", "bb"), ("c", "c")])
    result = grade(problem, "x", sandbox=ScriptedSandbox(echo))
    assert result.verdict is Verdict.PASSED and result.passed
    assert (result.tests_run, result.tests_total, result.failed_test) == (3, 3, None)
    assert result.cpu_s == pytest.approx(0.03) and result.peak_rss_mb == 10.0
    assert result.sandbox == "scripted" and [t.verdict for t in result.tests] == [Verdict.PASSED] * 3
    assert all(t.stdout_head == "" for t in result.tests)  # diagnostics heads only for a failing test


def test_hardest_first_order_early_exit_and_failed_index_into_problem_tests():
    # public: "a"(len 1), "ccc"(3); private: "bb"(2), "dddd"(4) -> run order 3, 1, 2, 0
    problem = make_problem([("a", "a"), ("ccc", "ccc"), ("bb", "WRONG"), ("dddd", "dddd")], public=2)
    box = ScriptedSandbox(echo)
    result = grade(problem, "x", sandbox=box, order="hardest-first")
    assert result.verdict is Verdict.WRONG_ANSWER
    assert result.failed_test == 2  # index into problem.tests (public then private)
    assert result.tests_run == 3 and [t.index for t in result.tests] == [3, 1, 2]
    assert [b for batch in box.batches for b in batch] == ["dddd", "ccc", "bb"]  # "a" never ran
    assert result.detail.startswith("test 2: line 1:")
    assert result.tests[-1].stdout_head == "bb"


def test_default_order_runs_the_public_examples_first_then_hidden_tests_hardest_first():
    # public: "a", "ccc"; private: "bb", "dddd" -> run order 0, 1, 3, 2
    problem = make_problem([("a", "a"), ("ccc", "ccc"), ("bb", "bb"), ("dddd", "WRONG")], public=2)
    box = ScriptedSandbox(echo)
    result = grade(problem, "x", sandbox=box)
    assert [b for batch in box.batches for b in batch] == ["a", "ccc", "dddd"]
    assert result.failed_test == 3 and result.verdict is Verdict.WRONG_ANSWER


def test_order_is_stable_for_equal_lengths():
    tests = [Case(x, "") for x in ("aa", "b", "cc", "dd", "e")]
    assert order_tests(tests) == [0, 2, 3, 1, 4]


def test_expected_outputs_never_enter_the_sandbox():
    secret = "EXPECTED-SECRET-12345"
    problem = make_problem([("in-1", secret), ("in-22", secret)])
    box = ScriptedSandbox(echo)
    grade(problem, "x", sandbox=box)
    seen = json.dumps(box.batches) + "".join(s.code for s in box.specs)
    assert secret not in seen


@pytest.mark.parametrize("status", [s for s in RunStatus if s is not RunStatus.OK])
def test_every_non_ok_status_maps_to_its_verdict(status):
    problem = make_problem([("long input", "x"), ("short", "y")])
    result = grade(problem, "x", sandbox=ScriptedSandbox(lambda t, s: RawRun(status, stderr=b"boom", detail="why")))
    assert result.verdict is Verdict(status.value) and not result.passed
    assert result.tests_run == 1
    if status is RunStatus.INFRA_ERROR:
        assert result.failed_test is None  # not a failure of the candidate
    else:
        assert result.failed_test == 0 and result.detail == "test 0: why"
        assert result.tests[0].stderr_head == "boom"


def test_sandbox_failures_are_infra_errors_not_verdicts():
    def explode(text, spec):
        raise OSError("runner pipe broke")

    result = grade(make_problem([("1", "1")]), "x", sandbox=ScriptedSandbox(explode))
    assert result.verdict is Verdict.INFRA_ERROR and "runner pipe broke" in result.detail

    class ShortSandbox(ScriptedSandbox):
        def open_session(self, spec):
            session = super().open_session(spec)
            session.run_batch = lambda inputs: []
            return session

    result = grade(make_problem([("1", "1")]), "x", sandbox=ShortSandbox(echo))
    assert result.verdict is Verdict.INFRA_ERROR and "0 run(s) for 1 input(s)" in result.detail


def test_functional_problem_compares_decoded_json():
    problem = make_problem([("[1, 2]", "[2, 1]"), ("3", "3.0")], func_name="f")

    def reverse(text, spec):
        value = json.loads(text)
        return RawRun(RunStatus.OK, returned=json.dumps(value[::-1] if isinstance(value, list) else value))

    box = ScriptedSandbox(reverse)
    assert grade(problem, "x", sandbox=box).verdict is Verdict.PASSED
    assert box.specs[0].func_name == "f"
    wrong = grade(make_problem([("[1, 2]", "[1, 2]")], func_name="f"), "x", sandbox=ScriptedSandbox(reverse))
    assert wrong.verdict is Verdict.WRONG_ANSWER and wrong.tests[0].stdout_head == "[2, 1]"


def test_invalid_expected_json_is_a_dataset_error():
    result = grade(make_problem([("1", "{oops")], func_name="f"), "x", sandbox=ScriptedSandbox(echo))
    assert result.verdict is Verdict.INFRA_ERROR and "not valid JSON" in result.detail


def test_batches_and_no_early_exit_mode():
    problem = make_problem([("aaaa", "aaaa"), ("bbb", "X"), ("cc", "cc"), ("d", "d")])
    box = ScriptedSandbox(echo)
    result = grade_with(box, problem, "x", batch_size=3, order="hardest-first")
    assert [len(b) for b in box.batches] == [1, 3]  # the single hardest test first, then a batch
    assert result.failed_test == 1 and result.tests_run == 2  # comparison still stops at the first failure
    box = ScriptedSandbox(echo)
    full = grade_with(box, problem, "x", early_exit=False)
    assert full.tests_run == 4 and full.verdict is Verdict.WRONG_ANSWER and full.failed_test == 1


# --- the prelude --------------------------------------------------------------------------------------------------

def test_prelude_shifts_lines_by_one_and_respects_future_imports():
    assert with_prelude("print(1)") == OFFICIAL_PRELUDE + "\nprint(1)"
    code = '"""doc"""\nfrom __future__ import annotations\nx: List[int] = []\nprint(x)'
    out = with_prelude(code).split("\n")
    assert out[:2] == ['"""doc"""', "from __future__ import annotations"] and out[2] == OFFICIAL_PRELUDE
    compile(with_prelude(code), "<c>", "exec")  # valid: the official grader would raise SyntaxError here
    assert "sys.setrecursionlimit(50000)" in OFFICIAL_PRELUDE and "from typing import *" in OFFICIAL_PRELUDE


def test_a_sandbox_that_runs_the_prelude_itself_gets_it_apart_from_the_code():
    plain, apart = ScriptedSandbox(echo), ScriptedSandbox(echo)
    apart.supports_prelude = True
    for box in (plain, apart):
        for code, func_name in (("print(input())", None), ("class Solution:\n    def f(self, x): return x", "f")):
            grade_with(box, make_problem([("1", "1")], func_name=func_name), code)
    assert all(s.prelude == "" and OFFICIAL_PRELUDE in s.code for s in plain.specs) and len(plain.specs) == 2
    assert all(s.prelude == OFFICIAL_PRELUDE and OFFICIAL_PRELUDE not in s.code for s in apart.specs)
    assert apart.specs[1].code.startswith("__name__ = 'solution'\n")  # the module's name, on the prelude's line


def test_real_programs_with_official_prelude_semantics():
    box = SubprocessSandbox()
    stdin_problem = make_problem([("3\n1 2 3\n", "6"), ("2\n5 5\n", "10")])
    code = "n = int(input())\nprint(sum(map(int, sys.stdin.readline().split())))"  # sys from the prelude
    assert grade(stdin_problem, code, sandbox=box).verdict is Verdict.PASSED
    loop = "import sys\nlines = [l for l in sys.stdin]\nprint(sum(map(int, lines[1].split())))"
    assert grade(stdin_problem, loop, sandbox=box).verdict is Verdict.PASSED  # officially failed: a real stdin
    fn_problem = make_problem([("[3, 1, 2]\n1", "[1, 2]")], func_name="drop")
    fn_code = ("class Solution:\n    def drop(self, a: List[int], k: int) -> List[int]:\n"
               "        return tuple(sorted(a)[k - 1:][:2])")
    assert grade(fn_problem, fn_code, sandbox=box).verdict is Verdict.PASSED  # List via prelude, tuple -> list
    crash = grade(stdin_problem, "print(1 // 0)", sandbox=box)
    assert crash.verdict is Verdict.RUNTIME_ERROR and "ZeroDivisionError" in crash.tests[0].stderr_head


# --- the Judge pool -----------------------------------------------------------------------------------------------

class Factory:
    """Makes scripted sandboxes; counts creations and closes."""

    def __init__(self, script=echo, fail_first: int = 0):
        self.script, self.fail_first = script, fail_first
        self.made: list[ScriptedSandbox] = []
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            box = ScriptedSandbox(self.script)
            if len(self.made) < self.fail_first:
                def broken(text, spec):
                    raise BrokenPipeError("runner died")
                box.script = broken
            self.made.append(box)
            return box


def test_grade_many_keeps_input_order_and_closes_every_sandbox():
    def slow_for_long(text, spec):
        time.sleep(0.05 if len(text) > 3 else 0.0)
        return echo(text, spec)

    factory = Factory(slow_for_long)
    problems = [make_problem([("x" * (1 + i % 6), "x" * (1 + i % 6))]) for i in range(24)]
    codes = ["a" if i % 5 else None for i in range(24)]
    with Judge(workers=3, sandbox=factory) as judge:
        results = list(judge.grade_many(zip(problems, codes)))
    assert [r.verdict for r in results] == [Verdict.PASSED if i % 5 else Verdict.NO_CODE for i in range(24)]
    assert 1 <= len(factory.made) <= 3 and all(box.closed for box in factory.made)


def test_submit_blocks_when_max_pending_are_in_flight():
    gate = threading.Event()

    def wait_for_gate(text, spec):
        gate.wait(10)
        return echo(text, spec)

    problem = make_problem([("1", "1")])
    with Judge(workers=1, max_pending=2, sandbox=Factory(wait_for_gate)) as judge:
        first, second = judge.submit(problem, "a"), judge.submit(problem, "a")
        third: list = []
        blocked = threading.Thread(target=lambda: third.append(judge.submit(problem, "a")))
        blocked.start()
        blocked.join(0.3)
        assert blocked.is_alive() and not third  # backpressure: the third waits for a free slot
        gate.set()
        blocked.join(10)
        assert third and third[0].result(10).passed
        assert first.result().passed and second.result().passed


def test_a_broken_sandbox_is_recreated_and_the_sample_retried_once():
    problem = make_problem([("1", "1")])
    factory = Factory(fail_first=1)
    with Judge(workers=1, sandbox=factory) as judge:
        assert judge.submit(problem, "a").result().verdict is Verdict.PASSED
    assert len(factory.made) == 2 and factory.made[0].closed
    factory = Factory(fail_first=5)
    with Judge(workers=1, sandbox=factory) as judge:
        result = judge.submit(problem, "a").result()
    assert result.verdict is Verdict.INFRA_ERROR and "runner died" in result.detail
    assert len(factory.made) == 2  # retried exactly once


def test_a_sandbox_that_cannot_start_gives_infra_error():
    def cannot_start():
        raise RuntimeError("bwrap refused")

    with Judge(workers=2, sandbox=cannot_start) as judge:
        result = judge.submit(make_problem([("1", "1")]), "a").result(10)
    assert result.verdict is Verdict.INFRA_ERROR and "bwrap refused" in result.detail


def test_grade_async_and_limits_reach_the_sandbox():
    factory = Factory()
    limits = Limits(time_limit_s=1.5, memory_limit_mb=512)

    async def main():
        with Judge(workers=2, max_pending=1, limits=limits, sandbox=factory) as judge:
            problem = make_problem([("1", "1")])
            return await asyncio.gather(*(judge.grade_async(problem, "a") for _ in range(6)))

    results = asyncio.run(main())
    assert all(r.passed for r in results)
    assert {spec.limits for box in factory.made for spec in box.specs} == {limits}


def test_one_session_per_sample():
    factory = Factory()
    with Judge(workers=1, sandbox=factory) as judge:
        list(judge.grade_many([(make_problem([("1", "1"), ("22", "22")]), "a")] * 5))
    assert len(factory.made[0].specs) == 5 and factory.made[0].sessions_closed == 5


# --- load-induced wall-clock kills --------------------------------------------------------------------------------

def starving(cpu_s: float, heal: bool):
    """A script whose longest test is killed by the wall backstop after `cpu_s` of CPU, unless limits are relaxed."""
    def script(text, spec):
        backstop = spec.limits.wall_backstop_s
        if text == "long" and (backstop <= Limits().wall_backstop_s or not heal):
            return RawRun(RunStatus.TIME_LIMIT, cpu_s=cpu_s, wall_s=backstop + 0.1, detail="wall clock (backstop)")
        return echo(text, spec)
    return script


def test_a_test_starved_by_an_overloaded_machine_is_rerun_once_with_a_relaxed_backstop():
    problem = make_problem([("long", "long"), ("s", "s")])
    box = ScriptedSandbox(starving(cpu_s=3.0, heal=True))
    result = grade(problem, "x", sandbox=box)
    assert result.verdict is Verdict.PASSED and result.tests_run == 2
    assert [s.limits.wall_backstop_s for s in box.specs] == [12.0, 48.0]  # a fresh session with 4x the backstop
    box = ScriptedSandbox(starving(cpu_s=3.0, heal=False))
    result = grade(problem, "x", sandbox=box)
    assert result.verdict is Verdict.TIME_LIMIT and len(box.specs) == 2  # starved twice: the verdict stands


def test_a_sleeper_killed_by_the_backstop_is_not_rerun():
    box = ScriptedSandbox(starving(cpu_s=0.02, heal=True))
    result = grade(make_problem([("long", "long")]), "x", sandbox=box)
    assert result.verdict is Verdict.TIME_LIMIT and len(box.specs) == 1


def test_leaving_the_judge_on_an_error_cancels_queued_samples():
    gate = threading.Event()

    def wait_for_gate(text, spec):
        gate.wait(10)
        return echo(text, spec)

    problem = make_problem([("1", "1")])
    futures = []
    with pytest.raises(KeyboardInterrupt), Judge(workers=1, max_pending=4, sandbox=Factory(wait_for_gate)) as judge:
        futures = [judge.submit(problem, "a") for _ in range(4)]
        time.sleep(0.1)  # the first one is running
        threading.Timer(0.2, gate.set).start()
        raise KeyboardInterrupt
    assert futures[0].result().passed  # the running sample finishes
    assert all(f.cancelled() for f in futures[1:])  # the queued ones are never graded


@pytest.mark.parametrize("order, expected", [
    ("hardest-first", ["dddd", "ccc", "bb"]),
    ("public-first", ["a", "ccc", "dddd", "bb"]),
    ("official", ["a", "ccc", "bb"]),
])
def test_run_orders(order, expected):
    # public: "a", "ccc"; private: "bb" (wrong), "dddd"
    problem = make_problem([("a", "a"), ("ccc", "ccc"), ("bb", "WRONG"), ("dddd", "dddd")], public=2)
    box = ScriptedSandbox(echo)
    result = grade_with(box, problem, "x", order=order)
    assert [b for batch in box.batches for b in batch] == expected
    assert result.verdict is Verdict.WRONG_ANSWER and result.failed_test == 2
    with Judge(workers=1, sandbox=Factory(), order=order) as judge:
        assert judge.submit(problem, "x").result().tests_run == len(expected)
