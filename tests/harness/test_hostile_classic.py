"""Hostile programs against the local sandbox, one test per attack of REFERENCE.md section 7, under bubblewrap and
the rlimits fallback: none may pass, none may outlive its sample. Honest programs that the official grader wrongly
fails must pass. (The whole-sample properties of the isolation v2 work are in test_hostile.py.)

Safety for the machine running the suite: the fork bomb, memory bomb, output flood and /tmp filler check from
the inside that the limits are in force before they start, and bound themselves, so a broken jail cannot hurt
the host. Properties the fallback does not provide by design are skipped there with the reason; harness/sandbox/jail.py
documents them.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.sandbox import jail as jail_mod
from harness.sandbox.base import RunSpec, RunStatus
from harness.verdicts import Limits
from tests.harness.hostile_common import (  # noqa: F401 - sb is a fixture
    LIM,
    NPROC,
    ROOT,
    SECRET_ENV,
    SHARED,
    assert_nothing_left,
    candidate_processes,
    fallback,
    run,
    sb,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the local sandbox needs Linux")


# ------------------------------------------------------------------------------------------- cannot fool the
# judge
def test_exit_code_forgery_yields_no_output(sb):
    for code in ("import os\nos._exit(0)\n", "import sys\nsys.exit(0)\n"):
        (r,) = run(sb, code, ["1 2\n"])
        assert r.status is RunStatus.OK and r.stdout == b""  # the judge compares bytes: wrong answer


def test_exit_code_forgery_in_function_call_is_not_a_return(sb):
    code = "import os\nclass Solution:\n    def f(self, x):\n        os._exit(0)\n"
    (r,) = run(sb, code, ["1"], func_name="f")
    assert r.status is RunStatus.RUNTIME_ERROR and r.returned is None


def test_always_true_eq_does_not_reach_the_judge(sb):
    code = (
        "class Any:\n    def __eq__(self, o):\n        return True\n"
        "class L(list):\n    def __eq__(self, o):\n        return True\n"
        "class Solution:\n    def f(self, x):\n        return Any() if x == 0 else L([123])\n"
    )
    (r0,) = run(sb, code, ["0"], func_name="f")
    assert r0.status is RunStatus.RUNTIME_ERROR and r0.returned is None
    (r1,) = run(sb, code, ["1"], func_name="f")
    assert r1.status is RunStatus.OK and json.loads(r1.returned) == [123]


def test_forged_status_channel_only_reports_what_the_program_returns(sb):
    code = "import os\nos.write(3, b'V[1, 2, 3]')\nos._exit(0)\n"
    (r,) = run(sb, code, ["1"])  # a stdin program's host never reports a value: a sized event there is garbage
    assert r.status is RunStatus.RUNTIME_ERROR and r.returned is None and r.stdout == b"", (r.status, r.detail)


def test_cannot_write_into_the_runner_channel(sb):
    if fallback(sb) and sb.candidate_uid is None:
        pytest.skip("the non-root fallback runs the candidate as the judge's uid (documented in jail.py)")
    code = r"""
import os, struct, json
hits = 0
me = os.readlink('/proc/self')  # our pid as this /proc names it (we may be in a nested PID namespace)
for pid in os.listdir('/proc'):
    if not pid.isdigit() or pid == me:
        continue
    try:
        fds = os.listdir(f'/proc/{pid}/fd')
    except OSError:
        continue
    for fd in fds:
        try:
            w = os.open(f'/proc/{pid}/fd/{fd}', os.O_WRONLY | os.O_NONBLOCK)
            h = json.dumps({'status': 'ok', 'lens': [6, 0]}).encode()
            os.write(w, struct.pack('>I', len(h)) + h + b'FORGED')
            hits += 1
        except OSError:
            pass
print('hits', hits)
"""
    (r,) = run(sb, code, [""])
    assert r.status is RunStatus.OK and r.stdout == b"hits 0\n"
    (r,) = run(sb, "print('next')", [""])
    assert r.stdout == b"next\n"


def test_answers_are_not_in_memory_proc_or_environment(sb):
    # The expected output never enters the jail. The judge side holds it; the candidate knows its shape (a
    # known prefix and 16 hex digits) and searches everything it can reach: its own objects, /proc of every
    # process.
    expected = "EXPECTED_ANSWER_" + secrets.token_hex(8)
    code = r"""
