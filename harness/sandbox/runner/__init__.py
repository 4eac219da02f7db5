"""The trusted runner: a warm process INSIDE the jail that runs untrusted candidate code in forked children.

Shipped as ONE program: `runner_source()` concatenates the part files of this folder in PARTS order and jail.py
(`runner_command`) and modal.py (`runner_argv`) pass that text to `python -I -S -B -c`, so nothing of the project
needs to be mounted in the jail. The parts are therefore not modules to import: each imports only the stdlib at its
top, may use names defined by an earlier part, and defines no name another part defines;
`from __future__ import annotations` appears once, at the top of the first (tests/harness/test_sandbox.py checks all
of this, and that the program stays far below Linux's 128 KiB limit on one argument).

Stdlib only, self-contained: it speaks harness/sandbox/protocol.py's frames (PROTOCOL_VERSION in base.py, announced
in the ready frame) over stdin/stdout. Three kinds of process, so that nothing of one sample reaches the next:
- the WARM runner (warm.py) reads only frame headers (exact-length unbuffered reads: never a byte of code, input or
  output), runs the judge's trusted preludes once (config "preludes"; a test's namespace gets the names its code
  uses, its own std streams for names bound to them), and per sample forks
- a SAMPLE process (sample.py), after `unshare(CLONE_NEWPID | CLONE_NEWIPC)` where the kernel grants it: pid 1 of a
  fresh PID namespace with a fresh IPC namespace. It reads the sample's code and inputs itself, compiles the code
  (compile errors are decided here, before any candidate code runs), runs every test and replies, kills everything
  after a failed test or a replaced host (kill(-1) as pid 1: atomic, nothing can freeze it) and exits at the
  sample's end, taking every process, SysV object and byte of the sample with it (isolation.py);
- the sample's HOST (child.py): one child per sample, forked by the sample process before its sample arrives (it stays
  the runner's, root where the runner is, until the sample starts it; then it drops to the candidate uid and empties
  the keyrings it can reach: the runner's session keyring, the uid's user keyrings). It serves every test, as the
  official grader runs all tests of a sample in one process. A stdin program runs per test as a fresh `__main__` (fd 0
  = the input bytes in a memfd; fds 0/1/2 restored, new std streams) and ends as a process ends (threads joined,
  atexit run, output flushed); a LeetCode module loads once, makes one `Solution()` and is called once per test. A
  host that ends is replaced for the next test; so is a stdin host that leaves anything running after a test (a
  thread, a process, a signal handler), grows large or runs exit hooks.
Accounting (accounting.py) covers the candidate's whole process tree: the judge's cgroup for this runner (v1 or v2;
each candidate joins it before dropping privileges), else getrusage of reaped children plus a scan of the live ones
(the sample process is their init or subreaper). Verdict classes come from the kernel and this process: CPU time
from accounting, compile status from compile(), setup failures from the first test only. What a candidate writes is
bytes, never a verdict. Not covered here: the jail (jail.py), the judge side of the protocol (protocol.py).
"""

from __future__ import annotations

import functools
from pathlib import Path

PARTS = ("base", "channel", "child", "accounting", "isolation", "sample", "warm")
"""The part files (`<name>.py` beside this file), in the order they are joined: each may use names of earlier ones."""


@functools.cache
def runner_source() -> str:
    """The runner as one program's source text, read once per process."""
    here = Path(__file__).parent
    return "\n\n".join((here / f"{name}.py").read_text(encoding="utf-8") for name in PARTS)


def load_runner():
    """The joined program as a module object, without running it (its `__name__` is not "__main__"): for tests
    that exercise one of its pieces (such as `_Cgroup`) in the judge's own process."""
    import types

    module = types.ModuleType("lcb_runner_program")
    exec(compile(runner_source(), "<runner>", "exec", dont_inherit=True), module.__dict__)
    return module
