"""The local sandbox's contract: statuses, function calls, limits, runner reuse and restart, registry."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

import pytest

from harness.program import OFFICIAL_PRELUDE
from harness.sandbox import create_sandbox
from harness.sandbox import jail as jail_mod
from harness.sandbox.base import RunSpec, RunStatus
from harness.sandbox.jail import Isolation, JailOptions, JailUnavailable
from harness.sandbox.local import LocalSandbox
from harness.verdicts import Limits

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the local sandbox needs Linux")

FAST = Limits(time_limit_s=1.0, memory_limit_mb=512, output_limit_mb=8, wall_limit_s=2.0)
MODES = ["bwrap", "rlimits"]


def _make(mode: str, options: JailOptions | None = None) -> LocalSandbox:
    if mode == "bwrap":
        ok, why = jail_mod.bwrap_works(jail_mod.real_python())
        if not ok:
            pytest.skip(f"bubblewrap does not work on this machine: {why}")
    return LocalSandbox(options, isolation=mode)


@pytest.fixture(scope="module", params=MODES)
def sb(request):
    box = _make(request.param)
    yield box
    box.close()


def _descendants(root: int) -> list[int]:
    parent = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = open(f"/proc/{name}/stat", "rb").read()
            except OSError:
                continue
            parent[int(name)] = int(stat[stat.rindex(b")") + 2:].split()[1])
    out, frontier = [], {root}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier}
        out += frontier
    return out


def _uid_of(pid: str) -> int | None:
    """The real uid of a live process (None for a gone one or a zombie: dead, waiting for init to reap it)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            status = f.read()
    except OSError:
        return None
    if "\nState:\tZ" in status:
        return None
    return int(status.split("\nUid:")[1].split()[0])


def run(sb, code, inputs, func_name=None, limits=FAST):
    with sb.open_session(RunSpec(code, func_name, limits)) as s:
        return s.run_batch(inputs)


def test_stdin_program_gets_each_input_and_fresh_process(sb):
    code = "import sys, os\nn = int(input())\nprint(n * 2, os.getpid() > 0)\n"
    runs = run(sb, code, ["1\n", "21\n"])
    assert [r.status for r in runs] == [RunStatus.OK, RunStatus.OK]
    assert [r.stdout for r in runs] == [b"2 True\n", b"42 True\n"]
    assert all(r.exit_code == 0 and r.wall_s > 0 and r.peak_rss_mb > 0 for r in runs)


def test_function_call_returns_json_with_tuples_as_lists(sb):
    code = "class Solution:\n    def pair(self, a, b):\n        return (a + b, [a, b], {'k': None})\n"
    (r,) = run(sb, code, ["1\n2"], func_name="pair")
    assert r.status is RunStatus.OK
    assert json.loads(r.returned) == [3, [1, 2], {"k": None}]


def test_function_call_one_module_and_one_instance_per_sample_as_officially(sb):
    # The official grader runs the module once per sample and calls one Solution() on every test.
    code = (
        "import builtins\nbuiltins.loads = getattr(builtins, 'loads', 0) + 1\n"
        "class Solution:\n    def __init__(self):\n        self.calls = 0\n    def f(self, x):\n"
        "        self.calls += 1\n        return [builtins.loads, self.calls]\n"
    )
    runs = run(sb, code, ["5", "6", "7"], func_name="f")
    assert [json.loads(r.returned) for r in runs] == [[1, 1], [1, 2], [1, 3]]
    (r,) = run(sb, code, ["5"], func_name="f")  # fresh state per sample
    assert json.loads(r.returned) == [1, 1]


@pytest.mark.parametrize(
    "code, func, detail",
    [
        ("def f(:\n", None, "SyntaxError"),
        ("x = 1\n", "f", "class Solution"),
        ("class Solution:\n    pass\n", "f", "no method f"),
        ("\x00", None, ""),
    ],
)
def test_compile_errors(sb, code, func, detail):
    (r,) = run(sb, code, ["1"], func_name=func)
    assert r.status is RunStatus.COMPILE_ERROR
    assert detail in r.detail