import gc, os, re
pat = re.compile(rb"EXPECTED_ANSWER_([0-9a-f]{16})")
found = set()
def scan(blob, where):
    for m in pat.finditer(blob):
        found.add((where, m.group(1).decode()))
for o in gc.get_objects():
    try:
        scan(repr(o).encode(), 'gc')
    except Exception:
        pass
scan(repr(dict(os.environ)).encode(), 'env')
for pid in os.listdir('/proc'):
    for f in ('environ', 'cmdline', 'mem'):
        try:
            with open(f'/proc/{pid}/{f}', 'rb') as fh:
                scan(fh.read(1 << 20), f)
        except OSError:
            pass
print('found', sorted(found))
"""
    (r,) = run(sb, code, ["1 2\n"])
    assert r.status is RunStatus.OK
    assert r.stdout == b"found []\n" and expected[-16:].encode() not in r.stdout


def test_environment_is_scrubbed(sb):
    (r,) = run(sb, "import os, json\nprint(json.dumps(dict(os.environ)))\n", [""])
    env = json.loads(r.stdout)
    assert SECRET_ENV not in env and not any("TOKEN" in k or "SECRET" in k or "KEY" in k for k in env)
    assert "hf_secret_token_value" not in r.stdout.decode()


def test_project_home_and_dataset_are_not_readable(sb):
    if fallback(sb):
        pytest.skip("the rlimits fallback has no mount isolation (documented in harness/sandbox/jail.py)")
    files = [Path(__file__).resolve(), SHARED.resolve() / "lcb" / "release_v6_problems.jsonl",
             Path("/etc/passwd"), Path("/etc/shadow"), Path.home() / ".bashrc"]
    project = Path(__file__).resolve().parents[2]
    dirs = [Path("/root"), Path("/home"), Path("/work"), SHARED.resolve(), project]
    code = """
import os, sys
for p in sys.stdin.read().split():
    try:
        print(p, sorted(os.listdir(p)) if os.path.isdir(p) else open(p, 'rb').read(1))
    except OSError as e:
        print(p, type(e).__name__)
"""
    (r,) = run(sb, code, ["\n".join(map(str, files + dirs))])
    seen = dict(line.split(" ", 1) for line in r.stdout.decode().splitlines())
    for f in files:
        assert seen[str(f)] in ("FileNotFoundError", "PermissionError"), (f, seen[str(f)])
    # Directories exist inside only as empty stems of the read-only binds (interpreter prefix, site-packages).
    bound = jail_mod.default_library_paths() + (jail_mod._python_prefix(jail_mod.real_python()),)
    stems = {str(a) for p in bound for a in (Path(p), *Path(p).parents)}
    for d in dirs:
        listing = seen[str(d)]
        if listing.startswith("["):
            assert all(str(d / name) in stems for name in eval(listing)), (d, listing)


def test_writes_outside_the_jail_fail(sb, tmp_path):
    targets = [Path(__file__).resolve().parent / "pwned_by_candidate", Path("/root/pwned_by_candidate"),
               Path("/usr/pwned_by_candidate"), tmp_path / "pwned"]
    code = """
import sys
for p in sys.stdin.read().split():
    try:
        open(p, 'w').write('x')
        print('wrote', p)
    except OSError as e:
        print('refused', p)
"""
    (r,) = run(sb, code, ["\n".join(map(str, targets))])
    assert b"wrote" not in r.stdout
    assert not any(t.exists() for t in targets)


def test_no_network(sb):
    if fallback(sb) and "net" not in sb.namespaces:
        pytest.skip("this fallback got no network namespace (not root; documented in harness/sandbox/jail.py)")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    code = f"""
import socket
try:
    socket.create_connection(('127.0.0.1', {port}), timeout=0.5)
    print('connected')
