from __future__ import annotations

# Runner part 'base' (see __init__.py: the parts are concatenated, in PARTS order, into one program).
# Constants shared by every part, and the few libc calls (prctl, unshare, setns, mount, keyctl) made through ctypes.

import ctypes
import functools
import os

PROTOCOL_VERSION = 2  # = harness/sandbox/protocol.PROTOCOL_VERSION
BACKSTOP_STRETCH = 4.0  # = protocol.BACKSTOP_STRETCH: a starved program may run up to this many wall backstops
WARM_MODULES = (
    "array atexit bisect builtins collections copy dataclasses datetime decimal enum fractions functools "
    "heapq io itertools json math operator random re shutil statistics string tempfile threading traceback "
    "types typing"
).split()
# Names through which code may read its module namespace by name (then it gets the whole prelude namespace), as
# may code whose annotations are strings (the future import of annotations: evaluated later, by name).
DYNAMIC_NAMES = frozenset("eval exec globals vars locals dir compile __import__ __dict__ __main__ modules f_globals "
                          "_getframe currentframe getmembers dataclass get_type_hints singledispatch".split())
CO_FUTURE_ANNOTATIONS = 0x1000000
STDERR_KEEP = 8192  # bytes of stderr kept for diagnostics (stderr has its own cap, apart from stdout's)
HEAD_ON_LIMIT = 4096  # bytes of stdout sent back when the output limit is hit
# Candidate-side fds: status/results out; a host's go-pipe and input memfd; a stdin host's copies of stdout and stderr
# (it restores fds 0/1/2 from INPUT_FD/OUT_FD/ERR_FD before each run: a program may close them, e.g. via open(0)).
STATUS_FD, GO_FD, INPUT_FD, OUT_FD, ERR_FD = 3, 4, 5, 6, 7
STARVED_SHARE = 0.05  # CPU share since the last look that counts as "still computing" (a sleeper gets ~0)
CHILD_SETUP_FAILED = 0xE7  # exit code of a child whose jail setup (not candidate code) failed
INT_DIGITS = 50_000  # sys.set_int_max_str_digits, as the official grader
HOST_RSS_KB = 64 << 10  # a host past this resident size after a run is retired: a later run starts afresh
SAMPLE_HEADROOM_MB = 32  # the cgroup's memory limit above the candidate's, for the runner's own processes in it
PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 4, 36, 38
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWUSER = 0x20000, 0x08000000, 0x40000000, 0x20000000, \
    0x10000000
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
KEYCTL, CAPSET = {"x86_64": 250, "aarch64": 219}, {"x86_64": 126, "aarch64": 91}  # syscall numbers
KEYCTL_JOIN_SESSION_KEYRING, KEYCTL_CLEAR = 1, 7
KEY_SPEC_SESSION, KEY_SPEC_USER, KEY_SPEC_USER_SESSION = -3, -4, -5  # keyctl ids: @s, @u, @us
WIPE_SHARED = ("/tmp", "/dev/shm", "/var/tmp", "/run/lock")


@functools.cache
def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> None:
    if _libc().prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def _unshare(flags: int) -> bool:
    return _libc().unshare(flags) == 0


def _fresh_pid_ipc(own_pidns: int | None) -> bool:
    """Make our next child pid 1 of a fresh PID namespace, in a fresh IPC namespace. The kernel refuses a second
    unshare(CLONE_NEWPID) while the children's namespace is not our own, so first setns() back to ours."""
    if own_pidns is None:
        return False
    return _libc().setns(own_pidns, CLONE_NEWPID) == 0 and _unshare(CLONE_NEWPID | CLONE_NEWIPC)


def _mount(src, target: str, fstype, flags: int, data=None) -> bool:
    enc = [s.encode() if isinstance(s, str) else s for s in (src, target, fstype, data)]
    return _libc().mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]) == 0


def _keyctl(*args: int) -> int:
    nr = KEYCTL.get(os.uname().machine)
    return -1 if nr is None else _libc().syscall(nr, *[ctypes.c_long(a) for a in args])