def test_runtime_error_and_batch_stops_at_first_failure(sb):
    code = "n = int(input())\nassert n != 2\nprint(n)\n"
    runs = run(sb, code, ["1", "2", "3"])
    assert [r.status for r in runs] == [RunStatus.OK, RunStatus.RUNTIME_ERROR]
    assert b"AssertionError" in runs[1].stderr and runs[1].exit_code == 1


def _problem(tests, func_name=None):
    from datetime import datetime

    from harness.problems import Difficulty, Platform, Problem
    from harness.problems import TestCase as Case
    from harness.problems import TestType as Kind

    kind = Kind.FUNCTIONAL if func_name else Kind.STDIN
    cases = tuple(Case(i, o, kind) for i, o in tests)
    return Problem("q1", "t", "c", Platform.LEETCODE if func_name else Platform.ATCODER, "c1", datetime(2024, 9, 1),
                   "", Difficulty.EASY, cases, (), {"func_name": func_name} if func_name else {})


def test_system_exit_ends_a_stdin_program_normally_and_its_output_is_compared(sb):
    # Officially the grader catches SystemExit and compares the output: sys.exit(1) after a right answer passes.
    from harness.judge import grade
    from harness.verdicts import Verdict

    problem = _problem([("3\n", "6"), ("5\n", "10")])
    passed = grade(problem, "import sys\nprint(int(input()) * 2)\nsys.exit(1)\n", FAST, sandbox=sb)
    assert passed.verdict is Verdict.PASSED, passed
    wrong = grade(problem, "print(int(input()) + 1)\nexit('msg')\n", FAST, sandbox=sb)  # exit: the prelude's
    assert wrong.verdict is Verdict.WRONG_ANSWER, wrong
    # Only a real SystemExit: an exit code alone (os._exit) or a signal stays a runtime error.
    killed = grade(problem, "import os\nprint(int(input()) * 2, flush=True)\nos._exit(3)\n", FAST, sandbox=sb)
    assert killed.verdict is Verdict.RUNTIME_ERROR, killed
    signalled = grade(problem, "import os, signal\nprint(int(input()) * 2, flush=True)\n"
                      "os.kill(os.getpid(), signal.SIGABRT)\n", FAST, sandbox=sb)
    assert signalled.verdict is Verdict.RUNTIME_ERROR, signalled


def test_numeric_return_values_json_cannot_write_compare_as_numbers(sb):
    # Officially `prediction == expected` on the Python value: Fraction(6, 2) == 3, Decimal("2.5") == 2.5 and a
    # numpy.int64 equals its int (numpy, a dependency, is importable in the jail; any ndim-0 .item() is used).
    from harness.judge import grade
    from harness.verdicts import Verdict

    problem = _problem([("1", "3"), ("2", "2.5"), ("3", "7"), ("4", "0.5"), ("5", "[9, true]")], func_name="f")
    code = ("from fractions import Fraction\nfrom decimal import Decimal\nimport numpy\n"
            "class Scalar:\n    ndim = 0\n    def item(self):\n        return 7\n"
            "class Solution:\n    def f(self, x):\n        return [None, Fraction(6, 2), Decimal('2.5'), Scalar(),"
            " Fraction(1, 2), [numpy.int64(9), numpy.bool_(True)]][x]\n")
    result = grade(problem, code, FAST, sandbox=sb)
    assert result.verdict is Verdict.PASSED, result
    inexact = _problem([("1", "0.3333333333333333")], func_name="f")  # Fraction(1, 3) != any float, officially too
    code = "from fractions import Fraction\nclass Solution:\n    def f(self, x):\n        return Fraction(x, 3)\n"
    result = grade(inexact, code, FAST, sandbox=sb)
    assert result.verdict is Verdict.WRONG_ANSWER, result


def test_a_top_level_function_answers_a_leetcode_problem_without_class_solution(sb):
    # Officially (lcb_runner/evaluation/testing_util.py compile_code/get_function): code without "class Solution"
    # is searched for a module-level `func_name`. The module still loads once per sample.
    from harness.judge import grade
    from harness.verdicts import Verdict

    problem = _problem([("[3, 1, 2]", "[1, 2, 3]"), ("[2, 1]", "[1, 2]")], func_name="sortIt")
    code = "calls = []\ndef sortIt(a: List[int]) -> List[int]:\n    calls.append(1)\n    return sorted(a)\n"
    result = grade(problem, code, FAST, sandbox=sb)
    assert result.verdict is Verdict.PASSED, result
    runs = run(sb, "calls = []\ndef f(x):\n    calls.append(x)\n    return len(calls)\n", ["5", "6"], func_name="f")
    assert [json.loads(r.returned) for r in runs] == [1, 2]
    (r,) = run(sb, "f = 3\n", ["1"], func_name="f")  # not callable: as a missing name
    assert r.status is RunStatus.COMPILE_ERROR and "neither class Solution nor a function f" in r.detail