except OSError as e:
    print('refused')
"""
    try:
        (r,) = run(sb, code, [""])
    finally:
        srv.close()
    assert r.stdout == b"refused\n"


# ------------------------------------------------------------------------------------------- time
def test_ignoring_sigalrm_and_sigxcpu_still_times_out(sb):
    code = """
import signal
for s in (signal.SIGALRM, signal.SIGXCPU):
    signal.signal(s, signal.SIG_IGN)
while True:
    pass
"""
    (r,) = run(sb, code, [""])
    assert r.status is RunStatus.TIME_LIMIT
    assert_nothing_left(sb)


def test_infinite_sleep_hits_the_wall_backstop(sb):
    t0 = time.monotonic()
    (r,) = run(sb, "import time\ntime.sleep(1000)\n", [""])
    assert r.status is RunStatus.TIME_LIMIT and "wall" in r.detail
    assert time.monotonic() - t0 < 5


def test_answer_then_never_exit_does_not_pass(sb):
    (r,) = run(sb, "print(3)\nimport sys, time\nsys.stdout.flush()\ntime.sleep(1000)\n", ["1 2"])
    assert r.status is RunStatus.TIME_LIMIT
    (r,) = run(sb, "print(3, flush=True)\nwhile True:\n    pass\n", ["1 2"])
    assert r.status is RunStatus.TIME_LIMIT


# ------------------------------------------------------------------------------------------- processes
def test_fork_bomb_is_contained(sb):
    if sb.candidate_uid is None:
        pytest.skip("needs a separate candidate uid (judge not root): RLIMIT_NPROC would count the judge's "
                    "processes")
    code = f"""
import os, resource, time
soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
if os.getuid() == 0 or hard > {NPROC}:
    print('limits not in force', flush=True)
    os._exit(3)
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)
"""
    (r,) = run(sb, code, [""])
    assert r.status in (RunStatus.TIME_LIMIT, RunStatus.RUNTIME_ERROR)
    assert b"limits not in force" not in r.stdout
    assert_nothing_left(sb)
    assert subprocess.run(["true"]).returncode == 0  # the host can still start processes
    (r,) = run(sb, "print('alive')", [""])
    assert r.status is RunStatus.OK and r.stdout == b"alive\n"


def test_daemons_and_grandchildren_do_not_survive(sb):
    code = """
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(1.0)
        open(os.environ['TMPDIR'] + '/late_write', 'w').write('x')
        time.sleep(1000)
    os._exit(0)
print(3)
"""
    (r,) = run(sb, code, ["1 2"])
    assert r.status is RunStatus.OK and r.stdout == b"3\n"
    assert_nothing_left(sb)
    time.sleep(1.2)
    (r,) = run(sb, "import os\nprint(os.listdir(os.environ['TMPDIR']))\n", [""])
    assert r.stdout == b"[]\n"


def test_killing_the_parent_or_everyone(sb):
    code = """
import os, signal
for pid in (os.getppid(), 1):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError as e:
        print(type(e).__name__)
try:
    os.kill(-1, signal.SIGKILL)
except ProcessLookupError:  # alone in its PID namespace: nobody to signal
    pass
print('still here')
"""
    (r,) = run(sb, code, [""])
    if sb.candidate_uid is not None:  # another uid: the runner and the judge are out of reach
        assert r.status is RunStatus.OK and r.stdout == b"PermissionError\nPermissionError\nstill here\n"
    else:  # same uid (non-root judge): it may kill its runner, which is its own runtime error, never infra
        assert r.status in (RunStatus.OK, RunStatus.RUNTIME_ERROR)
    (r,) = run(sb, "print('next')", [""])
    assert r.status is RunStatus.OK and r.stdout == b"next\n"


def test_recursion_segfault_is_a_runtime_error(sb):
    # lru_cache recursion goes through C frames, so the C stack overflows: the classic competitive-programming
    # crash.
    code = (
        "import sys, functools\nsys.setrecursionlimit(10**8)\n@functools.lru_cache(None)\n"
        "def f(n):\n    return 0 if n == 0 else f(n - 1) + 1\nprint(f(10**7))\n"
    )
    (r,) = run(sb, code, [""])
    assert r.status is RunStatus.RUNTIME_ERROR and r.signal == 11
    (r,) = run(sb, "print('next')", [""])
    assert r.stdout == b"next\n"


# ------------------------------------------------------------------------------------------- memory, output,
# files
def test_memory_bomb_is_memory_limit(sb):
    code = """