def test_unserialisable_return_is_runtime_error(sb):
    code = "class Solution:\n    def f(self, x):\n        return object()\n"
    (r,) = run(sb, code, ["1"], func_name="f")
    assert r.status is RunStatus.RUNTIME_ERROR and b"not JSON" in r.stderr


def test_cpu_time_decides_time_limit(sb):
    (r,) = run(sb, "while True:\n    pass\n", ["1"])
    assert r.status is RunStatus.TIME_LIMIT
    assert r.cpu_s > 0.5 or "wall" in r.detail


def test_cpu_time_is_measured(sb):
    code = (
        "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3:\n    pass\n"
        "print('done')\n"
    )
    (r,) = run(sb, code, [""])
    assert r.status is RunStatus.OK and r.stdout == b"done\n"
    assert 0.25 <= r.cpu_s < 1.0


def test_memory_limit_is_its_own_status(sb):
    (r,) = run(sb, "x = bytearray(2 << 30)\n", [""])
    assert r.status is RunStatus.MEMORY_LIMIT


def test_output_limit_caps_what_comes_back(sb):
    code = "import sys\nfor _ in range(400):\n    sys.stdout.write('x' * 65536)\n"
    (r,) = run(sb, code, [""])
    assert r.status is RunStatus.OUTPUT_LIMIT and len(r.stdout) <= 4096


def test_big_input_and_output_do_not_time_out(sb):
    n = 300_000
    data = "\n".join(str(i) for i in range(n)) + "\n"
    code = "import sys\nxs = sys.stdin.read().split()\nsys.stdout.write('\\n'.join(xs) + '\\n')\n"
    (r,) = run(sb, code, [data])
    assert r.status is RunStatus.OK and r.stdout == data.encode()


def test_runner_is_reused_across_samples(sb):
    run(sb, "print(1)", [""])
    pid, restarts = sb.jail_pid, sb.restarts
    for i in range(3):
        (r,) = run(sb, f"print({i})", [""])
        assert r.stdout == f"{i}\n".encode()
    assert sb.jail_pid == pid and sb.restarts == restarts


def test_runner_killed_between_samples_restarts_without_infra_error(sb):
    run(sb, "print(1)", [""])
    os.killpg(sb.jail_pid, signal.SIGKILL)
    time.sleep(0.05)
    (r,) = run(sb, "print(2)", [""])
    assert r.status is RunStatus.OK and r.stdout == b"2\n"


def test_judge_side_backstop_when_the_jail_stops_answering(sb):
    limits = Limits(time_limit_s=0.5, wall_limit_s=0.5, memory_limit_mb=512)
    run(sb, "print(0)", [""], limits=limits)
    jail, uid = sb.jail_pid, sb.candidate_uid
    timer = threading.Timer(0.2, lambda: [os.kill(p, signal.SIGSTOP) for p in [jail, *_descendants(jail)]])
    timer.start()
    t0 = time.monotonic()
    (r,) = run(sb, "import time\ntime.sleep(30)\n", [""], limits=limits)
    timer.join()
    assert r.status is RunStatus.TIME_LIMIT and "no reply" in r.detail
    assert time.monotonic() - t0 < 10
    if uid is not None:  # the stopped candidate went down with its jail
        time.sleep(0.1)
        assert [p for p in os.listdir("/proc") if p.isdigit() and _uid_of(p) == uid] == []
    (r,) = run(sb, "print(3)", [""])
    assert r.status is RunStatus.OK and r.stdout == b"3\n"


def test_one_thread_at_a_time(sb):
    results: list = []
    s = sb.open_session(RunSpec("import time\ntime.sleep(1.0)\n", None, FAST))
    t = threading.Thread(target=lambda: results.append(s.run_batch([""])))
    t.start()
    deadline = time.monotonic() + 5
    while not sb._busy.locked() and time.monotonic() < deadline:  # the other thread is inside run_batch
        time.sleep(0.005)
    with pytest.raises(RuntimeError, match="two threads"):
        s.run_batch([""])
    t.join()
    s.close()
    assert results and results[0][0].status is RunStatus.OK


def test_runner_that_cannot_start_is_infra_error():
    box = LocalSandbox(JailOptions(isolation="rlimits", python="/nonexistent/python3"))
    try:
        (r,) = box.open_session(RunSpec("print(1)", None, FAST)).run_batch([""])
    finally:
        box.close()
    assert r.status is RunStatus.INFRA_ERROR


def test_registry():
    with pytest.raises(ValueError, match="unknown sandbox"):
        create_sandbox("nope")
    box = create_sandbox("local", isolation="rlimits")
    try:
        assert box.isolation == Isolation.RLIMITS == "rlimits-fallback"
        assert box.name == f"rlimits-fallback+{box.accounting}"
        assert box.accounting in ("cgroup-v1", "cgroup-v2", "rusage")
    finally:
        box.close()


def test_fallback_is_announced_once_and_required_bwrap_fails(monkeypatch, capsys):
    monkeypatch.setattr(jail_mod, "bwrap_works", lambda python: (False, "refused by test"))
    jail_mod.announce_fallback.cache_clear()
    a = LocalSandbox(isolation="auto")
    b = LocalSandbox(isolation="auto")
    assert a.isolation == b.isolation == "rlimits-fallback" and a.fallback_reason == "refused by test"
    assert capsys.readouterr().err.count("bubblewrap unavailable") == 1
    with pytest.raises(JailUnavailable):
        LocalSandbox(isolation="bwrap")
    with pytest.raises(ValueError, match="unknown isolation"):
        LocalSandbox(isolation="docker")
    a.close()
    b.close()


def test_bwrap_command_mounts_only_what_is_needed():
    python = jail_mod.real_python()
    argv = jail_mod.bwrap_argv(python, JailOptions(), ("/opt/libs",))
    binds = {argv[i + 2] for i, a in enumerate(argv) if a == "--ro-bind"}
    assert "/opt/libs" in binds and "/usr" in binds
    assert not any(b in ("/", "/root", "/home", "/work") for b in binds)
    assert "--die-with-parent" in argv and "--clearenv" in argv and "--remount-ro" in argv
    assert "--unshare-net" in argv or "--unshare-all" in argv
    assert argv[argv.index("--tmpfs") - 1] == str(64 << 20)


def test_prelude_runs_once_and_each_test_gets_its_names(sb):
    prelude = "from collections import *; from math import *; import sys; sys.setrecursionlimit(12345)"
    code = ("from __future__ import annotations\nimport sys\n"
            "print(sys.getrecursionlimit(), defaultdict(int)[0], gcd(12, 18))\n")
    spec = RunSpec(code, None, FAST, prelude=prelude)
    with sb.open_session(spec) as s:
        runs = s.run_batch(["", ""])
    assert [r.stdout for r in runs] == [b"12345 0 6\n"] * 2
    (r,) = run(sb, "import sys\nprint(sys.getrecursionlimit())\n", [""])
    assert r.stdout == b"1000\n"  # a sample without the prelude does not inherit it
    dyn = RunSpec("print(eval('gcd(4, 6)'), 'deque' in globals())\n", None, FAST, prelude=prelude)
    with sb.open_session(dyn) as s:
        assert s.run_batch([""])[0].stdout == b"2 True\n"
    with sb.open_session(RunSpec("print(1)", None, FAST, prelude="1/0")) as s:
        (r,) = s.run_batch([""])
    assert r.status is RunStatus.INFRA_ERROR and "prelude failed" in r.detail


def test_prelude_names_of_the_std_streams_are_each_runs_own(sb):
    """The official prelude's `from sys import *` binds stdin/stdout/stderr; run once per runner, those would be
    the runner's streams (output never flushed, input buffered across runs): each run gets its own."""
    spec = RunSpec("n = int(stdin.readline())\nstdout.write(f'{2 * n}\\n')\nstderr.write('e')\n", None, FAST,
                   prelude=OFFICIAL_PRELUDE)
    with sb.open_session(spec) as s:
        runs = s.run_batch(["1\n7\n", "2\n", "3\n"])
    assert [(r.status, r.stdout, r.stderr) for r in runs] == [(RunStatus.OK, f"{n}\n".encode(), b"e")
                                                              for n in (2, 4, 6)]