import resource
if resource.getrlimit(resource.RLIMIT_AS)[1] > (512 << 20):
    print('limits not in force')
    raise SystemExit(3)
chunks = []
for _ in range(10000):
    chunks.append(bytearray(16 << 20))
"""
    (r,) = run(sb, code, [""])
    assert r.status is RunStatus.MEMORY_LIMIT and r.peak_rss_mb < 400


def test_output_flood_is_capped_and_judge_memory_stays_bounded():
    # Measured in a fresh interpreter so the peak RSS belongs to the flood alone.
    script = """
import resource, sys
from harness.sandbox.local import LocalSandbox
from harness.sandbox.base import RunSpec
from harness.verdicts import Limits
box = LocalSandbox(isolation=sys.argv[1])
lim = Limits(time_limit_s=5, output_limit_mb=64, wall_limit_s=10)
flood = "import sys\\nb = 'x' * (1 << 20)\\nfor _ in range(1024):\\n    sys.stdout.write(b)\\n"
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
(r,) = box.open_session(RunSpec(flood, None, lim)).run_batch([''])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
box.close()
print(r.status, len(r.stdout), (after - before) // 1024)
"""
    root = Path(__file__).resolve().parents[2]
    for mode in ("bwrap", "rlimits"):
        if mode == "bwrap" and not jail_mod.bwrap_works(jail_mod.real_python())[0]:
            continue
        out = subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, cwd=root,
                             timeout=120)
        status, n, grew_mb = out.stdout.split()
        assert status == "output_limit" and int(n) <= 4096
        assert int(grew_mb) < 16, f"judge RSS grew by {grew_mb} MB during a 1 GB flood ({mode})"


def test_full_tmp_is_contained_and_wiped(sb):
    if fallback(sb) and "mount" not in sb.namespaces:
        pytest.skip("this fallback got no mount namespace, so no private /tmp (see harness/sandbox/jail.py)")
    code = """
import os
n = 0
try:
    with open('/tmp/fill', 'wb') as f:
        for _ in range(64):
            f.write(b'x' * (1 << 20)); f.flush(); n += 1
except OSError as e:
    print('full after', n, 'MB')
"""
    (r,) = run(sb, code, [""])
    assert b"full after" in r.stdout and int(r.stdout.split()[2]) <= 8
    refill = "import os\nprint(os.listdir('/tmp'))\nopen('/tmp/a', 'wb').write(b'y' * (4 << 20))\nprint('ok')"
    (r,) = run(sb, refill, [""])
    assert r.stdout == b"[]\nok\n"


def test_next_sample_sees_nothing_of_the_last(sb):
    plant = """
import os, sys
d = os.environ['TMPDIR']
open(os.path.join(d, 'secret_a'), 'w').write(sys.stdin.read())
try:
    open('/dev/shm/secret_shm', 'w').write('A')
except OSError:
    pass
os.environ['LEAK'] = '1'
import collections
collections.LEAK = 1
print('planted')
"""
    (r,) = run(sb, plant, ["SAMPLE_A_INPUT"])
    assert r.stdout == b"planted\n"
    look = """
import os, collections
d = os.environ['TMPDIR']
shm = [f for f in os.listdir('/dev/shm') if 'secret' in f]
print(os.listdir(d), shm, 'LEAK' in os.environ, hasattr(collections, 'LEAK'))
"""
    (r,) = run(sb, look, [""])
    assert r.stdout == b"[] [] False False\n"
    assert_nothing_left(sb)


def test_sysv_shared_memory_and_message_queues_do_not_survive_the_sample(sb):
    plant = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
shm = libc.shmget(0x5EC12E7, 4096, 0o1600)  # IPC_CREAT | 0600: outlives the process unless removed
msg = libc.msgget(0x5EC12E8, 0o1600)
print(shm >= 0, msg >= 0)
"""
    look = "import ctypes\nc = ctypes.CDLL(None)\nprint(c.shmget(0x5EC12E7, 0, 0), c.msgget(0x5EC12E8, 0))\n"
    with sb.open_session(RunSpec(plant, None, LIM)) as s:  # within a sample they persist (same fork parent)
        assert s.run_batch([""])[0].stdout == b"True True\n"
    (r,) = run(sb, look, [""])  # the next sample: gone
    assert r.stdout == b"-1 -1\n"


def test_a_tree_too_deep_to_remove_still_does_not_survive(sb):
    code = """
import os
os.chdir(os.environ['TMPDIR'])
print(os.listdir('.'))
for _ in range(3000):  # deeper than the runner's recursion limit lets shutil.rmtree go
    os.mkdir('d')
    os.chdir('d')
"""
    runs = run(sb, code, ["", ""], limits=Limits(time_limit_s=2, wall_limit_s=4, memory_limit_mb=512))
    assert [r.stdout for r in runs] == [b"[]\n", b"[]\n"]  # the second test ran in a fresh jail
    assert "cleanup" in runs[0].detail and sb.restarts >= 1


def test_each_test_gets_a_fresh_namespace_and_work_dir_and_no_sample_reaches_the_next(sb):
    # Tests of one sample run in the sample's host, as officially in one process: each as a fresh `__main__` in an
    # empty work dir. Process-wide state (here an attribute on builtins) may outlive a test within its sample, as
    # it does officially, but never reaches another sample.
    code = """
import builtins, os
d = os.environ['TMPDIR']
print(globals().get('seen'), os.listdir(d), getattr(builtins, 'seen', None) is not None)
seen = builtins.seen = input()
open(os.path.join(d, 'mine'), 'w').write('x')
"""
    runs = run(sb, code, ["a", "b"])
    assert [r.stdout for r in runs] == [b"None [] False\n", b"None [] True\n"]
    (again,) = run(sb, code, ["c"])
    assert again.stdout == b"None [] False\n"


# ------------------------------------------------------------------------------------------- honest programs
# pass
HONEST = {
    "for_line_in_stdin": (
        "import sys\ns = 0\nfor line in sys.stdin:\n    s += sum(map(int, line.split()))\nprint(s)\n"
    ),
    "open_0": "print(sum(map(int, open(0).read().split())))\n",
    "os_read_0": "import os\nprint(sum(map(int, os.read(0, 1 << 16).split())))\n",
    "stdout_buffer": (
        "import sys\ntotal = sum(map(int, sys.stdin.buffer.read().split()))\n"
        "sys.stdout.buffer.write(str(total).encode() + b'\\n')\n"
    ),
    "global_mutation": (
        "total = 0\ndef add(v):\n    global total\n    total += v\n"
        "for v in map(int, input().split()):\n    add(v)\nprint(total)\n"
    ),
    "main_guard": (
        "def main():\n    print(sum(map(int, input().split())))\nif __name__ == '__main__':\n    main()\n"
    ),
    "thread_big_stack": (
        "import sys, threading\nsys.setrecursionlimit(1 << 20)\nthreading.stack_size(256 << 20)\n"
        "def depth(n):\n    return 0 if n == 0 else depth(n - 1) + 1\n"
        "def main():\n    a, b = map(int, input().split())\n    depth(100000)\n    print(a + b)\n"
        "threading.Thread(target=main).start()\n"
    ),
}


@pytest.mark.parametrize("name", sorted(HONEST))
def test_honest_programs_the_official_grader_fails_pass(sb, name):
    limits = Limits(time_limit_s=2, memory_limit_mb=1024, wall_limit_s=4)
    (r,) = run(sb, HONEST[name], ["1 2\n"], limits=limits)
    assert r.status is RunStatus.OK, (r.detail, r.stderr[-500:])
    assert r.stdout == b"3\n"