@pytest.mark.parametrize("code", ["import __main__\nprint(getattr(__main__, 'gcd')(4, 6))\n",
                                  "import sys\nprint(getattr(sys.modules['__main__'], 'gcd')(4, 6))\n",
                                  "import sys\nprint(sys._getframe().f_globals['gcd'](4, 6))\n",
                                  ("from __future__ import annotations\nimport inspect\ndef f(x: gcd): pass\n"
                                   "print(inspect.signature(f, eval_str=True).parameters['x'].annotation(4, 6))\n"),
                                  ("from dataclasses import dataclass, fields\n@dataclass\nclass P:\n"
                                   "    x: 'ClassVar[int]' = 0\n    y: int = 1\nprint(len(fields(P)) * gcd(4, 6))\n")])
def test_code_that_reads_its_module_by_name_sees_the_whole_prelude(sb, code):
    with sb.open_session(RunSpec(code, None, FAST, prelude=OFFICIAL_PRELUDE)) as s:
        assert s.run_batch([""])[0].stdout == b"2\n"


def test_function_call_module_errors_are_compile_errors(sb):
    code = "class Solution:\n    def f(self, x: List[int]):\n        return x\n"
    (r,) = run(sb, code, ["[1]"], func_name="f")
    assert r.status is RunStatus.COMPILE_ERROR and "NameError" in r.detail


def test_backstop_stretches_for_a_program_still_computing_but_not_for_a_sleeper(sb):
    limits = Limits(time_limit_s=3.0, wall_limit_s=0.5, memory_limit_mb=512)
    # Half speed by design: 0.25 s of CPU in ~0.5 s of wall on an idle machine, slower on a loaded one.
    half_speed = """
import time
while time.process_time() < 0.25:
    c = time.process_time()
    while time.process_time() - c < 0.01:
        pass
    time.sleep(0.01)
print('done')
"""
    (r,) = run(sb, half_speed, [""], limits=limits)
    assert r.status is RunStatus.OK and r.stdout == b"done\n", r.detail
    (r,) = run(sb, "import time\ntime.sleep(1.2)\nprint('done')\n", [""], limits=limits)
    assert r.status is RunStatus.TIME_LIMIT and r.wall_s < 1.2


# ------------------------------------------------------------------------------------------------------ runner
def test_a_runner_on_the_judges_interpreter_starts_from_compiled_code_and_closes_it(sb):
    """Same interpreter: the runner comes compiled in an inherited fd (its heap then holds no parser leftovers that
    every fork copies), and that fd is closed before any sample; another interpreter gets the source."""
    import marshal

    cmd = jail_mod.runner_command(jail_mod.real_python(), 9)
    assert len(cmd[-1]) < 200 and "open(9, 'rb')" in cmd[-1]
    assert marshal.loads(jail_mod.runner_code()).co_filename == "<runner>"
    run(sb, "print(1)", [""])
    pid = sb.jail_pid
    runners = [p for p in [pid, *_descendants(pid)] if _comm(p).startswith("python")]
    links = [_link(f"/proc/{p}/fd/{fd}") for p in runners for fd in _fds(p)]
    assert runners and not any("memfd:lcb-runner-code" in link for link in links), "the runner's code fd is open"


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _link(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def _fds(pid: int) -> list[str]:
    try:
        return os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return []


def test_a_live_runner_announces_the_protocol_version(sb):
    from harness.sandbox import protocol

    run(sb, "print(1)", [""])
    assert sb._chan is not None  # the handshake (protocol.check_ready) accepted the runner's ready frame
    assert protocol.check_ready({"ready": True}) is not None  # a ready frame without a version is refused


# ---------------------------------------------------------------------------------------------------- issue 11
def test_a_return_value_of_any_size_travels(sb):
    code = "class Solution:\n    def f(self, n):\n        return list(range(n))\n"
    (r,) = run(sb, code, ["150000"], func_name="f")
    assert r.status is RunStatus.OK and json.loads(r.returned) == list(range(150000))


def test_stdin_bytes_reach_the_program_unchanged(sb):
    code = "import sys\nfirst = input()\nprint(repr(first), repr(sys.stdin.read()))\n"
    (r,) = run(sb, code, ["a\r\nb\r\n\r\n"])
    assert r.stdout == b"'a\\r' 'b\\r\\n\\r\\n'\n"


def test_output_caps_count_exactly_what_was_written(sb):
    lim = Limits(time_limit_s=2.0, memory_limit_mb=512, output_limit_mb=2, wall_limit_s=4.0)
    exact = "import sys\nsys.stdout.buffer.write(b'x' * (2 << 20))\n"
    (r,) = run(sb, exact, [""], limits=lim)
    assert r.status is RunStatus.OK and len(r.stdout) == 2 << 20
    (r,) = run(sb, exact.replace("(2 << 20)", "((2 << 20) + 1)"), [""], limits=lim)
    assert r.status is RunStatus.OUTPUT_LIMIT
    both = "import sys\nsys.stdout.buffer.write(b'x' * (3 << 19))\nsys.stderr.buffer.write(b'y' * (3 << 19))\n"
    (r,) = run(sb, both, [""], limits=lim)  # stderr has its own cap: 1.5 + 1.5 MiB is within both
    assert r.status is RunStatus.OK and len(r.stdout) == 3 << 19 and len(r.stderr) <= 8192


def test_integers_up_to_50000_digits_convert_as_officially(sb):
    (r,) = run(sb, "print(len(str(10 ** 40000)))", [""])
    assert r.status is RunStatus.OK and r.stdout == b"40001\n"


def test_library_dirs_under_tmp_are_visible(tmp_path_factory):
    base = tempfile.mkdtemp(prefix="lcb-venv-", dir="/tmp")
    try:
        site = os.path.join(base, "lib", "site-packages")
        os.makedirs(site)
        for d in (base, os.path.dirname(site), site):
            os.chmod(d, 0o755)
        name = f"mod_{os.getpid()}"
        with open(os.path.join(site, f"{name}.py"), "w") as f:
            f.write("VALUE = 42\n")
        os.chmod(os.path.join(site, f"{name}.py"), 0o644)
        for mode in MODES:
            box = _make(mode, options=JailOptions(library_paths=(site,)))
            try:
                (r,) = run(box, f"import {name}\nprint({name}.VALUE)", [""])
            finally:
                box.close()
            assert r.status is RunStatus.OK and r.stdout == b"42\n", (mode, r.stderr[-300:])
    finally:
        shutil.rmtree(base, ignore_errors=True)


STDLIB_AND_CODECS = (
    "import importlib.util, unittest.mock, ctypes.util, json\n"
    "print('x'.encode('idna'), '\\u00e9'.encode('cp1252'), importlib.util.find_spec('json') is not None)\n"
)


@pytest.mark.parametrize("mode", ["bwrap", "rlimits", "rlimits-no-namespaces"])
def test_stdlib_and_codecs_import_in_every_isolation_mode(mode):
    opts = JailOptions(isolation=mode.split("-")[0], namespaces=not mode.endswith("no-namespaces"))
    box = _make(opts.isolation, options=opts)
    try:
        (r,) = run(box, STDLIB_AND_CODECS, [""], limits=Limits(time_limit_s=3.0, memory_limit_mb=1024,
                                                                 wall_limit_s=6.0))
    finally:
        box.close()
    assert r.status is RunStatus.OK and r.stdout == b"b'x' b'\\xe9' True\n", r.stderr[-500:]


def test_the_judge_makes_and_removes_a_cgroup_per_runner_where_it_may():
    from harness.sandbox import cgroup

    host = cgroup.detect()
    if host is None:
        pytest.skip("this process may not make cgroups here (not root, no delegated subtree): accounting is rusage")
    box = _make("rlimits")
    try:
        run(box, "print(1)", [""])
        cg = box._launch.cgroup
        assert cg is not None and all(os.path.isdir(d) for d in cg.dirs.values())
        assert box.accounting == host.accounting and box.name.endswith(host.accounting)
    finally:
        box.close()
    assert not any(os.path.exists(d) for d in cg.dirs.values())  # removed with the runner
